"""The resolver is called from several threads at once by the local server: each request
sees its own event, user and route arguments, and a slow request (a market source that
takes seconds) never holds up `/health` on the real app behind the real server."""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from api_harness import NOW, FakeAuthenticator, call, fake_container, make_event
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.memory import InMemoryQuoteCache
from portfoliowise.application.market_service import MarketService
from portfoliowise.domain.money import USD, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers.api.app import build_app
from portfoliowise.handlers.local_server import LocalServer


class Dawdling:
    """A repository that pauses on every read (as a real store's round trip does), so
    that other threads run in the middle of a request."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if name not in ("get", "list_for_user"):
            return found

        def slowly(*args: Any, **kwargs: Any) -> Any:
            time.sleep(0.001)
            return found(*args, **kwargs)

        return slowly


class SlowAuthenticator(FakeAuthenticator):
    """Takes a moment to check the session (a Session-table read), before the route runs."""

    def authenticate(
        self,
        cookie_header: str | None,
        csrf_header: str | None,
        *,
        state_changing: bool,
        **_: str | None,
    ) -> str:
        user = super().authenticate(cookie_header, csrf_header, state_changing=state_changing)
        time.sleep(0.001)
        return user


def test_concurrent_requests_never_see_each_others_user_or_arguments() -> None:
    container = fake_container(FixedClock(NOW))
    container.portfolios.override(providers.Object(Dawdling(container.portfolios())))
    container.authenticator.override(providers.Object(SlowAuthenticator()))
    app = build_app(container)
    names = {}
    for user in ("userA", "userB", "userC", "userD"):
        status, _, body = call(app, "create_portfolio.json", user=user, body={"name": user})
        assert status == 201
        names[user] = body["portfolioId"]

    def one(i: int) -> tuple[str, Any, int]:
        user = ("userA", "userB", "userC", "userD")[i % 4]
        if i % 2:
            event = make_event("list_portfolios.json", user=user)
        else:
            event = make_event("get_portfolio.json", user=user, path=f"/portfolios/{names[user]}")
        response = app.resolve(event, None)
        return user, json.loads(response["body"]), response["statusCode"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(400)))
    for user, body, status in results:
        assert status == 200, body
        portfolios = body.get("portfolios", [body])
        assert [p["name"] for p in portfolios] == [user]


class SlowSource:
    """A quote source that takes `seconds` to answer (a market site having a bad day)."""

    name = "slow"

    def __init__(self, seconds: float, started: threading.Event) -> None:
        self.seconds = seconds
        self.started = started

    def fetch(self, instruments: Any) -> dict[str, Quote]:
        self.started.set()
        time.sleep(self.seconds)
        return {
            i.symbol: Quote(i.symbol, Money.of(Decimal(100), USD), QuoteStatus.LIVE, "slow", NOW)
            for i in instruments
        }


def _get(port: int, path: str) -> tuple[int, float]:
    begun = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    status = connection.getresponse().status
    connection.close()
    return status, time.perf_counter() - begun


def test_health_answers_while_a_market_request_is_slow() -> None:
    clock = FixedClock(NOW)
    container = fake_container(clock)
    started = threading.Event()
    slow = MarketService(
        InMemoryQuoteCache(clock), [SlowSource(3, started)], [], [], clock, calendar_for
    )
    container.market.override(providers.Object(slow))
    server = LocalServer(build_app(container).resolve, 0)
    port = int(server.url.rsplit(":", 1)[1])
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            quotes = pool.submit(_get, port, "/market/quotes?symbols=AAPL")
            assert started.wait(10)
            status, seconds = _get(port, "/health")
            assert status == 200
            assert seconds < 1.0  # the quote takes 3 s
            assert not quotes.done()
            assert quotes.result()[0] == 200
    finally:
        server.shutdown()
        server.close()
