"""End to end: `portfoliowise serve` as a subprocess on a free port, driven over HTTP.

The server runs on the embedded defaults in a temporary data dir with the sample prices
as its only market source (no network), the dev login on, the scheduler off."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    data_dir = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {
        **os.environ,
        "QUOTE_SOURCES": "sample",
        "FX_SOURCES": "sample",
        "HISTORY_SOURCES": "funds",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portfoliowise.handlers.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--dev-login",
            "--no-scheduler",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read() if process.stdout else ""
            process.kill()
            pytest.fail(f"serve did not start: {output}")
        time.sleep(0.1)
    yield url, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"success", "error", "message"}
    assert {"code", "message"} <= set(body["error"])
    return dict(body["error"])


def test_a_whole_session_over_http(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, _process = server
    http = httpx.Client(base_url=url, timeout=10)

    # Not signed in: 401 with the error shape.
    assert _error(http.get("/portfolios"))["code"] == "unauthenticated"

    signed_in = http.post("/auth/dev-login", json={"email": "Alice@Example.com"})
    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith("__Host-session=")
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    session = cookie.split(";", 1)[0]
    csrf = signed_in.json()["csrfToken"]
    headers = {"Cookie": session, "X-CSRF-Token": csrf}

    # A state change without the CSRF token is refused.
    refused = http.post("/portfolios", json={"name": "x"}, headers={"Cookie": session})
    assert refused.status_code == 403

    created = http.post(
        "/portfolios",
        json={"name": "NISA", "baseCurrency": "JPY", "targets": {}},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    portfolio = created.json()
    pid = portfolio["portfolioId"]

    # Add holdings and targets: PUT the representation GET returns, with its version.
    current = http.get(f"/portfolios/{pid}", headers=headers).json()
    current["holdings"] = [
        {"symbol": "7203", "quantity": "200"},
        {"symbol": "VTI", "quantity": "10"},
        {"symbol": "0331418A", "quantity": "100000"},
    ]
    current["targets"] = {"7203": "40", "VTI": "40", "0331418A": "20"}
    updated = http.put(f"/portfolios/{pid}", json=current, headers=headers)
    assert updated.status_code == 200, updated.text
    version = updated.json()["version"]
    assert version == current["version"] + 1

    valuation = http.get(f"/portfolios/{pid}/valuation", headers=headers).json()
    assert valuation["currency"] == "JPY"
    assert valuation["unpriced"] == []
    assert {h["quote"]["source"] for h in valuation["holdings"]} == {"sample"}
    # 200 x 2,865 + 10 x 301.45 x 154.32 + 100,000 / 10,000 x 29,874 = 1,336,937.64 JPY
    assert valuation["total"] == {"amount": "1336938", "currency": "JPY"}

    plan = http.post(
        f"/portfolios/{pid}/simulate",
        json={"budget": {"amount": "300000", "currency": "JPY"}},
        headers=headers,
    )
    assert plan.status_code == 200, plan.text
    spent = plan.json()["spent"]
    assert spent["currency"] == "JPY"
    assert 0 < int(spent["amount"]) <= 300_000

    # An update based on the old version: 409 with the current version.
    stale = http.put(f"/portfolios/{pid}", json=current, headers=headers)
    assert stale.status_code == 409
    assert _error(stale)["details"]["currentVersion"] == version

    audit = http.get(f"/portfolios/{pid}/audit", headers=headers).json()
    actions = [entry["action"] for entry in audit["entries"]]
    assert actions[0] == "portfolio.created"
    assert len(actions) >= 2

    exported = http.get(f"/portfolios/{pid}/export?format=csv", headers=headers)
    assert exported.status_code == 200
    assert "7203" in exported.text
    assert "0331418A" in exported.text

    assert http.post("/auth/logout", headers=headers).status_code in (200, 204)
    assert http.get("/auth/session", headers={"Cookie": session}).status_code == 401
    assert http.get("/portfolios", headers=headers).status_code == 401


def test_client_logs_and_the_local_metrics(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, _process = server
    http = httpx.Client(base_url=url, timeout=10)
    signed_in = http.post("/auth/dev-login", json={"email": "Bob@Example.com"})
    session = signed_in.headers["set-cookie"].split(";", 1)[0]
    headers = {"Cookie": session, "X-CSRF-Token": signed_in.json()["csrfToken"]}
    entry = {"level": "error", "message": "boom", "url": f"{url}/", "timestamp": "2026-01-01"}
    sent = http.post("/client-logs", json={"entries": [entry]}, headers=headers)
    assert (sent.status_code, sent.json()) == (202, {"accepted": 1})
    assert http.post("/client-logs", json={"entries": [entry]}).status_code == 401

    metrics = http.get("/metrics")
    assert metrics.status_code == 200
    routes = metrics.json()["routes"]
    assert routes["POST /client-logs"]["statuses"] == {"202": 1, "401": 1}
    assert set(routes["GET /health"]["latencyMs"]) == {"p50", "p90", "p99", "max"}


def test_ctrl_c_stops_the_server_cleanly(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = server
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    output = process.stdout.read() if process.stdout else ""
    assert f"PortfolioWise on {url}" in output
    assert '"GET /health" 200' in output
    assert "Traceback" not in output
