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
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from portfoliowise.adapters.dynamodb.audit import audit_put
from portfoliowise.adapters.dynamodb.batch import Backoff, batch_get
from portfoliowise.adapters.dynamodb.codec import (
    Item,
    from_item,
    to_item,
    to_json_value,
    value,
)
from portfoliowise.adapters.dynamodb.errors import (
    error_code,
    guarded_write_error,
    reraise,
    stored_version,
    translated,
)
from portfoliowise.adapters.dynamodb.schema import PORTFOLIO_PK, PORTFOLIO_SK
from portfoliowise.adapters.dynamodb.tables import TableNames
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

MAX_TRANSACTION_ITEMS = 100
MAX_AUDIT_ENTRIES_PER_CHANGE = MAX_TRANSACTION_ITEMS - 1

_VERSION_IS = "#version = :version"
_VERSION_NAME = {"#version": "version"}
_ABSENT = f"attribute_not_exists({PORTFOLIO_PK})"


def portfolio_key(user_id: str, portfolio_id: str) -> Item:
    return {PORTFOLIO_PK: value(user_id), PORTFOLIO_SK: value(portfolio_id)}


def portfolio_item(portfolio: Portfolio, version: int) -> Item:
    snapshot = portfolio.to_json()
    return to_item(
        {
            PORTFOLIO_PK: portfolio.user_id,
            PORTFOLIO_SK: portfolio.portfolio_id,
            "name": portfolio.name,
            "currency": portfolio.base_currency.code,
            "allowFractional": portfolio.allow_fractional,
            "holdings": snapshot["holdings"],
            "allocations": snapshot["targets"],
            "createdAt": snapshot["createdAt"],
            "updatedAt": snapshot["updatedAt"],
            "version": version,
            "additionalBudget": snapshot.get("additionalBudget"),
            "aiPromptTemplate": snapshot.get("aiPromptTemplate"),
            "attributes": snapshot.get("attributes"),
        }
    )


def portfolio_from_item(item: Mapping[str, Any]) -> Portfolio:
    data = from_item(item)
    return Portfolio.from_json(
        {
            "userId": data[PORTFOLIO_PK],
            "portfolioId": data[PORTFOLIO_SK],
            "name": data["name"],
            "baseCurrency": data["currency"],
            "allowFractional": bool(data.get("allowFractional", False)),
            "holdings": to_json_value(data.get("holdings") or []),
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
        with translated(f"reading portfolio {portfolio_id}"):
            response = self._client.get_item(
                TableName=self._table,
                Key=portfolio_key(user_id, portfolio_id),
                ConsistentRead=True,
            )
        item = response.get("Item")
        if item is None:
            raise NotFoundError(f"portfolio {portfolio_id} not found")
        return portfolio_from_item(item)

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
        found = (portfolio_from_item(item) for item in items)
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
            portfolios.extend(portfolio_from_item(item) for item in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last:
                return portfolios
            request["ExclusiveStartKey"] = last

    def all_portfolios(self) -> Iterator[Portfolio]:
        """A paginated Scan of the whole table, for the backup job only."""
        request: ScanInputTypeDef = {"TableName": self._table, "ConsistentRead": True}
        if self._page_size is not None:
            request["Limit"] = self._page_size
        while True:
            with translated("scanning the portfolios"):
                page = self._client.scan(**request)
            for item in page.get("Items", []):
                yield portfolio_from_item(item)
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
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table,
                "Item": portfolio_item(portfolio, new_version),
                "ConditionExpression": _ABSENT,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        self._transact(portfolio, put, audit, expected_version=None)
        portfolio.version = new_version

    def save(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        new_version = portfolio.version + 1
        read_at = value(portfolio.version)
        write: TransactWriteItemTypeDef
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
            write = {
                "Put": {
                    "TableName": self._table,
                    "Item": portfolio_item(portfolio, new_version),
                    "ConditionExpression": _VERSION_IS,
                    "ExpressionAttributeNames": _VERSION_NAME,
                    "ExpressionAttributeValues": {":version": read_at},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        self._transact(portfolio, write, audit, expected_version=portfolio.version)
        portfolio.version = new_version

    def restore(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        """Overwrite with a backup snapshot. The stored version is read first and the
        write is conditional on it, so a change made meanwhile is a `ConflictError`
        (run the restore again) rather than silently lost."""
        stored = self._stored_version(portfolio.user_id, portfolio.portfolio_id)
        new_version = max(portfolio.version, (stored or 0) + 1)
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._table,
                "Item": portfolio_item(portfolio, new_version),
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
    ) -> None:
        """The portfolio write (first) and its audit entries, all or nothing."""
        if len(audit) > MAX_AUDIT_ENTRIES_PER_CHANGE:
            raise PayloadTooLarge(
                f"a change may record at most {MAX_AUDIT_ENTRIES_PER_CHANGE} audit entries "
                f"(one DynamoDB transaction); this one has {len(audit)}: make it in parts"
            )
        items = [write, *(audit_put(self._audit_table, entry) for entry in audit)]
        what = f"portfolio {portfolio.portfolio_id}"
        with translated(f"writing {what}"):
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                reraise(exc, guarded_write_error(exc, what, expected_version=expected_version))
