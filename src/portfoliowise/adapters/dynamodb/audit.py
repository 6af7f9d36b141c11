"""The Audit table: one item per audit entry, partitioned by UTC date, sorted by
`timestamp#userId`, read per user through `userId-date-index`, expired by `ttl`.

Item: `date`, `timestampUserId` (= `AuditEntry.sort_key`), `userId`, `action`,
`resource`, `changes` (map), `ip`, `userAgent`, `eventId`, `timestamp` (UTC ISO-8601 with
microseconds) and `ttl` (epoch seconds of `AuditEntry.expires_at`, rounded up).
Reads go through a GSI, so they are eventually consistent (entries show up within about a
second of their write).

A change with more entries than its transaction has room for (a transaction holds 100
items), or with an entry too large for one item (the creation of a 10,000-holding
portfolio records every holding), stores them as *groups*: items keyed like their first
entry, with `group` (B: the entries as a gzip-compressed JSON list, at most `GROUP_BYTES`
compressed), so that one change is still one transaction; `for_user` reads a group back
as its entries."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from portfoliowise.adapters.dynamodb.batch import Backoff, batch_write, packed
from portfoliowise.adapters.dynamodb.codec import (
    Item,
    epoch_exact,
    from_item,
    to_bytes,
    to_item,
    to_json_value,
    ttl_seconds,
    value,
)
from portfoliowise.adapters.dynamodb.errors import translated
from portfoliowise.adapters.dynamodb.schema import AUDIT_PK, AUDIT_SK, TTL_ATTRIBUTE
from portfoliowise.adapters.dynamodb.tables import TableNames
from portfoliowise.domain.audit import AuditEntry
from portfoliowise.domain.errors import ConflictError
from portfoliowise.domain.ports import Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

USER_DATE_INDEX = "userId-date-index"


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def audit_item(entry: AuditEntry) -> Item:
    return to_item(
        {
            AUDIT_PK: entry.date,
            AUDIT_SK: entry.sort_key,
            "userId": entry.user_id,
            "action": entry.action,
            "resource": entry.resource,
            "changes": entry.changes,
            "ip": entry.ip,
            "userAgent": entry.user_agent,
            "eventId": entry.event_id,
            "timestamp": _utc_text(entry.timestamp),
            TTL_ATTRIBUTE: ttl_seconds(entry.expires_at),
        }
    )


GROUP_BYTES = 300_000
ENTRY_BYTES = 300_000
_RAW_GROUP_BYTES = 2_000_000


def audit_entry_from_item(item: Mapping[str, Any]) -> AuditEntry:
    data = from_item(item)
    data["changes"] = to_json_value(data.get("changes") or {})
    return AuditEntry.from_json(data)


def audit_entries_from_item(item: Mapping[str, Any]) -> list[AuditEntry]:
    """The entry of an item, or the entries of a group."""
    group = item.get("group")
    if group is None:
        return [audit_entry_from_item(item)]
    text = gzip.decompress(to_bytes(from_item({"g": group})["g"])).decode("utf-8")
    return [AuditEntry.from_json(entry) for entry in json.loads(text)]


def audit_puts(
    table: str, entries: Sequence[AuditEntry], room: int
) -> list[TransactWriteItemTypeDef]:
    """The transaction items writing `entries` in at most `room` items: one item each when
    they fit, else groups of at most `GROUP_BYTES` (see the module docstring); `[]` with
    too little room for the groups (the caller refuses the change)."""
    texts = [json.dumps(e.to_json(), ensure_ascii=False, default=str) for e in entries]
    if len(entries) <= room and all(len(t) <= ENTRY_BYTES for t in texts):
        return [audit_put(table, entry) for entry in entries]
    groups = packed(range(len(texts)), lambda index: len(texts[index]) + 1, _RAW_GROUP_BYTES)
    blobs = [blob for group in groups for blob in _packed(entries, texts, group)]
    if len(blobs) > room or any(len(blob) > GROUP_BYTES for _, blob in blobs):
        return []
    return [_group_put(table, first, blob) for first, blob in blobs]


def _packed(
    entries: Sequence[AuditEntry], texts: Sequence[str], group: Sequence[int]
) -> list[tuple[AuditEntry, bytes]]:
    """(first entry, gzip of the JSON list) of `group`, halved until each fits."""
    blob = gzip.compress(("[" + ",".join(texts[i] for i in group) + "]").encode(), mtime=0)
    if len(blob) <= GROUP_BYTES or len(group) == 1:
        return [(entries[group[0]], blob)]
    half = len(group) // 2
    return _packed(entries, texts, group[:half]) + _packed(entries, texts, group[half:])


def _group_put(table: str, first: AuditEntry, blob: bytes) -> TransactWriteItemTypeDef:
    item = audit_item(first)
    item["group"] = value(blob)
    item["action"] = value("audit.group")
    item.pop("changes", None)
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": AUDIT_PK},
        }
    }


MAX_KEY_ATTEMPTS = 8


def audit_put(table: str, entry: AuditEntry) -> TransactWriteItemTypeDef:
    """The transaction item writing `entry`, refused if its key is taken: two writes of one
    user in the same microsecond must not overwrite each other's entry."""
    return {
        "Put": {
            "TableName": table,
            "Item": audit_item(entry),
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": AUDIT_PK},
        }
    }


class DynamoAuditLog:
    """`AuditLog` over the Audit table."""

    def __init__(
        self,
        client: DynamoDBClient,
        names: TableNames,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self._client = client
        self._table = names.audit
        self._clock = clock
        self._backoff = backoff or Backoff()

    def record(self, entries: Sequence[AuditEntry]) -> None:
        """Entries not tied to a portfolio write (sign-in, sign-out, an analysis). One entry
        is one conditional PutItem (all a function granted `PutItem` alone may do: IAM
        cannot limit BatchWriteItem to puts); more are BatchWriteItem, 25 a request."""
        if len(entries) == 1:
            self._put_one(entries[0])
            return
        batch_write(
            self._client,
            self._table,
            [{"PutRequest": {"Item": audit_item(entry)}} for entry in entries],
            self._backoff,
        )

    def _put_one(self, entry: AuditEntry) -> None:
        """One conditional PutItem. The key (`timestamp#userId`) may be taken by another
        entry of the user in the same microsecond: the entry then moves on a microsecond,
        as `audit_entries` orders the entries of one command."""
        for _ in range(MAX_KEY_ATTEMPTS):
            put = audit_put(self._table, entry)["Put"]
            with translated(f"recording {entry.action} of {entry.user_id}"):
                try:
                    self._client.put_item(
                        TableName=put["TableName"],
                        Item=put["Item"],
                        ConditionExpression=put["ConditionExpression"],
                        ExpressionAttributeNames=put["ExpressionAttributeNames"],
                    )
                    return
                except self._client.exceptions.ConditionalCheckFailedException:
                    moved = entry.timestamp + timedelta(microseconds=1)
                    entry = replace(entry, timestamp=moved, date=moved.strftime("%Y-%m-%d"))
        raise ConflictError(f"no free audit key for {entry.user_id} near {entry.timestamp}")

    def for_user(self, user_id: str, since: datetime, until: datetime) -> list[AuditEntry]:
        """Query `userId-date-index` on the UTC dates of [since, until], then keep the
        entries in the time range that have not expired (DynamoDB deletes expired items
        lazily, up to days later)."""
        if since > until:
            return []
        now = self._clock.now()
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "IndexName": USER_DATE_INDEX,
            "KeyConditionExpression": "userId = :user AND #date BETWEEN :first AND :last",
            "FilterExpression": "#ts BETWEEN :since AND :until AND #ttl > :now",
            "ExpressionAttributeNames": {"#date": AUDIT_PK, "#ts": "timestamp", "#ttl": "ttl"},
            "ExpressionAttributeValues": {
                ":user": value(user_id),
                ":first": value(since.astimezone(UTC).date().isoformat()),
                ":last": value(until.astimezone(UTC).date().isoformat()),
                ":since": value(_utc_text(since)),
                ":until": value(_utc_text(until)),
                ":now": value(int(epoch_exact(now))),
            },
        }
        entries: list[AuditEntry] = []
        while True:
            with translated(f"reading the audit trail of {user_id}"):
                page = self._client.query(**request)
            for item in page.get("Items", []):
                for entry in audit_entries_from_item(item):
                    if since <= entry.timestamp <= until and now < entry.expires_at:
                        entries.append(entry)
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return sorted(entries, key=lambda entry: (entry.timestamp, entry.sort_key))
