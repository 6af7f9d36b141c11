"""The scheduled function: the cron rules' `{"job": ...}` inputs and the domain events
routed to it, with its container's adapters replaced by in-memory ones, the market
function behind a fake warmer and the bus behind a fake publisher; and the invoke of the
market function at its boundary."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.functions import InvokedMarketWarmer
from portfoliowise.adapters.market.jpx import JpxSymbolMaster
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
)
from portfoliowise.application.market_service import MarketCounters
from portfoliowise.application.scheduled_jobs import WarmReport
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import SourceUnavailable, ValidationError
from portfoliowise.domain.job_events import JobCompleted
from portfoliowise.domain.market import ListedIssue
from portfoliowise.domain.money import JPY
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.handlers.local_server import LocalContext

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # a Sunday, 02:00 UTC: the backup's time
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
US_SYMBOLS = [f"Z{_LETTERS[i // 26]}{_LETTERS[i % 26]}" for i in range(250)]  # ZAA, ZAB, ...


class FakeWarmer:
    """Prices everything; each call takes `seconds` of the invocation's time (`context`)."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str]]] = []
        self.context: JobContext | None = None
        self.seconds = 0.0

    def warm(self, symbols: Sequence[str], pairs: Sequence[str]) -> WarmReport:
        self.calls.append((list(symbols), list(pairs)))
        if self.context is not None:
            self.context.remaining_ms -= int(self.seconds * 1000)
        return WarmReport(priced=len(symbols) + len(pairs), unavailable=[])


@dataclass
class JobContext:
    """A Lambda context whose remaining time the test sets (a fresh 300 s invocation)."""

    aws_request_id: str
    remaining_ms: int = 300_000
    function_name: str = "portfoliowise-scheduled"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:scheduled"
    memory_limit_in_mb: int = 128
    log_group_name: str = "local"
    log_stream_name: str = "local"
    asked: list[int] = field(default_factory=list)

    def get_remaining_time_in_millis(self) -> int:
        self.asked.append(self.remaining_ms)
        return self.remaining_ms


@pytest.fixture
def function() -> Iterator[tuple[Any, FakeWarmer, InMemoryBlobStore, InMemoryEventPublisher]]:
    from portfoliowise.handlers.lambdas import scheduled

    repo = InMemoryPortfolioRepository(InMemoryAuditLog())
    portfolio = Portfolio.create(
        user_id="u1",
        portfolio_id="p1",
        name="NISA",
        base_currency=JPY,
        at=NOW,
        holdings=[Holding.of("7203", 100), Holding.of("VTI", 3)],
    )
    repo.add(portfolio, audit_entries(portfolio.pull_events(), RequestContext()))
    blobs = InMemoryBlobStore()
    # A symbol master refreshed this week: the cache-warm job does not download it again.
    toyota = ListedIssue(
        "7203", "トヨタ自動車", "プライム", "3700", "輸送用機器", "6", "自動車・輸送機"
    )
    JpxSymbolMaster([toyota], date(2026, 11, 27)).save(blobs)
    warmer = FakeWarmer()
    bus = InMemoryEventPublisher()
    overrides = (
        ("portfolios", repo),
        ("backups", blobs),
        ("clock", FixedClock(NOW)),
        ("warmer", warmer),
        ("events", bus),
    )
    with ExitStack() as stack:
        for name, value in overrides:
            provider = getattr(scheduled.container, name)
            stack.enter_context(provider.override(providers.Object(value)))
        scheduled._jobs.clear()
        yield scheduled, warmer, blobs, bus
    scheduled._jobs.clear()


def test_the_backup_rule_backs_up_with_the_sunday_copy(function: Any) -> None:
    scheduled, _warmer, blobs, bus = function
    report = scheduled.handler({"job": "backup"}, JobContext(aws_request_id="r1"))
    assert report["prefixes"] == ["daily/2026-11-29/", "weekly/2026-W48/"]
    assert "daily/2026-11-29/manifest.json" in blobs.list("daily/")
    (event,) = bus.published  # one completion event per run, with the report's counts
    assert isinstance(event, JobCompleted)
    assert (event.source, event.name) == ("portfoliowise.jobs", "JobCompleted")
    assert event.to_json()["counts"] == {
        "prefixes": 2,
        "users": 1,
        "portfolios": 1,
        "objects": report["objects"],
        "bytes": report["bytes"],
    }


def test_the_cache_warm_rule_asks_the_market_function_for_every_held_symbol(
    function: Any,
) -> None:
    scheduled, warmer, _blobs, bus = function
    report = scheduled.handler({"job": "cache-warm"}, JobContext(aws_request_id="r2"))
    assert warmer.calls == [(["7203", "VTI"], ["USD-JPY"])]
    assert report["priced"] == 3
    assert report["symbolMaster"]["status"] == "fresh"
    assert "notReached" not in report
    (event,) = bus.published
    assert event.to_json() == {
        "eventId": event.event_id,
        "occurredAt": "2026-11-29T02:00:00+00:00",
        "job": "cache-warm",
        "counts": {
            "symbols": 2,
            "pairs": 1,
            "priced": 3,
            "unavailable": 0,
            "symbolMaster": {"issues": 1},
        },
    }


def test_the_cache_warm_stops_before_the_invocation_runs_out_of_time(function: Any) -> None:
    scheduled, warmer, _blobs, bus = function
    repo = scheduled.container.portfolios()
    many = Portfolio.create(
        user_id="u2",
        portfolio_id="p2",
        name="US",
        base_currency=JPY,
        at=NOW,
        holdings=[Holding.of(symbol, 1) for symbol in US_SYMBOLS],  # 252 symbols in all
    )
    repo.add(many, audit_entries(many.pull_events(), RequestContext()))
    context = JobContext(aws_request_id="r7", remaining_ms=90_000)
    warmer.context, warmer.seconds = context, 30.0  # 90 s left, 30 s a batch
    report = scheduled.handler({"job": "cache-warm"}, context)
    assert [len(symbols) for symbols, _pairs in warmer.calls] == [100, 100]
    assert report["notReached"] == {
        "symbolCount": 52,
        "pairCount": 1,
        "symbols": US_SYMBOLS[198:248],  # after 7203, VTI and 198 of these; 50 listed
        "pairs": ["USD-JPY"],
    }
    # 30 s left after the warm: not enough for a JPX download, left for the next run
    assert report["symbolMaster"] == {"status": "skipped", "reason": "no time left"}
    assert context.asked[:3] == [90_000, 60_000, 30_000]
    (event,) = bus.published
    assert event.to_json()["notReached"] == report["notReached"]
    assert event.to_json()["counts"]["priced"] == 200


def test_a_domain_event_prices_the_changed_portfolio(function: Any) -> None:
    scheduled, warmer, _blobs, bus = function
    event = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "HoldingAdded",
        "source": "portfoliowise.portfolio",
        "account": "123456789012",
        "time": "2026-11-29T01:59:00Z",
        "region": "ap-northeast-1",
        "resources": [],
        "detail": {
            "eventId": "e-1",
            "occurredAt": "2026-11-29T01:59:00Z",
            "userId": "u1",
            "portfolioId": "p1",
            "symbol": "VTI",
        },
    }
    report = scheduled.handler(event, LocalContext(aws_request_id="r3"))
    assert report == {"job": "warm-portfolio", "priced": 3, "unavailable": []}
    scheduled.handler(event, LocalContext(aws_request_id="r4"))  # redelivered: same again
    assert warmer.calls == [(["7203", "VTI"], ["USD-JPY"])] * 2
    assert bus.published == []  # not a job: no completion event


@pytest.mark.parametrize("event", [{"job": "defrag"}, {"hello": "world"}])
def test_an_unknown_input_fails_the_invocation(function: Any, event: dict[str, Any]) -> None:
    scheduled, _warmer, _blobs, bus = function
    with pytest.raises(ValidationError):
        scheduled.handler(event, LocalContext(aws_request_id="r5"))
    assert bus.published == []


def _payload(document: object) -> StreamingBody:
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_the_market_function_is_invoked_synchronously_with_the_warm_request() -> None:
    client = boto3.client("lambda", region_name="ap-northeast-1")
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 200, "Payload": _payload({"priced": 2, "unavailable": ["ZZZZ"]})},
            {
                "FunctionName": "pw-market",
                "InvocationType": "RequestResponse",
                "Payload": json.dumps(
                    {"warm": {"symbols": ["7203", "ZZZZ"], "pairs": ["USD-JPY"]}}
                ).encode(),
            },
        )
        report = InvokedMarketWarmer(client, "pw-market").warm(["7203", "ZZZZ"], ["USD-JPY"])
    assert report == WarmReport(priced=2, unavailable=["ZZZZ"])


def test_a_failed_market_function_is_source_unavailable() -> None:
    client = boto3.client("lambda", region_name="ap-northeast-1")
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": _payload({"errorMessage": "Task timed out after 30.03 seconds"}),
            },
        )
        with pytest.raises(SourceUnavailable, match="timed out"):
            InvokedMarketWarmer(client, "pw-market").warm(["7203"], [])


def test_the_market_function_warms_what_it_is_asked_for() -> None:
    from portfoliowise.handlers.lambdas import market

    class Market:
        def __init__(self) -> None:
            self.asked: list[list[str]] = []
            self.counters = MarketCounters()

        def get_quotes(self, symbols: Sequence[str]) -> dict[str, Any]:
            self.asked.append(list(symbols))
            return {}  # nothing priced: every source down, nothing cached

        def get_rates(self, pairs: Sequence[str]) -> dict[str, Any]:
            self.asked.append(list(pairs))
            return {}

    fake = Market()
    with market.container.market.override(providers.Object(fake)):
        answer = market.handler(
            {"warm": {"symbols": ["7203"], "pairs": ["USD-JPY"]}},
            LocalContext(aws_request_id="r6"),
        )
    assert answer == {"priced": 0, "unavailable": []}
    assert fake.asked == [["7203"], ["USD-JPY"]]


def test_the_scheduled_function_imports_no_heavy_sdk(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    code = (
        "import sys, portfoliowise.handlers.lambdas.scheduled\n"
        "print(sorted(m for m in ('yfinance', 'pandas', 'numpy', 'openai', 'curl_cffi')"
        " if m in sys.modules))"
    )
    env = {**os.environ, "PORTFOLIOWISE_MODE": "local", "PORTFOLIOWISE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
