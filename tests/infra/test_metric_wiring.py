"""Every metric an alarm or a dashboard widget reads in our namespace is emitted by the code,
and every metric the code emits is in the catalog and on a dashboard.

What the stack reads comes from the synthesized alarms and dashboard bodies: a plain metric
(namespace, name, its dimensions and their values), or a SEARCH expression (namespace, the
exact set of dimension names of its schema, `MetricName` and an optional `service` filter)
for the metrics whose second dimension takes values known only at run time.

What the code emits comes from the five Lambda handlers, driven in-process along real code
paths (recorded API Gateway events, EventBridge envelopes, a scheduled job), with only the
stores and the outside world replaced by in-memory fakes: a market source, a fake Google,
in-memory repositories. Each handler prints Embedded Metric Format documents on stdout,
whose `_aws.CloudWatchMetrics` blocks give what CloudWatch will store. AWS namespaces
(`AWS/...`) are the services' own metrics and are not checked here."""

from __future__ import annotations

import importlib
import io
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from compute_harness import Synth, synth
from dependency_injector import providers

# The API and auth tests' harnesses: recorded events, in-memory fakes, a fake Google.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "api"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "auth"))

from api_harness import (
    NOW,
    FakeAuthenticator,
    FakeHistorySource,
    LambdaContext,
    make_event,
    quotes_table,
)
from fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle

from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.memory import (
    InMemoryAnalysisJobs,
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
    InMemoryQuoteCache,
    InMemorySessionStore,
    InMemoryUserRegistry,
    StaticFxSource,
    StaticQuoteSource,
)
from portfoliowise.adapters.sqlite import open_sqlite_stores
from portfoliowise.application.market_service import MarketService
from portfoliowise.application.portfolio_commands import PortfolioPorts
from portfoliowise.application.scheduled_jobs import WarmReport
from portfoliowise.domain.events import DomainEvent
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers import metric_names as names
from portfoliowise.handlers.auth_wiring import build_auth_service
from portfoliowise.handlers.settings import DEFAULT_CORS_ORIGINS, AuthSettings

# (namespace, metric name, ((dimension, value), ...)) as CloudWatch stores a metric.
Key = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True)
class Read:
    """What an alarm or a widget reads: the metrics of `namespace` named `name` whose
    dimension names are exactly `dimensions` and whose values include `required` (a plain
    metric requires every value; a SEARCH only its `service="..."` filter, if any)."""

    namespace: str
    name: str
    dimensions: frozenset[str]
    required: tuple[tuple[str, str], ...] = ()

    @classmethod
    def plain(cls, namespace: str, name: str, pairs: Sequence[tuple[str, str]]) -> Read:
        return cls(namespace, name, frozenset(d for d, _ in pairs), tuple(sorted(pairs)))

    def matches(self, key: Key) -> bool:
        namespace, name, pairs = key
        return (
            (namespace, name) == (self.namespace, self.name)
            and frozenset(d for d, _ in pairs) == self.dimensions
            and set(self.required) <= set(pairs)
        )


# -- what the stack reads --------------------------------------------------------------------


def _flatten(value: Any) -> str:
    """A dashboard body (`Fn::Join` of strings and tokens) as text; tokens become `TOKEN`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_flatten(part) for part in parts)
    return "TOKEN"


_SEARCH = re.compile(r"SEARCH\(\s*'\{(?P<schema>[^}]*)\}\s*(?P<where>[^']*)'\s*,")
_TERM = re.compile(r'(?P<name>\w+)\s*=\s*"(?P<value>[^"]*)"')


def _searches(expression: str) -> list[Read]:
    """The metrics the SEARCH expressions in `expression` read: `{namespace,dim,...}` is
    the exact dimension set; the terms `MetricName="..."` and `dim="..."` narrow it. Any
    other term (free text, OR, a partial match) is refused: this test could not tell what
    it reads."""
    found: list[Read] = []
    for search in _SEARCH.finditer(expression):
        namespace, *dimensions = (p.strip().strip('"') for p in search["schema"].split(","))
        terms = {t["name"]: t["value"] for t in _TERM.finditer(search["where"])}
        rest = _TERM.sub("", search["where"]).strip()
        assert rest == "", f"a SEARCH term this test cannot read: {rest!r} in {expression}"
        name = terms.pop("MetricName", None)
        assert name, f"a SEARCH without MetricName: {expression}"
        assert set(terms) <= set(dimensions), f"a filter on another dimension: {expression}"
        found.append(Read(namespace, name, frozenset(dimensions), tuple(sorted(terms.items()))))
    assert "SEARCH(" not in expression or found, f"an unreadable SEARCH: {expression}"
    return found


def _alarm_metrics(result: Synth) -> dict[Read, list[str]]:
    read: dict[Read, list[str]] = {}
    for alarm in result.resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        where = f"alarm {props['AlarmDescription']}"
        queries = [] if "MetricName" in props else props["Metrics"]
        stats = (
            [props]
            if "MetricName" in props
            else [q["MetricStat"]["Metric"] for q in queries if "MetricStat" in q]
        )
        for stat in stats:
            pairs = [(str(p["Name"]), _flatten(p["Value"])) for p in stat.get("Dimensions", [])]
            key = Read.plain(stat["Namespace"], stat["MetricName"], pairs)
            read.setdefault(key, []).append(where)
        for query in queries:
            for key in _searches(str(query.get("Expression", ""))):
                read.setdefault(key, []).append(where)
    return read


def _widget_metrics(result: Synth) -> dict[Read, list[str]]:
    read: dict[Read, list[str]] = {}
    for dashboard in result.resources("AWS::CloudWatch::Dashboard").values():
        body = json.loads(_flatten(dashboard["Properties"]["DashboardBody"]))
        for widget in body["widgets"]:
            where = f"widget {widget['properties'].get('title')}"
            previous: list[Any] = []
            for row in widget["properties"].get("metrics", []):
                fields = [f for f in row if not isinstance(f, dict)]
                if not fields:  # a math expression: a SEARCH reads, other inputs are rows
                    for options in row:
                        for key in _searches(str(options.get("expression", ""))):
                            read.setdefault(key, []).append(where)
                    continue
                fields = [
                    previous[i] if f == "." and i < len(previous) else f
                    for i, f in enumerate(fields)
                ]
                previous = fields
                namespace, name, *rest = fields
                pairs = list(zip(rest[::2], rest[1::2], strict=True))
                read.setdefault(Read.plain(namespace, name, pairs), []).append(where)
    return read


# -- what the code emits ---------------------------------------------------------------------


def _emitted(out: str) -> dict[Key, str]:
    """Every metric of the EMF documents printed, with its unit."""
    found: dict[Key, str] = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple(sorted((d, str(document[d])) for d in dimension_set))
                for metric in directive["Metrics"]:
                    key = (directive["Namespace"], metric["Name"], dimensions)
                    found[key] = metric.get("Unit", "")
    return found


def _values(out: str, name: str) -> list[float]:
    """Every value printed for metric `name` (a document holds one value or a list)."""
    values: list[float] = []
    for line in out.splitlines():
        if line.startswith("{") and "_aws" in line:
            value = json.loads(line).get(name)
            if value is not None:
                values.extend(value if isinstance(value, list) else [value])
    return values


CONTEXT = LambdaContext()
ONE = "/portfolios/{portfolioId}"
VALUATION = f"{ONE}/valuation"
ANALYSIS = f"{ONE}/analysis"


def _lambda(name: str) -> Any:
    return importlib.import_module(f"portfoliowise.handlers.lambdas.{name}")


def _request(name: str, resource: str | None = None, **changes: Any) -> dict[str, Any]:
    """A recorded event (`make_event`); with `resource`, `path` is a path of that API
    Gateway resource, which API Gateway passes as the event's `resource` (the route)."""
    event: dict[str, Any] = make_event(name, **changes)
    if resource is not None:
        event["resource"] = resource
        event["requestContext"]["resourcePath"] = resource
    return event


def _body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def _envelope(event: DomainEvent) -> dict[str, Any]:
    """A domain event as EventBridge delivers it to a rule's Lambda target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": event.name,
        "source": event.source,
        "account": "123456789012",
        "time": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "region": "ap-northeast-1",
        "resources": [],
        "detail": event.to_json(),
    }


class BrokenRepository(InMemoryPortfolioRepository):
    """A store failing in a way no handler expects: the API answers 500."""

    def list_for_user(self, user_id: str) -> Any:
        raise RuntimeError("the store is broken")


class InstantWarmer:
    """The scheduled function's market function, priced at once."""

    def warm(self, symbols: Sequence[str], pairs: Sequence[str]) -> WarmReport:
        return WarmReport(priced=len(symbols) + len(pairs), unavailable=[])


@dataclass
class World:
    """The shared stores the functions meet in (one Portfolio table, one Cache table, one
    bus), in memory, and what each driven function printed."""

    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    audit: InMemoryAuditLog = field(init=False)
    portfolios: InMemoryPortfolioRepository = field(init=False)
    quote_cache: InMemoryQuoteCache = field(init=False)
    bus: InMemoryEventPublisher = field(default_factory=InMemoryEventPublisher)
    printed: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.audit = InMemoryAuditLog(self.clock)
        self.portfolios = InMemoryPortfolioRepository(self.audit)
        self.quote_cache = InMemoryQuoteCache(self.clock)
        usd_jpy = Quote("USD-JPY", Money.of("150", JPY), QuoteStatus.CACHED, "fake", NOW)
        quotes = [*quotes_table().values(), usd_jpy]
        self.quote_cache.put_many(quotes, NOW + timedelta(hours=1))

    def later(self, handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        """`handler`, called a second after the previous call (writes one at a time)."""

        def call(event: dict[str, Any], context: Any = CONTEXT) -> dict[str, Any]:
            self.clock.advance(timedelta(seconds=1))
            return handler(event, context)

        return call

    @contextmanager
    def printing(self, function: str) -> Iterator[None]:
        """Collect what `function`'s handler prints (EMF documents among it)."""
        out = io.StringIO()
        try:
            with redirect_stdout(out):
                yield
        finally:
            self.printed[function] = self.printed.get(function, "") + out.getvalue()

    def emitted(self, function: str) -> dict[Key, str]:
        return _emitted(self.printed.get(function, ""))


def _override(stack: ExitStack, function: Any, **values: Any) -> None:
    """Point `function`'s container providers at `values` until `stack` closes."""
    for name, value in values.items():
        provider = getattr(function.container, name)
        wrapped = value if isinstance(value, providers.Provider) else providers.Object(value)
        stack.enter_context(provider.override(wrapped))


def _reset(function: Any, *singletons: str) -> Callable[[], None]:
    def reset() -> None:
        for name in singletons:
            getattr(function.container, name).reset()

    reset()
    return reset


# -- the code paths --------------------------------------------------------------------------


def _drive_market(world: World) -> None:
    """Quotes through a real `MarketService` over a failing source, then a working one:
    one symbol priced by the source (a miss), one unknown everywhere (unavailable), then
    the same priced symbol from the cache (a hit)."""
    market = _lambda("market")
    live = StaticQuoteSource("fake", quotes_table())
    down = StaticQuoteSource("down", {}, failing=True)
    service = MarketService(
        InMemoryQuoteCache(world.clock),
        [down, live],
        [StaticFxSource("fake-fx", [FxRate(USD, JPY, Decimal("150"), NOW)])],
        [FakeHistorySource()],
        world.clock,
        calendar_for,
    )
    with ExitStack() as stack:
        _override(stack, market, market=service, clock=world.clock)
        with world.printing("market"):
            for symbols in ("AAPL,NOPE", "AAPL"):
                event = make_event("market_quotes.json", query={"symbols": symbols}, user=None)
                assert market.handler(event, CONTEXT)["statusCode"] == 200
    assert live.calls
    assert down.calls
    assert service.counters.cache_hits
    assert service.counters.unavailable_served


@dataclass(frozen=True)
class PortfolioFunctionRun:
    portfolio_id: str
    total: dict[str, Any]


def _drive_portfolio(world: World) -> PortfolioFunctionRun:
    """Writes past the unusual-activity threshold (lowered to 2 through `PortfolioPorts`),
    a 4xx, a 5xx, a symbol the cache has never priced, and a JPY valuation twice with
    Toyota's cached price moved by more than 10 % between: the real use cases emit
    `UnusualActivity` and `LargePortfolioChanges` and report `PortfolioValueJPY`."""
    portfolio = _lambda("portfolio")
    container = portfolio.container
    lowered = providers.Factory(
        PortfolioPorts,
        repository=container.portfolios,
        events=container.events,
        clock=container.clock,
        ids=container.ids,
        signals=container.signals,
        audit_log=container.audit_log,
        unusual_writes_per_hour=2,
    )
    with ExitStack() as stack:
        _override(
            stack,
            portfolio,
            clock=world.clock,
            ids=SequentialIds("p"),
            audit_log=world.audit,
            portfolios=world.portfolios,
            events=world.bus,
            quote_cache=world.quote_cache,
            authenticator=FakeAuthenticator(),
            portfolio_ports=lowered,
        )
        stack.callback(_reset(portfolio, "cached_market"))
        handler = world.later(portfolio.handler)
        with world.printing("portfolio"):
            created = [handler(make_event("create_portfolio.json"))]
            pid = _body(created[0])["portfolioId"]
            body = json.loads(make_event("put_portfolio.json")["body"])
            body["holdings"].append({"symbol": "ZZZZ", "quantity": "1", "assetClass": "equity"})
            body["version"] = _body(created[0])["version"]
            put = _request("put_portfolio.json", ONE, path=f"/portfolios/{pid}", body=body)
            created.append(handler(put))
            created.append(handler(make_event("create_portfolio.json")))
            assert [r["statusCode"] for r in created] == [201, 200, 201], created
            # 4xx: a portfolio that is not there; 5xx: a store that breaks
            missing = _request("get_portfolio.json", ONE, path="/portfolios/nope")
            assert handler(missing)["statusCode"] == 404
            with container.portfolios.override(providers.Object(BrokenRepository())):
                listed = handler(make_event("list_portfolios.json"))
            assert listed["statusCode"] == 500
            # the holding the cache does not know: an incomplete valuation (unavailable)
            valuation = f"/portfolios/{pid}/valuation"
            incomplete = handler(_request("get_portfolio.json", VALUATION, path=valuation))
            assert incomplete["statusCode"] == 200
            # the second portfolio (7203, AAPL) valued in JPY, then again at another price
            other = _body(created[2])["portfolioId"]
            valuation = f"/portfolios/{other}/valuation"
            first = handler(_request("get_portfolio.json", VALUATION, path=valuation))
            moved = Quote("7203", Money.of("3500", JPY), QuoteStatus.LIVE, "fake", NOW)
            world.quote_cache.put_many([moved], NOW + timedelta(hours=1))
            second = handler(_request("get_portfolio.json", VALUATION, path=valuation))
    assert _body(first)["currency"] == "JPY"
    assert _body(first)["total"] != _body(second)["total"]
    return PortfolioFunctionRun(other, _body(second)["total"])


def _drive_auth(world: World, tmp: Path) -> None:
    """A first Google sign-in (the fake Google of the auth tests; an in-memory user
    registry: a sign-up) and a refused session, through the auth function's own counting
    `signals` and `measurements`."""
    auth = _lambda("auth")
    google = FakeGoogle()
    settings = AuthSettings.from_env(
        {
            "GOOGLE_CLIENT_ID": CLIENT_ID,
            "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "PORTFOLIOWISE_DATA_DIR": str(tmp),
            "TRUSTED_IP_HEADER": "CloudFront-Viewer-Address",
        }
    )
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))  # ID tokens: real time
    service = build_auth_service(
        settings,
        InMemorySessionStore(),
        clock,
        http=google.client(),
        users=InMemoryUserRegistry(),
        signals=auth.container.signals(),
        measurements=auth.container.measurements(),
        origins=DEFAULT_CORS_ORIGINS,
    )
    sign_in = make_event("auth_google.json", user=None)
    google.will_answer(json.loads(sign_in["body"])["code"], google.id_token())
    with ExitStack() as stack:
        _override(stack, auth, auth_service=service)
        with world.printing("auth"):
            signed_in = auth.handler(sign_in, CONTEXT)
            refused = auth.handler(make_event("auth_session.json", user=None), CONTEXT)
    assert signed_in["statusCode"] == 200, signed_in
    assert _body(signed_in)["newUser"] is True, signed_in
    assert refused["statusCode"] == 401


def _drive_analysis(world: World, portfolio_id: str) -> None:
    """An analysis asked through the API, then its `AnalysisRequested` delivered by
    EventBridge: the rules answer (no key)."""
    analysis = _lambda("analysis")
    with ExitStack() as stack:
        _override(
            stack,
            analysis,
            clock=world.clock,
            ids=SequentialIds("job"),
            audit_log=world.audit,
            portfolios=world.portfolios,
            events=world.bus,
            quote_cache=world.quote_cache,
            analysis_jobs=InMemoryAnalysisJobs(world.clock),
            authenticator=FakeAuthenticator(),
            analyst=None,
        )
        stack.callback(_reset(analysis, "cached_market"))
        published = len(world.bus.published)
        with world.printing("analysis"):
            path = f"/portfolios/{portfolio_id}/analysis"
            asked = _request("create_portfolio.json", ANALYSIS, path=path, body={"language": "ja"})
            assert analysis.handler(asked, CONTEXT)["statusCode"] == 202
            [requested] = [
                e for e in world.bus.published[published:] if e.name == "AnalysisRequested"
            ]
            outcome = analysis.handler(_envelope(requested), CONTEXT)
    assert outcome["analyst"] == "rules", outcome


def _drive_scheduled(world: World, tmp: Path) -> None:
    """The backup job, and a portfolio's domain event (its symbols warmed)."""
    scheduled = _lambda("scheduled")
    stores = open_sqlite_stores(tmp, world.clock)  # the local cleanup's stores, not used
    with ExitStack() as stack:
        stack.callback(stores.close)
        _override(
            stack,
            scheduled,
            clock=world.clock,
            portfolios=world.portfolios,
            backups=InMemoryBlobStore(),
            warmer=InstantWarmer(),
            events=InMemoryEventPublisher(),
            sqlite=stores,
        )
        scheduled._jobs.clear()
        stack.callback(scheduled._jobs.clear)
        [changed, *_] = [e for e in world.bus.published if e.source == "portfoliowise.portfolio"]
        with world.printing("scheduled"):
            assert scheduled.handler({"job": "backup"}, CONTEXT)["users"] == 1
            scheduled.handler(_envelope(changed), CONTEXT)


@dataclass(frozen=True)
class Driven:
    world: World
    portfolio: PortfolioFunctionRun

    @property
    def emitted(self) -> dict[Key, str]:
        found: dict[Key, str] = {}
        for function in self.world.printed:
            found |= self.world.emitted(function)
        return found


@pytest.fixture(scope="module")
def driven(tmp_path_factory: pytest.TempPathFactory) -> Driven:
    """Every function driven once along the code paths above (module-wide: a few seconds)."""
    world = World()
    _drive_market(world)
    run = _drive_portfolio(world)
    _drive_auth(world, tmp_path_factory.mktemp("auth"))
    _drive_analysis(world, run.portfolio_id)
    _drive_scheduled(world, tmp_path_factory.mktemp("scheduled"))
    return Driven(world, run)


@pytest.fixture(scope="module")
def emitted(driven: Driven) -> dict[Key, str]:
    return driven.emitted


# -- the wiring ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Synth:
    return synth()


def _ours(read: dict[Read, list[str]]) -> dict[Read, list[str]]:
    return {key: where for key, where in read.items() if key.namespace == names.NAMESPACE}


def _catalog_key(namespace: str, name: str, pairs: Sequence[tuple[str, str]]) -> Any:
    return (name, dict(pairs).get(names.SERVICE_DIMENSION), frozenset(d for d, _ in pairs))


def test_each_function_emits_only_with_its_own_service(driven: Driven) -> None:
    for function in names.FUNCTIONS:
        emitted = driven.world.emitted(function)
        assert emitted, f"{function} emitted nothing"
        services = {dict(pairs)[names.SERVICE_DIMENSION] for _, _, pairs in emitted}
        assert services == {names.service(function)}


def test_the_catalog_is_what_the_code_emits(emitted: dict[Key, str]) -> None:
    catalog = {(m.name, names.service(m.function), frozenset(m.dimensions)) for m in names.CATALOG}
    driven = {_catalog_key(*key) for key in emitted}
    assert {key[0] for key in emitted} == {names.NAMESPACE}
    assert sorted(driven - catalog, key=str) == [], "emitted, but not in the catalog"
    assert sorted(catalog - driven, key=str) == [], "in the catalog, but not driven"


def test_every_alarm_and_widget_reads_a_metric_the_code_emits(
    stack: Synth, emitted: dict[Key, str]
) -> None:
    read = _ours(_alarm_metrics(stack)) | _ours(_widget_metrics(stack))
    assert read, "no alarm or widget reads our namespace"
    assert any(r.dimensions != {names.SERVICE_DIMENSION} for r in read), "no SEARCH was read"
    unwired = {
        key: where for key, where in read.items() if not any(key.matches(e) for e in emitted)
    }
    assert unwired == {}


def test_every_metric_the_code_emits_is_on_a_dashboard(
    stack: Synth, emitted: dict[Key, str]
) -> None:
    shown = _widget_metrics(stack)
    hidden = [key for key in emitted if not any(read.matches(key) for read in shown)]
    assert sorted(hidden) == []


def test_every_functions_memory_is_emitted_shown_and_alarmed(
    stack: Synth, emitted: dict[Key, str]
) -> None:
    shown, alarmed = _widget_metrics(stack), _alarm_metrics(stack)
    for function in stack.compute.functions:
        pairs = ((names.SERVICE_DIMENSION, names.service(function)),)
        memory = Read.plain(names.NAMESPACE, names.MEMORY_USED_PERCENT, pairs)
        assert (names.NAMESPACE, names.MEMORY_USED_PERCENT, pairs) in emitted, function
        assert memory in shown, function
        assert memory in alarmed, function


def test_the_signals_come_from_the_use_cases(driven: Driven) -> None:
    """One count per signal the real use cases emitted (not the per-invocation zero)."""
    auth, portfolio = driven.world.printed["auth"], driven.world.printed["portfolio"]
    assert sum(_values(auth, names.SIGN_UPS)) == 1
    assert sum(_values(auth, names.SIGN_INS)) == 1
    assert sum(_values(auth, names.AUTH_FAILURES)) == 1
    assert sum(_values(portfolio, names.UNUSUAL_ACTIVITY)) == 1
    assert sum(_values(portfolio, names.LARGE_PORTFOLIO_CHANGES)) == 1
    assert sum(_values(portfolio, names.PORTFOLIO_WRITES)) == 3
    assert sum(_values(portfolio, names.API_ERRORS)) == 1
    assert sum(_values(driven.world.printed["market"], names.SOURCE_FAILURES)) >= 1


def test_the_portfolio_value_is_the_jpy_total_served(driven: Driven) -> None:
    """`PortfolioValueJPY`: each complete JPY valuation's total, the last the one served."""
    total = driven.portfolio.total
    values = _values(driven.world.printed["portfolio"], names.PORTFOLIO_VALUE_JPY)
    assert total["currency"] == "JPY"
    assert len(values) == 2
    assert values[-1] == float(total["amount"])
