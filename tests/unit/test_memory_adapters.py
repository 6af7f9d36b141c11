"""The in-memory adapters keep the promises of their ports (domain/ports.py): optimistic
locking, change and audit written together, not-found errors, TTLs honoured on read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
    InMemoryQuoteCache,
    InMemorySessionStore,
    ScriptedAnalyst,
    StaticFxSource,
    StaticQuoteSource,
)
from portfoliowise.domain.analysis import (
    RULES_ANALYST,
    AnalysisReport,
    AnalysisRequest,
    AnalystFailed,
    FallbackReason,
    Language,
)
from portfoliowise.domain.audit import AUDIT_RETENTION, AuditEntry, RequestContext, audit_entries
from portfoliowise.domain.errors import ConflictError, NotFoundError, SourceUnavailable
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import EUR, JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR, QUOTE_KEPT_FOR, Quote, QuoteStatus
from portfoliowise.domain.sessions import Session

T0 = datetime(2024, 6, 3, 0, 0, tzinfo=UTC)
CONTEXT = RequestContext(ip="198.51.100.1", user_agent="pytest")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def repository(clock: FixedClock) -> InMemoryPortfolioRepository:
    return InMemoryPortfolioRepository(InMemoryAuditLog(clock))


def created(portfolio_id: str = "p-0001", user_id: str = "user-1") -> Portfolio:
    return Portfolio.create(
        user_id=user_id, portfolio_id=portfolio_id, name="NISA", base_currency=JPY, at=T0
    )


def stored(
    repository: InMemoryPortfolioRepository, portfolio_id: str = "p-0001", user_id: str = "user-1"
) -> Portfolio:
    portfolio = created(portfolio_id, user_id)
    repository.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    return portfolio


def renamed(portfolio: Portfolio, name: str, at: datetime) -> list[AuditEntry]:
    portfolio.rename(name, at=at)
    return audit_entries(portfolio.pull_events(), CONTEXT)


# -- clock and ids ---------------------------------------------------------------------


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(T0)
    assert clock.now() == T0

    clock.advance(timedelta(hours=1))
    assert clock.now() == T0 + timedelta(hours=1)

    clock.set(T0 - timedelta(days=1))
    assert clock.now() == T0 - timedelta(days=1)


def test_fixed_clock_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2024, 6, 3))  # noqa: DTZ001


def test_sequential_ids() -> None:
    ids = SequentialIds("p")

    assert [ids.new_id(), ids.new_id(), ids.new_id()] == ["p-0001", "p-0002", "p-0003"]
    assert SequentialIds().new_id() == "id-0001"


# -- portfolio repository --------------------------------------------------------------


def test_add_stores_version_1_with_its_audit_entries(
    repository: InMemoryPortfolioRepository,
) -> None:
    portfolio = stored(repository)

    assert portfolio.version == 1
    loaded = repository.get("user-1", "p-0001")
    assert loaded.version == 1
    assert loaded.to_json() == portfolio.to_json()
    assert [e.action for e in repository.audit.entries] == ["portfolio.created"]


def test_add_of_a_taken_id_conflicts_with_the_stored_version(
    repository: InMemoryPortfolioRepository,
) -> None:
    first = stored(repository)
    first.rename("Renamed", at=T0 + timedelta(minutes=1))
    repository.save(first, [])  # now at version 2

    with pytest.raises(ConflictError) as raised:
        repository.add(created(), [])

    assert raised.value.current_version == 2
    assert repository.get("user-1", "p-0001").name == "Renamed"


def test_get_of_a_missing_or_another_users_portfolio_is_not_found(
    repository: InMemoryPortfolioRepository,
) -> None:
    stored(repository)

    with pytest.raises(NotFoundError):
        repository.get("user-1", "p-9999")
    with pytest.raises(NotFoundError):
        repository.get("user-2", "p-0001")


def test_save_bumps_the_version_and_records_the_audit_entries(
    repository: InMemoryPortfolioRepository,
) -> None:
    stored(repository)
    portfolio = repository.get("user-1", "p-0001")

    repository.save(portfolio, renamed(portfolio, "Growth", T0 + timedelta(minutes=1)))

    assert portfolio.version == 2
    assert repository.get("user-1", "p-0001").version == 2
    assert repository.get("user-1", "p-0001").name == "Growth"
    assert [e.action for e in repository.audit.entries] == [
        "portfolio.created",
        "portfolio.renamed",
    ]


def test_a_stale_save_conflicts_with_the_current_version_and_writes_nothing(
    repository: InMemoryPortfolioRepository,
) -> None:
    stored(repository)
    mine = repository.get("user-1", "p-0001")
    theirs = repository.get("user-1", "p-0001")
    repository.save(theirs, renamed(theirs, "Theirs", T0 + timedelta(minutes=1)))

    audit = renamed(mine, "Mine", T0 + timedelta(minutes=2))
    with pytest.raises(ConflictError) as raised:
        repository.save(mine, audit)

    assert raised.value.current_version == 2
    assert mine.version == 1
    assert repository.get("user-1", "p-0001").name == "Theirs"
    assert len(repository.audit.entries) == 2  # created + their rename, not mine


def test_save_of_a_missing_portfolio_is_not_found(
    repository: InMemoryPortfolioRepository,
) -> None:
    with pytest.raises(NotFoundError):
        repository.save(created(), [])


def test_saving_a_deleted_portfolio_removes_it(repository: InMemoryPortfolioRepository) -> None:
    stored(repository)
    portfolio = repository.get("user-1", "p-0001")
    portfolio.delete(at=T0 + timedelta(minutes=1))

    repository.save(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))

    assert portfolio.version == 2
    with pytest.raises(NotFoundError):
        repository.get("user-1", "p-0001")
    assert repository.list_for_user("user-1") == []
    assert [e.action for e in repository.audit.entries][-1] == "portfolio.deleted"


def test_the_store_shares_no_mutable_state_with_callers(
    repository: InMemoryPortfolioRepository,
) -> None:
    portfolio = stored(repository)

    portfolio.add_holding(Holding.of("7203", "100"), at=T0 + timedelta(minutes=1))
    repository.get("user-1", "p-0001").rename("Changed", at=T0 + timedelta(minutes=1))

    loaded = repository.get("user-1", "p-0001")
    assert loaded.holdings == []
    assert loaded.name == "NISA"


def test_list_for_user_is_ordered_by_portfolio_id(repository: InMemoryPortfolioRepository) -> None:
    for portfolio_id in ("p-0003", "p-0001", "p-0002"):
        stored(repository, portfolio_id)
    stored(repository, "p-0000", user_id="user-2")

    listed = repository.list_for_user("user-1")

    assert [p.portfolio_id for p in listed] == ["p-0001", "p-0002", "p-0003"]
    assert repository.list_for_user("nobody") == []


def test_all_portfolios_reads_every_user(repository: InMemoryPortfolioRepository) -> None:
    stored(repository, "p-0001", user_id="user-2")
    stored(repository, "p-0002", user_id="user-1")

    everything = list(repository.all_portfolios())

    assert {(p.user_id, p.portfolio_id) for p in everything} == {
        ("user-1", "p-0002"),
        ("user-2", "p-0001"),
    }


def test_restore_of_an_absent_portfolio_keeps_the_backup_version(
    repository: InMemoryPortfolioRepository,
) -> None:
    backup = Portfolio.from_json({**created().to_json(), "version": 5})

    repository.restore(backup, [])

    assert backup.version == 5
    assert repository.get("user-1", "p-0001").version == 5


def test_restore_over_a_newer_portfolio_moves_past_its_version(
    repository: InMemoryPortfolioRepository,
) -> None:
    current = stored(repository)
    for minute in (1, 2, 3):
        repository.save(current, renamed(current, f"v{minute}", T0 + timedelta(minutes=minute)))
    assert current.version == 4
    backup = Portfolio.from_json({**created().to_json(), "version": 2})
    client_copy = repository.get("user-1", "p-0001")

    repository.restore(backup, [])

    assert backup.version == 5
    restored = repository.get("user-1", "p-0001")
    assert (restored.version, restored.name) == (5, "NISA")
    client_copy.rename("Late", at=T0 + timedelta(hours=1))
    with pytest.raises(ConflictError):
        repository.save(client_copy, [])


def test_restore_at_the_stored_version_still_bumps_it(
    repository: InMemoryPortfolioRepository,
) -> None:
    stored(repository)
    backup = Portfolio.from_json({**created().to_json(), "version": 1})

    repository.restore(backup, [])

    assert repository.get("user-1", "p-0001").version == 2


# -- audit log -------------------------------------------------------------------------


def entry(user_id: str, at: datetime, action: str = "session.signed_in") -> AuditEntry:
    return AuditEntry(
        date=at.strftime("%Y-%m-%d"),
        timestamp=at,
        user_id=user_id,
        action=action,
        resource="session",
        changes={},
        ip="",
        user_agent="",
        event_id="",
    )


def test_audit_log_returns_a_users_entries_in_range_oldest_first(clock: FixedClock) -> None:
    log = InMemoryAuditLog(clock)
    hour = timedelta(hours=1)
    log.record([entry("user-1", T0 - hour), entry("user-2", T0 - 2 * hour)])
    log.record([entry("user-1", T0 - 3 * hour), entry("user-1", T0 - 10 * hour)])

    found = log.for_user("user-1", since=T0 - 3 * hour, until=T0 - hour)

    assert [e.timestamp for e in found] == [T0 - 3 * hour, T0 - hour]  # both ends included


def test_audit_log_hides_expired_entries(clock: FixedClock) -> None:
    log = InMemoryAuditLog(clock)
    log.record([entry("user-1", T0)])
    since, until = T0 - timedelta(days=1), T0 + timedelta(days=1)

    clock.set(T0 + AUDIT_RETENTION - timedelta(microseconds=1))
    assert len(log.for_user("user-1", since, until)) == 1

    clock.set(T0 + AUDIT_RETENTION)
    assert log.for_user("user-1", since, until) == []


def test_audit_log_without_a_clock_keeps_everything() -> None:
    log = InMemoryAuditLog()
    log.record([entry("user-1", T0 - timedelta(days=1000))])

    assert len(log.for_user("user-1", T0 - timedelta(days=2000), T0)) == 1


# -- quote cache -----------------------------------------------------------------------


def quote(symbol: str, price: Money) -> Quote:
    return Quote(symbol=symbol, price=price, status=QuoteStatus.LIVE, source="test", as_of=T0)


def test_quote_cache_returns_quotes_by_symbol_in_one_read(clock: FixedClock) -> None:
    cache = InMemoryQuoteCache(clock)
    toyota, apple = parse_symbol("7203"), parse_symbol("AAPL")
    cache.put_many(
        [quote("7203.T", Money.of("2500", JPY)), quote("AAPL", Money.of("190.5", USD))],
        expires_at=T0 + QUOTE_FRESH_FOR,
    )

    found = cache.get_many([toyota, apple, parse_symbol("VTI")])

    assert set(found) == {"7203", "AAPL"}
    assert found["7203"].quote.price == Money.of("2500", JPY)
    assert found["7203"].expires_at == T0 + QUOTE_FRESH_FOR
    assert (cache.reads, cache.writes) == (1, 1)


def test_quote_cache_never_stores_unavailable_quotes(clock: FixedClock) -> None:
    cache = InMemoryQuoteCache(clock)

    cache.put_many([Quote.unavailable("7203")], expires_at=T0 + QUOTE_FRESH_FOR)

    assert cache.get_many([parse_symbol("7203")]) == {}


def test_quote_cache_serves_stale_quotes_until_they_are_dropped(clock: FixedClock) -> None:
    cache = InMemoryQuoteCache(clock)
    toyota = parse_symbol("7203")
    expires = T0 + QUOTE_FRESH_FOR
    cache.put_many([quote("7203", Money.of("2500", JPY))], expires_at=expires)

    clock.set(expires + timedelta(days=1))  # past fresh: still returned, for stale serving
    assert "7203" in cache.get_many([toyota])

    clock.set(expires + QUOTE_KEPT_FOR - timedelta(microseconds=1))
    assert "7203" in cache.get_many([toyota])

    clock.set(expires + QUOTE_KEPT_FOR)  # past kept: gone
    assert cache.get_many([toyota]) == {}


def test_quote_cache_keeps_the_latest_quote(clock: FixedClock) -> None:
    cache = InMemoryQuoteCache(clock)
    cache.put_many([quote("7203", Money.of("2500", JPY))], expires_at=T0)
    cache.put_many([quote("7203.T", Money.of("2600", JPY))], expires_at=T0 + QUOTE_FRESH_FOR)

    found = cache.get_many([parse_symbol("7203")])["7203"]

    assert found.quote.price == Money.of("2600", JPY)
    assert found.expires_at == T0 + QUOTE_FRESH_FOR


# -- sources ---------------------------------------------------------------------------


def test_static_quote_source_answers_what_it_knows() -> None:
    known = quote("7203", Money.of("2500", JPY))
    source = StaticQuoteSource("static", {"7203": known})

    found = source.fetch([parse_symbol("7203.T"), parse_symbol("AAPL")])

    assert found == {"7203": known}
    assert source.calls == [["7203", "AAPL"]]


def test_a_failing_quote_source_raises_source_unavailable() -> None:
    source = StaticQuoteSource("static", {}, failing=True)

    with pytest.raises(SourceUnavailable, match="static"):
        source.fetch([parse_symbol("7203")])
    assert source.calls == [["7203"]]


def test_static_fx_source_answers_only_the_pairs_asked_for() -> None:
    usd_jpy = FxRate(USD, JPY, Decimal(150))
    eur_usd = FxRate(EUR, USD, Decimal("1.1"))
    source = StaticFxSource("static", [usd_jpy, eur_usd])

    assert source.fetch_rates([(USD, JPY)]) == [usd_jpy]
    assert source.fetch_rates([(JPY, USD)]) == []  # the inverse is the caller's business
    assert source.fetch_rates([]) == []


def test_a_failing_fx_source_raises_source_unavailable() -> None:
    with pytest.raises(SourceUnavailable):
        StaticFxSource("static", [], failing=True).fetch_rates([(USD, JPY)])


# -- sessions --------------------------------------------------------------------------


def test_session_store_honours_expiry_on_read() -> None:
    store = InMemorySessionStore()
    session = Session("hash-1", "user-1", expires_at=T0 + timedelta(hours=24), access_token=b"x")
    store.put(session)

    assert store.get("hash-1", T0) == session
    assert store.get("hash-1", T0 + timedelta(hours=24) - timedelta(microseconds=1)) == session
    assert store.get("hash-1", T0 + timedelta(hours=24)) is None
    assert store.get("unknown", T0) is None


def test_session_store_delete_is_idempotent() -> None:
    store = InMemorySessionStore()
    store.put(Session("hash-1", "user-1", expires_at=T0 + timedelta(hours=1)))

    store.delete("hash-1")
    store.delete("hash-1")

    assert store.get("hash-1", T0) is None


# -- events, blobs, analyst ------------------------------------------------------------


def test_event_publisher_keeps_what_was_published_in_order() -> None:
    portfolio = created()
    portfolio.rename("Growth", at=T0)
    events = portfolio.pull_events()
    publisher = InMemoryEventPublisher()

    publisher.publish(events[:1])
    publisher.publish(events[1:])

    assert publisher.published == events


def test_blob_store_puts_gets_and_lists_by_prefix() -> None:
    store = InMemoryBlobStore()
    data = bytearray(b"{}")
    store.put("backups/2024-06-03/manifest.json", data, "application/json")
    store.put("backups/2024-06-02/manifest.json", b"[]")
    store.put("other/readme", b"")
    data.extend(b"changed after the put")

    assert store.get("backups/2024-06-03/manifest.json") == b"{}"
    assert store.objects["backups/2024-06-03/manifest.json"][1] == "application/json"
    assert store.list("backups/") == [
        "backups/2024-06-02/manifest.json",
        "backups/2024-06-03/manifest.json",
    ]
    assert store.list("nothing/") == []


def test_blob_store_get_of_a_missing_key_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="missing"):
        InMemoryBlobStore().get("missing")


def test_scripted_analyst_answers_in_order_then_fails() -> None:
    refusal = AnalystFailed(FallbackReason.REFUSAL, "no")
    analyst = ScriptedAnalyst(["first", refusal, "second"], model="test-model")
    rules = AnalysisReport(RULES_ANALYST, Language.EN, "rules say", ())
    request = AnalysisRequest(Language.EN, "portfolio", {"total": "100"}, rules)

    assert analyst.analyse(request).summary == "first"
    with pytest.raises(AnalystFailed):
        analyst.analyse(request)
    result = analyst.analyse(request)
    assert (result.summary, result.model, result.analyst) == ("second", "test-model", "openai")
    assert analyst.requests == [request, request, request]
    with pytest.raises(AnalystFailed):
        analyst.analyse(request)
