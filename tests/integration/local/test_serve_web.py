"""`portfoliowise serve --web DIR`: a tiny fake build of the existing app (index.html, a
hashed script and stylesheet, a favicon) served next to the real API on the embedded
store, over real sockets: the files with their content types and caching, the app's
routes answered with index.html, every way out of DIR refused, only GET and HEAD on the
files, and `/api-proxy/<path>` reaching the API with its method, query string, cookies
and body. The build of the real app is never needed."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.cli import main
from portfoliowise.handlers.cli_serve import api_paths, local_settings
from portfoliowise.handlers.container import local_container
from portfoliowise.handlers.local_server import LocalServer
from portfoliowise.handlers.settings import Settings
from portfoliowise.handlers.static_site import SiteError, StaticSite, WebApp

INDEX = b'<!doctype html><html><head><script src="/assets/index-abc123.js"></script></head></html>'
SCRIPT = b"console.log('app');\n"
STYLE = b"body{margin:0}\n"
FAVICON = b"\x00\x00\x01\x00fake-icon"
SECRET = b"outside the site: never served\n"
OFFLINE = {"QUOTE_SOURCES": "sample", "FX_SOURCES": "sample", "HISTORY_SOURCES": "funds"}
EMAIL = "web@example.com"


def build_site(root: Path) -> Path:
    """A fake build in `root/site`, with a secret next to it and links pointing out."""
    site = root / "site"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_bytes(INDEX)
    (site / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (site / "assets" / "index-abc123.css").write_bytes(STYLE)
    (site / "favicon.ico").write_bytes(FAVICON)
    (site / "manifest.json").write_text('{"name": "PortfolioWise"}')
    (site / ".env").write_text("SECRET=1\n")
    (root / "secret.txt").write_bytes(SECRET)
    (root / "outside").mkdir()
    (root / "outside" / "secret.txt").write_bytes(SECRET)
    (site / "leak.txt").symlink_to(root / "secret.txt")
    (site / "leak").symlink_to(root / "secret.txt")
    (site / "linked").symlink_to(root / "outside", target_is_directory=True)
    (site / "alias.js").symlink_to(site / "assets" / "index-abc123.js")
    return site


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> Any:
        return json.loads(self.body)

    def error_code(self) -> str:
        assert self.header("Content-Type") == "application/json"
        error = self.json()["error"]
        assert {"code", "message"} <= set(error)
        return str(error["code"])


@dataclass
class Served:
    port: int
    site: Path
    out: io.StringIO

    def request(
        self,
        method: str,
        target: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        """One request with the target sent exactly as given (no normalisation)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def raw(self, data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(data)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            return received


def _start(
    tmp: Path, *, web: bool
) -> tuple[LocalServer, Any, io.StringIO, Path, Any]:  # server, stores, log, site, app
    site = build_site(tmp)
    data_dir = tmp / "data"
    settings = local_settings(Settings.from_env(OFFLINE), data_dir, demo=False, dev_login=True)
    container = local_container(data_dir, settings)
    stores = container.sqlite()
    app = bootstrap.local_api(container)
    out = io.StringIO()
    web_app = WebApp(StaticSite.open(site), api_paths(app)) if web else None
    server = LocalServer(app.resolve, 0, out=out, web=web_app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stores, out, site, app


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server, stores, out, site, _app = _start(tmp_path_factory.mktemp("web"), web=True)
    yield Served(int(server.url.rsplit(":", 1)[1]), site, out)
    server.shutdown()
    server.close()
    stores.close()


# The files


def test_the_root_is_index_html_revalidated_every_time(served: Served) -> None:
    reply = served.request("GET", "/")
    assert reply.status == 200
    assert reply.body == INDEX
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert reply.header("Cache-Control") == "no-cache"
    assert reply.header("ETag")
    assert reply.header("Last-Modified")
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert served.request("GET", "/index.html").body == INDEX


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/assets/index-abc123.js", "text/javascript; charset=utf-8", SCRIPT),
        ("/assets/index-abc123.css", "text/css; charset=utf-8", STYLE),
        ("/favicon.ico", "image/x-icon", FAVICON),
        ("/manifest.json", "application/json", b'{"name": "PortfolioWise"}'),
        ("/alias.js", "text/javascript; charset=utf-8", SCRIPT),  # a link inside the site
    ],
)
def test_a_file_has_its_content_type(
    served: Served, path: str, content_type: str, body: bytes
) -> None:
    reply = served.request("GET", path)
    assert reply.status == 200
    assert reply.header("Content-Type") == content_type
    assert reply.body == body
    assert reply.header("Content-Length") == str(len(body))


def test_hashed_assets_are_immutable_and_other_files_revalidated(served: Served) -> None:
    immutable = served.request("GET", "/assets/index-abc123.js").header("Cache-Control")
    assert immutable == "public, max-age=31536000, immutable"
    assert served.request("GET", "/favicon.ico").header("Cache-Control") == "no-cache"
    assert served.request("GET", "/dashboard").header("Cache-Control") == "no-cache"


def test_an_unchanged_file_is_304(served: Served) -> None:
    etag = served.request("GET", "/assets/index-abc123.js").header("ETag")
    assert etag is not None
    reply = served.request("GET", "/assets/index-abc123.js", headers={"If-None-Match": etag})
    assert reply.status == 304
    assert reply.body == b""
    assert reply.header("ETag") == etag
    other = served.request("GET", "/assets/index-abc123.js", headers={"If-None-Match": '"x"'})
    assert other.status == 200


@pytest.mark.parametrize(
    "target",
    [
        "/dashboard",
        "/some/client/route",
        "/legal/terms/",
        "/settings?tab=profile",
        "/share/abc-123",
        "/auth/google/callback?code=x",  # the app's route, not one of the API's
        "/etc/passwd",  # an absolute path is a path inside the site
    ],
)
def test_a_path_that_names_no_file_is_the_apps_index(served: Served, target: str) -> None:
    reply = served.request("GET", target)
    assert reply.status == 200
    assert reply.body == INDEX
    assert reply.header("Content-Type") == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "target", ["/assets/index-missing.js", "/missing.png", "/assets/", "/assets", "/C:/x.ini"]
)
def test_a_missing_file_is_404_never_the_index(served: Served, target: str) -> None:
    reply = served.request("GET", target)
    assert reply.status == 404
    assert reply.error_code() == "not_found"


def test_head_answers_the_headers_without_the_body(served: Served) -> None:
    reply = served.request("HEAD", "/assets/index-abc123.js")
    assert reply.status == 200
    assert reply.body == b""
    assert reply.header("Content-Length") == str(len(SCRIPT))
    assert reply.header("Content-Type") == "text/javascript; charset=utf-8"
    fallback = served.request("HEAD", "/dashboard")
    assert fallback.status == 200
    assert fallback.header("Content-Length") == str(len(INDEX))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("target", ["/", "/assets/index-abc123.js", "/dashboard"])
def test_other_methods_on_the_files_are_405(served: Served, method: str, target: str) -> None:
    reply = served.request(method, target, body=b"{}", headers={"Content-Type": "text/plain"})
    assert reply.status == 405
    assert reply.header("Allow") == "GET, HEAD"
    assert reply.error_code() == "method_not_allowed"


# Ways out of the site


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/assets/../../secret.txt",
        "/assets/../../../etc/passwd",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/./index.html",
        "//etc/passwd",
        "/assets//index-abc123.js",
        "/%2fetc/passwd",
        "/assets%2f..%2f..%2fsecret.txt",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/index.html%00.js",
        "/%00",
        "/%ff%fe",  # not UTF-8
    ],
)
def test_a_path_that_could_step_out_is_400(served: Served, target: str) -> None:
    reply = served.request("GET", target)
    assert reply.status == 400
    assert reply.error_code() == "bad_request"
    assert SECRET not in reply.body


@pytest.mark.parametrize("target", ["/leak.txt", "/leak", "/linked/secret.txt", "/.env"])
def test_links_out_of_the_site_and_hidden_files_are_404(served: Served, target: str) -> None:
    reply = served.request("GET", target)
    assert reply.status == 404
    assert reply.error_code() == "not_found"
    assert SECRET not in reply.body


def test_a_raw_nul_in_the_target_is_400(served: Served) -> None:
    answer = served.raw(b"GET /index.html\x00.js HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert SECRET not in answer


def test_an_absolute_form_target_is_400(served: Served) -> None:
    answer = served.raw(b"GET http://x/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")


# The API, under /api-proxy/ and on its own paths


def test_api_proxy_health_reaches_the_api(served: Served) -> None:
    reply = served.request("GET", "/api-proxy/health")
    assert reply.status == 200
    assert reply.json() == {"status": "ok"}
    assert served.request("GET", "/health").json() == {"status": "ok"}


def test_api_proxy_config_client_is_answered_by_the_api(served: Served) -> None:
    reply = served.request("GET", "/api-proxy/config/client")
    assert reply.header("Content-Type") == "application/json"
    assert reply.status in (200, 404)
    assert reply.body != INDEX


def test_an_unknown_path_under_api_proxy_is_the_apis_404(served: Served) -> None:
    for target in ("/api-proxy/no/such/route", "/api-proxy", "/api-proxy/"):
        reply = served.request("GET", target)
        assert reply.status == 404
        assert reply.header("Content-Type") == "application/json"
        assert "error" in reply.json()


def test_the_api_paths_work_without_the_prefix(served: Served) -> None:
    assert served.request("GET", "/openapi.json").json()["info"]["title"]
    unauthenticated = served.request("GET", "/portfolios")
    assert unauthenticated.status == 401
    assert unauthenticated.header("Content-Type") == "application/json"


def test_api_proxy_keeps_the_cookies_query_string_and_body(served: Served) -> None:
    login = served.request(
        "POST",
        "/api-proxy/auth/dev-login",
        body=json.dumps({"email": EMAIL}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert login.status == 200, login.body
    cookie = login.header("Set-Cookie")
    assert cookie is not None
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie
    session = cookie.split(";", 1)[0]
    csrf = login.json()["csrfToken"]

    me = served.request("GET", "/api-proxy/auth/session", headers={"Cookie": session})
    assert me.status == 200
    assert me.json()["userId"] == f"dev:{EMAIL}"
    assert served.request("GET", "/api-proxy/auth/session").status == 401  # no cookie

    created = served.request(
        "POST",
        "/api-proxy/portfolios",
        body=json.dumps({"name": "Through the proxy", "baseCurrency": "JPY"}).encode(),
        headers={"Content-Type": "application/json", "Cookie": session, "X-CSRF-Token": csrf},
    )
    assert created.status == 201, created.body
    portfolio_id = created.json()["portfolioId"]
    listed = served.request("GET", "/portfolios", headers={"Cookie": session})  # same store
    assert portfolio_id in listed.body.decode()

    audit = served.request(  # the query string reaches the API (limit=0 is refused)
        "GET", f"/api-proxy/portfolios/{portfolio_id}/audit?limit=0", headers={"Cookie": session}
    )
    assert audit.status == 400
    assert "limit" in audit.body.decode()
    one = served.request(
        "GET", f"/api-proxy/portfolios/{portfolio_id}/audit?limit=1", headers={"Cookie": session}
    )
    assert one.status == 200
    assert len(one.json()["entries"]) == 1


def test_the_log_line_names_the_path_asked_for(served: Served) -> None:
    served.request("GET", "/api-proxy/health?x=1")
    deadline = time.monotonic() + 5
    while '"GET /api-proxy/health" 200' not in served.out.getvalue():
        assert time.monotonic() < deadline, served.out.getvalue()
        time.sleep(0.01)


# Routing, the API's paths, and the directory


@pytest.mark.parametrize(
    ("target", "api"),
    [
        ("/api-proxy/health", "/health"),
        (
            "/api-proxy/api/market-data?type=us-stock&symbols=VTI",
            "/api/market-data?type=us-stock&symbols=VTI",
        ),
        ("/api-proxy", "/"),
        ("/api-proxy?x=1", "/?x=1"),
        ("/health", "/health"),
        ("/portfolios/p1/valuation?currency=USD", "/portfolios/p1/valuation?currency=USD"),
        ("/api-proxyfoo", None),
        ("/dashboard", None),
        ("/", None),
        ("/auth/google/callback", None),
    ],
)
def test_which_requests_go_to_the_api(tmp_path: Path, target: str, api: str | None) -> None:
    site = build_site(tmp_path)
    web = WebApp(
        StaticSite.open(site), lambda path: path in ("/health", "/portfolios/p1/valuation")
    )
    assert web.api_target(target) == api


def test_api_paths_knows_the_resolvers_routes(tmp_path: Path) -> None:
    """Powertools keeps its routes in private lists: this fails if they move."""
    data_dir = tmp_path / "data"
    settings = local_settings(Settings.from_env(OFFLINE), data_dir, demo=False, dev_login=True)
    container = local_container(data_dir, settings)
    try:
        is_api = api_paths(bootstrap.local_api(container))
        for path in (
            "/health",
            "/openapi.json",
            "/auth/dev-login",
            "/portfolios",
            "/portfolios/p1/valuation",
            "/api/market-data",
            "/health/",
        ):
            assert is_api(path), path
        for path in (
            "/",
            "/dashboard",
            "/auth/google/callback",
            "/assets/index-abc123.js",
            "/api-proxy/health",
        ):
            assert not is_api(path), path
    finally:
        container.sqlite().close()


def test_without_web_the_server_is_unchanged(tmp_path: Path) -> None:
    server, stores, _out, _site, _app = _start(tmp_path, web=False)
    try:
        port = int(server.url.rsplit(":", 1)[1])
        plain = Served(port, tmp_path, io.StringIO())
        assert plain.request("GET", "/health").status == 200
        for target in ("/", "/index.html", "/api-proxy/health"):
            reply = plain.request("GET", target)
            assert reply.status == 404
            assert reply.header("Content-Type") == "application/json"
    finally:
        server.shutdown()
        server.close()
        stores.close()


def test_a_rebuild_is_served_without_a_restart(tmp_path: Path) -> None:
    site = StaticSite.open(build_site(tmp_path))
    (tmp_path / "site" / "index.html").write_bytes(b"<html>rebuilt</html>")
    assert site.answer("GET", "/dashboard", {}).body == b"<html>rebuilt</html>"


def _no_index(tmp_path: Path) -> Path:
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty"


def _a_file(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("x")
    return tmp_path / "index.html"


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: tmp / "missing", "no such directory"),
        (_no_index, "no index.html"),
        (_a_file, "not a directory"),
    ],
    ids=["missing", "no-index", "a-file"],
)
def test_a_web_dir_that_cannot_be_served_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, says: str
) -> None:
    directory = make(tmp_path)
    data_dir = tmp_path / "data"
    code = main(["serve", "--web", str(directory), "--data-dir", str(data_dir), "--no-scheduler"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith(f"portfoliowise: error: --web {directory}: ")
    assert says in line
    assert not data_dir.exists()  # refused before anything started
    with pytest.raises(SiteError):
        StaticSite.open(directory)


# The command itself


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_web_runs_the_app_and_the_api_on_one_port(tmp_path: Path) -> None:
    site = build_site(tmp_path)
    port = _free_port()
    log_path = tmp_path / "serve.log"
    # A file, not a pipe: a pipe nobody reads fills up and blocks the server's logging.
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "portfoliowise.handlers.cli",
                "serve",
                "--demo",
                "--dev-login",
                "--no-scheduler",
                "--web",
                str(site),
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **OFFLINE},
        )
        try:
            client = Served(port, site, io.StringIO())
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.request("GET", "/api-proxy/health").status == 200:
                        break
                except OSError:
                    pass
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "serve --web did not start"
                time.sleep(0.1)
            assert client.request("GET", "/").body == INDEX
            assert client.request("GET", "/dashboard").body == INDEX
            assert client.request("GET", "/health").json() == {"status": "ok"}
        finally:
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=60)  # a loaded machine is slow to stop
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise
        assert code == 0, log_path.read_text()
    output = log_path.read_text()
    assert f"web app: http://127.0.0.1:{port}/ from {site}" in output
    assert "Traceback" not in output
