"""Recorded HTTP answers for the httpx market sources (Stooq, the fund library, Frankfurter,
JPX, Twelve Data), served through `httpx.MockTransport`: the adapters run their real
client code against the real wire formats, and every request is counted.

An answer is a fixture file (`tests/fixtures/market/`), an `httpx.Response` factory, or an
exception the transport raises (a timeout, a refused connection)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from portfoliowise.adapters.market.http import build_client

FIXTURES = Path(__file__).parents[2] / "fixtures" / "market"

Answer = Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def body(name: str, status: int = 200, content_type: str = "text/plain") -> Answer:
    """A recorded body from the fixtures directory."""
    return lambda request: httpx.Response(
        status, content=fixture(name), headers={"Content-Type": content_type}
    )


def raw(content: bytes | str, status: int = 200, **headers: str) -> Answer:
    data = content.encode() if isinstance(content, str) else content
    return lambda request: httpx.Response(status, content=data, headers=headers)


def raises(error: type[httpx.TransportError]) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error("recorded failure", request=request)

    return answer


# The ways an HTTP source fails, each as the wire shows it.
TOO_MANY_REQUESTS = raw("Too Many Requests", 429, **{"Retry-After": "60"})
SERVER_ERROR = raw("<html><body><h1>500 Internal Server Error</h1></body></html>", 500)
BAD_GATEWAY = raw("<html><body><h1>502 Bad Gateway</h1></body></html>", 502)
FORBIDDEN = raw("<html><body>403 Forbidden</body></html>", 403)
TIMEOUT = raises(httpx.ReadTimeout)
CONNECT_TIMEOUT = raises(httpx.ConnectTimeout)
REFUSED = raises(httpx.ConnectError)
DROPPED = raises(httpx.RemoteProtocolError)
NOT_TEXT = raw(b"\x89PNG\r\n\x1a\n\xff\xfe\xfd\x00\x81\xff")  # neither UTF-8 nor CP932

TRANSPORT_FAILURES: Mapping[str, Answer] = {
    "429": TOO_MANY_REQUESTS,
    "500": SERVER_ERROR,
    "502": BAD_GATEWAY,
    "403": FORBIDDEN,
    "read-timeout": TIMEOUT,
    "connect-timeout": CONNECT_TIMEOUT,
    "refused": REFUSED,
    "dropped": DROPPED,
}


class Recorder:
    """A MockTransport handler that answers each request and keeps it.

    `routes` maps a URL path - or, with `key`, the value of that query parameter - to an
    answer; `default` answers the rest (a 404 when there is none)."""

    def __init__(
        self,
        default: Answer | None = None,
        routes: Mapping[str, Answer] | None = None,
        *,
        key: str | None = None,
    ) -> None:
        self.default = default
        self.routes = dict(routes or {})
        self.key = key
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = request.url.params.get(self.key) if self.key else request.url.path
        answer = self.routes.get(route or "", self.default)
        if answer is None:
            return httpx.Response(404, text=f"no recorded answer for {request.url}")
        return answer(request)

    def client(self, timeout: float = 5.0) -> httpx.Client:
        return build_client(timeout, transport=httpx.MockTransport(self))

    @property
    def count(self) -> int:
        return len(self.requests)
