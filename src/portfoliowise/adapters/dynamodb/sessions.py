"""The Session table: one item per session, keyed by the hash of its cookie value.

Item: `sessionId` (the hash), `userId`, `expiresAt` (N: epoch seconds with microseconds,
exact), `ttl` (N: whole epoch seconds, rounded up) and `accessToken` / `refreshToken`
(B: the KMS-encrypted ciphertexts), `profile` (B, encrypted), and the refresh-token state:
`refreshHash`, `previousRefreshHash` (S) and `rotatedAt` (N, exact epoch seconds), rotated
by one conditional UpdateItem. Expiry is checked on read: DynamoDB deletes expired items
lazily."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from portfoliowise.adapters.dynamodb.codec import (
    epoch_exact,
    from_epoch,
    from_item,
    to_bytes,
    to_item,
    ttl_seconds,
    value,
)
from portfoliowise.adapters.dynamodb.errors import error_code, translated
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
                "profile": session.profile,
                "refreshHash": session.refresh_hash or None,
                "previousRefreshHash": session.previous_refresh_hash or None,
                "rotatedAt": None
                if session.rotated_at is None
                else epoch_exact(session.rotated_at),
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
            profile=to_bytes(data.get("profile", b"")),
            refresh_hash=str(data.get("refreshHash", "")),
            previous_refresh_hash=str(data.get("previousRefreshHash", "")),
            rotated_at=from_epoch(data["rotatedAt"]) if "rotatedAt" in data else None,
        )
        return None if session.expired(now) else session

    def rotate_refresh(
        self, session_hash: str, expected_hash: str, new_hash: str, at: datetime
    ) -> bool:
        names = {"#current": "refreshHash", "#previous": "previousRefreshHash"}
        values = {":new": value(new_hash), ":at": value(epoch_exact(at))}
        if expected_hash:
            condition = "#current = :expected"
            values[":expected"] = value(expected_hash)
            update = "SET #previous = #current, #current = :new, rotatedAt = :at"
        else:  # a session from before refresh tokens: start its first one
            condition = f"attribute_exists({SESSION_PK}) AND attribute_not_exists(#current)"
            update = "SET #current = :new, rotatedAt = :at"
            del names["#previous"]
        try:
            with translated("rotating a refresh token"):
                self._client.update_item(
                    TableName=self._table,
                    Key={SESSION_PK: value(session_hash)},
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete(self, session_hash: str) -> None:
        """Idempotent: deleting an absent session is not an error."""
        with translated("deleting a session"):
            self._client.delete_item(TableName=self._table, Key={SESSION_PK: value(session_hash)})
