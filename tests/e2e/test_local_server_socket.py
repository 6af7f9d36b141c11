"""The local server's HTTP/1.1 framing, driven over raw sockets (no HTTP client library
between the test and the bytes): Content-Length and chunked bodies, the limits, the JSON
error shape of every error the server answers itself, keep-alive for HTTP/1.1 and 1.0,
one write per response, timeouts, and requests served concurrently."""

from __future__ import annotations

import io
import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from portfoliowise.handlers.local_server import MAX_BODY_BYTES, LocalServer

SLOW_SECONDS = 5.0


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name.lower()]
        return values[-1] if values else None

    def json(self) -> Any:
        return json.loads(self.body)

    def error_code(self) -> str:
        """The code of a JSON error reply; fails unless it has the error shape."""
        assert self.header("content-type") == "application/json"
        body = self.json()
        assert set(body) == {"success", "error", "message"}
        assert {"code", "message"} <= set(body["error"])
        return str(body["error"]["code"])


def raw_request(
    method: str = "GET",
    target: str = "/echo",
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    version: str = "1.1",
) -> bytes:
    fields = [("Host", "127.0.0.1")] if version == "1.1" else []
    fields += headers or []
    if body and not any(name.lower() == "content-length" for name, _ in fields):
        fields.append(("Content-Length", str(len(body))))
    head = f"{method} {target} HTTP/{version}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields)
    return head.encode("latin-1") + b"\r\n" + body


class Client:
    """One TCP connection to the server, reading replies by their Content-Length."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = bytearray()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buffer += chunk

    def reply(self, *, head_only: bool = False) -> Reply:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\r\n\r\n")
        status_line, *lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        headers = [(k.strip().lower(), v.strip()) for k, v in (x.split(":", 1) for x in lines)]
        status = int(status_line.split(" ")[1])
        assert status_line.startswith("HTTP/1.1 ")
        length = int(dict(headers).get("content-length", "0"))
        if head_only or status < 200 or status in (204, 304):
            length = 0
        while len(self.buffer) < length:
            self._fill()
        body = bytes(self.buffer[:length])
        del self.buffer[:length]
        return Reply(status, headers, body)

    def request(self, method: str = "GET", target: str = "/echo", **options: Any) -> Reply:
        self.send(raw_request(method, target, **options))
        return self.reply(head_only=method == "HEAD")

    def is_closed(self, within: float = 3.0) -> bool:
        """Whether the server closes the connection (with nothing more sent) in time."""
        self.sock.settimeout(within)
        try:
            return self.sock.recv(65536) == b"" and not self.buffer
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def is_quiet(self, wait: float = 0.3) -> bool:
        """Nothing more arrives for a while and the connection stays open."""
        readable, _, _ = select.select([self.sock], [], [], wait)
        return not readable and not self.buffer


@dataclass
class Served:
    server: LocalServer
    port: int
    out: io.StringIO
    seen: list[dict[str, Any]] = field(default_factory=list)
    slow_entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def client(self) -> Client:
        return Client(self.port)

    def log_lines(self, count: int) -> list[str]:
        """The log once it has `count` lines (each is written after its response)."""
        deadline = time.monotonic() + 5
        while len(self.out.getvalue().splitlines()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.out.getvalue().splitlines()


def _resolver(served: Callable[[], Served]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        state = served()
        state.seen.append(event)
        path = event["path"]
        if path == "/slow":
            state.slow_entered.set()
            state.release.wait(SLOW_SECONDS)
        if path == "/boom":
            raise RuntimeError("the resolver failed")
        if path == "/inject":
            return {"statusCode": 200, "headers": {"X-Evil": "a\r\nSet-Cookie: b=1"}, "body": ""}
        echo = {
            "method": event["httpMethod"],
            "path": path,
            "body": event["body"],
            "isBase64Encoded": event["isBase64Encoded"],
            "requestId": context.aws_request_id,
        }
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(echo),
            "isBase64Encoded": False,
        }

    return resolve


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(**options: Any) -> Served:
        holder: list[Served] = []
        out = io.StringIO()
        server = LocalServer(_resolver(lambda: holder[0]), 0, out=out, **options)
        state = Served(server, int(server.url.rsplit(":", 1)[1]), out)
        holder.append(state)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(state)
        return state

    yield start
    for state in started:
        state.release.set()
        state.server.shutdown()
        state.server.close()


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    return serve()


# Content-Length


def test_a_negative_content_length_is_400_json_and_never_reaches_the_resolver(
    served: Served,
) -> None:
    with served.client() as client:
        client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}")
        reply = client.reply()
        assert reply.status == 400
        assert reply.error_code() == "bad_request"
        assert reply.header("connection") == "close"
        assert client.is_closed()
    assert served.seen == []
    [line] = served.log_lines(1)
    assert line.startswith('127.0.0.1 "POST /echo" 400 ')


def test_a_content_length_that_is_not_a_number_is_400_json(served: Served) -> None:
    with served.client() as client:
        client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nabc")
        reply = client.reply()
        assert reply.status == 400
        assert reply.error_code() == "bad_request"
    assert served.seen == []


@pytest.mark.parametrize(
    "fields",
    [
        b"Content-Length: 2\r\nContent-Length: 3\r\n",
        b"Content-Length: 2\r\nContent-Length: 2\r\n",
        b"Content-Length: 2, 3\r\n",
        b"Content-Length: 2, 2\r\n",
        b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
    ],
    ids=["conflicting", "duplicate", "list", "repeated-in-a-list", "with-chunked"],
)
def test_an_ambiguous_body_length_is_400_json(served: Served, fields: bytes) -> None:
    with served.client() as client:
        client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n{}0\r\n\r\n")
        reply = client.reply()
        assert reply.status == 400
        assert reply.error_code() == "bad_request"
        assert client.is_closed()
    assert served.seen == []


# Chunked bodies


def test_a_chunked_body_reaches_the_resolver_as_the_body_and_not_as_a_request(
    served: Served,
) -> None:
    chunked = (
        b"POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"a":\r\n'
        b'a;ext=1\r\n "chunked"\r\n'
        b"1\r\n}\r\n"
        b"0\r\n\r\n"
    )
    with served.client() as client:
        client.send(chunked + raw_request("GET", "/echo"))
        first = client.reply()
        second = client.reply()
        assert first.status == 200
        assert first.json()["body"] == '{"a": "chunked"}'
        assert second.json()["method"] == "GET"
        assert client.is_quiet()  # two requests, two replies: nothing more
    assert [event["httpMethod"] for event in served.seen] == ["POST", "GET"]
    assert served.seen[0]["body"] == '{"a": "chunked"}'
    assert served.log_lines(2)[0].startswith('127.0.0.1 "POST /echo" 200 ')


def test_a_malformed_chunk_is_400_json(served: Served) -> None:
    with served.client() as client:
        client.send(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n"
        )
        reply = client.reply()
        assert reply.status == 400
        assert reply.error_code() == "bad_request"
    assert served.seen == []


def test_a_transfer_coding_other_than_chunked_is_501_json(served: Served) -> None:
    with served.client() as client:
        client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
        reply = client.reply()
        assert reply.status == 501
        assert reply.error_code() == "not_implemented"
    assert served.seen == []


# Limits


def test_a_body_over_the_cap_is_413_before_it_is_sent(served: Served) -> None:
    with served.client() as client:
        head = f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
        client.send(head.encode() + b"x" * 1024)
        reply = client.reply()  # answered although almost all of the body is still to come
        assert reply.status == 413
        assert reply.error_code() == "payload_too_large"
        assert reply.header("connection") == "close"
        assert client.is_closed()
    assert served.seen == []


def test_a_chunked_body_over_the_cap_is_413(served: Served) -> None:
    chunk = b"x" * (1024 * 1024)
    with served.client() as client:
        client.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")

        def send_body() -> None:
            try:
                for _ in range(MAX_BODY_BYTES // len(chunk) + 1):
                    client.sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass  # the server may close before the last chunk is taken

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        reply = client.reply()
        sender.join(5)
        assert reply.status == 413
        assert reply.error_code() == "payload_too_large"
    assert served.seen == []


@pytest.mark.parametrize("length", [10_000, 100_000], ids=["10KB", "100KB"])
def test_a_long_uri_is_414_json(served: Served, length: int) -> None:
    with served.client() as client:
        client.send(raw_request("GET", "/echo?q=" + "a" * length))
        reply = client.reply()
        assert reply.status == 414
        assert reply.error_code() == "uri_too_long"
        assert client.is_closed()
    assert served.seen == []
    [line] = served.log_lines(1)
    assert line.startswith('127.0.0.1 "GET -" 414 ')


@pytest.mark.parametrize(
    "headers",
    [[("X-Big", "b" * 70_000)], [(f"X-Field-{n}", "v") for n in range(101)]],
    ids=["one-70KB-field", "101-fields"],
)
def test_huge_headers_are_431_json(served: Served, headers: list[tuple[str, str]]) -> None:
    with served.client() as client:
        client.send(raw_request("GET", "/echo", headers=headers))
        reply = client.reply()
        assert reply.status == 431
        assert reply.error_code() == "headers_too_large"
    assert served.seen == []


@pytest.mark.parametrize("method", ["BREW", "TRACE", "CONNECT"])
def test_an_unknown_method_is_501_json(served: Served, method: str) -> None:
    with served.client() as client:
        reply = client.request(method, "/echo")
        assert reply.status == 501
        assert reply.error_code() == "not_implemented"
    assert served.seen == []


def test_an_unsupported_http_version_is_505_json(served: Served) -> None:
    with served.client() as client:
        client.send(b"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n")
        reply = client.reply()
        assert reply.status == 505
        assert reply.error_code() == "http_version_not_supported"
    assert served.seen == []


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /echo\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"GET echo HTTP/1.1\r\n\r\n",
    ],
    ids=["no-version", "tls-handshake", "not-a-path"],
)
def test_garbage_is_400_json(served: Served, request_bytes: bytes) -> None:
    with served.client() as client:
        client.send(request_bytes)
        reply = client.reply()
        assert reply.status == 400
        assert reply.error_code() == "bad_request"
    assert served.seen == []


# Responses


def test_the_server_header_names_no_versions(served: Served) -> None:
    with served.client() as client:
        for reply in (client.request("GET", "/echo"), client.request("BREW", "/echo")):
            assert reply.header("server") == "portfoliowise"
            assert "Python" not in " ".join(value for _, value in reply.headers)


def test_a_resolver_error_is_500_json_and_the_connection_stays_usable(served: Served) -> None:
    with served.client() as client:
        reply = client.request("GET", "/boom")
        assert reply.status == 500
        assert reply.error_code() == "internal_error"
        assert (
            reply.json()["error"]["details"]["requestId"]
            == served.seen[0]["requestContext"]["requestId"]
        )
        assert client.request("GET", "/echo").status == 200


def test_a_header_with_a_line_break_from_the_resolver_is_500_not_a_second_header(
    served: Served,
) -> None:
    with served.client() as client:
        reply = client.request("GET", "/inject")
        assert reply.status == 500
        assert reply.error_code() == "internal_error"
        assert reply.header("set-cookie") is None


def test_a_head_reply_has_the_length_but_no_body(served: Served) -> None:
    with served.client() as client:
        head = client.request("HEAD", "/echo")
        assert int(head.header("content-length") or 0) > 0
        assert client.request("GET", "/echo").json()["method"] == "GET"  # framing intact


def test_expect_100_continue_is_answered_before_the_body(served: Served) -> None:
    with served.client() as client:
        client.send(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        assert client.reply().status == 100
        client.send(b"hello")
        assert client.reply().json()["body"] == "hello"


# Connections


def test_two_requests_on_one_keep_alive_connection(served: Served) -> None:
    with served.client() as client:
        first = client.request(
            "POST", "/echo", body=b"one", headers=[("Content-Type", "text/plain")]
        )
        second = client.request("GET", "/echo")
        assert (first.status, second.status) == (200, 200)
        assert first.json()["body"] == "one"
        assert first.header("connection") is None
        assert client.is_quiet()


def test_pipelined_requests_are_answered_in_order(served: Served) -> None:
    with served.client() as client:
        client.send(
            raw_request("POST", "/echo", body=b"1", headers=[("Content-Type", "text/plain")])
            + raw_request("POST", "/echo", body=b"2", headers=[("Content-Type", "text/plain")])
        )
        assert [client.reply().json()["body"] for _ in range(2)] == ["1", "2"]


def test_connection_close_is_honoured_on_http_1_1(served: Served) -> None:
    with served.client() as client:
        reply = client.request("GET", "/echo", headers=[("Connection", "close")])
        assert reply.status == 200
        assert reply.header("connection") == "close"
        assert client.is_closed()


def test_http_1_0_without_keep_alive_is_closed_after_the_reply(served: Served) -> None:
    with served.client() as client:
        reply = client.request("GET", "/echo", version="1.0")
        assert reply.status == 200
        assert reply.header("connection") == "close"
        assert client.is_closed()


def test_http_1_0_with_keep_alive_is_answered_and_reusable(served: Served) -> None:
    with served.client() as client:
        keep = [("Connection", "keep-alive")]
        first = client.request("GET", "/echo", version="1.0", headers=keep)
        assert first.status == 200
        assert first.header("connection") == "keep-alive"
        second = client.request("GET", "/echo", version="1.0", headers=keep)
        assert second.status == 200
        third = client.request("GET", "/echo", version="1.0")  # no keep-alive: the last
        assert third.header("connection") == "close"
        assert client.is_closed()
    assert len(served.seen) == 3


def test_each_response_is_one_sendall_on_a_nodelay_socket(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headers and body in separate writes cost ~40 ms a keep-alive response (Nagle and
    delayed ACK): every response must leave in one write, with TCP_NODELAY set."""
    writes: list[tuple[bytes, int]] = []
    real_sendall = socket.socket.sendall
    real_send = socket.socket.send

    def server_side(sock: socket.socket) -> bool:
        return int(sock.getsockname()[1]) == served.port

    def sendall(sock: socket.socket, data: Any, *args: Any) -> None:
        if server_side(sock):
            nodelay = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            writes.append((bytes(data), nodelay))
        real_sendall(sock, data, *args)

    def send(sock: socket.socket, data: Any, *args: Any) -> int:
        assert not server_side(sock), "the server writes with sendall only"
        return real_send(sock, data, *args)

    monkeypatch.setattr(socket.socket, "sendall", sendall)
    monkeypatch.setattr(socket.socket, "send", send)
    with served.client() as client:
        replies = [client.request("GET", f"/echo?n={n}") for n in range(50)]
    assert [reply.status for reply in replies] == [200] * 50
    assert len(writes) == 50
    for (data, nodelay), reply in zip(writes, replies, strict=True):
        assert nodelay
        assert data.startswith(b"HTTP/1.1 200 OK\r\n")
        assert data.endswith(b"\r\n\r\n" + reply.body)


def test_an_idle_keep_alive_connection_is_closed(serve: Callable[..., Served]) -> None:
    served = serve(idle_timeout=0.3)
    with served.client() as client:
        assert client.request("GET", "/echo").status == 200
        started = time.monotonic()
        assert client.is_closed(within=5)
        assert 0.2 < time.monotonic() - started < 3


def test_a_dribbled_request_head_times_out_with_408(serve: Callable[..., Served]) -> None:
    served = serve(header_timeout=0.5)
    stop = threading.Event()
    with served.client() as client:
        client.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n")

        def dribble() -> None:
            while not stop.wait(0.1):
                try:
                    client.sock.sendall(b"X-Drip: 1\r\n")
                except OSError:
                    return

        dribbler = threading.Thread(target=dribble, daemon=True)
        dribbler.start()
        started = time.monotonic()
        try:
            reply = client.reply()
        finally:
            stop.set()
            dribbler.join(5)
        assert reply.status == 408
        assert reply.error_code() == "request_timeout"
        assert time.monotonic() - started < 3
    assert served.seen == []


def test_health_answers_while_another_connections_request_is_slow(served: Served) -> None:
    with served.client() as slow, served.client() as quick:
        slow.send(raw_request("GET", "/slow"))
        assert served.slow_entered.wait(5), "the slow request never reached the resolver"
        started = time.monotonic()
        reply = quick.request("GET", "/health")
        elapsed = time.monotonic() - started
        assert reply.status == 200
        assert elapsed < 1.0, f"/health waited {elapsed:.2f} s behind the slow request"
        served.release.set()
        assert slow.reply().status == 200


def test_close_ends_open_keep_alive_connections(serve: Callable[..., Served]) -> None:
    served = serve()
    with served.client() as client:
        assert client.request("GET", "/echo").status == 200
        served.server.shutdown()
        served.server.close()
        assert client.is_closed(within=3)
