"""The operators' info signals from the portfolio use cases (domain/signals.py): a large
move between two valuations (`PortfolioQueries`) and unusual activity, more portfolio
writes by one user in an hour than a threshold (`portfolio_commands`). Both run over the
in-memory adapters and `RecordedSignals`; neither may fail the request that caused it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
    RecordedSignals,
)
from portfoliowise.application import portfolio_commands as commands
from portfoliowise.application.portfolio_queries import PortfolioQueries
from portfoliowise.application.pricing import prices_in_batches
from portfoliowise.domain.audit import AuditEntry, RequestContext, audit_entries
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.money import JPY, Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.signals import Signal, SignalKind, subject_of

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CONTEXT = RequestContext(ip="203.0.113.9", user_agent="pytest")
USER = "google-oauth2|1234567890"


# -- a large change between two valuations -----------------------------------------------


class Market:
    """Quotes from a table the test changes; USD-JPY at 150."""

    def __init__(self) -> None:
        self.prices: dict[str, Money] = {"7203": Money.of("2500", JPY)}

    def get_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        return {
            s: Quote(s, self.prices[s], QuoteStatus.LIVE, "test", T0)
            if s in self.prices
            else Quote.unavailable(s)
            for s in symbols
        }

    def get_prices(self, symbols: Sequence[str], pairs: Sequence[str]) -> dict[str, Quote]:
        return prices_in_batches(self, symbols, pairs)

    def get_rates(self, pairs: Sequence[str]) -> dict[str, Quote]:
        out = {}
        for pair in pairs:
            quote = Currency.of(pair.split("-")[1])
            price = Money.of("150", quote)
            out[pair] = Quote(pair, price, QuoteStatus.LIVE, "test", T0)
        return out


class CountingRepository(InMemoryPortfolioRepository):
    def __init__(self) -> None:
        super().__init__()
        self.recorded: list[Money] = []
        self.failure: Exception | None = None

    def record_valuation(
        self, user_id: str, portfolio_id: str, total: Money, at: datetime
    ) -> Money | None:
        if self.failure is not None:
            raise self.failure
        self.recorded.append(total)
        return super().record_valuation(user_id, portfolio_id, total, at)


class FailingSignals:
    def emit(self, signal: Signal) -> None:
        raise RuntimeError("the topic is gone")


def _valuing(
    holdings: Sequence[Holding] = (Holding.of("7203", "100"),),
) -> tuple[PortfolioQueries, CountingRepository, Market, RecordedSignals]:
    repository = CountingRepository()
    portfolio = Portfolio.create(
        user_id=USER,
        portfolio_id="p1",
        name="老後資金",
        base_currency=JPY,
        at=T0,
        holdings=holdings,
    )
    repository.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    market, signals = Market(), RecordedSignals()
    queries = PortfolioQueries(repository, market, FixedClock(T0), signals=signals)
    return queries, repository, market, signals


def _value_at(queries: PortfolioQueries, market: Market, price: str) -> Money:
    market.prices["7203"] = Money.of(price, JPY)
    return queries.valuation(USER, "p1").valuation.total


def test_a_move_of_more_than_ten_percent_signals_with_the_figures() -> None:
    queries, _, market, signals = _valuing()
    _value_at(queries, market, "2500")  # 250,000 JPY
    _value_at(queries, market, "2750.25")  # 275,025 JPY: +10.01 %
    assert len(signals.emitted) == 1
    signal = signals.emitted[0]
    assert signal.kind is SignalKind.LARGE_PORTFOLIO_CHANGE
    assert signal.subject == subject_of(USER)
    assert signal.at == T0
    assert signal.details == {
        "portfolioId": "p1",
        "percent": "10.01",
        "before": "250000",
        "after": "275025",
        "currency": "JPY",
    }
    assert USER not in signal.message()
    assert "老後資金" not in signal.message()


def test_a_fall_signals_too_with_a_negative_percent() -> None:
    queries, _, market, signals = _valuing()
    _value_at(queries, market, "2500")
    _value_at(queries, market, "2200")  # -12 %
    assert [s.details["percent"] for s in signals.emitted] == ["-12.00"]


def test_a_move_of_nine_or_exactly_ten_percent_does_not_signal() -> None:
    queries, _, market, signals = _valuing()
    _value_at(queries, market, "2500")
    _value_at(queries, market, "2725")  # +9 %
    _value_at(queries, market, "2997.50")  # +10 % exactly: not *more than* 10 %
    assert signals.emitted == []


def test_each_valuation_is_compared_with_the_one_just_before() -> None:
    queries, _, market, signals = _valuing()
    for price in ("2500", "2700", "2900", "3100"):  # +8 %, +7.4 %, +6.9 %: +24 % in all
        _value_at(queries, market, price)
    assert signals.emitted == []


def test_the_threshold_is_configurable() -> None:
    _, repository, market, signals = _valuing()
    strict = PortfolioQueries(
        repository, market, FixedClock(T0), signals=signals, large_change_percent=Decimal(5)
    )
    _value_at(strict, market, "2500")
    _value_at(strict, market, "2650")  # +6 %
    assert len(signals.emitted) == 1


def test_the_first_valuation_does_not_signal() -> None:
    queries, repository, market, signals = _valuing()
    _value_at(queries, market, "2500")
    assert signals.emitted == []
    assert repository.recorded == [Money.of("250000", JPY)]


def test_a_valuation_in_another_currency_is_not_recorded() -> None:
    queries, repository, market, signals = _valuing()
    _value_at(queries, market, "2500")
    market.prices["7203"] = Money.of("5000", JPY)
    in_usd = queries.valuation(USER, "p1", "usd").valuation
    assert in_usd.total.currency.code == "USD"
    assert repository.recorded == [Money.of("250000", JPY)]
    _value_at(queries, market, "2600")  # +4 % from the last base-currency total
    assert signals.emitted == []


def test_an_incomplete_valuation_is_not_recorded() -> None:
    queries, repository, market, signals = _valuing(
        (Holding.of("7203", "100"), Holding.of("6758", "100"))  # 6758: no quote
    )
    _value_at(queries, market, "2500")
    _value_at(queries, market, "5000")
    assert repository.recorded == []
    assert signals.emitted == []


def test_the_allocation_records_and_signals_as_the_valuation_does() -> None:
    queries, repository, market, signals = _valuing()
    queries.allocation(USER, "p1", "holding")
    market.prices["7203"] = Money.of("3000", JPY)
    queries.allocation(USER, "p1", "sector")
    assert len(repository.recorded) == 2
    assert [s.details["percent"] for s in signals.emitted] == ["20.00"]


def test_without_signals_nothing_is_recorded() -> None:
    _, repository, market, _ = _valuing()
    quiet = PortfolioQueries(repository, market, FixedClock(T0))
    _value_at(quiet, market, "2500")
    assert repository.recorded == []


@pytest.mark.parametrize(
    "failure", [SourceUnavailable("DynamoDB is throttling"), NotFoundError("deleted"), KeyError()]
)
def test_a_store_failure_does_not_fail_the_valuation(failure: Exception) -> None:
    queries, repository, market, signals = _valuing()
    repository.failure = failure
    assert _value_at(queries, market, "2500") == Money.of("250000", JPY)
    assert signals.emitted == []


def test_a_failing_signal_does_not_fail_the_valuation() -> None:
    _, repository, market, _ = _valuing()
    queries = PortfolioQueries(repository, market, FixedClock(T0), signals=FailingSignals())
    _value_at(queries, market, "2500")
    assert _value_at(queries, market, "5000") == Money.of("500000", JPY)


# -- unusual activity ---------------------------------------------------------------------


def _ports(
    threshold: int = 100,
) -> tuple[commands.PortfolioPorts, FixedClock, RecordedSignals, InMemoryAuditLog]:
    clock = FixedClock(T0)
    audit = InMemoryAuditLog(clock)
    signals = RecordedSignals()
    ports = commands.PortfolioPorts(
        InMemoryPortfolioRepository(audit),
        InMemoryEventPublisher(),
        clock,
        SequentialIds("p"),
        signals=signals,
        audit_log=audit,
        unusual_writes_per_hour=threshold,
    )
    return ports, clock, signals, audit


def _create(ports: commands.PortfolioPorts) -> Portfolio:
    return commands.create_portfolio(
        ports, user_id=USER, name="NISA", base_currency=JPY, context=CONTEXT
    )


def _writes(ports: commands.PortfolioPorts, clock: FixedClock, count: int, every: timedelta) -> str:
    """`count` writes `every` apart: a creation, then renames. The portfolio's id."""
    portfolio_id = _create(ports).portfolio_id
    for n in range(1, count):
        clock.advance(every)
        commands.rename_portfolio(
            ports, user_id=USER, portfolio_id=portfolio_id, name=f"NISA {n}", context=CONTEXT
        )
    return portfolio_id


def test_a_hundred_writes_in_an_hour_do_not_signal() -> None:
    ports, clock, signals, _ = _ports()
    _writes(ports, clock, 100, timedelta(seconds=30))
    assert signals.emitted == []


def test_the_hundred_and_first_write_in_an_hour_signals_once() -> None:
    ports, clock, signals, _ = _ports()
    _writes(ports, clock, 101, timedelta(seconds=30))  # within 50 minutes
    assert len(signals.emitted) == 1
    signal = signals.emitted[0]
    assert signal.kind is SignalKind.UNUSUAL_ACTIVITY
    assert signal.subject == subject_of(USER)
    assert signal.at == clock.now()
    assert signal.details == {"writes": "101", "threshold": "100", "windowMinutes": "60"}


def test_the_writes_after_the_crossing_do_not_signal_again() -> None:
    ports, clock, signals, _ = _ports()
    _writes(ports, clock, 250, timedelta(seconds=10))
    assert len(signals.emitted) == 1


def test_writes_spread_over_more_than_an_hour_do_not_signal() -> None:
    ports, clock, signals, _ = _ports(threshold=10)
    _writes(ports, clock, 40, timedelta(minutes=7))  # at most 9 in any hour
    assert signals.emitted == []


def test_a_count_hovering_at_the_threshold_signals_once() -> None:
    ports, clock, signals, _ = _ports(threshold=10)
    portfolio_id = _create(ports).portfolio_id
    for n in range(1, 60):  # 4, 5, 7, 6 minutes apart: the hour's count goes 11, 12, 10+1...
        clock.advance(timedelta(minutes=(4, 5, 7, 6)[n % 4]))
        commands.rename_portfolio(
            ports, user_id=USER, portfolio_id=portfolio_id, name=f"NISA {n}", context=CONTEXT
        )
    assert len(signals.emitted) == 1  # 38 of these writes took the count from 10 to 11


def test_a_new_burst_signals_again_once_the_last_crossing_is_an_hour_old() -> None:
    ports, clock, signals, _ = _ports(threshold=10)
    _writes(ports, clock, 15, timedelta(minutes=1))
    clock.advance(timedelta(minutes=61))
    _writes(ports, clock, 15, timedelta(minutes=1))
    assert len(signals.emitted) == 2


def test_creations_changes_and_deletions_all_count() -> None:
    ports, clock, signals, _ = _ports(threshold=3)
    portfolio_id = _create(ports).portfolio_id
    clock.advance(timedelta(seconds=1))
    commands.add_holding(
        ports,
        user_id=USER,
        portfolio_id=portfolio_id,
        holding=Holding.of("7203", "100"),
        context=CONTEXT,
    )
    clock.advance(timedelta(seconds=1))
    _create(ports)
    assert signals.emitted == []
    clock.advance(timedelta(seconds=1))
    commands.delete_portfolio(ports, user_id=USER, portfolio_id=portfolio_id, context=CONTEXT)
    assert len(signals.emitted) == 1


def test_a_write_of_many_changes_counts_once() -> None:
    ports, clock, signals, audit = _ports(threshold=2)
    portfolio = _create(ports)
    clock.advance(timedelta(seconds=1))
    desired = Portfolio.create(
        user_id=USER,
        portfolio_id=portfolio.portfolio_id,
        name="renamed",
        base_currency=JPY,
        at=T0,
        holdings=[Holding.of(code, "100") for code in ("7203", "6758", "9984", "8306", "9432")],
    )
    commands.replace_portfolio(
        ports,
        user_id=USER,
        portfolio_id=portfolio.portfolio_id,
        desired=desired,
        context=CONTEXT,
    )
    assert len(audit.entries) == 7  # created, renamed, five holdings added
    assert signals.emitted == []  # two writes


def test_other_users_writes_do_not_count() -> None:
    ports, clock, signals, _ = _ports(threshold=2)
    for user in ("a", "b", "c", "d"):
        clock.advance(timedelta(seconds=1))
        commands.create_portfolio(ports, user_id=user, name="x", base_currency=JPY, context=CONTEXT)
    assert signals.emitted == []


class LaggingAuditLog:
    """An index that has not caught up: it answers nothing."""

    def record(self, entries: Sequence[AuditEntry]) -> None:
        pass

    def for_user(self, user_id: str, since: datetime, until: datetime) -> list[AuditEntry]:
        return []


def test_the_write_just_made_counts_even_when_the_read_misses_it() -> None:
    ports, _, signals, _ = _ports(threshold=0)
    lagging = commands.PortfolioPorts(
        ports.repository,
        ports.events,
        ports.clock,
        ports.ids,
        signals=signals,
        audit_log=LaggingAuditLog(),
        unusual_writes_per_hour=0,
    )
    _create(lagging)
    assert len(signals.emitted) == 1


class FailingAuditLog(LaggingAuditLog):
    def for_user(self, user_id: str, since: datetime, until: datetime) -> list[AuditEntry]:
        raise SourceUnavailable("DynamoDB is throttling")


def test_a_failure_to_count_or_to_signal_does_not_fail_the_write() -> None:
    ports, clock, _, audit = _ports(threshold=0)
    for audit_log, signals in (
        (FailingAuditLog(), RecordedSignals()),
        (audit, FailingSignals()),
    ):
        failing = commands.PortfolioPorts(
            ports.repository,
            ports.events,
            ports.clock,
            ports.ids,
            signals=signals,
            audit_log=audit_log,
            unusual_writes_per_hour=0,
        )
        portfolio = _create(failing)
        assert ports.repository.get(USER, portfolio.portfolio_id).version == 1
        clock.advance(timedelta(seconds=1))


def test_without_an_audit_log_nothing_is_counted() -> None:
    ports, _, signals, _ = _ports(threshold=0)
    _create(
        commands.PortfolioPorts(
            ports.repository, ports.events, ports.clock, ports.ids, signals=signals
        )
    )
    assert signals.emitted == []


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        ([0, 1, 2], [False, False, True]),  # the third write takes the count past 2
        ([0, 1, 2, 3, 4], [False, False, True, False, False]),  # the later ones do not
        ([0, 60, 120], [False, False, False]),  # an hour apart: never more than one
        # hovering: 3 at 50, then 70 (25, 50, 70), 95 (50, 70, 95), 120 cross again
        ([0, 25, 50, 70, 95, 120], [False, False, True, False, False, False]),
        ([0, 1, 2, 63, 64, 65], [False, False, True, False, False, True]),  # a new burst
    ],
)
def test_the_rule_of_unusual_activity(minutes: list[int], expected: list[bool]) -> None:
    starts = [T0 + timedelta(minutes=m) for m in minutes]
    crossed = [commands.unusual_activity_crossed(starts, i, 2) for i in range(len(starts))]
    assert crossed == expected
