"""Values to and from DynamoDB's wire format (`TypeSerializer`/`TypeDeserializer`), and
times as epoch numbers. Numbers come back as `Decimal`, never float."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from portfoliowise.domain.events import JsonValue

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]
"""An item in wire format (`{"name": {"S": "..."}}`)."""

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = Decimal("0.000001")


def to_item(values: Mapping[str, object]) -> Item:
    """Serialise plain values (str, int, bool, None, Decimal, bytes, lists, dicts); None
    values are left out of the item."""
    return {key: _SERIALIZER.serialize(value) for key, value in values.items() if value is not None}


def from_item(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, Any]:
    return {key: _DESERIALIZER.deserialize(value) for key, value in item.items()}


def item_size(item: Mapping[str, Any]) -> int:
    """About the bytes DynamoDB counts for an item (its names and values as JSON)."""
    return sum(
        len(name) + len(json.dumps(v, ensure_ascii=False).encode()) for name, v in item.items()
    )


def value(raw: object) -> AttributeValueTypeDef:
    return _SERIALIZER.serialize(raw)


def to_json_value(raw: Any) -> JsonValue:
    """A deserialised value back as JSON (numbers stored from ints come back as ints)."""
    if isinstance(raw, Decimal):
        return int(raw) if raw == raw.to_integral_value() else str(raw)
    if isinstance(raw, dict):
        return {str(key): to_json_value(item) for key, item in raw.items()}
    if isinstance(raw, list):
        return [to_json_value(item) for item in raw]
    if isinstance(raw, str | bool) or raw is None:
        return raw
    raise TypeError(f"not a JSON value: {type(raw).__name__}")


def to_bytes(raw: object) -> bytes:
    if isinstance(raw, Binary):
        return bytes(raw.value)  # type: ignore[attr-defined]  # missing from the stubs
    if isinstance(raw, bytes | bytearray):
        return bytes(raw)
    raise TypeError(f"not binary: {type(raw).__name__}")


def epoch_exact(at: datetime) -> Decimal:
    """Seconds since the epoch with microseconds, exactly (a `N` attribute)."""
    delta = at - _EPOCH
    whole = delta.days * 86_400 + delta.seconds
    return Decimal(whole) + Decimal(delta.microseconds) * _MICRO


def from_epoch(seconds: Decimal) -> datetime:
    """Inverse of `epoch_exact` (UTC)."""
    return _EPOCH + timedelta(microseconds=int(seconds * 1_000_000))


def ttl_seconds(at: datetime) -> int:
    """The `ttl` attribute for an expiry at `at`: whole seconds, rounded up so DynamoDB
    never deletes an item before it has expired."""
    return math.ceil(epoch_exact(at))
