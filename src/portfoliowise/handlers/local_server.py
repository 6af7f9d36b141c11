"""The local server: each HTTP request on 127.0.0.1 becomes an API Gateway REST proxy
event for the same resolver the Lambda functions run, and the proxy response becomes the
HTTP response. One log line per request; Ctrl-C stops it cleanly.

The HTTP/1.1 framing is h11's (Content-Length validated, chunked bodies decoded, pipelined
requests kept apart); the responses are written here, each in one `sendall` on a
TCP_NODELAY socket, so that every error the server answers itself has the API's JSON
error shape and HTTP/1.0 clients can keep their connection alive when they ask to.

Connections are served concurrently, a thread each (at most MAX_CONNECTIONS), and the
resolver is called without a lock: it must be thread-safe. A kept-alive connection is
closed after IDLE_TIMEOUT without a request, and a request head must arrive within
HEADER_TIMEOUT of its first byte.

With a `WebApp` (`serve --web DIR`), the built single-page app's files are served too and
`/api-proxy/<path>` reaches the API as `/<path>` (see `static_site`).

With `RequestMetrics` (`serve` always passes them), every answered request is counted per
route and status with its latency, and `GET /metrics` answers them as JSON (see
`local_metrics`; the Lambda functions have no such route)."""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, TextIO
from urllib.parse import parse_qsl

import h11

from portfoliowise.handlers.local_logging import correlated
from portfoliowise.handlers.local_metrics import (
    METRICS_PATH,
    REFUSED,
    STATIC,
    RequestMetrics,
    RouteOf,
)
from portfoliowise.handlers.static_site import WebApp

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
STAGE = "local"
SERVER_NAME = b"portfoliowise"  # the Server header: no versions
MAX_BODY_BYTES = 6 * 1024 * 1024  # API Gateway's Lambda proxy payload limit
MAX_TARGET_BYTES = 8 * 1024  # a longer request target is answered 414
MAX_HEAD_BYTES = 64 * 1024  # request line and headers; a longer head is answered 431
MAX_HEADER_FIELDS = 100  # more header lines are answered 431
MAX_CONNECTIONS = 64  # open connections, a thread each; one more is answered 503
IDLE_TIMEOUT = 10.0  # seconds a kept-alive connection may wait for its next request
HEADER_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its head
BODY_TIMEOUT = 60.0  # seconds to receive a whole request body
SEND_TIMEOUT = 60.0  # seconds for a client to take a response
LINGER_TIMEOUT = 1.0  # seconds reading what a client still sends before closing on it
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-www-form")
RECV_BYTES = 256 * 1024

Resolve = Callable[[dict[str, Any], Any], dict[str, Any]]

_HEAD_END = re.compile(rb"\n\r?\n")  # where h11 ends a head
# h11 folds identical Content-Length fields (and "5, 5") into one: the raw head tells.
_CONTENT_LENGTH_FIELD = re.compile(rb"^content-length:([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
# Framing and identity headers are the server's, whatever the resolver answers.
_SERVER_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "server", "date"}
)
# The start of a request line h11 refused, for the log line.
_REQUEST_START = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]{1,16}) (?:(/[^\s?#]*)(?=[\s?#]))?")
_NO_BODY_STATUSES = frozenset({204, 304})
_JSON_HEADERS = [(b"Content-Type", b"application/json")]
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


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


def _split_target(target: str) -> tuple[str, str]:
    """The path and query of an origin-form request target (`//x` stays a path)."""
    path, _, query = target.partition("#")[0].partition("?")
    return path, query


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
    path, query = _split_target(target)
    pairs = parse_qsl(query, keep_blank_values=True)
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
        "path": path,
        "httpMethod": method,
        "headers": dict(headers) or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
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


def response_headers(response: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    multi = response.get("multiValueHeaders") or {}
    for key, values in multi.items():
        out.extend((key, str(v)) for v in values)
    for key, value in (response.get("headers") or {}).items():
        if key not in multi:
            out.append((key, str(value)))
    return out


def response_body(response: Mapping[str, Any]) -> bytes:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode("utf-8")


def _header_value(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")  # obs-text; clients read it as UTF-8


def _http_response(response: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The status, headers and body of a proxy response; raises if it is not a valid one
    (h11 checks the status and every header name and value: no CR/LF injection)."""
    if not isinstance(response, Mapping):
        raise TypeError(f"the resolver answered {type(response).__name__}, not a dict")
    status = int(response.get("statusCode", 500))
    headers = [
        (key.encode("ascii"), _header_value(value.strip(" \t")))
        for key, value in response_headers(response)
        if key.lower() not in _SERVER_HEADERS
    ]
    h11.Response(status_code=status, headers=headers)
    return status, headers, response_body(response)


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> bytes:
    """The API's error shape (`handlers.api.errors.error_body`), as bytes."""
    from portfoliowise.handlers.api.errors import error_body as text

    return text(code, message, dict(details) if details else None).encode()


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


def _encode_response(
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    *,
    close: bool,
    keep_alive_timeout: float | None = None,
    head_only: bool = False,
) -> bytes:
    """The whole response, status line to body, as one buffer for one `sendall`;
    `keep_alive_timeout` says so to an HTTP/1.0 client that asked to keep the connection."""
    parts = [
        b"HTTP/1.1 %d %s\r\n" % (status, _reason(status)),
        b"Server: " + SERVER_NAME + b"\r\n",
        b"Date: " + formatdate(usegmt=True).encode("ascii") + b"\r\n",
    ]
    parts.extend(name + b": " + value + b"\r\n" for name, value in headers)
    has_body = status not in _NO_BODY_STATUSES
    if has_body:
        parts.append(b"Content-Length: %d\r\n" % len(body))
    if close:
        parts.append(b"Connection: close\r\n")
    elif keep_alive_timeout is not None:
        parts.append(b"Connection: keep-alive\r\nKeep-Alive: timeout=%d\r\n" % keep_alive_timeout)
    parts.append(b"\r\n")
    if has_body and not head_only:
        parts.append(body)
    return b"".join(parts)


class _Refused(Exception):
    """A request the server answers itself (JSON error shape) before closing."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class _Gone(Exception):
    """The client went away or stayed idle: close without an answer."""


def _head_refusal(error: h11.RemoteProtocolError, head: bytearray) -> _Refused:
    if error.error_status_hint == 431:  # h11: no complete head within MAX_HEAD_BYTES
        newline = head.find(b"\n")
        if newline == -1 or newline > MAX_TARGET_BYTES:
            return _Refused(
                414, "uri_too_long", f"the request target is over {MAX_TARGET_BYTES} bytes"
            )
        return _Refused(
            431, "headers_too_large", f"the request headers are over {MAX_HEAD_BYTES} bytes"
        )
    if error.error_status_hint == 501:
        return _Refused(501, "not_implemented", "only Transfer-Encoding: chunked is supported")
    if "Content-Length" in str(error):
        return _Refused(400, "bad_request", "the Content-Length is not valid")
    return _Refused(400, "bad_request", "the request is not valid HTTP/1.1")


def _check(request: h11.Request, head: bytearray) -> None:
    """What h11 lets through but this server refuses."""
    if not request.http_version.startswith(b"1."):
        raise _Refused(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1")
    if len(request.target) > MAX_TARGET_BYTES:
        raise _Refused(414, "uri_too_long", f"the request target is over {MAX_TARGET_BYTES} bytes")
    end = _HEAD_END.search(head)  # h11 limits only a head that is still incomplete
    if (end.end() if end else len(head)) > MAX_HEAD_BYTES:
        raise _Refused(
            431, "headers_too_large", f"the request headers are over {MAX_HEAD_BYTES} bytes"
        )
    if len(request.headers) > MAX_HEADER_FIELDS:
        raise _Refused(
            431, "headers_too_large", f"more than {MAX_HEADER_FIELDS} request header fields"
        )
    if request.method.decode("ascii") not in METHODS:
        raise _Refused(501, "not_implemented", "the method is not supported")
    lengths = _CONTENT_LENGTH_FIELD.findall(head[: end.start()] if end else head)
    if len(lengths) > 1 or any(b"," in length for length in lengths):
        raise _Refused(400, "bad_request", "more than one Content-Length")
    if lengths and any(name == b"transfer-encoding" for name, _ in request.headers):
        raise _Refused(400, "bad_request", "both Content-Length and Transfer-Encoding")
    if not request.target.startswith(b"/"):
        raise _Refused(400, "bad_request", "the request target must be a path")


def _keep_alive(request: h11.Request) -> bool:
    """HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0 closes it unless
    `Connection: keep-alive`."""
    tokens = {
        token.strip().lower()
        for name, value in request.headers
        if name == b"connection"
        for token in value.split(b",")
    }
    if b"close" in tokens:
        return False
    return request.http_version != b"1.0" or b"keep-alive" in tokens


def _printable(text: str) -> str:
    return "".join(c if " " < c < "\x7f" else f"%{ord(c):02X}" for c in text)


def _head_line(head: bytearray) -> str:
    """`METHOD /path` of a head h11 refused, when it starts like a request."""
    start = _REQUEST_START.match(head, 0, MAX_TARGET_BYTES)
    if start is None:
        return "-"
    path = _printable(start[2].decode("latin-1")) if start[2] is not None else "-"
    return f"{start[1].decode('ascii')} {path}"


def _request_line(request: h11.Request) -> str:
    """`METHOD /path` for the log: no query string (it may carry symbols, not secrets)."""
    method = request.method.decode("ascii")[:16]
    if len(request.target) > MAX_TARGET_BYTES:
        return f"{method} -"
    path, _ = _split_target(request.target.decode("latin-1"))
    return f"{method} {_printable(path)}"


class _Connection:
    """One client connection: requests in order, each answered before the next is read."""

    def __init__(self, server: _Server, sock: socket.socket, client_ip: str) -> None:
        self._server = server
        self._sock = sock
        self._ip = client_ip
        self._eof = False
        self._began = 0.0  # when the current request's first byte arrived (perf_counter)
        self._route = REFUSED  # the current request's route, for the metrics

    def serve(self) -> None:
        pending, closed = b"", False
        with contextlib.suppress(_Gone, OSError):  # the client left, or the server stops
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not self._server.closing:
                conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
                if pending:
                    conn.receive_data(pending)
                if closed:
                    conn.receive_data(b"")
                if not self._exchange(conn, bytearray(pending)):
                    break
                pending, closed = conn.trailing_data
        self._linger()

    def _exchange(self, conn: h11.Connection, head: bytearray) -> bool:
        """Read one request, answer it; whether the connection stays open. The time logged
        runs from the request's first byte to its response being sent."""
        self._began = time.perf_counter()
        self._route = REFUSED
        line = "-"
        try:
            request = self._read_head(conn, head)
            line = _request_line(request)
            _check(request, head)
            body = self._read_body(conn, request)
        except _Refused as refused:
            if line == "-":
                line = _head_line(head)
            payload = error_body(refused.code, refused.message)
            try:
                self._send(_encode_response(refused.status, _JSON_HEADERS, payload, close=True))
            finally:
                self._log(line, refused.status)
            return False
        keep_alive = _keep_alive(request) and not self._server.closing
        status, response = self._answer(request, body, keep_alive)
        try:
            self._send(response)
        finally:
            self._log(line, status)
        return keep_alive

    def _answer(self, request: h11.Request, body: bytes, keep_alive: bool) -> tuple[int, bytes]:
        """The answer to a request (the resolver's, or the web app's files): its status and
        the whole HTTP response."""
        method = request.method.decode("ascii")
        target = request.target.decode("latin-1")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw_items()}
        request_id = str(uuid.uuid4())
        web = self._server.web
        api_target = target if web is None else web.api_target(target)
        metrics = self._server.metrics
        path = target.split("?", 1)[0]
        try:
            if metrics is not None and method in ("GET", "HEAD") and path == METRICS_PATH:
                self._route = f"{method} {METRICS_PATH}"
                status, fields, payload = 200, _JSON_HEADERS, metrics.body()
            elif web is not None and api_target is None:
                self._route = STATIC
                site = web.answer(method, target, headers)
                status, payload = site.status, site.body
                fields = [(k.encode("ascii"), _header_value(v)) for k, v in site.headers]
            else:
                self._route = self._server.route_of(method, (api_target or target).split("?")[0])
                event = proxy_event(
                    method, api_target or target, headers, body, self._ip, request_id
                )
                with correlated(request_id):
                    response = self._server.resolve(event, LocalContext(aws_request_id=request_id))
                status, fields, payload = _http_response(response)
        except Exception:
            log.exception("answering %s failed (request %s)", _request_line(request), request_id)
            status, fields = 500, _JSON_HEADERS
            payload = error_body(
                "internal_error", "something went wrong on our side", {"requestId": request_id}
            )
        http_1_0 = request.http_version == b"1.0"
        return status, _encode_response(
            status,
            fields,
            payload,
            close=not keep_alive,
            keep_alive_timeout=self._server.idle_timeout if http_1_0 else None,
            head_only=method == "HEAD",
        )

    def _read_head(self, conn: h11.Connection, head: bytearray) -> h11.Request:
        deadline = time.monotonic() + self._server.header_timeout if head else None
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as error:
                if self._eof and not _HEAD_END.search(head):
                    raise _Gone from None  # hung up halfway through a head
                raise _head_refusal(error, head) from None
            if isinstance(event, h11.Request):
                return event
            if event is not h11.NEED_DATA:
                raise _Gone  # closed between requests
            if deadline is None:  # idle: nothing of the next request yet
                try:
                    data = self._recv(self._server.idle_timeout)
                except TimeoutError:
                    raise _Gone from None
                self._began = time.perf_counter()
                deadline = time.monotonic() + self._server.header_timeout
            else:
                data = self._recv_until(deadline, "the request head")
            head += data
            conn.receive_data(data)

    def _read_body(self, conn: h11.Connection, request: h11.Request) -> bytes:
        for name, value in request.headers:
            if name == b"content-length" and int(value) > MAX_BODY_BYTES:
                raise _Refused(413, "payload_too_large", "the request body is over 6 MB")
        body = bytearray()
        deadline = time.monotonic() + BODY_TIMEOUT
        continued = False
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError:
                if self._eof:
                    raise _Gone from None  # hung up halfway through a body
                raise _Refused(400, "bad_request", "the request body is not valid") from None
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY_BYTES:
                    raise _Refused(413, "payload_too_large", "the request body is over 6 MB")
            elif isinstance(event, h11.EndOfMessage):
                return bytes(body)
            elif event is h11.NEED_DATA:
                if conn.they_are_waiting_for_100_continue and not continued:
                    self._send(_CONTINUE)  # the client waits for it before sending the body
                    continued = True
                conn.receive_data(self._recv_until(deadline, "the request body"))
            else:
                raise _Gone

    def _recv(self, timeout: float) -> bytes:
        if timeout <= 0:
            raise TimeoutError
        self._sock.settimeout(timeout)
        data = self._sock.recv(RECV_BYTES)
        self._eof = self._eof or not data
        return data

    def _recv_until(self, deadline: float, what: str) -> bytes:
        try:
            return self._recv(deadline - time.monotonic())
        except TimeoutError:
            raise _Refused(408, "request_timeout", f"{what} took too long") from None

    def _send(self, data: bytes) -> None:
        self._sock.settimeout(SEND_TIMEOUT)
        self._sock.sendall(data)

    def _linger(self) -> None:
        """Close after reading what the client still sends (for a while), so that a
        response it has not read yet is not lost to a reset."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_TIMEOUT
            while not self._eof and (left := deadline - time.monotonic()) > 0:
                self._recv(left)

    def _log(self, line: str, status: int) -> None:
        millis = (time.perf_counter() - self._began) * 1000
        self._server.log_line(f'{self._ip} "{line}" {status} {millis:.1f} ms')
        if self._server.metrics is not None:
            self._server.metrics.record(self._route, status, millis)


class _Server(socketserver.ThreadingTCPServer):
    """A thread per connection, at most MAX_CONNECTIONS at once."""

    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = MAX_CONNECTIONS  # the listen backlog

    def __init__(
        self,
        address: tuple[str, int],
        resolve: Resolve,
        out: TextIO,
        *,
        idle_timeout: float,
        header_timeout: float,
        web: WebApp | None,
        metrics: RequestMetrics | None = None,
        route_of: RouteOf | None = None,
    ) -> None:
        self.resolve = resolve
        self.web = web
        self.metrics = metrics
        self.route_of: RouteOf = route_of or (lambda method, path: f"{method} {path}")
        self.idle_timeout = idle_timeout
        self.header_timeout = header_timeout
        self.closing = False
        self._out = out
        self._out_lock = threading.Lock()  # whole log lines; nothing to do with requests
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, socketserver.BaseRequestHandler)

    def log_line(self, line: str) -> None:
        with self._out_lock:
            self._out.write(line + "\n")
            self._out.flush()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                payload = error_body("server_busy", "too many open connections, try again")
                request.sendall(_encode_response(503, _JSON_HEADERS, payload, close=True))
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        except Exception:
            if not self.closing:  # while stopping, a connection's end is no error
                raise
        finally:
            self._slots.release()

    def finish_request(self, request: Any, client_address: Any) -> None:
        assert isinstance(request, socket.socket)
        with self._open_lock:
            self._open.add(request)
        try:
            _Connection(self, request, str(client_address[0])).serve()
        finally:
            with self._open_lock:
                self._open.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not self.closing:  # while stopping, connections are cut on purpose
            log.exception("the connection from %s failed", client_address[0])

    def close_connections(self) -> None:
        """Wake every connection's thread: each sees the end of its input and closes."""
        self.closing = True
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class LocalServer:
    """The HTTP server around a resolver. `lock` is for the scheduler's jobs (cli_serve
    passes it on); requests never take it."""

    def __init__(
        self,
        resolve: Resolve,
        port: int,
        *,
        out: TextIO = sys.stderr,
        host: str = HOST,
        idle_timeout: float = IDLE_TIMEOUT,
        header_timeout: float = HEADER_TIMEOUT,
        web: WebApp | None = None,
        metrics: RequestMetrics | None = None,
        route_of: RouteOf | None = None,
    ) -> None:
        self.lock = threading.Lock()
        self._server = _Server(
            (host, port),
            resolve,
            out,
            idle_timeout=idle_timeout,
            header_timeout=header_timeout,
            web=web,
            metrics=metrics,
            route_of=route_of,
        )

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
        self._server.close_connections()
