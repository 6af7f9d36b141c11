"""Browser smoke test of `portfoliowise serve --web DIR` (not part of `make test`).

Starts the server (offline: sample prices only, a temporary data dir, the dev login) on a
free port with the existing app's build, and a headless Chromium driven over the DevTools
protocol, then, on http://localhost and on http://127.0.0.1, does what a user of the app does
and checks what the backend's compatibility routes answered (the app reaches the backend as
`/api-proxy/<path>`; every such request the page makes is recorded from the DevTools Network
events, with its status, and listed at the end):

1. signed out: loads `/` and checks the app rendered into `#root`, that its own
   `GET /config/client` got `{success, data}` and its exchange-rate call
   (`GET /api/market-data?type=exchange-rate&base=USD&target=JPY`) got `data["USD-JPY"].rate`,
   and that the page shows no fallback rate ("Fallback", "150.00"); then, from the page,
   that `POST /auth/refresh`, `GET /api/portfolio`, `GET /v1/subscription/status` and
   `GET /api/price-history` answer 401 in the app's error shape
   (`{success: false, error: {code, message}}`);
2. signs in with `POST /api-proxy/auth/dev-login` from the page (fetch; the Google sign-in,
   `POST /auth/google/login {code, redirectUri}`, needs Google and is not exercised) and
   checks the answer (`data.accessToken`, `data.user`), that the browser kept the `Secure`
   `__Host-session` and `__Host-refresh` cookies (over plain http) and sends them back:
   `GET /api-proxy/auth/session` answers `{success, isAuthenticated, user, hasDriveAccess,
   accessToken}`;
3. stores the app's `pfwise_session` (as the app does after a sign-in) and loads
   `/dashboard`: the app itself then calls `POST /auth/refresh` (cookies) and gets a JWT
   access token; its sync request `GET /api/portfolio` (bearer token) is checked when the
   app makes it, and otherwise made from the page with that token (after a reload the app
   does not make it: App.tsx's ServerSyncInitializer runs `syncFromServer` as soon as the
   stored session marks it signed in, before the refresh has given it a token, and not
   again);
4. clicks the app's refresh ("更新") button, after which the app saves its portfolio with
   `PUT /api/portfolio` (bearer token, `X-CSRF-Token: dummy-csrf-token`); then, from the page
   the way the app does: a save with the bearer token only, a stale save (409
   `VERSION_CONFLICT`), a save with only the cookies and the app's dummy CSRF header (the
   browser adds our Origin) and, from outside the browser, the same cookies with a foreign
   Origin (refused).

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
import urllib.error
import urllib.request
from dataclasses import dataclass
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


@dataclass
class Call:
    """One `/api-proxy/` request the page made: by the app, or by this script (`smoke`)."""

    request_id: str
    method: str
    path: str  # after `/api-proxy`, with the query string
    headers: dict[str, str]
    by_smoke: bool
    sent: str | None = None  # the request body
    status: int | None = None
    failed: str | None = None

    def __str__(self) -> str:
        who = " (smoke)" if self.by_smoke else ""
        status = self.status if self.status is not None else self.failed or "pending"
        return f"{self.method} {self.path} {status}{who}"


def api_calls(page: Page, since: int = 0) -> list[Call]:
    calls: dict[str, Call] = {}
    for event in page.events[since:]:
        params = event["params"]
        call = calls.get(params.get("requestId", ""))
        if event["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if "/api-proxy/" not in url or params.get("redirectResponse"):
                continue
            frames = params.get("initiator", {}).get("stack", {}).get("callFrames", [])
            calls[params["requestId"]] = Call(
                params["requestId"],
                params["request"]["method"],
                url.split("/api-proxy", 1)[1],
                {k.lower(): v for k, v in params["request"].get("headers", {}).items()},
                by_smoke=bool(frames) and not frames[0].get("url"),  # Runtime.evaluate
                sent=params["request"].get("postData"),
            )
        elif call is not None and event["method"] == "Network.responseReceived":
            call.status = params["response"]["status"]
        elif call is not None and event["method"] == "Network.loadingFailed":
            call.failed = params.get("errorText", "failed")
    return list(calls.values())


def app_calls(page: Page, since: int, method: str, path: str) -> list[Call]:
    return [
        c
        for c in api_calls(page, since)
        if not c.by_smoke and c.method == method and c.path.split("?")[0] == path
    ]


def body_of(page: Page, call: Call) -> Any:
    try:
        got = page.call("Network.getResponseBody", {"requestId": call.request_id})
    except RuntimeError as error:
        return f"<no body: {error}>"
    text = base64.b64decode(got["body"]).decode() if got["base64Encoded"] else got["body"]
    try:
        return json.loads(text)
    except ValueError:
        return text


def excerpt(value: Any, size: int = 220) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= size else text[:size] + "…"


def page_fetch(
    page: Page,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: Any = None,
    credentials: str = "same-origin",
) -> tuple[int, Any]:
    """`fetch('/api-proxy' + path)` from the page: (status, the JSON answer or its text)."""
    options: dict[str, Any] = {"method": method, "headers": headers or {}}
    options["credentials"] = credentials
    if body is not None:
        options["headers"] = {"Content-Type": "application/json", **options["headers"]}
        options["body"] = json.dumps(body)
    answer = page.evaluate(
        f"fetch('/api-proxy{path}', {json.dumps(options)})"
        ".then(async r => ({status: r.status, text: await r.text()}))"
    )
    try:
        return int(answer["status"]), json.loads(answer["text"])
    except ValueError:
        return int(answer["status"]), answer["text"]


def page_errors(page: Page, since: int = 0) -> list[str]:
    errors = []
    for event in page.events[since:]:
        if event["method"] == "Runtime.exceptionThrown":
            details = event["params"]["exceptionDetails"]
            errors.append(details.get("exception", {}).get("description", details["text"]))
    return [e.splitlines()[0][:160] for e in errors]


def rendered(page: Page) -> int:
    return int(page.evaluate("document.querySelector('#root')?.childElementCount ?? 0"))


def fallback_text(page: Page) -> list[str]:
    """Lines of the page's text showing the app's fallback exchange rate."""
    text = str(page.evaluate("document.body.innerText"))
    return [
        line.strip()[:100] for line in text.splitlines() if re.search(r"Fallback|150\.00", line)
    ]


def visit(page: Page, url: str, screenshots: Path | None, name: str) -> int:
    """Load `url`; the index of its first event in `page.events`."""
    since = len(page.events)
    page.call("Page.navigate", {"url": url})
    page.wait_for("Page.loadEventFired", 30)
    page.settle(SETTLE_SECONDS)
    shoot(page, screenshots, name)
    return since


def shoot(page: Page, screenshots: Path | None, name: str) -> None:
    if screenshots is not None:
        shot = page.call("Page.captureScreenshot", {"format": "png"})
        (screenshots / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def check(results: list[bool], ok: bool, what: str, answer: Any = None) -> None:
    results.append(ok)
    say(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok and answer is not None:
        say(f"     answer: {excerpt(answer, 400)}")


def app_error(status: int, body: Any, expected: int) -> bool:
    """The app's error shape: `{success: false, error: {code, message}}`."""
    error = body.get("error") if isinstance(body, dict) else None
    return (
        status == expected
        and body.get("success") is False
        and isinstance(error, dict)
        and bool(error.get("code"))
        and bool(error.get("message"))
    )


def is_jwt(token: Any) -> bool:
    return isinstance(token, str) and bool(re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", token))


def say_calls(page: Page, since: int) -> None:
    calls = [c for c in api_calls(page, since) if not c.by_smoke]
    say(f"     API calls by the app: {[str(c) for c in calls] or 'none'}")
    for call in calls:
        if call.status is None or call.status >= 400:
            say(f"     the app's {call}: {excerpt(body_of(page, call), 160)}")
    for error in page_errors(page, since):
        say(f"     page error: {error}")


def check_app_call(
    results: list[bool], page: Page, since: int, method: str, path: str, what: str, test: Any
) -> Any:
    """The app's (last) `method path` call since `since`: checked with `test(status, body)`."""
    calls = app_calls(page, since, method, path)
    if not calls:
        check(results, False, f"the app called {method} {path} ({what})", "not called")
        return None
    call = calls[-1]
    body = body_of(page, call)
    check(results, bool(test(call.status, body)), f"the app's {call}: {what}", body)
    return body


def signed_out(page: Page, results: list[bool], base: str, screenshots: Path | None) -> None:
    host = base.split("//")[1].split(":")[0]
    since = visit(page, f"{base}/", screenshots, f"{host}-home")
    check(results, rendered(page) > 0, f"{base}/ rendered the app into #root")
    say_calls(page, since)
    check_app_call(
        results,
        page,
        since,
        "GET",
        "/config/client",
        "200 {success, data: {...}}",
        lambda s, b: (
            s == 200
            and isinstance(b, dict)
            and b.get("success") is True
            and isinstance(b.get("data"), dict)
        ),
    )
    rate = check_app_call(
        results,
        page,
        since,
        "GET",
        "/api/market-data",
        'exchange rate: 200 with data["USD-JPY"].rate',
        lambda s, b: (
            s == 200
            and isinstance(b, dict)
            and isinstance(((b.get("data") or {}).get("USD-JPY") or {}).get("rate"), (int, float))
        ),
    )
    exchange = [
        c for c in app_calls(page, since, "GET", "/api/market-data") if "exchange-rate" in c.path
    ]
    say(f"     exchange-rate call: {[c.path for c in exchange] or 'none'}; answer {excerpt(rate)}")
    shown = fallback_text(page)
    check(results, not shown, f"{base}/ shows no fallback exchange rate", shown)

    status, body = page_fetch(page, "POST", "/auth/refresh", body={})
    check(results, status == 401, f"signed out, POST /auth/refresh: {status}", body)
    for path in (
        "/api/portfolio",
        "/v1/subscription/status",
        "/api/price-history?ticker=AAPL&period=1m",
    ):
        status, body = page_fetch(page, "GET", path)
        check(
            results,
            app_error(status, body, 401),
            f"signed out, GET {path}: {status} in the app's error shape",
            body,
        )
    status, body = page_fetch(page, "GET", "/auth/session")
    say(f"     signed out, GET /auth/session: {status} {excerpt(body)}")


def sign_in(page: Page, results: list[bool], base: str) -> dict[str, Any]:
    status, login = page_fetch(page, "POST", "/auth/dev-login", body={"email": EMAIL})
    data = login.get("data") if isinstance(login, dict) else None
    check(
        results,
        status == 200
        and isinstance(data, dict)
        and is_jwt(data.get("accessToken"))
        and isinstance(data.get("user"), dict),
        f"POST /api-proxy/auth/dev-login from the page: {status}, data.accessToken and data.user",
        login,
    )
    cookies = page.call("Network.getCookies", {"urls": [f"{base}/"]})["cookies"]
    for name in ("__Host-session", "__Host-refresh"):
        kept = [c for c in cookies if c["name"] == name]
        check(
            results,
            bool(kept) and kept[0]["secure"],
            f"the browser kept the Secure {name} cookie on {base}",
        )
    status, held = page_fetch(page, "GET", "/api/portfolio")
    stored = (held.get("data") or {}) if isinstance(held, dict) else {}
    say(
        f"     GET /api/portfolio right after the sign-in: {status}"
        f" version={stored.get('version')!r}"
        f" currentAssets={len(stored.get('currentAssets') or [])}"
        f" targetPortfolio={len(stored.get('targetPortfolio') or [])}"
    )
    status, session = page_fetch(page, "GET", "/auth/session")
    keys = {"success", "isAuthenticated", "user", "hasDriveAccess", "accessToken"}
    check(
        results,
        status == 200
        and isinstance(session, dict)
        and keys <= session.keys()
        and session.get("isAuthenticated") is True,
        f"GET /api-proxy/auth/session sends it back: {status} with {sorted(keys)}",
        session,
    )
    return data if isinstance(data, dict) else {}


def signed_in(
    page: Page, results: list[bool], base: str, login: dict[str, Any], screenshots: Path | None
) -> None:
    host = base.split("//")[1].split(":")[0]
    stored = {"user": login.get("user"), "hasDriveAccess": bool(login.get("hasDriveAccess"))}
    page.evaluate(
        f"localStorage.setItem('pfwise_session', JSON.stringify({{...{json.dumps(stored)},"
        " timestamp: Date.now()}))"
    )
    since = visit(page, f"{base}/dashboard", screenshots, f"{host}-dashboard")
    check(results, rendered(page) > 0, f"{base}/dashboard (a client-side route) rendered")
    say_calls(page, since)
    refreshed = check_app_call(
        results,
        page,
        since,
        "POST",
        "/auth/refresh",
        "200 {success, data: {accessToken}} (a JWT)",
        lambda s, b: (
            s == 200
            and isinstance(b, dict)
            and b.get("success") is True
            and is_jwt((b.get("data") or {}).get("accessToken"))
        ),
    )
    token = (
        ((refreshed or {}).get("data") or {}).get("accessToken")
        if isinstance(refreshed, dict)
        else None
    )
    token = token or login.get("accessToken")
    got = app_calls(page, since, "GET", "/api/portfolio")
    if got:
        check_app_call(
            results, page, since, "GET", "/api/portfolio", "200 {success, data}", portfolio_ok
        )
        check(
            results,
            got[-1].headers.get("authorization", "").startswith("Bearer "),
            "the app sent its GET /api/portfolio with a bearer token",
        )
    else:
        # App behaviour: on a reload with `pfwise_session`, initializeAuth sets
        # isAuthenticated at once, so App.tsx's ServerSyncInitializer runs syncFromServer
        # before the refresh has given it a token (it returns early on no token), and
        # isAuthenticated does not change again. Only a fresh sign-in (loginWithGoogle)
        # triggers it. Make the app's request ourselves.
        say(
            "     note: the app made no GET /api/portfolio after the reload (its"
            " ServerSyncInitializer ran before the refresh gave it a token)"
        )
        status, body = page_fetch(
            page, "GET", "/api/portfolio", {"Authorization": f"Bearer {token}"}
        )
        check(
            results,
            portfolio_ok(status, body),
            f"GET /api/portfolio as the app's syncFromServer makes it (bearer from the app's"
            f" refresh): {status} {{success, data}}",
            body,
        )
    shown = fallback_text(page)
    check(
        results, not shown, f"{base}/dashboard (signed in) shows no fallback exchange rate", shown
    )

    # What makes the app save: its refresh button (refreshMarketPrices → syncToServer 5 s later).
    since = len(page.events)
    clicked = page.evaluate(
        "(() => { const b = [...document.querySelectorAll('button')].find(b =>"
        " /^(更新|update|refresh)/i.test(b.getAttribute('aria-label') || b.innerText.trim())"
        " && b.offsetParent !== null && !b.disabled); if (!b) return null; b.click();"
        " return b.getAttribute('aria-label') || b.innerText.trim(); })()"
    )
    say(f"     clicked the app's refresh button: {clicked!r}")
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline and not app_calls(page, since, "PUT", "/api/portfolio"):
        page.settle(0.5)
    page.settle(1.0)
    shoot(page, screenshots, f"{host}-after-refresh")
    say_calls(page, since)
    check_app_call(
        results,
        page,
        since,
        "PUT",
        "/api/portfolio",
        "200 {success, data: {version, updatedAt}}",
        lambda s, b: (
            s == 200
            and isinstance(b, dict)
            and b.get("success") is True
            and {"version", "updatedAt"} <= set((b.get("data") or {}).keys())
        ),
    )
    puts = app_calls(page, since, "PUT", "/api/portfolio")
    if puts:
        with contextlib.suppress(TypeError, ValueError):
            version = json.loads(puts[-1].sent or "").get("version")
            say(f"     the app's PUT sent version={version!r}")
        sent = puts[-1].headers
        check(
            results,
            sent.get("authorization", "").startswith("Bearer ")
            and sent.get("x-csrf-token") == "dummy-csrf-token",
            "the app sent its PUT with a bearer token and X-CSRF-Token: dummy-csrf-token",
            {k: (v[:20] + "…" if k == "authorization" else v) for k, v in sent.items()},
        )
    shown = fallback_text(page)
    check(
        results,
        not shown,
        f"{base}/dashboard after the refresh shows no fallback exchange rate",
        shown,
    )

    # The same saves, from the page, the way the app makes them.
    status, current = page_fetch(
        page, "GET", "/api/portfolio", {"Authorization": f"Bearer {token}"}
    )
    portfolio = (current.get("data") or {}) if isinstance(current, dict) else {}
    version = portfolio.get("version")
    say(f"     GET /api/portfolio (bearer): {status} version={version!r}")
    document = {
        "currentAssets": portfolio.get("currentAssets") or [],
        "targetPortfolio": portfolio.get("targetPortfolio") or [],
        "baseCurrency": portfolio.get("baseCurrency") or "JPY",
        "exchangeRate": portfolio.get("exchangeRate"),
        "additionalBudget": portfolio.get("additionalBudget"),
        "aiPromptTemplate": portfolio.get("aiPromptTemplate"),
    }
    csrf = {"X-CSRF-Token": "dummy-csrf-token"}
    bearer = {"Authorization": f"Bearer {token}", **csrf}

    def edited(template: str, version: Any) -> dict[str, Any]:  # a change: a new version
        return {**document, "aiPromptTemplate": template, "version": version}

    status, body = page_fetch(
        page,
        "PUT",
        "/api/portfolio",
        bearer,
        edited(f"smoke {base} 1", version),
        credentials="omit",
    )
    new_version = ((body.get("data") or {}) if isinstance(body, dict) else {}).get("version")
    check(
        results,
        status == 200
        and isinstance(body, dict)
        and body.get("success") is True
        and new_version != version,
        f"PUT /api/portfolio (a change), bearer token only, no cookies: {status}"
        f" version {version!r} → {new_version!r}",
        body,
    )
    status, body = page_fetch(
        page, "PUT", "/api/portfolio", bearer, edited(f"smoke {base} 2", version)
    )
    error = (body.get("error") or {}) if isinstance(body, dict) else {}
    check(
        results,
        status == 409
        and error.get("code") == "VERSION_CONFLICT"
        and error.get("userFriendly") is True
        and (error.get("details") or {}).get("serverVersion") == new_version,
        f"PUT /api/portfolio (a change) with the stale version {version!r}: {status}"
        f" {error.get('code')} serverVersion={(error.get('details') or {}).get('serverVersion')!r}",
        body,
    )
    status, body = page_fetch(
        page, "PUT", "/api/portfolio", csrf, edited(f"smoke {base} 3", new_version)
    )
    check(
        results,
        status == 200 and isinstance(body, dict) and body.get("success") is True,
        f"PUT /api/portfolio, cookies + X-CSRF-Token: dummy-csrf-token from {base}: {status}",
        body,
    )
    status, body = page_fetch(page, "PUT", "/api/portfolio", {}, {**document, "version": None})
    say(
        "     PUT /api/portfolio, cookies and no CSRF header (our Origin), from the page:"
        f" {status} {excerpt(body, 120)}"
    )
    status, body = outside_put(page, base, {**document, "version": None})
    check(
        results,
        status in (401, 403),
        f"PUT /api/portfolio, the same cookies + dummy CSRF, Origin https://evil.example: {status}",
        body,
    )
    status, body = page_fetch(page, "GET", "/v1/subscription/status")
    check(results, status == 200, f"signed in, GET /v1/subscription/status: {status}", body)


def portfolio_ok(status: int | None, body: Any) -> bool:
    """`GET /api/portfolio`'s answer: `{success: true, data: {...} | null}`."""
    return (
        status == 200
        and isinstance(body, dict)
        and body.get("success") is True
        and (body.get("data") is None or isinstance(body.get("data"), dict))
    )


def outside_put(page: Page, base: str, document: dict[str, Any]) -> tuple[int, Any]:
    """The browser's cookies sent from elsewhere, with a foreign Origin."""
    cookies = page.call("Network.getCookies", {"urls": [f"{base}/"]})["cookies"]
    jar = "; ".join(f"{c['name']}={c['value']}" for c in cookies if c["name"].startswith("__Host-"))
    request = urllib.request.Request(
        f"{base}/api-proxy/api/portfolio",
        data=json.dumps(document).encode(),
        method="PUT",
        headers={
            "Content-Type": "application/json",
            "Cookie": jar,
            "X-CSRF-Token": "dummy-csrf-token",
            "Origin": "https://evil.example",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def smoke(
    ws: ClientConnection, base: str, screenshots: Path | None
) -> tuple[list[bool], list[Call]]:
    results: list[bool] = []
    page = open_page(ws)
    signed_out(page, results, base, screenshots)
    login = sign_in(page, results, base)
    signed_in(page, results, base, login, screenshots)
    return results, api_calls(page)


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
                    say(f"---- {base}")
                    checked, calls = smoke(ws, base, args.screenshots)
                    results += checked
                    say(f"     every /api-proxy/ request on {base} ({len(calls)}):")
                    for call in calls:
                        say(f"       {call}")
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
