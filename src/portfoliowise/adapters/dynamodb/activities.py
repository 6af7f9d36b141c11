"""Activities in the Portfolio table, beside the portfolio item and never inside it.

Layout: a portfolio's activities live in a partition of their own,
`userId = <userId>#<portfolioId>#<createdAt in epoch microseconds>` (so listing a user's
portfolios never reads them, and a portfolio deleted and created again with the same id
starts from an empty partition), as *chunks*:
- `portfolioId = chunk#<chunkId>`: `activities` (S, a JSON list of `Activity.to_json`,
  at most `CHUNK_BYTES`), `kind = "activities"`, and `batch` (S) when written by a staged
  import;
- `portfolioId = batch#<batchId>`: `kind = "batch"`, the marker of an applied import.

A change is all or nothing however many activities it carries:
- small (its chunks, the portfolio item, the batch marker and the audit entries fit one
  TransactWriteItems: 100 items, 4 MB): one transaction, conditional on the version;
- large (an import of thousands): the chunks are first written with `batch = <batchId>`
  (BatchWriteItem, 25 a request), where no reader counts them, then one transaction
  commits: the portfolio item (version-checked), the batch marker (conditional on its
  absence: an import is applied once) and the audit entries. A chunk counts only when it has
  no `batch` or its batch's marker exists, so a crash before the commit leaves nothing
  visible, and a rerun of the same import rewrites the same chunks and commits.
Reading is one Query of the partition (1 MB pages): 100,000 activities take about 30.
Removing an activity rewrites its chunk in the change's transaction (conditional on the
chunk's `etag`)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from portfoliowise.adapters.dynamodb.batch import packed
from portfoliowise.adapters.dynamodb.codec import Item, item_size, value
from portfoliowise.adapters.dynamodb.errors import translated
from portfoliowise.adapters.dynamodb.schema import PORTFOLIO_PK, PORTFOLIO_SK
from portfoliowise.domain.activities import Activity, activity_from_json
from portfoliowise.domain.errors import PayloadTooLarge

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
        WriteRequestTypeDef,
    )

CHUNK_BYTES = 180_000
"""A chunk's JSON, in bytes: well under DynamoDB's 400 KB item limit."""

TRANSACTION_BYTES = 3_500_000
"""What one transaction may carry before a change is staged (DynamoDB: 4 MB)."""

KIND = "kind"
ACTIVITIES_KIND = "activities"
BATCH_KIND = "batch"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def partition(user_id: str, portfolio_id: str, created_at: datetime) -> str:
    micros = (created_at - _EPOCH) // _MICROSECOND
    return f"{user_id}#{portfolio_id}#{micros}"


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH


@dataclass(frozen=True, slots=True)
class Chunk:
    chunk_id: str
    activities: tuple[Activity, ...]
    batch: str | None = None
    etag: str = ""


def chunk_activities(activities: Sequence[Activity], prefix: str) -> list[Chunk]:
    """`activities` in chunks of at most `CHUNK_BYTES` of JSON each."""
    groups = packed(
        activities,
        lambda a: len(json.dumps(a.to_json(), ensure_ascii=False).encode()) + 1,
        CHUNK_BYTES - 2,
    )
    return [Chunk(f"{prefix}-{n:05d}", tuple(group)) for n, group in enumerate(groups)]


def chunk_item(table_partition: str, chunk: Chunk) -> Item:
    text = json.dumps([a.to_json() for a in chunk.activities], ensure_ascii=False)
    item: Item = {
        PORTFOLIO_PK: value(table_partition),
        PORTFOLIO_SK: value(f"chunk#{chunk.chunk_id}"),
        KIND: value(ACTIVITIES_KIND),
        "activities": value(text),
        "etag": value(hashlib.sha256(text.encode()).hexdigest()[:16]),
    }
    if chunk.batch is not None:
        item["batch"] = value(chunk.batch)
    return item


def new_chunk_prefix() -> str:
    return uuid.uuid4().hex[:16]


def read_partition(
    client: DynamoDBClient, table: str, table_partition: str
) -> tuple[list[Chunk], set[str]]:
    """Every chunk of the partition and the ids of the applied batches (one Query, paged)."""
    request: QueryInputTypeDef = {
        "TableName": table,
        "KeyConditionExpression": f"{PORTFOLIO_PK} = :p",
        "ExpressionAttributeValues": {":p": value(table_partition)},
        "ConsistentRead": True,
    }
    chunks: list[Chunk] = []
    batches: set[str] = set()
    while True:
        with translated("reading a portfolio's activities"):
            page = client.query(**request)
        for item in page.get("Items", []):
            kind = item.get(KIND, {}).get("S")
            key = item[PORTFOLIO_SK]["S"]
            if kind == BATCH_KIND:
                batches.add(key.removeprefix("batch#"))
            elif kind == ACTIVITIES_KIND:
                chunks.append(_chunk(item))
        last = page.get("LastEvaluatedKey")
        if not last:
            return chunks, batches
        request["ExclusiveStartKey"] = last


def visible(chunks: Sequence[Chunk], batches: set[str]) -> Iterator[Chunk]:
    return (c for c in chunks if c.batch is None or c.batch in batches)


def _chunk(item: Mapping[str, Any]) -> Chunk:
    parsed = json.loads(item["activities"]["S"])
    batch = item.get("batch", {}).get("S")
    return Chunk(
        chunk_id=item[PORTFOLIO_SK]["S"].removeprefix("chunk#"),
        activities=tuple(activity_from_json(doc) for doc in parsed),
        batch=batch,
        etag=item.get("etag", {}).get("S", ""),
    )


def put_chunk(table: str, table_partition: str, chunk: Chunk) -> TransactWriteItemTypeDef:
    return {"Put": {"TableName": table, "Item": chunk_item(table_partition, chunk)}}


def rewrite_chunk(
    table: str, table_partition: str, old: Chunk, remaining: tuple[Activity, ...]
) -> TransactWriteItemTypeDef:
    """The chunk without the removed activities (deleted when none is left), conditional on
    its `etag`: a concurrent change of the same chunk cancels the transaction."""
    key = {
        PORTFOLIO_PK: value(table_partition),
        PORTFOLIO_SK: value(f"chunk#{old.chunk_id}"),
    }
    condition = {
        "ConditionExpression": "etag = :etag",
        "ExpressionAttributeValues": {":etag": value(old.etag)},
    }
    if not remaining:
        return {"Delete": {"TableName": table, "Key": key, **condition}}  # type: ignore[typeddict-item]
    item = chunk_item(
        table_partition, Chunk(old.chunk_id, remaining, batch=old.batch, etag=old.etag)
    )
    return {"Put": {"TableName": table, "Item": item, **condition}}  # type: ignore[typeddict-item]


def batch_marker(table: str, table_partition: str, batch_id: str) -> TransactWriteItemTypeDef:
    return {
        "Put": {
            "TableName": table,
            "Item": {
                PORTFOLIO_PK: value(table_partition),
                PORTFOLIO_SK: value(f"batch#{batch_id}"),
                KIND: value(BATCH_KIND),
            },
            "ConditionExpression": f"attribute_not_exists({PORTFOLIO_PK})",
        }
    }


def staged_writes(table_partition: str, chunks: Sequence[Chunk]) -> list[WriteRequestTypeDef]:
    return [{"PutRequest": {"Item": chunk_item(table_partition, c)}} for c in chunks]


def delete_requests(table_partition: str, keys: Sequence[str]) -> list[WriteRequestTypeDef]:
    return [
        {"DeleteRequest": {"Key": {PORTFOLIO_PK: value(table_partition), PORTFOLIO_SK: value(key)}}}
        for key in keys
    ]


def check_transaction(items: Sequence[TransactWriteItemTypeDef]) -> bool:
    """Whether `items` fit one transaction (count and bytes)."""
    total = 0
    for write in items:
        for body in write.values():
            item = body.get("Item") if isinstance(body, dict) else None
            if isinstance(item, dict):
                total += item_size(item)
    return len(items) <= 100 and total <= TRANSACTION_BYTES


def too_many(what: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"{what}: make the change in parts")
