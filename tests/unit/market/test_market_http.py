"""The shared httpx plumbing: the client's timeout and User-Agent, and every HTTP failure
mapped to a domain error (without the URL, which may carry a key)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from portfoliowise.adapters.market import http
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable

URL = "https://example.test/quote?apikey=secret-key"


def client(answer: httpx.Response | Exception) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    return http.build_client(4.0, transport=httpx.MockTransport(handler))


def test_the_client_carries_its_timeout_and_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    built = http.build_client(7.5, transport=httpx.MockTransport(handler))
    assert built.timeout.read == 7.5
    assert built.timeout.connect == 3.0
    http.get(built, URL, source="test")
    assert seen[0].headers["User-Agent"].startswith("PortfolioWise/")
    assert http.build_client(1.0).timeout.connect == 1.0


def test_a_2xx_is_returned() -> None:
    response = http.get(client(httpx.Response(200, text="ok")), URL, source="test")
    assert response.text == "ok"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(500), "server error \\(HTTP 500\\)"),
        (httpx.Response(503), "server error \\(HTTP 503\\)"),
        (httpx.Response(403), "unexpected HTTP 403"),
        (httpx.Response(404), "unexpected HTTP 404"),
        (httpx.Response(302), "unexpected HTTP 302"),  # a redirect without a Location
        (httpx.ReadTimeout("slow"), "timed out \\(ReadTimeout\\)"),
        (httpx.ConnectTimeout("slow"), "timed out"),
        (httpx.ConnectError("refused"), "request failed \\(ConnectError\\)"),
        (httpx.RemoteProtocolError("dropped"), "request failed"),
    ],
)
def test_failures_are_source_unavailable(answer: httpx.Response | Exception, message: str) -> None:
    with pytest.raises(SourceUnavailable, match=f"^test: {message}") as caught:
        http.get(client(answer), URL, source="test")
    assert "secret-key" not in str(caught.value)


def test_a_404_can_mean_not_found() -> None:
    with pytest.raises(NotFoundError):
        http.get(client(httpx.Response(404)), URL, source="test", not_found_on_404=True)


def test_a_429_carries_its_retry_after() -> None:
    answer = httpx.Response(429, headers={"Retry-After": "120"})
    with pytest.raises(http.Throttled, match="HTTP 429, Retry-After 120") as caught:
        http.get(client(answer), URL, source="test")
    assert caught.value.retry_after == timedelta(seconds=120)
    assert isinstance(caught.value, SourceUnavailable)


def test_a_retry_after_date_is_measured_from_the_response_date() -> None:
    answer = httpx.Response(
        429,
        headers={
            "Date": "Fri, 27 Nov 2026 10:00:00 GMT",
            "Retry-After": "Fri, 27 Nov 2026 10:05:00 GMT",
        },
    )
    assert http.retry_after(answer) == timedelta(minutes=5)
    assert http.retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert http.retry_after(httpx.Response(429)) is None
    with pytest.raises(http.Throttled) as caught:
        http.get(client(httpx.Response(429)), URL, source="test")
    assert caught.value.retry_after is None


def test_json_numbers_are_decimals() -> None:
    response = httpx.Response(200, content=b'{"rate": 156.12, "n": 3, "tiny": 1e-7}')
    assert http.json_of(response, source="test") == {
        "rate": Decimal("156.12"),
        "n": 3,
        "tiny": Decimal("1E-7"),
    }


@pytest.mark.parametrize("content", [b"{", b"<html></html>", b"\xff\xfe{}", b""])
def test_bodies_that_are_not_json_fail_the_source(content: bytes) -> None:
    with pytest.raises(SourceUnavailable, match="not JSON"):
        http.json_of(httpx.Response(200, content=content), source="test")


def test_text_is_decoded_with_the_given_encoding_whatever_the_header_says() -> None:
    response = httpx.Response(
        200, content="基準価額".encode("cp932"), headers={"Content-Type": "text/csv; charset=utf-8"}
    )
    assert http.text_of(response, source="test", encoding="cp932") == "基準価額"
    with pytest.raises(SourceUnavailable, match="not utf-8"):
        http.text_of(response, source="test")
