"""The ordered market-source chains, built from configuration.

The order is configuration, an env-style mapping:
`QUOTE_SOURCES=yahoo,stooq,funds,paid`, `FX_SOURCES=yahoo,frankfurter`,
`HISTORY_SOURCES=yahoo,stooq,funds` (defaults below when unset). Each name is looked up in
a registry of factories (name -> `factory(limits)`); an unknown or repeated name is a
`SourceConfigError` that lists the known ones. A factory returning None is skipped (the
paid source without a key), as is one that raises `SourceUnavailable` while being built
(it is logged: an optional source must not take the chain down).

Every built source is wrapped in its guard: a token bucket and a circuit breaker with the
per-source limits of `SOURCE_LIMITS`, whose `timeout_seconds` the factory puts on its httpx
client. `http_registries` holds the factories of the sources that speak httpx themselves
(Stooq, the fund library, Frankfurter, the paid source); the Yahoo factories come from
the Yahoo adapter and are merged in by the wiring.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import TypeVar, cast

import httpx

from portfoliowise.adapters.market import http
from portfoliowise.adapters.market.frankfurter import FrankfurterFxSource
from portfoliowise.adapters.market.funds import FundListing, FundNavSource
from portfoliowise.adapters.market.paid import (
    SECRET_NAME_SETTING,
    SecretsClient,
    paid_quote_source,
)
from portfoliowise.adapters.market.resilience import (
    CircuitBreaker,
    Guard,
    GuardedFxSource,
    GuardedHistorySource,
    GuardedQuoteSource,
    TokenBucket,
)
from portfoliowise.adapters.market.stooq import StooqHistorySource, StooqQuoteSource
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.instruments import Market
from portfoliowise.domain.ports import Clock, FxSource, HistorySource, QuoteSource

log = logging.getLogger(__name__)

S = TypeVar("S")

QUOTE_SOURCES = "QUOTE_SOURCES"
FX_SOURCES = "FX_SOURCES"
HISTORY_SOURCES = "HISTORY_SOURCES"
YFINANCE_CACHE_DIR = "YFINANCE_CACHE_DIR"
DEFAULT_QUOTE_SOURCES = ("yahoo", "stooq", "funds")
DEFAULT_FX_SOURCES = ("yahoo", "frankfurter")
DEFAULT_HISTORY_SOURCES = ("yahoo", "stooq", "funds")


@dataclass(frozen=True, slots=True)
class SourceLimits:
    """How a source is called: the httpx timeout of each request, the token bucket (calls
    per second and burst) and the breaker (consecutive failures to open, cool-down)."""

    timeout_seconds: float
    rate_per_second: Decimal
    burst: int
    failure_threshold: int
    cool_down: timedelta


DEFAULT_LIMITS = SourceLimits(5.0, Decimal(1), 3, 3, timedelta(minutes=2))
SOURCE_LIMITS: Mapping[str, SourceLimits] = MappingProxyType(
    {
        # yfinance sends one request per symbol under the hood: a call is a burst.
        "yahoo": SourceLimits(5.0, Decimal(2), 5, 3, timedelta(minutes=1)),
        # One request per call (100 symbols); Stooq bans IPs that hammer it.
        "stooq": SourceLimits(5.0, Decimal(1), 3, 3, timedelta(minutes=2)),
        # One request per fund per call; each CSV is the fund's whole history.
        "funds": SourceLimits(10.0, Decimal(1), 3, 3, timedelta(minutes=5)),
        "frankfurter": SourceLimits(5.0, Decimal(2), 5, 3, timedelta(minutes=2)),
        # Every symbol costs an API credit: the slowest bucket, the longest cool-down.
        "paid": SourceLimits(5.0, Decimal("0.125"), 1, 2, timedelta(minutes=5)),
        # Not in a chain: the scheduled download of the listed-issues file.
        "jpx": SourceLimits(30.0, Decimal("0.1"), 1, 2, timedelta(minutes=30)),
    }
)

QuoteFactory = Callable[[SourceLimits], QuoteSource | None]
FxFactory = Callable[[SourceLimits], FxSource | None]
HistoryFactory = Callable[[SourceLimits], HistorySource | None]


class SourceConfigError(ValueError):
    """A chain setting names a source that does not exist, or names one twice."""


def source_names(config: Mapping[str, str], setting: str, default: Sequence[str]) -> list[str]:
    """The names in `config[setting]` (comma-separated, case-insensitive), in order;
    `default` when the setting is unset or blank."""
    raw = config.get(setting, "")
    names = [part.strip().lower() for part in raw.split(",") if part.strip()]
    if not names:
        return list(default)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SourceConfigError(f"{setting} names {', '.join(repeated)} more than once")
    return names


def _guard(name: str, limits: SourceLimits, clock: Clock) -> Guard:
    return Guard(
        name,
        TokenBucket(limits.rate_per_second, limits.burst, clock, name=name),
        CircuitBreaker(limits.failure_threshold, limits.cool_down, clock, name=name),
    )


def _markets(source: object) -> frozenset[Market] | None:
    markets = getattr(source, "markets", None)
    return markets if isinstance(markets, frozenset) else None


def _build(
    config: Mapping[str, str],
    setting: str,
    default: Sequence[str],
    registry: Mapping[str, Callable[[SourceLimits], S | None]],
    limits: Mapping[str, SourceLimits],
) -> list[tuple[str, SourceLimits, S]]:
    names = source_names(config, setting, default)
    unknown = [name for name in names if name not in registry]
    if unknown:
        known = ", ".join(sorted(registry)) or "none"
        raise SourceConfigError(
            f"{setting}: unknown source(s) {', '.join(unknown)}; known: {known}"
        )
    built: list[tuple[str, SourceLimits, S]] = []
    for name in names:
        source_limits = limits.get(name, DEFAULT_LIMITS)
        try:
            source = registry[name](source_limits)
        except SourceUnavailable as exc:
            log.warning("market source %s could not be built and is skipped: %s", name, exc)
            continue
        if source is None:
            log.info("market source %s is not configured and is skipped", name)
            continue
        built.append((name, source_limits, source))
    return built


def build_quote_sources(
    config: Mapping[str, str],
    registry: Mapping[str, QuoteFactory],
    clock: Clock,
    *,
    limits: Mapping[str, SourceLimits] = SOURCE_LIMITS,
) -> list[QuoteSource]:
    """The quote chain of `QUOTE_SOURCES`, each source guarded."""
    return [
        GuardedQuoteSource(source, _guard(name, lim, clock), _markets(source))
        for name, lim, source in _build(
            config, QUOTE_SOURCES, DEFAULT_QUOTE_SOURCES, registry, limits
        )
    ]


def build_fx_sources(
    config: Mapping[str, str],
    registry: Mapping[str, FxFactory],
    clock: Clock,
    *,
    limits: Mapping[str, SourceLimits] = SOURCE_LIMITS,
) -> list[FxSource]:
    """The FX chain of `FX_SOURCES`, each source guarded."""
    return [
        GuardedFxSource(source, _guard(name, lim, clock))
        for name, lim, source in _build(config, FX_SOURCES, DEFAULT_FX_SOURCES, registry, limits)
    ]


def build_history_sources(
    config: Mapping[str, str],
    registry: Mapping[str, HistoryFactory],
    clock: Clock,
    *,
    limits: Mapping[str, SourceLimits] = SOURCE_LIMITS,
) -> list[HistorySource]:
    """The daily-history chain of `HISTORY_SOURCES`, each source guarded."""
    return [
        GuardedHistorySource(source, _guard(name, lim, clock), _markets(source))
        for name, lim, source in _build(
            config, HISTORY_SOURCES, DEFAULT_HISTORY_SOURCES, registry, limits
        )
    ]


# -- the httpx sources' factories ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registries:
    quotes: dict[str, QuoteFactory] = field(default_factory=dict)
    fx: dict[str, FxFactory] = field(default_factory=dict)
    history: dict[str, HistoryFactory] = field(default_factory=dict)


def _boto3_secrets() -> SecretsClient:
    import boto3  # only when the paid source is configured

    return cast(SecretsClient, boto3.client("secretsmanager"))


def http_registries(
    config: Mapping[str, str],
    *,
    secrets: Callable[[], SecretsClient] = _boto3_secrets,
    fund_isins: Mapping[str, str | FundListing] | None = None,
) -> Registries:
    """Factories of Stooq (`stooq`), the fund library (`funds`), Frankfurter
    (`frankfurter`) and the paid source (`paid`, None unless `PAID_QUOTES_SECRET` names a
    secret holding a key). Each builds its own client with its limits' timeout."""

    def client(limits: SourceLimits) -> httpx.Client:
        return http.build_client(limits.timeout_seconds)

    def paid(limits: SourceLimits) -> QuoteSource | None:
        if not config.get(SECRET_NAME_SETTING, "").strip():
            return None  # no Secrets Manager call at all
        return paid_quote_source(config, secrets(), client(limits))

    return Registries(
        quotes={
            "stooq": lambda limits: StooqQuoteSource(client(limits)),
            "funds": lambda limits: FundNavSource(client(limits), fund_isins),
            "paid": paid,
        },
        fx={"frankfurter": lambda limits: FrankfurterFxSource(client(limits))},
        history={
            "stooq": lambda limits: StooqHistorySource(client(limits)),
            "funds": lambda limits: FundNavSource(client(limits), fund_isins),
        },
    )


def yahoo_registries(
    clock: Clock, session: object | None = None, cache_dir: str | None = None
) -> Registries:
    """Factories of the Yahoo sources (`yahoo`): yfinance (and pandas) are imported by
    the adapter on its first call, not here. `session`: what yfinance sends through
    (default: its shared browser-impersonating session); `cache_dir`: yfinance's caches."""
    from portfoliowise.adapters.market.yahoo import (
        YahooFxSource,
        YahooHistorySource,
        YahooQuoteSource,
    )

    return Registries(
        quotes={
            "yahoo": lambda limits: YahooQuoteSource(
                session, clock=clock, timeout=limits.timeout_seconds, cache_dir=cache_dir
            )
        },
        fx={
            "yahoo": lambda limits: YahooFxSource(
                session, clock=clock, timeout=limits.timeout_seconds, cache_dir=cache_dir
            )
        },
        history={
            "yahoo": lambda limits: YahooHistorySource(
                session, clock=clock, timeout=limits.timeout_seconds, cache_dir=cache_dir
            )
        },
    )


def merge_registries(*registries: Registries) -> Registries:
    """One registry of every source name; a name registered twice is a configuration
    error (which of the two would the chain mean?)."""
    merged = Registries()
    for registry in registries:
        for mine, theirs in (
            (merged.quotes, registry.quotes),
            (merged.fx, registry.fx),
            (merged.history, registry.history),
        ):
            for name, factory in theirs.items():
                if name in mine:
                    raise SourceConfigError(f"market source {name!r} is registered twice")
                mine[name] = factory  # type: ignore[assignment]
    return merged


def sample_registries() -> Registries:
    """The bundled sample prices (`sample`), for `serve --demo` on a machine with no
    internet. Registered always, in no default chain: only a configured order uses it,
    last, and every quote it gives says `source: "sample"`."""

    def quotes(limits: SourceLimits) -> QuoteSource:
        from portfoliowise.adapters.market.sample import SampleQuoteSource

        return SampleQuoteSource()

    def fx(limits: SourceLimits) -> FxSource:
        from portfoliowise.adapters.market.sample import SampleFxSource

        return SampleFxSource()

    return Registries(quotes={"sample": quotes}, fx={"sample": fx})


def live_registries(
    config: Mapping[str, str],
    clock: Clock,
    *,
    secrets: Callable[[], SecretsClient] = _boto3_secrets,
) -> Registries:
    """Every source: Yahoo through yfinance, the httpx sources, and the sample prices
    (used only when a chain setting names `sample`)."""
    return merge_registries(
        yahoo_registries(clock, cache_dir=config.get(YFINANCE_CACHE_DIR) or None),
        http_registries(config, secrets=secrets),
        sample_registries(),
    )
