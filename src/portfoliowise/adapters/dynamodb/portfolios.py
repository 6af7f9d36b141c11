"""The Portfolio table: one item per portfolio, keyed (`userId`, `portfolioId`), written in
one transaction with its audit entries and conditional on its `version`.

Item: `userId`, `portfolioId`, `name`, `currency` (the base currency), `allowFractional`,
`holdings` (list of maps as `Holding.to_json` gives them: decimals as strings, so they
round-trip exactly; a client's attributes as their JSON text), `allocations` (map of
target percentages, as strings), `createdAt`, `updatedAt` (ISO-8601) and `version` (N);
when set, `additionalBudget` (map: amount as a string, currency), `aiPromptTemplate` (S)
and `attributes` (S, the client's attributes as JSON text). The design's `totalValue` (N,
in the base currency) and `valuedAt` are the latest valuation's, kept by `record_valuation`
(valuations are computed on read, where the prices are); a change writes the whole item
without them.

A transaction holds at most 100 items, so a single change may carry at most 99 audit
entries; a larger one is refused (`PayloadTooLarge`) before anything is written rather than
split, which would break "never a change without its audit entries"."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from portfoliowise.adapters.dynamodb import activities as ledger
from portfoliowise.adapters.dynamodb import holdings as held
from portfoliowise.adapters.dynamodb.audit import audit_puts
from portfoliowise.adapters.dynamodb.batch import Backoff, batch_get, batch_write
from portfoliowise.adapters.dynamodb.codec import (
    Item,
    from_item,
    item_size,
    to_item,
    to_json_value,
    value,
)
from portfoliowise.adapters.dynamodb.errors import (
    CONDITION_FAILED,
    cancellation_reasons,
    error_code,
    guarded_write_error,
    reraise,
    stored_version,
    translated,
)
from portfoliowise.adapters.dynamodb.schema import PORTFOLIO_PK, PORTFOLIO_SK
from portfoliowise.adapters.dynamodb.tables import TableNames
from portfoliowise.domain.activities import Activity, ActivityChange
from portfoliowise.domain.audit import AuditEntry
from portfoliowise.domain.errors import (
    ConflictError,
    CurrencyMismatchError,
    NotFoundError,
    PayloadTooLarge,
)
from portfoliowise.domain.money import Money
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.ports import Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        QueryInputTypeDef,
        ScanInputTypeDef,
        TransactWriteItemTypeDef,
    )

Staged = tuple[str, str] | None
"""A holdings generation written before its commit: (partition, generation)."""

MAX_TRANSACTION_ITEMS = 100
MAX_AUDIT_ENTRIES_PER_CHANGE = MAX_TRANSACTION_ITEMS - 1
"""Audit entries written one item each; more are grouped (`audit_puts`)."""
MAX_ACTIVITY_ITEMS = 90
"""Activity chunks (and an import's marker) one transaction carries beside the portfolio's
item and its audit entries (or their groups); more are staged."""

_VERSION_IS = "#version = :version"
_VERSION_NAME = {"#version": "version"}
_ABSENT = f"attribute_not_exists({PORTFOLIO_PK})"


def portfolio_key(user_id: str, portfolio_id: str) -> Item:
    return {PORTFOLIO_PK: value(user_id), PORTFOLIO_SK: value(portfolio_id)}


def portfolio_item(portfolio: Portfolio, version: int, generation: str | None = None) -> Item:
    """The portfolio's item; with `generation`, its holdings are in that generation's
    chunks (`adapters.dynamodb.holdings`) instead of inline."""
    snapshot = portfolio.to_json()
    return to_item(
        {
            PORTFOLIO_PK: portfolio.user_id,
            PORTFOLIO_SK: portfolio.portfolio_id,
            "name": portfolio.name,
            "currency": portfolio.base_currency.code,
            "allowFractional": portfolio.allow_fractional,
            "holdings": None if generation is not None else snapshot["holdings"],
            held.GENERATION: generation,
            "allocations": snapshot["targets"],
            "createdAt": snapshot["createdAt"],
            "updatedAt": snapshot["updatedAt"],
            "version": version,
            "additionalBudget": snapshot.get("additionalBudget"),
            "aiPromptTemplate": snapshot.get("aiPromptTemplate"),
            "attributes": snapshot.get("attributes"),
        }
    )


def portfolio_from_item(item: Mapping[str, Any], holdings: list[Any] | None = None) -> Portfolio:
    """The portfolio of an item (`holdings`: read from its chunks when not inline)."""
    data = from_item(item)
    return Portfolio.from_json(
        {
            "userId": data[PORTFOLIO_PK],
            "portfolioId": data[PORTFOLIO_SK],
            "name": data["name"],
            "baseCurrency": data["currency"],
            "allowFractional": bool(data.get("allowFractional", False)),
            "holdings": holdings
            if holdings is not None
            else to_json_value(data.get("holdings") or []),
            "targets": to_json_value(data.get("allocations") or {}),
            "createdAt": data["createdAt"],
            "updatedAt": data["updatedAt"],
            "version": int(data["version"]),
            "additionalBudget": to_json_value(data.get("additionalBudget")),
            "aiPromptTemplate": data.get("aiPromptTemplate"),
            "attributes": data.get("attributes"),
        }
    )


class DynamoPortfolioRepository:
    """`PortfolioRepository` over the Portfolio and Audit tables. `page_size` caps the
    items of one Query or Scan page (DynamoDB's 1 MB page otherwise)."""

    def __init__(
        self,
        client: DynamoDBClient,
        names: TableNames,
        clock: Clock,
        page_size: int | None = None,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        # `clock` keeps the constructor uniform with the other stores: writes take their
        # times from the aggregate and its audit entries.
        self._client = client
        self._table = names.portfolio
        self._audit_table = names.audit
        self._clock = clock
        self._page_size = page_size
        self._backoff = backoff or Backoff()

    # -- reads --------------------------------------------------------------------
    def get(self, user_id: str, portfolio_id: str) -> Portfolio:
        return self._portfolio(self._get_item(user_id, portfolio_id))

    def get_with_valuation(self, user_id: str, portfolio_id: str) -> tuple[Portfolio, Money | None]:
        """One GetItem: `totalValue` is an attribute of the portfolio item."""
        item = self._get_item(user_id, portfolio_id)
        portfolio = self._portfolio(item)
        total = item.get("totalValue", {}).get("N")
        kept = None if total is None else Money(Decimal(total), portfolio.base_currency)
        return portfolio, kept

    def _get_item(self, user_id: str, portfolio_id: str) -> Mapping[str, Any]:
        with translated(f"reading portfolio {portfolio_id}"):
            response = self._client.get_item(
                TableName=self._table,
                Key=portfolio_key(user_id, portfolio_id),
                ConsistentRead=True,
            )
        item = response.get("Item")
        if item is None:
            raise NotFoundError(f"portfolio {portfolio_id} not found")
        return item

    def get_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Portfolio]:
        """Portfolios by (userId, portfolioId), those that exist: BatchGetItem, 100 keys
        a request."""
        wanted = list(dict.fromkeys(keys))
        items = batch_get(
            self._client,
            self._table,
            [portfolio_key(user_id, portfolio_id) for user_id, portfolio_id in wanted],
            self._backoff,
            consistent=True,
        )
        found = (self._portfolio(item) for item in items)
        return {(p.user_id, p.portfolio_id): p for p in found}

    def list_for_user(self, user_id: str) -> list[Portfolio]:
        """One Query request per page on the user's partition (ordered by portfolioId)."""
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": f"{PORTFOLIO_PK} = :user",
            "ExpressionAttributeValues": {":user": value(user_id)},
            "ConsistentRead": True,
        }
        if self._page_size is not None:
            request["Limit"] = self._page_size
        portfolios: list[Portfolio] = []
        while True:
            with translated(f"listing the portfolios of {user_id}"):
                page = self._client.query(**request)
            portfolios.extend(self._portfolio(item) for item in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last:
                return portfolios
            request["ExclusiveStartKey"] = last

    def all_portfolios(self) -> Iterator[Portfolio]:
        """A paginated Scan of the whole table, for the backup job only (activities'
        items are skipped)."""
        request: ScanInputTypeDef = {"TableName": self._table, "ConsistentRead": True}
        if self._page_size is not None:
            request["Limit"] = self._page_size
        while True:
            with translated("scanning the portfolios"):
                page = self._client.scan(**request)
            for item in page.get("Items", []):
                if ledger.KIND not in item:  # not a chunk of activities or holdings
                    yield self._portfolio(item)
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    # -- writes -------------------------------------------------------------------
    def record_valuation(
        self, user_id: str, portfolio_id: str, total: Money, at: datetime
    ) -> Money | None:
        """One UpdateItem, `SET totalValue = :total, valuedAt = :at`, conditional on the
        item existing in that base currency, `ReturnValues=UPDATED_OLD` (the previous
        `totalValue`, absent the first time). It leaves `version` and `updatedAt` alone, so
        a change conditional on the version it read still succeeds after it; a change puts
        the whole item without `totalValue`. DynamoDB bills an update by the size of the
        whole item (before or after, the larger): as many write units as saving the
        portfolio."""
        what = f"portfolio {portfolio_id}"
        with translated(f"recording the valuation of {what}"):
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key=portfolio_key(user_id, portfolio_id),
                    UpdateExpression="SET #total = :total, #valuedAt = :at",
                    ConditionExpression=f"attribute_exists({PORTFOLIO_PK}) AND #currency = :cur",
                    ExpressionAttributeNames={
                        "#total": "totalValue",
                        "#valuedAt": "valuedAt",
                        "#currency": "currency",
                    },
                    ExpressionAttributeValues={
                        ":total": value(total.amount),
                        ":at": value(at.astimezone(UTC).isoformat(timespec="microseconds")),
                        ":cur": value(total.currency.code),
                    },
                    ReturnValues="UPDATED_OLD",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                old = exc.response.get("Item")
                if not old:
                    raise NotFoundError(f"{what} not found") from exc
                raise CurrencyMismatchError(
                    f"{what} is not valued in {total.currency.code}"
                ) from exc
        previous = response.get("Attributes", {}).get("totalValue")
        if previous is None or "N" not in previous:
            return None
        return Money(Decimal(previous["N"]), total.currency)

    def add(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        new_version = portfolio.version + 1
        item, staged = self._item(portfolio, new_version)
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table,
                "Item": item,
                "ConditionExpression": _ABSENT,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        self._transact(portfolio, put, audit, expected_version=None)
        self._keep(staged)
        portfolio.version = new_version

    def save(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        self.commit(portfolio, audit, ActivityChange())

    def activities(self, user_id: str, portfolio_id: str) -> list[Activity]:
        """The head item (NotFoundError), then one Query of the activities' partition."""
        head = self.get(user_id, portfolio_id)
        table_partition = ledger.partition(user_id, portfolio_id, head.created_at)
        chunks, batches = ledger.read_partition(self._client, self._table, table_partition)
        found = [a for chunk in ledger.visible(chunks, batches) for a in chunk.activities]
        return sorted(found, key=Activity.sort_key)

    def commit(
        self, portfolio: Portfolio, audit: Sequence[AuditEntry], change: ActivityChange
    ) -> None:
        """The portfolio's change with its activities, all or nothing (see
        `adapters.dynamodb.activities` for the small and the staged path)."""
        table_partition = ledger.partition(
            portfolio.user_id, portfolio.portfolio_id, portfolio.created_at
        )
        rewrites: list[TransactWriteItemTypeDef] = []
        if change.removed and not portfolio.deleted:
            chunks, batches = ledger.read_partition(self._client, self._table, table_partition)
            removed = set(change.removed)
            for chunk in ledger.visible(chunks, batches):
                if removed & {a.activity_id for a in chunk.activities}:
                    remaining = tuple(a for a in chunk.activities if a.activity_id not in removed)
                    rewrites.append(
                        ledger.rewrite_chunk(self._table, table_partition, chunk, remaining)
                    )
        prefix = change.batch_id or ledger.new_chunk_prefix()
        new_chunks = ledger.chunk_activities(change.added, prefix)
        marker = (
            [ledger.batch_marker(self._table, table_partition, change.batch_id)]
            if change.batch_id is not None
            else []
        )
        puts = [ledger.put_chunk(self._table, table_partition, c) for c in new_chunks]
        fits = ledger.check_transaction([*rewrites, *puts, *marker]) and (
            len(rewrites) + len(puts) + len(marker) <= MAX_ACTIVITY_ITEMS
        )
        if fits or not new_chunks:  # (a change without new activities is never staged)
            self._write_change(portfolio, audit, [*marker, *rewrites, *puts], bool(marker))
        else:  # staged: the chunks first (counted by no reader), then one commit
            batch = change.batch_id or prefix
            staged = [replace(c, batch=batch) for c in new_chunks]
            batch_write(
                self._client,
                self._table,
                ledger.staged_writes(table_partition, staged),
                self._backoff,
            )
            marker = [ledger.batch_marker(self._table, table_partition, batch)]
            if len(rewrites) + 1 > MAX_ACTIVITY_ITEMS:
                raise ledger.too_many(
                    f"a change may remove activities from at most {MAX_ACTIVITY_ITEMS - 1} chunks"
                )
            self._write_change(portfolio, audit, [*marker, *rewrites], True)
        if portfolio.deleted:
            self._forget_partition(table_partition)

    def _write_change(
        self,
        portfolio: Portfolio,
        audit: Sequence[AuditEntry],
        extra: Sequence[TransactWriteItemTypeDef],
        marker_first: bool,
    ) -> None:
        new_version = portfolio.version + 1
        read_at = value(portfolio.version)
        write: TransactWriteItemTypeDef
        staged: Staged = None
        if portfolio.deleted:
            write = {
                "Delete": {
                    "TableName": self._table,
                    "Key": portfolio_key(portfolio.user_id, portfolio.portfolio_id),
                    "ConditionExpression": _VERSION_IS,
                    "ExpressionAttributeNames": _VERSION_NAME,
                    "ExpressionAttributeValues": {":version": read_at},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        else:
            item, staged = self._item(portfolio, new_version)
            write = {
                "Put": {
                    "TableName": self._table,
                    "Item": item,
                    "ConditionExpression": _VERSION_IS,
                    "ExpressionAttributeNames": _VERSION_NAME,
                    "ExpressionAttributeValues": {":version": read_at},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        self._transact(
            portfolio,
            write,
            audit,
            expected_version=portfolio.version,
            extra=extra,
            marker_first=marker_first,
        )
        self._keep(staged)
        portfolio.version = new_version

    def _portfolio(self, item: Mapping[str, Any]) -> Portfolio:
        generation = item.get(held.GENERATION, {}).get("S")
        if generation is None:
            return portfolio_from_item(item)
        created = datetime.fromisoformat(item["createdAt"]["S"])  # names the partition
        table_partition = ledger.partition(
            item[PORTFOLIO_PK]["S"], item[PORTFOLIO_SK]["S"], created
        )
        holdings = held.read_generation(self._client, self._table, table_partition, generation)
        return portfolio_from_item(item, holdings)

    def _item(self, portfolio: Portfolio, version: int) -> tuple[Item, Staged]:
        """The portfolio's item, its holdings inline when it stays small, else staged in a
        new generation of chunks first (see `adapters.dynamodb.holdings`); and that
        generation, to keep once the item is committed."""
        item = portfolio_item(portfolio, version)
        if item_size(item) <= held.INLINE_BYTES:
            return item, None
        generation = held.new_generation()
        table_partition = ledger.partition(
            portfolio.user_id, portfolio.portfolio_id, portfolio.created_at
        )
        chunks = held.chunk_items(
            table_partition, generation, [h.to_json() for h in portfolio.holdings]
        )
        held.put_chunks(self._client, self._table, chunks, self._backoff)
        return portfolio_item(portfolio, version, generation), (table_partition, generation)

    def _keep(self, staged: Staged) -> None:
        """After a commit: drop the holdings generations the item no longer names."""
        if staged is not None:
            table_partition, generation = staged
            held.drop_other_generations(
                self._client, self._table, table_partition, generation, self._backoff
            )

    def _forget_partition(self, table_partition: str) -> None:
        """After a portfolio is deleted, its activities' partition (best effort: a new
        portfolio with the same id has another partition, so nothing left here is read)."""
        chunks, batches = ledger.read_partition(self._client, self._table, table_partition)
        keys = [f"chunk#{c.chunk_id}" for c in chunks] + [f"batch#{b}" for b in batches]
        batch_write(
            self._client, self._table, ledger.delete_requests(table_partition, keys), self._backoff
        )

    def restore(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        """Overwrite with a backup snapshot. The stored version is read first and the
        write is conditional on it, so a change made meanwhile is a `ConflictError`
        (run the restore again) rather than silently lost."""
        stored = self._stored_version(portfolio.user_id, portfolio.portfolio_id)
        new_version = max(portfolio.version, (stored or 0) + 1)
        item, staged = self._item(portfolio, new_version)
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table,
                "Item": item,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        if stored is None:
            put["Put"]["ConditionExpression"] = _ABSENT
        else:
            put["Put"]["ConditionExpression"] = _VERSION_IS
            put["Put"]["ExpressionAttributeNames"] = _VERSION_NAME
            put["Put"]["ExpressionAttributeValues"] = {":version": value(stored)}
        try:
            self._transact(portfolio, put, audit, expected_version=stored)
        except NotFoundError as exc:
            raise ConflictError(
                f"portfolio {portfolio.portfolio_id} was deleted while being restored"
            ) from exc
        self._keep(staged)
        portfolio.version = new_version

    # -- internals ----------------------------------------------------------------
    def _stored_version(self, user_id: str, portfolio_id: str) -> int | None:
        with translated(f"reading portfolio {portfolio_id}"):
            response = self._client.get_item(
                TableName=self._table,
                Key=portfolio_key(user_id, portfolio_id),
                ConsistentRead=True,
                ProjectionExpression="#version",
                ExpressionAttributeNames=_VERSION_NAME,
            )
        return stored_version(response.get("Item"))

    def _transact(
        self,
        portfolio: Portfolio,
        write: TransactWriteItemTypeDef,
        audit: Sequence[AuditEntry],
        *,
        expected_version: int | None,
        extra: Sequence[TransactWriteItemTypeDef] = (),
        marker_first: bool = False,
    ) -> None:
        """The portfolio write (first), its audit entries and `extra` writes (an import's
        batch marker first when `marker_first`), all or nothing."""
        room = MAX_TRANSACTION_ITEMS - 1 - len(extra)
        entries = audit_puts(self._audit_table, audit, room)
        if audit and not entries:
            raise PayloadTooLarge(
                f"a change's {len(audit)} audit entries do not fit one DynamoDB transaction "
                "beside it: make it in parts"
            )
        items = [write, *entries, *extra]
        what = f"portfolio {portfolio.portfolio_id}"
        with translated(f"writing {what}"):
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                reasons = cancellation_reasons(exc)
                first_ok = not reasons or reasons[0][0] in ("None", "")
                marker = 1 + len(entries)
                applied = (
                    marker_first
                    and first_ok
                    and len(reasons) > marker
                    and reasons[marker][0] == CONDITION_FAILED
                )
                if applied:
                    reraise(exc, ConflictError(f"this import is already applied to {what}"))
                reraise(exc, guarded_write_error(exc, what, expected_version=expected_version))
