"""The Session table: one item per session, keyed by the hash of its cookie value.

Item: `sessionId` (the hash), `userId`, `expiresAt` (N: epoch seconds with microseconds,
exact), `ttl` (N: whole epoch seconds, rounded up) and `accessToken` / `refreshToken`
(B: the KMS-encrypted ciphertexts). Expiry is checked on read: DynamoDB deletes expired
items lazily."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from portfoliowise.adapters.dynamodb.codec import (
    epoch_exact,
    from_epoch,
    from_item,
    to_bytes,
    to_item,
    ttl_seconds,
    value,
)
from portfoliowise.adapters.dynamodb.errors import translated
from portfoliowise.adapters.dynamodb.schema import SESSION_PK, TTL_ATTRIBUTE
from portfoliowise.adapters.dynamodb.tables import TableNames
from portfoliowise.domain.sessions import Session

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoSessionStore:
    """`SessionStore` over the Session table."""

    def __init__(self, client: DynamoDBClient, names: TableNames) -> None:
        self._client = client
        self._table = names.session

    def put(self, session: Session) -> None:
        item = to_item(
            {
                SESSION_PK: session.session_hash,
                "userId": session.user_id,
                "expiresAt": epoch_exact(session.expires_at),
                TTL_ATTRIBUTE: ttl_seconds(session.expires_at),
                "accessToken": session.access_token,
                "refreshToken": session.refresh_token,
            }
        )
        with translated("storing a session"):
            self._client.put_item(TableName=self._table, Item=item)

    def get(self, session_hash: str, now: datetime) -> Session | None:
        with translated("reading a session"):
            response = self._client.get_item(
                TableName=self._table,
                Key={SESSION_PK: value(session_hash)},
                ConsistentRead=True,
            )
        item = response.get("Item")
        if item is None:
            return None
        data = from_item(item)
        session = Session(
            session_hash=str(data[SESSION_PK]),
            user_id=str(data["userId"]),
            expires_at=from_epoch(data["expiresAt"]),
            access_token=to_bytes(data.get("accessToken", b"")),
            refresh_token=to_bytes(data.get("refreshToken", b"")),
        )
        return None if session.expired(now) else session

    def delete(self, session_hash: str) -> None:
        """Idempotent: deleting an absent session is not an error."""
        with translated("deleting a session"):
            self._client.delete_item(TableName=self._table, Key={SESSION_PK: value(session_hash)})
