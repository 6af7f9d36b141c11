"""The four tables as designed (seed section 4): keys, index names and TTL attributes.

Attribute names (the design's names where it gives one; GSIs as (partition, sort)):

- Cache: `cacheKey` = `symbol#market` (`7203#JP`), sort key `timestamp` = `"latest"`;
  GSIs `market-timestamp-index` (market, timestamp), `ttl-index` (ttl); TTL `ttl`.
  Analysis jobs live here too: `cacheKey` = `{jobId}#ANALYSIS`, `timestamp` = `"job"`,
  with `ttl` (so the table's TTL expires them) and no `market` (so they stay out of
  `market-timestamp-index`); the analysis function's write grant is limited to these
  keys (`dynamodb:LeadingKeys`). See `analysis_jobs`.
- Session: `sessionId` = the hash of the cookie value; GSIs `userId-index` (userId),
  `expiresAt-index` (expiresAt); TTL `ttl`.
- Portfolio: `userId`, sort key `portfolioId`; GSIs `portfolioId-index` (portfolioId),
  `updatedAt-index` (userId, updatedAt); no TTL (PITR and the daily backup).
- Audit: `date` = UTC `YYYY-MM-DD`, sort key `timestampUserId` = `timestamp#userId`;
  GSIs `userId-date-index` (userId, date), `action-date-index` (action, date); TTL `ttl`.

An index named after one attribute is keyed on it alone. Cache holds ONE item per
instrument, its sort key the constant `"latest"`: the latest quote is then readable by a
known full key, which `BatchGetItem` requires (it cannot query a key prefix).

`create_tables` builds them for tests and local tooling; the deployed tables come from the
CDK stack, which must match `TABLES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError

from portfoliowise.adapters.dynamodb.tables import TableNames

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        CreateTableInputTypeDef,
        GlobalSecondaryIndexTypeDef,
        KeySchemaElementTypeDef,
        ProjectionTypeDef,
    )

TTL_ATTRIBUTE = "ttl"

# Portfolio
PORTFOLIO_PK = "userId"
PORTFOLIO_SK = "portfolioId"
# Audit
AUDIT_PK = "date"
AUDIT_SK = "timestampUserId"
# Session
SESSION_PK = "sessionId"
# Cache
CACHE_PK = "cacheKey"
CACHE_SK = "timestamp"
CACHE_LATEST = "latest"
"""The Cache sort key of the one item kept per instrument (its latest quote)."""
CACHE_JOB_SUFFIX = "#ANALYSIS"
"""The end of an analysis job's Cache partition key: `{jobId}#ANALYSIS`."""
CACHE_JOB = "job"
"""The Cache sort key of an analysis job's item."""

AttributeType = Literal["S", "N", "B"]
Projection = Literal["ALL", "KEYS_ONLY", "INCLUDE"]


@dataclass(frozen=True, slots=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str | None = None
    projection: Projection = "ALL"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table: `table_name` picks its configured name out of `TableNames`;
    `attribute_types` types every key attribute of the table and its indexes."""

    role: str
    table_name: Callable[[TableNames], str]
    partition_key: str
    sort_key: str | None
    attribute_types: dict[str, AttributeType]
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None

    def create_table_input(self, names: TableNames) -> CreateTableInputTypeDef:
        """The `CreateTable` request: on-demand billing, keys, GSIs."""
        used = {self.partition_key, *([self.sort_key] if self.sort_key else [])}
        for index in self.indexes:
            used.add(index.partition_key)
            if index.sort_key:
                used.add(index.sort_key)
        request: CreateTableInputTypeDef = {
            "TableName": self.table_name(names),
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": _key_schema(self.partition_key, self.sort_key),
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": self.attribute_types[name]}
                for name in sorted(used)
            ],
        }
        if self.indexes:
            request["GlobalSecondaryIndexes"] = [_index(index) for index in self.indexes]
        return request


def _key_schema(partition: str, sort: str | None) -> list[KeySchemaElementTypeDef]:
    schema: list[KeySchemaElementTypeDef] = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort is not None:
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    return schema


def _index(index: IndexSpec) -> GlobalSecondaryIndexTypeDef:
    projection: ProjectionTypeDef = {"ProjectionType": index.projection}
    if index.non_key_attributes:
        projection["NonKeyAttributes"] = list(index.non_key_attributes)
    return {
        "IndexName": index.name,
        "KeySchema": _key_schema(index.partition_key, index.sort_key),
        "Projection": projection,
    }


CACHE = TableSpec(
    role="cache",
    table_name=lambda names: names.cache,
    partition_key=CACHE_PK,
    sort_key=CACHE_SK,
    attribute_types={CACHE_PK: "S", CACHE_SK: "S", "market": "S", TTL_ATTRIBUTE: "N"},
    indexes=(
        IndexSpec("market-timestamp-index", "market", CACHE_SK, "INCLUDE", ("asOf", "expiresAt")),
        IndexSpec("ttl-index", TTL_ATTRIBUTE, None, "KEYS_ONLY"),
    ),
    ttl_attribute=TTL_ATTRIBUTE,
)

SESSION = TableSpec(
    role="session",
    table_name=lambda names: names.session,
    partition_key=SESSION_PK,
    sort_key=None,
    attribute_types={SESSION_PK: "S", "userId": "S", "expiresAt": "N"},
    indexes=(
        IndexSpec("userId-index", "userId", None, "INCLUDE", ("expiresAt",)),
        IndexSpec("expiresAt-index", "expiresAt", None, "KEYS_ONLY"),
    ),
    ttl_attribute=TTL_ATTRIBUTE,
)

PORTFOLIO = TableSpec(
    role="portfolio",
    table_name=lambda names: names.portfolio,
    partition_key=PORTFOLIO_PK,
    sort_key=PORTFOLIO_SK,
    attribute_types={PORTFOLIO_PK: "S", PORTFOLIO_SK: "S", "updatedAt": "S"},
    indexes=(
        IndexSpec("portfolioId-index", PORTFOLIO_SK, None, "KEYS_ONLY"),
        IndexSpec("updatedAt-index", PORTFOLIO_PK, "updatedAt", "INCLUDE", ("name", "version")),
    ),
    ttl_attribute=None,  # kept until deleted; protected by PITR and the daily backup
)

AUDIT = TableSpec(
    role="audit",
    table_name=lambda names: names.audit,
    partition_key=AUDIT_PK,
    sort_key=AUDIT_SK,
    attribute_types={AUDIT_PK: "S", AUDIT_SK: "S", "userId": "S", "action": "S"},
    indexes=(
        IndexSpec("userId-date-index", "userId", AUDIT_PK),
        IndexSpec("action-date-index", "action", AUDIT_PK),
    ),
    ttl_attribute=TTL_ATTRIBUTE,
)

TABLES: tuple[TableSpec, ...] = (CACHE, SESSION, PORTFOLIO, AUDIT)


def create_tables(
    client: DynamoDBClient,
    names: TableNames,
    *,
    tables: Sequence[TableSpec] = TABLES,
    poll_seconds: int = 1,
) -> None:
    """Create the tables that do not exist yet, wait until they are active and enable
    their TTL. For tests and local tooling (the deployed tables come from CDK)."""
    for spec in tables:
        try:
            client.create_table(**spec.create_table_input(names))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
    waiter = client.get_waiter("table_exists")
    for spec in tables:
        name = spec.table_name(names)
        waiter.wait(TableName=name, WaiterConfig={"Delay": poll_seconds, "MaxAttempts": 60})
        if spec.ttl_attribute is None:
            continue
        current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            continue
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )
