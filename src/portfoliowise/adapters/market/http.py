"""The httpx plumbing shared by the market sources that speak HTTP themselves (Stooq, the
fund library, Frankfurter, JPX, the paid source).

- `build_client` makes the one `httpx.Client` a source uses: its timeout, a User-Agent, and
  redirects followed. Sources take the client as a constructor argument, so a test passes
  one built on an `httpx.MockTransport` and the product code has no test branch.
- `get` sends a GET and turns every way it can fail into a domain error: timeouts,
  connection errors, 429 (`Throttled`, with Retry-After), 5xx and any other non-2xx become
  `SourceUnavailable`; a 404 becomes `NotFoundError` only where the caller says that 404
  means "no such symbol".
- `text_of` / `json_of` decode a body strictly: an undecodable body is a failed source, not
  an empty answer.

Error messages name the source and the status, never the URL: a paid source's key would
otherwise end up in logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime

import httpx

from portfoliowise.domain.errors import NotFoundError, SourceUnavailable

USER_AGENT = "PortfolioWise/0.1 (portfolio valuation backend; python-httpx)"
DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_CONNECT_SECONDS = 3.0
_SNIPPET = 80


class Throttled(SourceUnavailable):
    """The source answered 429 (or its own "slow down" body). `retry_after` is how long it
    asked us to wait, when it said so."""

    def __init__(self, message: str, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def build_client(
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    *,
    user_agent: str = USER_AGENT,
    headers: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client whose every request is bounded by `timeout` seconds (connect, read, write
    and pool each; connecting gets at most 3 s)."""
    all_headers = {"User-Agent": user_agent, **(headers or {})}
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, MAX_CONNECT_SECONDS)),
        headers=all_headers,
        follow_redirects=True,
        transport=transport,
    )


def get(
    client: httpx.Client,
    url: str,
    *,
    source: str,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    not_found_on_404: bool = False,
) -> httpx.Response:
    """GET `url`; the response when it is a 2xx, otherwise a domain error."""
    try:
        response = client.get(url, params=params, headers=headers)
    except httpx.TimeoutException as exc:
        raise SourceUnavailable(f"{source}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"{source}: request failed ({type(exc).__name__})") from exc
    status = response.status_code
    if status == 429:
        wait = retry_after(response)
        said = f", Retry-After {response.headers.get('Retry-After')}" if wait is not None else ""
        raise Throttled(f"{source}: rate limited (HTTP 429{said})", wait)
    if status == 404 and not_found_on_404:
        raise NotFoundError(f"{source}: not found (HTTP 404)")
    if status >= 500:
        raise SourceUnavailable(f"{source}: server error (HTTP {status})")
    if not 200 <= status < 300:
        raise SourceUnavailable(f"{source}: unexpected HTTP {status}")
    return response


def retry_after(response: httpx.Response) -> timedelta | None:
    """The Retry-After header as a duration: delta-seconds, or an HTTP date measured from
    the response's own Date header. None when absent or unreadable."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return timedelta(seconds=int(raw))
    try:
        until = parsedate_to_datetime(raw)
        sent_header = response.headers.get("Date")
        sent = parsedate_to_datetime(sent_header) if sent_header else datetime.now(UTC)
    except (TypeError, ValueError):
        return None
    if until.tzinfo is None or sent.tzinfo is None:
        return None
    return max(until - sent, timedelta(0))


def text_of(response: httpx.Response, *, source: str, encoding: str = "utf-8") -> str:
    """The body decoded with `encoding` (whatever the Content-Type claims: the fund
    library says utf-8 and sends Shift_JIS). Undecodable bytes fail the source."""
    try:
        return response.content.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceUnavailable(f"{source}: body is not {encoding} text") from exc


def json_of(response: httpx.Response, *, source: str) -> object:
    """The body as JSON with every non-integer number a `Decimal` (never a float)."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceUnavailable(f"{source}: body is not JSON ({snippet(response)})") from exc


def snippet(response: httpx.Response) -> str:
    """The start of a body, on one line, for error messages."""
    text = response.content[:_SNIPPET].decode("utf-8", errors="replace")
    return " ".join(text.split()) or "<empty body>"
