"""Failed sign-in attempts shared by every Lambda instance, in the Session table.

One counter item per key (a client IP) and fixed window: `sessionId` =
`attempts#<sha256 of the key>#<window start, epoch seconds>` (never a session hash, which
is 64 hex characters; the IP itself is not stored), `failures` (N, incremented atomically
with `ADD`), and `ttl` = the end of the next window, so DynamoDB removes it afterwards.
The items have no `userId` or `expiresAt`, so the table's indexes never see them.

The count over the sliding window is estimated from the current and the previous fixed
window (the previous one weighted by how much of it still overlaps): two reads in one
BatchGetItem for `blocked_for`, one UpdateItem for `record_failure`."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from portfoliowise.adapters.dynamodb.codec import value
from portfoliowise.adapters.dynamodb.errors import translated
from portfoliowise.adapters.dynamodb.schema import SESSION_PK, TTL_ATTRIBUTE
from portfoliowise.adapters.dynamodb.tables import TableNames

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "attempts#"
FAILURES = "failures"


class DynamoAttemptLimiter:
    """`AttemptLimiter` over the Session table: at most `max_failures` failures per key
    in a sliding `window` (estimated from two fixed windows), across Lambda instances."""

    def __init__(
        self,
        client: DynamoDBClient,
        names: TableNames,
        max_failures: int = 5,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        self._client = client
        self._table = names.session
        self._max = max_failures
        self._seconds = int(window.total_seconds())
        if self._seconds < 1:
            raise ValueError("the window must be at least a second")

    def _start(self, now: datetime) -> int:
        epoch = int(now.timestamp())
        return epoch - epoch % self._seconds

    def _item_key(self, key: str, start: int) -> str:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return f"{PREFIX}{digest}#{start}"

    def blocked_for(self, key: str, now: datetime) -> int:
        start = self._start(now)
        keys = [self._item_key(key, start), self._item_key(key, start - self._seconds)]
        with translated("reading sign-in attempts"):
            response = self._client.batch_get_item(
                RequestItems={
                    self._table: {
                        "Keys": [{SESSION_PK: value(k)} for k in keys],
                        "ConsistentRead": True,
                        "ProjectionExpression": f"{SESSION_PK}, {FAILURES}",
                    }
                }
            )
        counts = dict.fromkeys(keys, 0)
        for item in response.get("Responses", {}).get(self._table, []):
            counts[item[SESSION_PK]["S"]] = int(item[FAILURES]["N"])
        current, previous = counts[keys[0]], counts[keys[1]]
        elapsed = now.timestamp() - start
        overlap = max(0.0, 1 - elapsed / self._seconds)  # share of the previous window
        if current + previous * overlap < self._max:
            return 0
        if current >= self._max:
            return max(1, math.ceil(start + self._seconds - now.timestamp()))
        # Blocked by the previous window's tail: free once enough of it has slid out.
        needed = (self._max - current) / previous  # the overlap that is still too much
        free_at = start + (1 - needed) * self._seconds
        return max(1, math.ceil(free_at - now.timestamp()))

    def record_failure(self, key: str, now: datetime) -> None:
        start = self._start(now)
        with translated("counting a failed sign-in"):
            self._client.update_item(
                TableName=self._table,
                Key={SESSION_PK: value(self._item_key(key, start))},
                UpdateExpression="ADD #failures :one SET #ttl = :ttl",
                ExpressionAttributeNames={"#failures": FAILURES, "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":ttl": {"N": str(start + 2 * self._seconds)},
                },
            )
