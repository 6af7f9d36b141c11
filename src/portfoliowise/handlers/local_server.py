"""The local server: each HTTP request on 127.0.0.1 becomes an API Gateway REST proxy
event for the same resolver the Lambda functions run, and the proxy response becomes the
HTTP response. One log line per request; Ctrl-C stops it cleanly.

Requests are handled one at a time (the resolver keeps the current event on itself), which
is what one person's local app needs; the scheduler's jobs take the same lock."""

from __future__ import annotations

import base64
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
STAGE = "local"
MAX_BODY_BYTES = 6 * 1024 * 1024  # API Gateway's Lambda proxy payload limit
TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-www-form")

Resolve = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class LocalContext:
    """The Lambda context attributes the handlers and Powertools read."""

    aws_request_id: str
    function_name: str = "portfoliowise-local"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:portfoliowise-local"
    memory_limit_in_mb: int = 256
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def proxy_event(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    client_ip: str,
    request_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event for one HTTP request."""
    url = urlsplit(target)
    pairs = parse_qsl(url.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for key, value in headers.items():
        multi_headers.setdefault(key, []).append(value)
    content_type = headers.get("Content-Type", headers.get("content-type", ""))
    text = not body or any(content_type.startswith(t) for t in TEXT_TYPES)
    try:
        decoded = body.decode("utf-8") if text else None
    except UnicodeDecodeError:
        decoded = None
    at = now or datetime.now(UTC)
    return {
        "resource": "/{proxy+}",
        "path": url.path,
        "httpMethod": method,
        "headers": dict(headers) or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": url.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{STAGE}{url.path}",
            "stage": STAGE,
            "requestId": request_id,
            "requestTime": at.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(at.timestamp() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "000000000000",
            "apiId": "local",
            "identity": {"sourceIp": client_ip, "userAgent": headers.get("User-Agent")},
        },
        "body": decoded if decoded is not None or not body else base64.b64encode(body).decode(),
        "isBase64Encoded": decoded is None and bool(body),
    }


def _response_headers(response: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    multi = response.get("multiValueHeaders") or {}
    for key, values in multi.items():
        out.extend((key, str(v)) for v in values)
    for key, value in (response.get("headers") or {}).items():
        if key not in multi:
            out.append((key, str(value)))
    return out


def _response_body(response: Mapping[str, Any]) -> bytes:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode("utf-8")


def make_handler(
    resolve: Resolve, lock: threading.Lock, out: TextIO
) -> type[BaseHTTPRequestHandler]:
    class ProxyHandler(BaseHTTPRequestHandler):
        server_version = "portfoliowise"
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            started = time.perf_counter()
            request_id = str(uuid.uuid4())
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send_raw(
                    413,
                    b'{"error":{"code":"payload_too_large","message":"request body over 6 MB"}}',
                )
                self._log(413, started)
                return
            body = self.rfile.read(length) if length else b""
            headers = dict(self.headers.items())
            event = proxy_event(
                self.command, self.path, headers, body, self.client_address[0], request_id
            )
            with lock:
                response = resolve(event, LocalContext(aws_request_id=request_id))
            status = int(response.get("statusCode", 500))
            payload = _response_body(response)
            self.send_response(status)
            for key, value in _response_headers(response):
                if key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            self._log(status, started)

        def _send_raw(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
            self.close_connection = True

        def _log(self, status: int, started: float) -> None:
            millis = (time.perf_counter() - started) * 1000
            path = urlsplit(self.path).path  # no query string: it may carry symbols, not secrets
            print(
                f'{self.client_address[0]} "{self.command} {path}" {status} {millis:.1f} ms',
                file=out,
                flush=True,
            )

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        def log_message(self, format: str, *args: Any) -> None:
            """The one line per request is `_log`'s; nothing else."""

    return ProxyHandler


class LocalServer:
    """The HTTP server around a resolver; `lock` serialises requests and scheduled jobs."""

    def __init__(
        self, resolve: Resolve, port: int, *, out: TextIO = sys.stderr, host: str = HOST
    ) -> None:
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), make_handler(resolve, self.lock, out))
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        self._server.shutdown()

    def close(self) -> None:
        self._server.server_close()
