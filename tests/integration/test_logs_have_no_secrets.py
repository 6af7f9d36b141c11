"""No log line carries a secret (issue 15, "Logs").

The end-to-end flow runs in process on the real wiring (the container and `bootstrap` on the
embedded store of a tmp data dir, the Powertools resolver), with only the outside services
faked at their boundary: Google (tests/integration/auth/fake_google.py), the market sources
(static ones) and OpenAI (recorded answers on the SDK's transport). Every log record is
captured: the root logger at DEBUG through a plain formatter that also prints every `extra`
field and the traceback, and through Powertools' JSON formatter (what the Lambda functions
write), plus whatever reached stdout/stderr. Then every captured line is scanned for the
session id, the cookies, the CSRF token, the access and refresh tokens, Google's tokens, the
OpenAI key, the session-signing key and e-mail addresses."""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from dependency_injector import providers

sys.path[:0] = [str(Path(__file__).parent / "auth"), str(Path(__file__).parent / "openai")]

from fake_google import CLIENT_ID, CLIENT_SECRET, CODE_VERIFIER, REDIRECT_URI, FakeGoogle  # noqa: E402
from openai_recorded import KEY as OPENAI_KEY  # noqa: E402
from openai_recorded import Recorder, analyst_on, recorded  # noqa: E402

from portfoliowise.adapters.clock import FixedClock  # noqa: E402
from portfoliowise.adapters.market.calendars import calendar_for  # noqa: E402
from portfoliowise.adapters.memory import StaticFxSource, StaticQuoteSource  # noqa: E402
from portfoliowise.application.market_service import MarketService  # noqa: E402
from portfoliowise.domain.fx import FxRate  # noqa: E402
from portfoliowise.domain.money import JPY, USD, Money  # noqa: E402
from portfoliowise.domain.quotes import Quote, QuoteStatus  # noqa: E402
from portfoliowise.handlers import bootstrap  # noqa: E402
from portfoliowise.handlers.auth_wiring import build_auth_service  # noqa: E402
from portfoliowise.handlers.container import Container, local_container  # noqa: E402
from portfoliowise.handlers.settings import Settings  # noqa: E402

TESTS = Path(__file__).resolve().parents[1]
EVENTS = TESTS / "events"
WEB_APP_BODY = TESTS / "fixtures" / "web_app" / "portfolio_put.json"
ACTIVITIES = TESTS / "fixtures" / "ledger" / "activities_ja.csv"
NOW = datetime.now(UTC).replace(microsecond=0)  # Google's ID tokens are checked in real time
SIGNING_KEY = "sk-signing-" + "k7" * 30
DEV_EMAIL = "hanako.dev@example.org"
GOOGLE_EMAIL = "taro@example.com"
GOOGLE_REFRESH = "1//google-refresh-token-secret"
ORIGIN = "https://portfolio-wise.com"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class Lines(logging.Handler):
    """Every record, formatted twice: plainly with each `extra` field, and as Powertools'
    JSON line."""

    PLAIN = logging.Formatter("%(levelname)s %(name)s %(message)s")
    STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "", None, None))) | {"message"}

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.powertools = LambdaPowertoolsFormatter(service="portfoliowise-test")

    def emit(self, record: logging.LogRecord) -> None:
        plain = self.PLAIN.format(record)
        extra = {k: v for k, v in vars(record).items() if k not in self.STANDARD}
        self.lines.append(f"{plain} {extra!r}")
        self.lines.append(self.powertools.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def lines() -> Iterator[Lines]:
    root = logging.getLogger()
    handler, level = Lines(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # Loggers the product configured (Powertools' `copy_config_to_registered_loggers`) may
    # stop propagating: every logger is turned to DEBUG and made to propagate here.
    changed = []
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            changed.append((logger, logger.level, logger.propagate, logger.disabled))
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
            logger.disabled = False
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for logger, old_level, propagate, disabled in changed:
            logger.setLevel(old_level)
            logger.propagate = propagate
            logger.disabled = disabled


def _market(cache: Any, clock: FixedClock) -> MarketService:
    def quote(symbol: str, price: Money) -> Quote:
        return Quote(symbol, price, QuoteStatus.LIVE, "fake", NOW, name=f"{symbol} Inc.")

    quotes = {
        "7203": quote("7203", Money.of("2500", JPY)),
        "AAPL": quote("AAPL", Money.of("200", USD)),
    }
    return MarketService(
        cache,
        [StaticQuoteSource("fake", quotes)],
        [StaticFxSource("fake-fx", [FxRate(USD, JPY, Decimal("150"), NOW)])],
        [],
        clock,
        calendar_for,
    )


class Flow:
    """The local API (every router) over a container wired from local settings."""

    def __init__(self, tmp_path: Path) -> None:
        self.google = FakeGoogle()
        self.openai = Recorder(recorded("answer_ja"), recorded("invalid_api_key"))
        environ = {
            "PORTFOLIOWISE_DATA_DIR": str(tmp_path / "data"),
            "DEV_LOGIN": "1",
            "GOOGLE_CLIENT_ID": CLIENT_ID,
            "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "GOOGLE_REDIRECT_URIS": REDIRECT_URI,
            "SESSION_SIGNING_KEY": SIGNING_KEY,
            "TRUSTED_IP_HEADER": "CloudFront-Viewer-Address",
            "OPENAI_API_KEY": OPENAI_KEY,
        }
        settings = Settings.from_env(environ)
        self.container: Container = local_container(tmp_path / "data", settings)
        c = self.container
        self.clock = FixedClock(NOW)
        c.clock.override(providers.Object(self.clock))
        c.market.override(providers.Object(_market(c.quote_cache(), self.clock)))
        c.analyst.override(providers.Object(analyst_on(self.openai)))
        service = build_auth_service(
            c.settings().auth,
            c.sessions(),
            self.clock,
            http=self.google.client(),
            limiter=c.attempt_limiter(),
            users=c.user_registry(),
            signals=c.signals(),
            origins=c.settings().cors_origins,
        )
        c.auth_service.override(providers.Object(service))
        bootstrap.local_analysis(c, background=False)
        self.app = bootstrap.local_api(c)
        self.secrets: set[str] = {SIGNING_KEY, OPENAI_KEY, GOOGLE_REFRESH}

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw_body: str | None = None,
        binary: bool = False,
        query: dict[str, str] | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / "auth_google.json").read_text()))
        event.update(resource=path, path=path, httpMethod=method, isBase64Encoded=binary)
        event["requestContext"].update(httpMethod=method, path="/prod" + path)
        event["body"] = (
            raw_body if raw_body is not None else (None if body is None else json.dumps(body))
        )
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {
            k: [v] for k, v in (query or {}).items()
        } or None
        for key in ("Accept-Encoding",):
            event["headers"].pop(key, None)
            event["multiValueHeaders"].pop(key, None)
        for key, value in (headers or {}).items():
            if value is None:
                event["headers"].pop(key, None)
                event["multiValueHeaders"].pop(key, None)
            else:
                event["headers"][key] = value
                event["multiValueHeaders"][key] = [value]
        response: dict[str, Any] = self.app.resolve(event, None)
        self.remember(response)
        return response

    def remember(self, response: dict[str, Any]) -> None:
        """Every secret the answer hands out: cookies (whole and value), tokens."""
        for cookie in (response.get("multiValueHeaders") or {}).get("Set-Cookie", []):
            self.secrets.add(cookie)
            pair = cookie.split(";")[0]
            value = pair.split("=", 1)[1]
            if value:
                self.secrets.update({pair, value})
        body = json.loads(response["body"]) if response.get("body") else None
        for found in _strings(body):
            if JWT.fullmatch(found):
                self.secrets.add(found)
        if isinstance(body, dict):
            for holder in (body, body.get("data") or {}):
                if isinstance(holder, dict):
                    for name in ("csrfToken", "accessToken", "refreshToken"):
                        if isinstance(holder.get(name), str):
                            self.secrets.add(holder[name])

    def google_tokens(self, code: str, **claims: Any) -> str:
        id_token = self.google.id_token(**claims)
        self.google.will_answer(code, id_token, refresh_token=GOOGLE_REFRESH)
        self.secrets.update({id_token, f"ya29.access-for-{code}"})
        return id_token


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _cookies(response: dict[str, Any]) -> str:
    pairs = [c.split(";")[0] for c in response["multiValueHeaders"].get("Set-Cookie", [])]
    return "; ".join(p for p in pairs if not p.endswith("="))


def _body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def run_flow(flow: Flow) -> list[int]:
    statuses: list[int] = []

    def ok(response: dict[str, Any], *expected: int) -> dict[str, Any]:
        statuses.append(response["statusCode"])
        assert response["statusCode"] in (expected or (200,)), response.get("body")
        return response

    # -- sign-in: Google (PKCE), the web app's credential and code, the dev login --------
    flow.google_tokens("pkce-code")
    google = ok(
        flow.call(
            "POST",
            "/auth/google",
            body={"code": "pkce-code", "codeVerifier": CODE_VERIFIER, "redirectUri": REDIRECT_URI},
        )
    )
    credential = flow.google_tokens("unused", name="山田 太郎")
    flow.secrets.add(credential)
    web = ok(
        flow.call(
            "POST",
            "/auth/google/login",
            headers={"X-CSRF-Token": "dummy-csrf-token"},
            body={"credential": credential},
        )
    )
    flow.google_tokens("web-code")
    ok(
        flow.call(
            "POST",
            "/auth/google/login",
            headers={"X-CSRF-Token": "dummy-csrf-token"},
            body={"code": "web-code", "redirectUri": REDIRECT_URI},
        )
    )
    ok(
        flow.call(
            "POST",
            "/auth/google",
            body={"code": "bad", "codeVerifier": CODE_VERIFIER, "redirectUri": REDIRECT_URI},
        ),
        400,
        401,
    )
    dev = ok(flow.call("POST", "/auth/dev-login", body={"email": DEV_EMAIL}))
    cookie, csrf = _cookies(dev), _body(dev)["csrfToken"]
    signed = {"Cookie": cookie, "X-CSRF-Token": csrf}

    # -- session and refresh (a reused refresh token ends the session) -------------------
    session = ok(flow.call("GET", "/auth/session", headers={"Cookie": _cookies(google)}))
    assert _body(session)
    access = _body(web)["data"]["accessToken"]
    refreshed = ok(
        flow.call("POST", "/auth/refresh", headers={"Cookie": _cookies(google)}, body={})
    )
    flow.clock.advance(timedelta(minutes=5))
    ok(flow.call("POST", "/auth/refresh", headers={"Cookie": _cookies(google)}, body={}), 200, 401)
    ok(flow.call("GET", "/auth/session", headers={"Cookie": _cookies(refreshed)}), 200, 401)

    # -- writes --------------------------------------------------------------------------
    created = _body(ok(flow.call("POST", "/portfolios", headers=signed, body=_create_body()), 201))
    pid = created["portfolioId"]
    put = ok(
        flow.call(
            "PUT",
            f"/portfolios/{pid}",
            headers={**signed, "If-Match": str(created.get("version", 1))},
            body=_create_body(),
        ),
        200,
        409,
    )
    assert put
    ok(flow.call("PUT", "/api/portfolio", headers=signed, raw_body=WEB_APP_BODY.read_text("utf-8")))
    ok(
        flow.call(
            "POST",
            f"/portfolios/{pid}/activities/import",
            headers={**signed, "Content-Type": "application/octet-stream"},
            raw_body=base64.b64encode(ACTIVITIES.read_bytes()).decode(),
            binary=True,
        ),
        200,
        201,
    )
    bearer = {"Authorization": f"Bearer {access}", "Cookie": None}
    ok(flow.call("GET", "/portfolios", headers=bearer))

    # -- market ----------------------------------------------------------------------------
    ok(flow.call("GET", "/market/quotes", query={"symbols": "7203,AAPL"}))
    ok(flow.call("GET", "/api/market-data", query={"type": "us-stock", "symbols": "AAPL"}))

    # -- analysis: the AI answers, then OpenAI refuses the key -----------------------------
    for _ in range(2):
        job = _body(
            ok(
                flow.call(
                    "POST", f"/portfolios/{pid}/analysis", headers=signed, body={"language": "ja"}
                ),
                202,
            )
        )
        ok(flow.call("GET", f"/analysis/{job['jobId']}", headers=signed))

    # -- failures ---------------------------------------------------------------------------
    # A wrong or missing CSRF token, from a page not ours (our pages' Origin is trusted).
    elsewhere = {"Origin": "https://evil.example", "Referer": None}
    wrong = {**signed, **elsewhere, "X-CSRF-Token": "wrong-csrf-token"}
    ok(flow.call("POST", "/portfolios", headers=wrong, body=_create_body()), 403)
    missing = {"Cookie": cookie, **elsewhere}
    ok(flow.call("POST", "/portfolios", headers=missing, body=_create_body()), 403)
    ok(flow.call("GET", "/portfolios", headers={"Cookie": None}), 401)
    ok(flow.call("GET", "/portfolios", headers={"Cookie": "__Host-session=forged-session-id"}), 401)
    flow.secrets.add("forged-session-id")
    ok(flow.call("POST", "/auth/logout", headers=signed), 200, 204)
    flow.clock.set(NOW + timedelta(hours=2))  # the access token has expired
    ok(flow.call("GET", "/portfolios", headers=bearer), 401)
    return statuses


def _create_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        json.loads((EVENTS / "create_portfolio.json").read_text())["body"]
    )
    return body


def test_no_log_line_carries_a_secret(
    tmp_path: Path, lines: Lines, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = Flow(tmp_path)
    statuses = run_flow(flow)
    out, err = capsys.readouterr()
    captured = lines.lines + out.splitlines() + err.splitlines()

    assert len(statuses) > 25
    assert len(captured) > 20, captured  # the flow logs (sign-ins, refusals, analyses)
    secrets = {s for s in flow.secrets if len(s) >= 8}
    assert len(secrets) > 15
    leaks = []
    for line in captured:
        for secret in secrets:
            if secret in line:
                leaks.append((secret[:24], line[:300]))
        for pattern in (JWT, EMAIL):
            for found in pattern.findall(line):
                leaks.append((found[:24], line[:300]))
        for email in (DEV_EMAIL, GOOGLE_EMAIL):
            if email in line:
                leaks.append((email, line[:300]))
    assert flow.openai.calls == 2  # the AI answered once, then refused the key
    assert not leaks, "\n".join(f"{s!r}: {line}" for s, line in leaks)
