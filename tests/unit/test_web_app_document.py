"""The existing web app's document and the domain (`adapters.web_app_document`), the
domain's new fields (a client's attributes, the additional budget, the AI prompt template)
and their limits, and every other door they go through: the audit trail, the native
export and import, and backups."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
)
from portfoliowise.adapters.portfolio_formats import PortfolioFiles
from portfoliowise.adapters.web_app_document import WebAppDocuments, same_json
from portfoliowise.application import backup
from portfoliowise.application.portfolio_commands import PortfolioPorts, replace_portfolio
from portfoliowise.application.portfolio_io import export_portfolio, import_portfolio
from portfoliowise.application.web_app_portfolio import (
    load_web_app_portfolio,
    save_web_app_portfolio,
)
from portfoliowise.domain.attributes import NO_ATTRIBUTES, Attributes
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.audit_replay import replay, state_of
from portfoliowise.domain.errors import ConflictError, OutOfRange, ValidationError
from portfoliowise.domain.events import FieldChange, PortfolioSettingsChanged
from portfoliowise.domain.limits import (
    MAX_ATTRIBUTE_DEPTH,
    MAX_ATTRIBUTE_ITEMS,
    MAX_ATTRIBUTE_NAME_LENGTH,
    MAX_ATTRIBUTE_NAMES,
    MAX_ATTRIBUTE_NUMBER_DIGITS,
    MAX_ATTRIBUTE_TEXT_LENGTH,
    MAX_HOLDING_ATTRIBUTES_LENGTH,
    MAX_PORTFOLIO_ATTRIBUTES_LENGTH,
    MAX_PROMPT_TEMPLATE_LENGTH,
)
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio, holding_from_json

AT = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
CONTEXT = RequestContext(ip="203.0.113.7", user_agent="unit-test")
BODY = Path(__file__).resolve().parents[1] / "fixtures" / "web_app" / "portfolio_put.json"


def app_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(BODY.read_text(encoding="utf-8"), parse_float=Decimal)
    del document["version"]
    return document


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


# -- attributes ---------------------------------------------------------------------------


def test_attributes_keep_every_value_with_its_digits() -> None:
    kept = Attributes.of(
        {
            "annualFee": Decimal("0.0938"),
            "holdings": 1200,
            "tiny": Decimal("1E-7"),
            "flag": False,
            "none": None,
            "name": "eMAXIS Slim 先進国株式",
            "list": [1, "a", [True]],
            "object": {"rate": Decimal("150.25")},
        }
    )
    assert kept.text == (
        '{"annualFee":0.0938,"holdings":1200,"tiny":0.0000001,"flag":false,"none":null,'
        '"name":"eMAXIS Slim 先進国株式","list":[1,"a",[true]],"object":{"rate":150.25}}'
    )
    assert Attributes.from_text(kept.text) == kept
    values = kept.as_dict()
    assert values["annualFee"] == Decimal("0.0938")
    assert values["holdings"] == Decimal(1200)  # every number a Decimal
    assert Attributes.of({"n": Decimal("1.0")}) != Attributes.of({"n": Decimal("1")})
    assert Attributes.of({"n": True}) != Attributes.of({"n": 1})
    assert not NO_ATTRIBUTES
    assert Attributes.of({}) == NO_ATTRIBUTES


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({f"n{i}": i for i in range(MAX_ATTRIBUTE_NAMES + 1)}, "attributes"),
        ({"x" * (MAX_ATTRIBUTE_NAME_LENGTH + 1): 1}, "attributes"),
        ({"list": list(range(MAX_ATTRIBUTE_ITEMS + 1))}, "attributes"),
        ({"deep": nested(MAX_ATTRIBUTE_DEPTH)}, "attributes"),
        ({"text": "x" * (MAX_ATTRIBUTE_TEXT_LENGTH + 1)}, "attributes"),
        ({"n": Decimal(10) ** MAX_ATTRIBUTE_NUMBER_DIGITS}, "attributes"),
        ({"n": Decimal("1E-41")}, "attributes"),
        ({"n": Decimal("1E+999999")}, "attributes"),
        ({"n": Decimal("NaN")}, "attributes"),
    ],
)
def test_attributes_beyond_a_limit_are_out_of_range(values: dict[str, Any], field: str) -> None:
    with pytest.raises(OutOfRange) as caught:
        Attributes.of(values)
    assert caught.value.field == field
    assert len(str(caught.value)) < 300  # the value is quoted cut short


def test_attributes_at_their_limits_are_kept() -> None:
    Attributes.of({"deep": nested(MAX_ATTRIBUTE_DEPTH - 1)})
    Attributes.of({"n": Decimal(10) ** (MAX_ATTRIBUTE_NUMBER_DIGITS - 1)})
    Attributes.of({"text": "あ" * MAX_ATTRIBUTE_TEXT_LENGTH})


def test_attributes_refuse_floats_and_other_types() -> None:
    with pytest.raises(ValidationError, match="not a float"):
        Attributes.of({"price": 2850.5})
    with pytest.raises(ValidationError):
        Attributes.of({"when": AT})
    with pytest.raises(ValidationError):
        Attributes.from_text("[1, 2]")
    with pytest.raises(ValidationError):
        Attributes.from_text('{"n": NaN}')
    with pytest.raises(ValidationError):
        Attributes.from_text("{" * 10_000)


def test_a_holdings_attributes_are_within_their_limit_from_every_door(tmp_path: Path) -> None:
    too_long = Attributes.of({f"k{i}": "x" * 1000 for i in range(5)})
    assert len(too_long.text) > MAX_HOLDING_ATTRIBUTES_LENGTH
    with pytest.raises(OutOfRange):
        Holding.of("7203", "100", attributes=too_long)
    document = {**Holding.of("7203", "100").to_json(), "attributes": too_long.text}
    with pytest.raises(OutOfRange):
        holding_from_json(document)  # a stored snapshot or a backup
    portfolio = Portfolio(
        user_id="u1", portfolio_id="p1", name="n", base_currency=JPY, created_at=AT
    ).to_json()
    with pytest.raises(OutOfRange):
        Portfolio.from_json({**portfolio, "holdings": [document]})
    with pytest.raises(OutOfRange):
        PortfolioFiles().read(
            json.dumps({"name": "n", "holdings": [document]}),
            format="json",
            name=None,
            currency=None,
            at=AT,
        )


def test_the_portfolio_fields_are_within_their_limits() -> None:
    base: dict[str, Any] = {
        "user_id": "u1",
        "portfolio_id": "p1",
        "name": "n",
        "base_currency": JPY,
        "created_at": AT,
    }
    Portfolio(**base, ai_prompt_template="あ" * MAX_PROMPT_TEMPLATE_LENGTH)
    with pytest.raises(OutOfRange):
        Portfolio(**base, ai_prompt_template="あ" * (MAX_PROMPT_TEMPLATE_LENGTH + 1))
    with pytest.raises(OutOfRange):
        Portfolio(**base, additional_budget=Money(Decimal("-1"), JPY))
    with pytest.raises(OutOfRange):
        Portfolio(**base, additional_budget=Money(Decimal("1E+16"), JPY))
    big = Attributes.of(
        {"list": ["x" * 1000] * (MAX_PORTFOLIO_ATTRIBUTES_LENGTH // 1000)},
        max_length=2 * MAX_PORTFOLIO_ATTRIBUTES_LENGTH,
    )
    with pytest.raises(OutOfRange):
        Portfolio(**base, attributes=big)


# -- the portfolio's new fields: events, audit trail, doors -------------------------------


def test_change_details_records_an_event_for_each_field_that_changed() -> None:
    portfolio = Portfolio(
        user_id="u1", portfolio_id="p1", name="n", base_currency=JPY, created_at=AT
    )
    kept = Attributes.of({"exchangeRate": {"rate": Decimal("150.25")}})
    portfolio.change_details(
        at=AT,
        additional_budget=Money(Decimal("300000"), JPY),
        ai_prompt_template="テンプレート",
        attributes=kept,
    )
    events = portfolio.pull_events()
    assert all(isinstance(e, PortfolioSettingsChanged) for e in events)
    assert [e.changes for e in events] == [
        {"additionalBudget": FieldChange(None, {"amount": "300000", "currency": "JPY"})},
        {"aiPromptTemplate": FieldChange(None, "テンプレート")},
        {"attributes": FieldChange(None, kept.text)},
    ]
    portfolio.change_details(at=AT, ai_prompt_template="テンプレート")
    assert portfolio.pull_events() == []
    portfolio.change_details(at=AT, additional_budget=None)
    (event,) = portfolio.pull_events()
    assert event.changes == {
        "additionalBudget": FieldChange({"amount": "300000", "currency": "JPY"}, None)
    }
    assert portfolio.ai_prompt_template == "テンプレート"  # left as it was
    with pytest.raises(OutOfRange):
        portfolio.change_details(
            at=AT, ai_prompt_template="テ", additional_budget=Money(Decimal(-1), JPY)
        )
    assert portfolio.ai_prompt_template == "テンプレート"  # nothing changed
    assert portfolio.pull_events() == []


def test_the_audit_trail_rebuilds_the_new_fields() -> None:
    repository = InMemoryPortfolioRepository(InMemoryAuditLog())
    clock = FixedClock(AT)
    ports = PortfolioPorts(repository, InMemoryEventPublisher(), clock, SequentialIds("p"))
    for document, version in [(app_document(), None), (_changed(), 1), (_emptied(), 2)]:
        save_web_app_portfolio(
            ports,
            WebAppDocuments(),
            user_id="u1",
            document=document,
            version=version,
            context=CONTEXT,
        )
        clock.advance(timedelta(minutes=1))
        stored = repository.get("u1", "default")
        assert replay(repository.audit.entries, "default") == state_of(stored.to_json())


def _changed() -> dict[str, Any]:
    document = app_document()
    document["currentAssets"][0]["holdings"] = 300
    document["additionalBudget"] = None
    document["targetPortfolio"][0]["targetPercentage"] = 0
    return document


def _emptied() -> dict[str, Any]:
    """One holding with no attributes left, no targets, no template."""
    document = app_document()
    document["currentAssets"] = [{"ticker": "7203", "holdings": 1}]
    document["targetPortfolio"] = []
    document["aiPromptTemplate"] = None
    return document


def _saved(repository: InMemoryPortfolioRepository, document: dict[str, Any]) -> Portfolio:
    ports = PortfolioPorts(repository, InMemoryEventPublisher(), FixedClock(AT), SequentialIds("p"))
    return save_web_app_portfolio(
        ports, WebAppDocuments(), user_id="u1", document=document, version=None, context=CONTEXT
    )


def test_the_native_export_and_import_keep_the_new_fields() -> None:
    repository = InMemoryPortfolioRepository(InMemoryAuditLog())
    original = _saved(repository, app_document())
    exported = export_portfolio(
        repository, PortfolioFiles(), user_id="u1", portfolio_id="default", format="json"
    )
    target = InMemoryPortfolioRepository(InMemoryAuditLog())
    ports = PortfolioPorts(target, InMemoryEventPublisher(), FixedClock(AT), SequentialIds("p"))
    imported = import_portfolio(
        ports, PortfolioFiles(), user_id="u2", text=exported.text, format="json", context=CONTEXT
    )
    assert imported.additional_budget == original.additional_budget
    assert imported.ai_prompt_template == original.ai_prompt_template
    assert imported.attributes == original.attributes
    assert [h.attributes for h in imported.holdings] == [h.attributes for h in original.holdings]
    loaded = load_web_app_portfolio(target, WebAppDocuments(), user_id="u2")
    assert loaded is not None
    assert loaded.document == app_document()


def test_backups_keep_the_new_fields() -> None:
    repository = InMemoryPortfolioRepository(InMemoryAuditLog())
    original = _saved(repository, app_document())
    blobs = InMemoryBlobStore()
    backup.run_backup(repository, blobs, date(2026, 11, 28))
    restored_into = InMemoryPortfolioRepository(InMemoryAuditLog())
    plan = backup.plan_restore(restored_into, blobs, "2026-11-28")
    backup.restore(restored_into, plan, FixedClock(AT))
    restored = restored_into.get("u1", "default")
    assert restored.to_json() == original.to_json()
    loaded = load_web_app_portfolio(restored_into, WebAppDocuments(), user_id="u1")
    assert loaded is not None
    assert loaded.document == app_document()


def test_the_native_put_keeps_a_holdings_attributes() -> None:
    repository = InMemoryPortfolioRepository(InMemoryAuditLog())
    original = _saved(repository, app_document())
    ports = PortfolioPorts(repository, InMemoryEventPublisher(), FixedClock(AT), SequentialIds("p"))
    desired = Portfolio(
        user_id="u1",
        portfolio_id="default",
        name="renamed",
        base_currency=JPY,
        created_at=AT,
        holdings=[Holding.of("7203", "300"), *original.holdings[1:]],
    )
    replace_portfolio(ports, user_id="u1", portfolio_id="default", desired=desired, context=CONTEXT)
    stored = repository.get("u1", "default")
    assert stored.holdings[0].quantity == Decimal(300)
    assert stored.holdings[0].attributes == original.holdings[0].attributes
    assert stored.additional_budget == original.additional_budget


# -- the mapping --------------------------------------------------------------------------


def test_same_json_compares_as_written() -> None:
    assert same_json(Decimal("120"), 120)
    assert not same_json(Decimal("120.0"), 120)
    assert not same_json(True, 1)
    assert not same_json("1", 1)
    assert same_json({"a": [1, None]}, {"a": [Decimal(1), None]})
    assert not same_json({"a": 1}, {"a": 1, "b": 2})


def test_typed_fields_and_what_is_kept() -> None:
    state = WebAppDocuments().read(app_document(), None)
    toyota, voo, fund = state.holdings
    assert toyota.symbol == "7203"
    assert toyota.attributes.as_dict()["ticker"] == "7203.T"  # not the canonical spelling
    assert "holdings" not in toyota.attributes.as_dict()
    assert "ticker" not in voo.attributes.as_dict()
    assert fund.quantity == Decimal(12_345_000)
    assert fund.cost_basis == Money(Decimal("34566617.25"), JPY)
    assert voo.cost_basis == Money(Decimal("5015.625"), USD)
    assert state.targets == {"7203": Decimal("62.5"), "VOO": Decimal("37.5")}
    assert state.additional_budget == Money(Decimal(300000), JPY)
    kept = state.attributes.as_dict()
    assert set(kept) == {"targetPortfolio", "exchangeRate"}


def test_server_fields_are_never_kept() -> None:
    document = {**app_document(), "version": 3, "updatedAt": "2026-01-01T00:00:00Z"}
    kept = WebAppDocuments().read(document, None).attributes.as_dict()
    assert "version" not in kept
    assert "updatedAt" not in kept


def test_a_portfolio_the_app_has_never_seen_is_written_in_its_shape() -> None:
    portfolio = Portfolio(
        user_id="u1",
        portfolio_id="p1",
        name="NISA",
        base_currency=JPY,
        created_at=AT,
        holdings=[Holding.of("0331418A", "1200000", name="eMAXIS"), Holding.of("AAPL", "3")],
        targets={"0331418A": "70", "AAPL": "30"},
    )
    document = WebAppDocuments().write(portfolio)
    assert document == {
        "currentAssets": [
            {
                "id": "0331418A",
                "ticker": "0331418A",
                "holdings": Decimal(120),
                "currency": "JPY",
                "name": "eMAXIS",
            },
            {"id": "AAPL", "ticker": "AAPL", "holdings": Decimal(3), "currency": "USD"},
        ],
        "targetPortfolio": [
            {"id": "0331418A", "ticker": "0331418A", "name": "eMAXIS", "targetPercentage": 70},
            {"id": "AAPL", "ticker": "AAPL", "name": "AAPL", "targetPercentage": 30},
        ],
        "baseCurrency": "JPY",
        "exchangeRate": None,
        "additionalBudget": None,
        "aiPromptTemplate": None,
    }


# -- concurrent writes ---------------------------------------------------------------------


class _Interleaved(InMemoryPortfolioRepository):
    """Another write lands between this request's read and its write, `times` times."""

    def __init__(self, times: int) -> None:
        super().__init__(InMemoryAuditLog())
        self.times = times

    def save(self, portfolio: Portfolio, audit: Any) -> None:
        if self.times:
            self.times -= 1
            other = self.get(portfolio.user_id, portfolio.portfolio_id)
            other.change_details(at=AT + timedelta(seconds=1), ai_prompt_template="other")
            super().save(other, [])
        super().save(portfolio, audit)


def _save(repository: InMemoryPortfolioRepository, version: int | None) -> Portfolio:
    ports = PortfolioPorts(repository, InMemoryEventPublisher(), FixedClock(AT), SequentialIds("p"))
    return save_web_app_portfolio(
        ports,
        WebAppDocuments(),
        user_id="u1",
        document=_changed(),
        version=version,
        context=CONTEXT,
    )


def test_a_forced_save_tries_again_when_another_write_slips_in() -> None:
    repository = _Interleaved(times=2)
    _saved(repository, app_document())
    saved = _save(repository, None)
    assert saved.version == 4  # two other writes, then this one
    assert repository.get("u1", "default").ai_prompt_template == app_document()["aiPromptTemplate"]


def test_a_forced_save_gives_up_after_its_attempts() -> None:
    repository = _Interleaved(times=3)
    _saved(repository, app_document())
    with pytest.raises(ConflictError):
        _save(repository, None)


def test_a_versioned_save_never_overwrites_a_write_that_slipped_in() -> None:
    repository = _Interleaved(times=1)
    _saved(repository, app_document())
    with pytest.raises(ConflictError) as caught:
        _save(repository, 1)
    assert caught.value.current_version == 2


class _Unseen(InMemoryPortfolioRepository):
    """Lists nothing the first time: another device's first save lands meanwhile."""

    def __init__(self) -> None:
        super().__init__(InMemoryAuditLog())
        self.first = True

    def list_for_user(self, user_id: str) -> list[Portfolio]:
        if self.first:
            self.first = False
            _saved_directly(self)
            return []  # what this request read, before the other save landed
        return super().list_for_user(user_id)


def _saved_directly(repository: InMemoryPortfolioRepository) -> None:
    portfolio = Portfolio.create(
        user_id="u1", portfolio_id="default", name="My portfolio", base_currency=JPY, at=AT
    )
    InMemoryPortfolioRepository.add(repository, portfolio, [])


def test_two_first_saves_make_one_portfolio_and_the_second_is_a_conflict() -> None:
    repository = _Unseen()
    with pytest.raises(ConflictError) as caught:
        _save(repository, 0)
    assert caught.value.current_version == 1
    assert [p.portfolio_id for p in repository.list_for_user("u1")] == ["default"]
    forced = _Unseen()
    assert _save(forced, None).version == 2  # "keep mine": it overwrites the other


class _TooLargeBus:
    def publish(self, events: Any) -> None:
        from portfoliowise.domain.errors import PayloadTooLarge

        raise PayloadTooLarge("an event over the bus's limit")


def test_a_committed_save_is_not_failed_by_an_event_the_bus_refuses() -> None:
    repository = InMemoryPortfolioRepository(InMemoryAuditLog())
    ports = PortfolioPorts(repository, _TooLargeBus(), FixedClock(AT), SequentialIds("p"))
    saved = save_web_app_portfolio(
        ports,
        WebAppDocuments(),
        user_id="u1",
        document=app_document(),
        version=None,
        context=CONTEXT,
    )
    assert saved.version == 1
    assert repository.get("u1", "default").version == 1
