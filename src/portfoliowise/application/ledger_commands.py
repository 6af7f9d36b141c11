"""Ledger use cases: a portfolio's activities listed, added, deleted and imported from a
file, and its ledger settings (where its holdings come from, its cost basis method).

Every change is one commit of the portfolio (`ActivityLedger.commit`): version-checked,
atomic with its audit entries and with the activities it adds and removes, then its events
are published (as `portfolio_commands` does). Before anything is stored, the portfolio's
whole ledger after the change is replayed (`domain.ledger.replay`), so a change that would
sell more than is held, or trade a symbol in two currencies, is refused naming the
activity, whatever the portfolio's holdings source:

- a ledger-based portfolio (`holdingsSource: activities`) takes the replayed holdings
  (`Ledger.holdings()`) in the same commit, holding by holding through the aggregate (each
  change audited as any holding change is): valuation, allocation and simulation work on
  them unchanged. The fields the ledger does not know (asset class, name, sector, region,
  the client's attributes) are kept from the holding it replaces. The cost basis is in the
  base currency at the trades' rates when every activity in another currency carries its
  `fx_rate`, else in each position's own currency (no market rate is read on a write);
- a holdings-only portfolio (`holdings`, the default) keeps its holdings as entered; its
  activities serve its performance.

Imports (`import_activities`) read any format of `read_ledger`, passed in as the
`LedgerReader` port (the use cases never import an adapter). `all_or_nothing` refuses the
whole file when a row is refused (`ImportRejected`, every refused row with its line);
`partial` imports the good rows and answers the refused ones. An import is one change,
however many rows, with one `ActivitiesChanged` that says how many, the batch id and the
file's sha256. The batch id is a digest of the portfolio id, the file's bytes and the
options that change what is read from them (`format`, `opening_date`): running the same
import again never doubles it. Activities whose id the portfolio already has are not
imported again (the CSV formats make a row's id from its content, so an export that
overlaps an earlier one adds only its new rows); the same id with other values refuses the
import."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Literal, Protocol

from portfoliowise.application.portfolio_commands import (
    PortfolioPorts,
    _publish,
    _watch_activity,
)
from portfoliowise.domain.activities import (
    MAX_ACTIVITIES,
    Activity,
    ActivityChange,
    ActivityType,
    CostMethod,
    HoldingsSource,
)
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import (
    ConflictError,
    InvariantViolation,
    NotFoundError,
    ValidationError,
)
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.ledger import FxHistory, Ledger, MissingActivityRateError, replay
from portfoliowise.domain.limits import check_count
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.ports import ActivityLedger

ImportMode = Literal["all_or_nothing", "partial"]
ALL_OR_NOTHING: Final = "all_or_nothing"
PARTIAL: Final = "partial"
IMPORT_MODES: Final = (ALL_OR_NOTHING, PARTIAL)

MAX_ACTIVITIES_PER_REQUEST: Final = 1_000
"""Activities one `POST /portfolios/{id}/activities` adds (a file goes through the import)."""

DEFAULT_LIMIT: Final = 200
MAX_LIMIT: Final = 1_000
"""Activities a page of the list (`limit`)."""

MAX_REJECTED_LISTED: Final = 1_000
"""Refused rows an import answers one by one (with their line); `rejectedCount` says all."""


# -- ports -------------------------------------------------------------------------------


class RejectedLine(Protocol):
    """A row of a file that was not imported: its 1-based line, why, the error's code."""

    @property
    def line(self) -> int: ...

    @property
    def reason(self) -> str: ...

    @property
    def code(self) -> str: ...


class LedgerFile(Protocol):
    """What a `LedgerReader` read: the activities, the refused rows, the data rows."""

    @property
    def format(self) -> str: ...

    @property
    def encoding(self) -> str: ...

    @property
    def activities(self) -> Sequence[Activity]: ...

    @property
    def rejected(self) -> Sequence[RejectedLine]: ...

    @property
    def rows(self) -> int: ...


class LedgerReader(Protocol):
    """`adapters.ledger_files.read_ledger`: an activities file of any supported format."""

    def __call__(
        self,
        data: bytes,
        *,
        filename: str | None,
        mode: ImportMode,
        opening_date: date | None = None,
        format: str | None = None,
    ) -> LedgerFile: ...


@dataclass(frozen=True, slots=True)
class LedgerPorts:
    """The portfolio ports (events, clock, ids, signals), the store of the activities (in
    every adapter the portfolio repository itself) and the file reader (imports only)."""

    portfolio: PortfolioPorts
    ledger: ActivityLedger
    reader: LedgerReader | None = None


# -- inputs and results --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityDraft:
    """An activity as a client sends it: without an id the `Ids` port gives one; without a
    currency it is the symbol's (required when there is no symbol)."""

    type: str
    day: date
    currency: str | None = None
    symbol: str | None = None
    quantity: Decimal = Decimal(0)
    unit_price: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    taxes: Decimal = Decimal(0)
    fx_rate: Decimal | None = None
    note: str | None = None
    activity_id: str | None = None

    def build(self, activity_id: str) -> Activity:
        if self.currency is not None and self.currency.strip():
            currency = Currency.of(self.currency)
        elif self.symbol is not None and self.symbol.strip():
            currency = parse_symbol(self.symbol).currency
        else:
            raise ValidationError("an activity without a symbol needs its currency")
        return Activity(
            activity_id=activity_id,
            type=ActivityType.parse(self.type),
            day=self.day,
            currency=currency,
            symbol=self.symbol or None,
            quantity=self.quantity,
            unit_price=self.unit_price,
            amount=self.amount,
            fees=self.fees,
            taxes=self.taxes,
            fx_rate=self.fx_rate,
            note=self.note or None,
        )


class ImportRejected(ValidationError):
    """An `all_or_nothing` import with refused rows: nothing was imported."""

    code = "rows_rejected"

    def __init__(self, rejected: Sequence[RejectedLine], rows: int) -> None:
        first = "; ".join(f"line {r.line}: {r.reason}" for r in rejected[:5])
        more = f"; and {len(rejected) - 5:,} more" if len(rejected) > 5 else ""
        super().__init__(
            f"{len(rejected):,} of {rows:,} rows refused, nothing imported: {first}{more}"
        )
        self.rejected = tuple(rejected)
        self.rows = rows


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """A committed change: the portfolio as stored now and the activities it changed."""

    portfolio: Portfolio
    added: tuple[Activity, ...] = ()
    removed: tuple[Activity, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportResult:
    portfolio: Portfolio
    batch_id: str
    sha256: str
    format: str
    encoding: str
    rows: int  # data rows (CSV) or items (JSON) read
    imported: int  # activities added by this import
    duplicates: int  # activities of the file the portfolio already had
    rejected: tuple[RejectedLine, ...]  # partial mode: rows not imported
    already_imported: bool  # this batch was applied before: nothing was added


@dataclass(frozen=True, slots=True)
class ActivityPage:
    portfolio: Portfolio
    activities: tuple[Activity, ...]
    total: int
    cursor: str | None  # the next page, or None when this is the last


# -- reading -------------------------------------------------------------------------------


def _encode_cursor(activity: Activity) -> str:
    day, order, activity_id = activity.sort_key()
    raw = json.dumps([day.isoformat(), order, activity_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[date, int, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        day, order, activity_id = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(order, int) or not isinstance(activity_id, str):
            raise TypeError(order)
        return date.fromisoformat(day), order, activity_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ValidationError("cursor is not one this API gave") from None


def list_activities(
    ports: LedgerPorts,
    *,
    user_id: str,
    portfolio_id: str,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> ActivityPage:
    """One page of the portfolio's activities in `Activity.sort_key` order (date, then
    cash in, splits, buys, sells, income, charges, cash out, then id). The cursor holds
    the last activity's sort key, so a page continues after it even when activities were
    added or deleted meanwhile."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}")
    after = _decode_cursor(cursor) if cursor else None
    portfolio = ports.portfolio.repository.get(user_id, portfolio_id)
    activities = ports.ledger.activities(user_id, portfolio_id)
    start = 0
    if after is not None:
        start = bisect_right([a.sort_key() for a in activities], after)
    page = tuple(activities[start : start + limit])
    more = start + limit < len(activities)
    return ActivityPage(
        portfolio, page, len(activities), _encode_cursor(page[-1]) if more and page else None
    )


# -- writing -------------------------------------------------------------------------------


def _load(
    ports: LedgerPorts, user_id: str, portfolio_id: str, expected_version: int | None
) -> tuple[Portfolio, list[Activity]]:
    """The portfolio, then its activities (read after it: the commit, conditional on the
    version read here, fails if they changed since)."""
    portfolio = ports.portfolio.repository.get(user_id, portfolio_id)
    if expected_version is not None and expected_version != portfolio.version:
        raise ConflictError(
            f"portfolio {portfolio_id} is at version {portfolio.version}, not {expected_version}",
            portfolio.version,
        )
    return portfolio, ports.ledger.activities(user_id, portfolio_id)


def replayed(portfolio: Portfolio, activities: Sequence[Activity]) -> Ledger:
    """The portfolio's ledger (its base currency and cost basis method): base-currency
    figures when every activity's rate is known without the market (its `fx_rate`, or the
    base currency), else each position's own currency. Raises the replay's errors (an
    oversell, a symbol traded in two currencies) as `ValidationError`s."""
    base = portfolio.base_currency
    try:
        return replay(
            activities, base_currency=base, method=portfolio.cost_basis, rates=FxHistory(base)
        )
    except MissingActivityRateError:
        return replay(activities, base_currency=base, method=portfolio.cost_basis)


def _tidy(value: Decimal) -> Decimal:
    """The same number without trailing zeros (`315000.00` -> `315000`), never in
    exponent notation."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def follow_ledger(portfolio: Portfolio, ledger: Ledger, at: datetime) -> None:
    """Make the portfolio's holdings the ledger's open positions: quantity and cost basis
    from the ledger (without trailing zeros), the other fields kept from the holding
    replaced. Every holding added, changed or removed is recorded as such (and so
    audited)."""
    wanted = {}
    for holding in ledger.holdings():
        cost = holding.cost_basis
        wanted[holding.symbol] = replace(
            holding,
            quantity=_tidy(holding.quantity),
            cost_basis=None if cost is None else Money(_tidy(cost.amount), cost.currency),
        )
    for held in portfolio.holdings:
        if held.symbol not in wanted:
            portfolio.remove_holding(held.symbol, at=at)
    for symbol, holding in wanted.items():
        current = portfolio.holding(symbol)
        if current is None:
            portfolio.add_holding(holding, at=at)
        else:
            changed = replace(current, quantity=holding.quantity, cost_basis=holding.cost_basis)
            portfolio.change_holding(changed, at=at)


def _commit(
    ports: LedgerPorts,
    portfolio: Portfolio,
    current: Sequence[Activity],
    change: ActivityChange,
    context: RequestContext,
    *,
    removed: Sequence[Activity] = (),
    digest: str | None = None,
    file_format: str | None = None,
) -> None:
    """Replay the ledger as it will be, record the change (and, ledger-based, the
    holdings), store it all in one commit, then publish."""
    gone = set(change.removed)
    after = [a for a in current if a.activity_id not in gone] + list(change.added)
    check_count(len(after), "activities", MAX_ACTIVITIES)
    ledger = replayed(portfolio, after)
    at = ports.portfolio.clock.now()
    portfolio.record_activities(
        at=at,
        before=len(current),
        added=change.added,
        removed=removed,
        batch_id=change.batch_id,
        digest=digest,
        file_format=file_format,
    )
    if portfolio.holdings_source is HoldingsSource.ACTIVITIES:
        follow_ledger(portfolio, ledger, at)
    events = portfolio.pull_events()
    entries = audit_entries(events, context)
    ports.ledger.commit(portfolio, entries, change)
    _publish(ports.portfolio, portfolio, events)
    _watch_activity(ports.portfolio, portfolio.user_id, entries)


def _located(exc: ValidationError, where: str) -> ValidationError:
    """The same error (class, code, details), its message prefixed with `where`."""
    exc.args = (f"{where}: {exc}",)
    return exc


def add_activities(
    ports: LedgerPorts,
    *,
    user_id: str,
    portfolio_id: str,
    drafts: Sequence[ActivityDraft],
    context: RequestContext,
    expected_version: int | None = None,
) -> LedgerChange:
    """Add 1 to `MAX_ACTIVITIES_PER_REQUEST` activities, all or none (an invalid one is
    named by its index, `activities[3]`). An id given twice, or one the portfolio already
    has, refuses the request."""
    if not drafts:
        raise ValidationError("give at least one activity")
    check_count(len(drafts), "activities", MAX_ACTIVITIES_PER_REQUEST)
    added: list[Activity] = []
    seen: set[str] = set()
    for index, draft in enumerate(drafts):
        try:
            new_id = draft.activity_id or ports.portfolio.ids.new_id()
            activity = draft.build(new_id)
        except ValidationError as exc:
            raise _located(exc, f"activities[{index}]") from None
        if activity.activity_id in seen:
            raise ValidationError(f"activities[{index}]: id {activity.activity_id!r} given twice")
        seen.add(activity.activity_id)
        added.append(activity)
    portfolio, current = _load(ports, user_id, portfolio_id, expected_version)
    taken = {a.activity_id for a in current} & seen
    if taken:
        first = sorted(taken)[0]
        raise InvariantViolation(f"portfolio {portfolio_id} already has an activity {first!r}")
    change = ActivityChange(added=tuple(added))
    _commit(ports, portfolio, current, change, context)
    return LedgerChange(portfolio, added=change.added)


def delete_activity(
    ports: LedgerPorts,
    *,
    user_id: str,
    portfolio_id: str,
    activity_id: str,
    context: RequestContext,
    expected_version: int | None = None,
) -> LedgerChange:
    """Delete one activity (`NotFoundError` when the portfolio has none by that id)."""
    portfolio, current = _load(ports, user_id, portfolio_id, expected_version)
    found = next((a for a in current if a.activity_id == activity_id), None)
    if found is None:
        raise NotFoundError(f"portfolio {portfolio_id} has no activity {activity_id[:100]!r}")
    change = ActivityChange(removed=(activity_id,))
    _commit(ports, portfolio, current, change, context, removed=(found,))
    return LedgerChange(portfolio, removed=(found,))


def batch_id_of(
    portfolio_id: str, data: bytes, *, format: str | None, opening_date: date | None
) -> str:
    """The id of an import: sha256 of the portfolio id, the read options and the bytes."""
    digest = hashlib.sha256()
    for part in ("portfoliowise/activities-import@1", portfolio_id, format or "", opening_date):
        digest.update(str(part or "").encode("utf-8") + b"\x00")
    digest.update(data)
    return digest.hexdigest()


def import_activities(
    ports: LedgerPorts,
    *,
    user_id: str,
    portfolio_id: str,
    data: bytes,
    context: RequestContext,
    mode: str = ALL_OR_NOTHING,
    filename: str | None = None,
    opening_date: date | None = None,
    format: str | None = None,
    expected_version: int | None = None,
) -> ImportResult:
    """Import an activities file (see the module's doc). Nothing new to add (a rerun, a
    file whose activities are all there already): nothing is written."""
    if mode not in IMPORT_MODES:
        raise ValidationError(f"mode must be one of {', '.join(IMPORT_MODES)}")
    if ports.reader is None:
        raise RuntimeError("no activities file reader is wired in this runtime")
    ports.portfolio.repository.get(user_id, portfolio_id)  # 404 before the file is read
    read = ports.reader(
        data, filename=filename, mode=PARTIAL, opening_date=opening_date, format=format
    )
    if mode == ALL_OR_NOTHING and read.rejected:
        raise ImportRejected(read.rejected, read.rows)
    batch = batch_id_of(portfolio_id, data, format=format, opening_date=opening_date)
    sha256 = hashlib.sha256(data).hexdigest()
    portfolio, current = _load(ports, user_id, portfolio_id, expected_version)
    have = {a.activity_id: a for a in current}
    new: list[Activity] = []
    for activity in read.activities:
        known = have.get(activity.activity_id)
        if known is None:
            new.append(activity)
        elif known != activity:
            raise InvariantViolation(
                f"the file's activity {activity.activity_id!r} is already in portfolio "
                f"{portfolio_id} with other values: nothing imported"
            )

    def result(stored: Portfolio, imported: int, again: bool) -> ImportResult:
        return ImportResult(
            portfolio=stored,
            batch_id=batch,
            sha256=sha256,
            format=str(read.format),
            encoding=read.encoding,
            rows=read.rows,
            imported=imported,
            duplicates=len(read.activities) - len(new),
            rejected=tuple(read.rejected),
            already_imported=again,
        )

    if not new:
        return result(portfolio, 0, bool(read.activities))
    read_at = portfolio.version
    change = ActivityChange(added=tuple(new), batch_id=batch)
    try:
        _commit(ports, portfolio, current, change, context, digest=sha256, file_format=read.format)
    except ConflictError:
        stored = ports.portfolio.repository.get(user_id, portfolio_id)
        if stored.version != read_at:
            raise  # changed meanwhile: a stale write
        return result(stored, 0, True)  # the store has this batch already
    return result(portfolio, len(new), False)


def change_ledger_settings(
    ports: LedgerPorts,
    *,
    user_id: str,
    portfolio_id: str,
    context: RequestContext,
    holdings_source: str | None = None,
    cost_basis: str | None = None,
    expected_version: int | None = None,
) -> Portfolio:
    """Set where the portfolio's holdings come from and its cost basis method. Becoming
    ledger-based (or changing the method of a ledger-based portfolio) makes its holdings
    the ledger's in the same commit; becoming holdings-only leaves the holdings as they
    are, to be edited as entered. A portfolio with holdings and no activity cannot become
    ledger-based (its holdings would all go): record or import its activities first."""
    source = None if holdings_source is None else HoldingsSource.parse(holdings_source)
    method = None if cost_basis is None else CostMethod.parse(cost_basis)
    portfolio, current = _load(ports, user_id, portfolio_id, expected_version)
    was = portfolio.holdings_source
    if source is HoldingsSource.ACTIVITIES and was is not source and not current and len(portfolio):
        raise InvariantViolation(
            "a portfolio with holdings and no activities cannot take its holdings from its "
            "activities: record or import its activities first"
        )
    at = ports.portfolio.clock.now()
    portfolio.change_settings(at=at, holdings_source=source, cost_basis=method)
    if not portfolio.events:
        return portfolio
    if portfolio.holdings_source is HoldingsSource.ACTIVITIES:
        follow_ledger(portfolio, replayed(portfolio, current), at)
    events = portfolio.pull_events()
    entries = audit_entries(events, context)
    ports.ledger.commit(portfolio, entries, ActivityChange())
    _publish(ports.portfolio, portfolio, events)
    _watch_activity(ports.portfolio, user_id, entries)
    return portfolio
