"""The users seen, in the Session table (the auth function already reads and writes it).

One item per user ever signed in: `sessionId` = `user#<sha256 of the user id, hex>` (never
a session hash, which is 64 hex characters, nor an `attempts#` counter; the user id itself
is not stored) and `firstSeenAt` (S: UTC ISO 8601). The item has no `ttl`, so DynamoDB
keeps it, and no `userId` or `expiresAt`, so the table's indexes never see it.

`first_seen` is one PutItem conditional on `attribute_not_exists(sessionId)`: of concurrent
first sign-ins of one user, on any Lambda instance, exactly one writes it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from portfoliowise.adapters.dynamodb.codec import to_item
from portfoliowise.adapters.dynamodb.errors import error_code, translated
from portfoliowise.adapters.dynamodb.schema import SESSION_PK
from portfoliowise.adapters.dynamodb.tables import TableNames
from portfoliowise.domain.ports import Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "user#"
FIRST_SEEN_AT = "firstSeenAt"


def user_key(user_id: str) -> str:
    """The `sessionId` of a user's item."""
    return PREFIX + hashlib.sha256(user_id.encode("utf-8")).hexdigest()


class DynamoUserRegistry:
    """`UserRegistry` over the Session table (see the module docstring for the item)."""

    def __init__(self, client: DynamoDBClient, names: TableNames, clock: Clock) -> None:
        self._client = client
        self._table = names.session
        self._clock = clock  # the same signature as the other adapters; `at` is given

    def first_seen(self, user_id: str, at: datetime) -> bool:
        item = to_item(
            {
                SESSION_PK: user_key(user_id),
                FIRST_SEEN_AT: at.astimezone(UTC).isoformat(timespec="microseconds"),
            }
        )
        try:
            with translated("recording a user"):
                self._client.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(#pk)",
                    ExpressionAttributeNames={"#pk": SESSION_PK},
                )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
