"""HTTP details of the auth routes: which client IP counts, the Cookie header, the cookie."""

from __future__ import annotations

from typing import Any

import pytest

from portfoliowise.handlers.api.routers.auth import (
    cleared_session_cookie,
    client_ip,
    cookie_header,
    session_cookie,
)


def event(
    headers: dict[str, str] | None = None,
    multi: dict[str, list[str]] | None = None,
    source_ip: str | None = "130.176.212.11",
) -> dict[str, Any]:
    return {
        "headers": headers,
        "multiValueHeaders": multi
        if multi is not None
        else {k: [v] for k, v in (headers or {}).items()},
        "requestContext": {"identity": {"sourceIp": source_ip}},
    }


V4 = "203.0.113.5"


@pytest.mark.parametrize(
    ("trusted", "headers", "expected"),
    [
        (None, {"X-Forwarded-For": "1.1.1.1, 130.176.212.11"}, "130.176.212.11"),
        ("", {"X-Forwarded-For": "1.1.1.1"}, "130.176.212.11"),
        (
            "CloudFront-Viewer-Address",
            {"CloudFront-Viewer-Address": "203.0.113.5:443"},
            "203.0.113.5",
        ),
        (
            "cloudfront-viewer-address",
            {"CloudFront-Viewer-Address": "203.0.113.5:443"},
            "203.0.113.5",
        ),
        (
            "CloudFront-Viewer-Address",
            {"CloudFront-Viewer-Address": "2001:db8::1:51234"},
            "2001:db8::1",
        ),
        (
            "CloudFront-Viewer-Address",
            {"CloudFront-Viewer-Address": "[2001:db8::2]:51234"},
            "2001:db8::2",
        ),
        ("CloudFront-Viewer-Address", {"CloudFront-Viewer-Address": "junk"}, "130.176.212.11"),
        ("CloudFront-Viewer-Address", {}, "130.176.212.11"),
        ("X-Forwarded-For", {"X-Forwarded-For": "6.6.6.6, 10.1.2.3, 198.51.100.7"}, "198.51.100.7"),
        ("X-Forwarded-For", {"X-Forwarded-For": "198.51.100.7"}, "198.51.100.7"),
        ("X-Forwarded-For", {"X-Forwarded-For": "6.6.6.6, not-an-ip"}, "130.176.212.11"),
    ],
)
def test_client_ip(trusted: str | None, headers: dict[str, str], expected: str) -> None:
    assert client_ip(event(headers), trusted) == expected


def test_client_ip_takes_the_last_of_several_x_forwarded_for_headers() -> None:
    multi = {"X-Forwarded-For": ["6.6.6.6", "7.7.7.7, 198.51.100.7"]}

    assert client_ip(event({"X-Forwarded-For": "6.6.6.6"}, multi), "X-Forwarded-For") == (
        "198.51.100.7"
    )


def test_client_ip_without_any_source_is_unknown() -> None:
    assert client_ip(event({}, source_ip=None), None) == "unknown"
    assert client_ip({}, "X-Forwarded-For") == "unknown"


def test_cookie_header_joins_several_cookie_headers() -> None:
    multi = {"cookie": ["a=1", "__Host-session=x"]}

    assert cookie_header(event({"cookie": "a=1"}, multi)) == "a=1; __Host-session=x"
    assert cookie_header(event({"Cookie": "a=1"}, {})) == "a=1"
    assert cookie_header(event(None, {})) is None


def test_the_session_cookie_attributes() -> None:
    assert str(session_cookie("abc")) == (
        "__Host-session=abc; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax"
    )
    assert str(cleared_session_cookie()) == (
        "__Host-session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
    )
