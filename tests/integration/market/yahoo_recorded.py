"""A fake Yahoo Finance on the wire: a `requests` transport adapter that answers every
request yfinance makes (the fc.yahoo.com cookie, the crumb, the consent fallback, chart and
quoteSummary) from the bodies in `recorded/yahoo/`, and logs each URL so that tests can
count round trips. Mount it on a `requests.Session` and hand that to the Yahoo adapters."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict

RECORDED = Path(__file__).parent / "recorded" / "yahoo"
JSON = "application/json;charset=utf-8"
A3_COOKIE = (
    "A3=d=AQABBPKVYWkCEHcK2oXQ1s9bQvPWaR-8y_EFEgEBAQHnY2lsaQAAAAAA_eMAAA&S=AQAAAlvB0rn1C1q5P"
    "Wq0Tgn3dN8; Max-Age=31557600; Domain=.yahoo.com; Path=/; SameSite=None; Secure; HttpOnly"
)


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Timeout:
    """The socket timed out (requests raises ReadTimeout)."""


@dataclass(frozen=True)
class Slow:
    """Answer `reply`, but only after `seconds`; `done` is set once it has been sent."""

    reply: Reply
    seconds: float
    done: threading.Event = field(default_factory=threading.Event, compare=False)


Answer = Reply | Timeout | Slow

UNKNOWN = Reply(404, recorded("chart_unknown_404.json"))
RATE_LIMITED = Reply(429, recorded("error_429.txt"), "text/plain;charset=utf-8")
SERVER_ERROR = Reply(500, recorded("error_500.json"))
OUTAGE = Reply(503, recorded("error_503_outage.html"), "text/html;charset=utf-8")
MALFORMED = Reply(200, recorded("chart_malformed_200.json"))
TIMEOUT = Timeout()
FAILURES: dict[str, Answer] = {
    "429": RATE_LIMITED,
    "500": SERVER_ERROR,
    "503-outage-page": OUTAGE,
    "timeout": TIMEOUT,
    "malformed-body": MALFORMED,
    "unknown-symbol": UNKNOWN,
}


def chart(template: str, symbol: str | None = None, scale: float = 1.0) -> dict[str, Any]:
    """A recorded chart body (`chart_{template}.json`), optionally re-labelled for another
    symbol with its prices scaled (to serve many symbols in the recorded format)."""
    body: dict[str, Any] = json.loads(recorded(f"chart_{template}.json"))
    result = body["chart"]["result"][0]
    if symbol is not None:
        result["meta"]["symbol"] = symbol
    if scale != 1.0:
        quote = result["indicators"]["quote"][0]
        for column in ("open", "high", "low", "close"):
            quote[column] = [None if x is None else x * scale for x in quote[column]]
        result["indicators"]["adjclose"][0]["adjclose"] = list(quote["close"])
        result["meta"]["regularMarketPrice"] *= scale
    return body


def reply(body: dict[str, Any], status: int = 200) -> Reply:
    return Reply(status, json.dumps(body, separators=(",", ":")).encode())


def chart_reply(template: str, symbol: str | None = None, scale: float = 1.0) -> Reply:
    return reply(chart(template, symbol, scale))


@dataclass
class Logged:
    url: str
    host: str
    path: str
    params: dict[str, list[str]]


class RecordedYahoo(BaseAdapter):
    """Charts by Yahoo symbol (`charts`); symbols not listed get `default` (Yahoo's 404)."""

    def __init__(self, charts: Mapping[str, Answer] | None = None, default: Answer = UNKNOWN):
        super().__init__()
        self.charts: dict[str, Answer] = dict(charts or {})
        self.default = default
        self.requests: list[Logged] = []
        self.unexpected: list[str] = []
        self._lock = threading.Lock()

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("https://", self)
        session.mount("http://", self)
        return session

    # -- what tests read --------------------------------------------------------------------

    def charts_requested(self) -> list[Logged]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith("/v8/finance/chart/")]

    def chart_symbols(self) -> list[str]:
        return [unquote(r.path.rsplit("/", 1)[1]) for r in self.charts_requested()]

    def sent(self) -> int:
        with self._lock:
            return len(self.requests)

    # -- the transport ---------------------------------------------------------------------

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: object = None,
        verify: object = True,
        cert: object = None,
        proxies: object = None,
    ) -> requests.Response:
        url = urlsplit(str(request.url))
        host, path = url.hostname or "", url.path
        with self._lock:
            self.requests.append(Logged(str(request.url), host, path, parse_qs(url.query)))
        answer = self._answer(host, path, str(request.url))
        if isinstance(answer, Timeout):
            raise requests.exceptions.ReadTimeout(f"read timed out ({timeout})", request=request)
        if isinstance(answer, Slow):
            time.sleep(answer.seconds)
            answer.done.set()
            answer = answer.reply
        return self._response(request, answer)

    def _answer(self, host: str, path: str, url: str) -> Answer:
        if host == "fc.yahoo.com":
            return Reply(
                404, recorded("fc_yahoo_404.html"), "text/html", (("Set-Cookie", A3_COOKIE),)
            )
        if path == "/v1/test/getcrumb":
            return Reply(200, recorded("getcrumb.txt"), "text/plain;charset=utf-8")
        if host in ("guce.yahoo.com", "consent.yahoo.com"):
            return Reply(200, recorded("guce_consent.html"), "text/html;charset=utf-8")
        if path.startswith("/v8/finance/chart/"):
            symbol = unquote(path.rsplit("/", 1)[1])
            return self.charts.get(symbol, self.default)
        if path.startswith("/v10/finance/quoteSummary/"):
            return Reply(404, recorded("quote_summary_404.json"))
        with self._lock:
            self.unexpected.append(url)
        return Reply(404, b"", "text/plain")

    @staticmethod
    def _response(request: requests.PreparedRequest, answer: Reply) -> requests.Response:
        response = requests.Response()
        response.status_code = answer.status
        response.reason = HTTPStatus(answer.status).phrase
        response._content = answer.body
        response.encoding = "utf-8"
        response.url = str(request.url)
        response.request = request
        headers = CaseInsensitiveDict({"Content-Type": answer.content_type})
        message = http.client.HTTPMessage()
        for name, value in answer.headers:
            headers[name] = value
            message[name] = value
        response.headers = headers
        # What requests reads Set-Cookie from (the raw http.client response).
        response.raw = SimpleNamespace(_original_response=SimpleNamespace(msg=message))
        extract_cookies_to_jar(response.cookies, request, response.raw)
        return response

    def close(self) -> None:
        pass
