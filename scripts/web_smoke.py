"""Browser smoke test of `portfoliowise serve --web DIR` (not part of `make test`).

Starts the server (offline: sample prices only, a temporary data dir, the dev login) on a
free port with the existing app's build, and a headless Chromium driven over the DevTools
protocol, then, on http://localhost and on http://127.0.0.1:

1. loads `/` and checks the app rendered into `#root` and which `/api-proxy/...` calls it
   made (and with which status);
2. signs in with `POST /api-proxy/auth/dev-login` from the page (fetch) and checks that the
   browser kept the `__Host-session` cookie (`Secure`, over plain http) and sends it back:
   `GET /api-proxy/auth/session` answers 200;
3. loads a client-side route (`/dashboard`) and checks it rendered too.

    apt-get install chromium-headless-shell   # or chromium
    .venv/bin/python scripts/web_smoke.py /tmp/webapp-dist [--screenshots DIR]

Exit 0 when every check passed, 1 otherwise; one line per check on stdout."""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

BROWSERS = ("chromium-headless-shell", "chromium", "google-chrome", "chrome")
EMAIL = "demo@portfoliowise.local"
SETTLE_SECONDS = 4.0  # after the load event, for the app's own API calls


def say(line: str) -> None:
    print(line, flush=True)  # noqa: T201


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Page:
    """One page target over a flat DevTools session."""

    def __init__(self, ws: ClientConnection, session: str) -> None:
        self.ws = ws
        self.session = session
        self.next_id = 1000
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return cdp(self.ws, method, params, self.session, self)

    def wait_for(self, method: str, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        seen = len(self.events)
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if event["method"] == method:
                    return event
            seen = len(self.events)
            pump(self.ws, self, deadline - time.monotonic())
        return None

    def settle(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            pump(self.ws, self, left)

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(json.dumps(result["exceptionDetails"])[:300])
        return result["result"].get("value")


_ids = iter(range(1, 1_000_000))


def pump(ws: ClientConnection, page: Page | None, timeout: float) -> dict[str, Any] | None:
    try:
        message = json.loads(ws.recv(timeout=max(timeout, 0.01)))
    except TimeoutError:
        return None
    if "method" in message and page is not None and message.get("sessionId") == page.session:
        page.events.append(message)
    return dict(message)


def cdp(
    ws: ClientConnection,
    method: str,
    params: dict[str, Any] | None = None,
    session: str | None = None,
    page: Page | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    call_id = next(_ids)
    message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    ws.send(json.dumps(message))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = pump(ws, page, deadline - time.monotonic())
        if reply is not None and reply.get("id") == call_id:
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return dict(reply.get("result", {}))
    raise TimeoutError(method)


def start_server(dist: Path, port: int, data_dir: Path, log: Path) -> subprocess.Popen[str]:
    """The server, its output (a line per request: hundreds, with the app's service
    worker precaching every asset) in `log`, never in a pipe nobody reads."""
    env = {**os.environ, "QUOTE_SOURCES": "sample", "FX_SOURCES": "sample"}
    env["HISTORY_SOURCES"] = "funds"
    command = [sys.executable, "-m", "portfoliowise.handlers.cli", "serve", "--demo"]
    command += ["--dev-login", "--no-scheduler", "--web", str(dist), "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, text=True, env=env
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"serve did not start: {log.read_text()}")


def start_browser(binary: str, profile: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Debian's binary is a shell wrapper: stop the whole group
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return process, found[1]
        if not line and process.poll() is not None:
            break
    stop_browser(process)
    raise SystemExit(f"{binary} did not start")


def stop_browser(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def open_page(ws: ClientConnection) -> Page:
    target = cdp(ws, "Target.createTarget", {"url": "about:blank"})["targetId"]
    session = cdp(ws, "Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    page = Page(ws, session)
    for domain in ("Page", "Runtime", "Network"):
        page.call(f"{domain}.enable")
    return page


def api_calls(page: Page) -> list[str]:
    calls = []
    for event in page.events:
        if event["method"] == "Network.responseReceived":
            response = event["params"]["response"]
            if "/api-proxy/" in response["url"]:
                path = response["url"].split("/api-proxy", 1)[1]
                if response["status"] < 400:  # a failure keeps its query string
                    path = path.split("?")[0]
                calls.append(f"{path} {response['status']}")
    return calls


def page_errors(page: Page) -> list[str]:
    errors = []
    for event in page.events:
        if event["method"] == "Runtime.exceptionThrown":
            details = event["params"]["exceptionDetails"]
            errors.append(details.get("exception", {}).get("description", details["text"]))
    return [e.splitlines()[0][:160] for e in errors]


def rendered(page: Page) -> int:
    return int(page.evaluate("document.querySelector('#root')?.childElementCount ?? 0"))


def visit(page: Page, url: str, screenshots: Path | None, name: str) -> None:
    page.events.clear()
    page.call("Page.navigate", {"url": url})
    page.wait_for("Page.loadEventFired", 30)
    page.settle(SETTLE_SECONDS)
    if screenshots is not None:
        shot = page.call("Page.captureScreenshot", {"format": "png"})
        (screenshots / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def check(results: list[bool], ok: bool, what: str) -> None:
    results.append(ok)
    say(f"{'ok  ' if ok else 'FAIL'} {what}")


def smoke(ws: ClientConnection, base: str, screenshots: Path | None) -> list[bool]:
    results: list[bool] = []
    host = base.split("//")[1].split(":")[0]
    page = open_page(ws)
    visit(page, f"{base}/", screenshots, f"{host}-home")
    check(results, rendered(page) > 0, f"{base}/ rendered the app into #root")
    say(f"     API calls by the app: {api_calls(page) or 'none'}")
    for error in page_errors(page):
        say(f"     page error: {error}")

    login = page.evaluate(
        "fetch('/api-proxy/auth/dev-login', {method: 'POST', credentials: 'same-origin',"
        " headers: {'Content-Type': 'application/json'},"
        f" body: JSON.stringify({{email: '{EMAIL}'}})}}).then(r => r.status)"
    )
    check(results, login == 200, f"POST /api-proxy/auth/dev-login from the page: {login}")
    cookies = page.call("Network.getCookies", {"urls": [f"{base}/"]})["cookies"]
    session = [c for c in cookies if c["name"] == "__Host-session"]
    check(
        results,
        bool(session) and session[0]["secure"],
        f"the browser kept the Secure __Host-session cookie on {base}",
    )
    status = page.evaluate("fetch('/api-proxy/auth/session').then(r => r.status)")
    check(results, status == 200, f"GET /api-proxy/auth/session sends it back: {status}")

    visit(page, f"{base}/dashboard", screenshots, f"{host}-dashboard")
    check(results, rendered(page) > 0, f"{base}/dashboard (a client-side route) rendered")
    say(f"     API calls by the app: {api_calls(page) or 'none'}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path, help="the app's build output (index.html, assets/)")
    parser.add_argument("--browser", help="Chromium binary (default: the first on PATH)")
    parser.add_argument("--screenshots", type=Path, help="write a PNG per page visited here")
    args = parser.parse_args()
    binary = args.browser or next((b for b in BROWSERS if shutil.which(b)), None)
    if binary is None:
        raise SystemExit(f"no browser found (tried {', '.join(BROWSERS)}); pass --browser")
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "serve.log"
        server = start_server(args.dist, port, Path(scratch) / "data", log)
        browser, endpoint = start_browser(binary, Path(scratch) / "profile")
        try:
            with connect(endpoint, max_size=None) as ws:
                results = []
                for base in (f"http://localhost:{port}", f"http://127.0.0.1:{port}"):
                    results += smoke(ws, base, args.screenshots)
        finally:
            stop_browser(browser)
            server.terminate()
            server.wait(10)
            lines = log.read_text().splitlines()
            say(
                f"     serve: {len(lines)} lines, {sum('Traceback' in x for x in lines)} tracebacks"
            )
    say(f"{sum(results)}/{len(results)} checks passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
