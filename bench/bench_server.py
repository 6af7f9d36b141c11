"""The local server under load: `portfoliowise serve` (a subprocess, 127.0.0.1, a free port,
a temporary data dir, the dev login, no scheduler, the sample prices as the only market
source: no network) with a 50-holding portfolio (40 Tokyo stocks, 10 US stocks: USD-JPY)
whose quotes are seeded fresh in the data dir's quote cache before the server starts.

After signing in (POST /auth/dev-login) and creating the portfolio (POST /portfolios), 8
client threads, each on its own kept-alive connection (`http.client.HTTPConnection`),
make a fixed number of requests: first GET /health (the server's ceiling: the same
resolver, no store, no pricing), then GET /portfolios/{id}/valuation. Figures: requests
per second over the whole run and p50/p99 latency per request; target: the valuation at
0.5 or more of /health's requests per second. Bounded: fixed counts, socket timeouts,
the server stopped (SIGINT, then killed) whatever happens.
Run with `make bench` (from run.py) or `python bench/bench_server.py`."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from table import Row

GROUP = "server"
CLIENTS = 8
HEALTH_REQUESTS = 250  # per client
VALUATION_REQUESTS = 100  # per client
WARM_UP = 5  # per client, not measured
TARGET_RATIO = 0.5
START_TIMEOUT = 60.0
SOCKET_TIMEOUT = 30.0
EMAIL = "bench@portfoliowise.local"
TOKYO = [str(1301 + n) for n in range(40)]
US = [f"Q{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(10)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed_quotes(data_dir: Path) -> None:
    """Fresh quotes of the 50 symbols and USD-JPY in the quote cache (SQLite), as the
    cache-warm job would leave them."""
    from portfoliowise.adapters.clock import SystemClock
    from portfoliowise.adapters.sqlite.stores import open_sqlite_stores
    from portfoliowise.domain.money import JPY, USD, Money
    from portfoliowise.domain.quotes import Quote, QuoteStatus

    clock = SystemClock()
    now = clock.now()
    stores = open_sqlite_stores(data_dir, clock)
    quotes = [
        Quote(s, Money.of(str(1000 + 17 * i), JPY), QuoteStatus.LIVE, "bench", now)
        for i, s in enumerate(TOKYO)
    ]
    quotes += [
        Quote(s, Money.of(f"{50 + i}.25", USD), QuoteStatus.LIVE, "bench", now)
        for i, s in enumerate(US)
    ]
    quotes.append(Quote("USD-JPY", Money(Decimal("154.32"), JPY), QuoteStatus.LIVE, "bench", now))
    try:
        stores.quotes.put_many(quotes, now + timedelta(days=7))
    finally:
        stores.close()


def _request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: object = None,
) -> tuple[int, bytes, http.client.HTTPResponse]:
    data = None if body is None else json.dumps(body).encode()
    sent = {**headers, **({"Content-Type": "application/json"} if data else {})}
    conn.request(method, path, body=data, headers=sent)
    response = conn.getresponse()
    return response.status, response.read(), response


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _load(port: int, path: str, headers: dict[str, str], per_client: int) -> Load:
    """CLIENTS threads, each on one kept-alive connection: WARM_UP requests, then all
    wait at a barrier, then `per_client` requests each, timed."""
    barrier = threading.Barrier(CLIENTS + 1)
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    errors = [0] * CLIENTS

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
        try:
            for _ in range(WARM_UP):
                _request(conn, "GET", path, headers)
            barrier.wait(SOCKET_TIMEOUT)
            mine = latencies[index]
            for _ in range(per_client):
                start = time.perf_counter()
                status, _, _ = _request(conn, "GET", path, headers)
                mine.append(time.perf_counter() - start)
                if status != 200:
                    errors[index] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait(SOCKET_TIMEOUT)
    start = time.perf_counter()
    for thread in threads:
        thread.join(SOCKET_TIMEOUT * per_client)
    seconds = time.perf_counter() - start
    flat = [x for mine in latencies for x in mine]
    return Load(len(flat), seconds, flat, sum(errors) + CLIENTS * per_client - len(flat))


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            status, _, _ = _request(conn, "GET", "/health", {})
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("portfoliowise serve did not start")
        time.sleep(0.1)


def _sign_in_and_create(port: int) -> tuple[dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
    try:
        status, body, response = _request(conn, "POST", "/auth/dev-login", {}, {"email": EMAIL})
        if status != 200:
            raise RuntimeError(f"dev login answered {status}: {body[:200]!r}")
        cookies = [
            value.split(";", 1)[0]
            for key, value in response.getheaders()
            if key.lower() == "set-cookie"
        ]
        csrf = json.loads(body)["csrfToken"]
        headers = {"Cookie": "; ".join(cookies)}
        document = {
            "name": "bench: 50 holdings",
            "baseCurrency": "JPY",
            "holdings": [{"symbol": s, "quantity": "100"} for s in TOKYO]
            + [{"symbol": s, "quantity": "10"} for s in US],
            "targets": dict.fromkeys([*TOKYO, *US], "2"),
        }
        status, body, _ = _request(
            conn, "POST", "/portfolios", {**headers, "X-CSRF-Token": csrf}, document
        )
        if status != 201:
            raise RuntimeError(f"creating the portfolio answered {status}: {body[:300]!r}")
        return headers, str(json.loads(body)["portfolioId"])
    finally:
        conn.close()


@dataclass(frozen=True)
class Measurement:
    health: Load
    valuation: Load
    check: str  # what one valuation answered, for the note


def measure(
    health_requests: int = HEALTH_REQUESTS, valuation_requests: int = VALUATION_REQUESTS
) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="pw-bench-serve-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        _seed_quotes(data_dir)
        port = _free_port()
        env = {
            **os.environ,
            "QUOTE_SOURCES": "sample",
            "FX_SOURCES": "sample",
            "HISTORY_SOURCES": "funds",
        }
        command = [
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
        ]
        with open(Path(tmp) / "serve.log", "wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            try:
                _wait_until_up(port, process)
                headers, portfolio_id = _sign_in_and_create(port)
                path = f"/portfolios/{portfolio_id}/valuation"
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
                status, body, _ = _request(conn, "GET", path, headers)
                conn.close()
                answer = json.loads(body)
                check = (
                    f"HTTP {status}, {len(answer.get('holdings', []))} holdings, "
                    f"{len(answer.get('unpriced', []))} unpriced, "
                    f"total {answer.get('total', {}).get('amount')} JPY"
                )
                health = _load(port, "/health", headers, health_requests)
                valuation = _load(port, path, headers, valuation_requests)
            finally:
                _stop(process)
    return Measurement(health, valuation, check)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _row(name: str, load: Load, target: str = "", ok: bool | None = None, note: str = "") -> Row:
    figure = (
        f"{load.per_second:,.0f} req/s, p50 {load.percentile(50) * 1000:.1f} ms, "
        f"p99 {load.percentile(99) * 1000:.1f} ms"
    )
    errors = f"{load.errors} errors" if load.errors else "no errors"
    return Row(GROUP, name, figure, target, ok, f"{load.requests:,} requests, {errors}; {note}")


def rows(measured: Callable[[], Measurement] = measure) -> list[Row]:
    m = measured()
    ratio = m.valuation.per_second / m.health.per_second
    clean = m.health.errors == 0 and m.valuation.errors == 0
    return [
        _row(
            f"GET /health, {CLIENTS} keep-alive clients (the ceiling)",
            m.health,
            note="same server",
        ),
        _row(
            f"GET valuation of 50 holdings, {CLIENTS} keep-alive clients",
            m.valuation,
            note=m.check,
        ),
        Row(
            GROUP,
            "valuation req/s over /health req/s",
            f"{ratio:.2f}",
            f">= {TARGET_RATIO}",
            ratio >= TARGET_RATIO and clean,
        ),
    ]


if __name__ == "__main__":
    from table import failed, render

    result = rows()
    print(render(result))
    sys.exit(1 if failed(result) else 0)
