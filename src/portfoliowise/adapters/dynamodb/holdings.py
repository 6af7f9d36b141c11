"""A large portfolio's holdings outside its item (DynamoDB refuses items over 400 KB; the
domain allows 10,000 holdings, about 1.4 MB, more with a client's attributes).

A portfolio whose item would stay under `INLINE_BYTES` keeps its holdings inline, as
always (one GetItem reads it). A larger one keeps them in *generations* of chunk items in
the portfolio's own partition (`adapters.dynamodb.activities.partition`):
`portfolioId = holdings#<generation>#<n>`, `kind = "holdings"`, `holdings` (S, a JSON list
of `Holding.to_json`, at most `CHUNK_BYTES`). A write first puts the new generation's
chunks (BatchWriteItem; no reader looks at them yet), then the portfolio item, version-
checked in the change's transaction, names the generation (`holdingsGeneration`); only
then are the other generations deleted. A crash in between leaves the old state whole
(the item still names the old generation) and the orphaned chunks are deleted by the next
write."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from portfoliowise.adapters.dynamodb.batch import Backoff, batch_write, packed
from portfoliowise.adapters.dynamodb.codec import Item, value
from portfoliowise.adapters.dynamodb.errors import translated
from portfoliowise.adapters.dynamodb.schema import PORTFOLIO_PK, PORTFOLIO_SK

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, WriteRequestTypeDef

INLINE_BYTES = 300_000
CHUNK_BYTES = 300_000
GENERATION = "holdingsGeneration"
HOLDINGS_KIND = "holdings"
_PREFIX = "holdings#"


def new_generation() -> str:
    return uuid.uuid4().hex[:16]


def chunk_items(
    table_partition: str, generation: str, holdings: Sequence[Mapping[str, Any]]
) -> list[Item]:
    texts = [json.dumps(h, ensure_ascii=False, separators=(",", ":")) for h in holdings]
    groups = packed(texts, lambda text: len(text.encode()) + 1, CHUNK_BYTES - 2) or [[]]
    return [_chunk(table_partition, generation, n, group) for n, group in enumerate(groups)]


def _chunk(table_partition: str, generation: str, n: int, texts: list[str]) -> Item:
    return {
        PORTFOLIO_PK: value(table_partition),
        PORTFOLIO_SK: value(f"{_PREFIX}{generation}#{n:05d}"),
        "kind": value(HOLDINGS_KIND),
        "holdings": value("[" + ",".join(texts) + "]"),
    }


def put_chunks(client: DynamoDBClient, table: str, items: Sequence[Item], backoff: Backoff) -> None:
    requests: list[WriteRequestTypeDef] = [{"PutRequest": {"Item": item}} for item in items]
    batch_write(client, table, requests, backoff)


def read_generation(
    client: DynamoDBClient, table: str, table_partition: str, generation: str
) -> list[Any]:
    """The holdings (as JSON) of one generation, in order (one Query, paged)."""
    holdings: list[Any] = []
    for item in _query(client, table, table_partition, f"{_PREFIX}{generation}#"):
        holdings.extend(json.loads(item["holdings"]["S"]))
    return holdings


def drop_other_generations(
    client: DynamoDBClient,
    table: str,
    table_partition: str,
    keep: str | None,
    backoff: Backoff,
) -> None:
    """Delete every holdings chunk not of generation `keep` (best effort, after a commit)."""
    stale = [
        item[PORTFOLIO_SK]["S"]
        for item in _query(client, table, table_partition, _PREFIX, keys_only=True)
        if keep is None or not item[PORTFOLIO_SK]["S"].startswith(f"{_PREFIX}{keep}#")
    ]
    requests: list[WriteRequestTypeDef] = [
        {"DeleteRequest": {"Key": {PORTFOLIO_PK: value(table_partition), PORTFOLIO_SK: value(key)}}}
        for key in stale
    ]
    batch_write(client, table, requests, backoff)


def _query(
    client: DynamoDBClient,
    table: str,
    table_partition: str,
    prefix: str,
    *,
    keys_only: bool = False,
) -> list[dict[str, Any]]:
    request: QueryInputTypeDef = {
        "TableName": table,
        "KeyConditionExpression": f"{PORTFOLIO_PK} = :p AND begins_with({PORTFOLIO_SK}, :s)",
        "ExpressionAttributeValues": {":p": value(table_partition), ":s": value(prefix)},
        "ConsistentRead": True,
    }
    if keys_only:
        request["ProjectionExpression"] = f"{PORTFOLIO_PK}, {PORTFOLIO_SK}"
    found: list[dict[str, Any]] = []
    while True:
        with translated("reading a portfolio's holdings"):
            page = client.query(**request)
        found.extend(dict(item) for item in page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        if not last:
            return found
        request["ExclusiveStartKey"] = last
