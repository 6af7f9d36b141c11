"""Attributes: what a client keeps with a portfolio or a holding that the domain does not
model, such as the existing web app's fees, dividends, fund type, ids and its own price
snapshot. They are kept exactly as the client sent them (numbers as `Decimal`, with their
digits), stored, backed up, exported and answered back, and never read by the domain: a
price kept here is never a quote, a fee never enters a valuation.

A value is None, a bool, a text, a number, a list or an object of values, within the
limits of `domain.limits`: names per object, items per list, nesting, the length of a
text, the digits of a number, and the whole as JSON text (the holding's or the
portfolio's limit, checked by `Holding` and `Portfolio`). `Attributes` holds them as
canonical JSON text (numbers written plainly: `0.0938`, never `9.38E-2`), so that two are
equal when they say the same thing digit for digit, and every store keeps them as one
string. Standard library only."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from portfoliowise.domain.errors import OutOfRange, ValidationError, preview
from portfoliowise.domain.limits import (
    MAX_ATTRIBUTE_DEPTH,
    MAX_ATTRIBUTE_ITEMS,
    MAX_ATTRIBUTE_NAME_LENGTH,
    MAX_ATTRIBUTE_NAMES,
    MAX_ATTRIBUTE_NUMBER_DIGITS,
    MAX_ATTRIBUTE_TEXT_LENGTH,
    MAX_PORTFOLIO_ATTRIBUTES_LENGTH,
)

AttributeValue = None | bool | str | Decimal | list["AttributeValue"] | dict[str, "AttributeValue"]
"""A value as `Attributes.as_dict` gives it back (every number a `Decimal`)."""

EMPTY_TEXT: Final = "{}"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class _Writer:
    """Canonical JSON text of a value, checked against the limits as it is written; stops
    as soon as the text is over `max_length` (so no input is written whole to be refused)."""

    def __init__(self, field: str, max_length: int) -> None:
        self.field = field
        self.max_length = max_length
        self.parts: list[str] = []
        self.length = 0

    def emit(self, text: str) -> None:
        self.length += len(text)
        if self.length > self.max_length:
            raise OutOfRange(
                self.field,
                f"at most {self.max_length:,} characters as JSON",
                message=f"{self.field} are too long (at most {self.max_length:,} characters "
                "as JSON)",
            )
        self.parts.append(text)

    def write_value(self, value: object, path: str, depth: int) -> None:
        if value is None:
            self.emit("null")
        elif isinstance(value, bool):
            self.emit("true" if value else "false")
        elif isinstance(value, str):
            if len(value) > MAX_ATTRIBUTE_TEXT_LENGTH:
                limit = f"at most {MAX_ATTRIBUTE_TEXT_LENGTH:,} characters"
                raise OutOfRange(self.field, limit, value=value, label=path)
            self.emit(json.dumps(value, ensure_ascii=False))
        elif isinstance(value, int | Decimal):
            self.emit(_number(Decimal(value), path, self.field))
        elif isinstance(value, Mapping):
            self.write_object(value, path, depth + 1)
        elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
            self.write_list(value, path, depth + 1)
        else:
            kind = type(value).__name__
            raise ValidationError(
                f"{path} must be null, true/false, a text, a decimal number, a list or an "
                f"object, not a {kind}"
            )

    def write_object(self, values: Mapping[Any, object], path: str, depth: int) -> None:
        self._nesting(path, depth)
        if len(values) > MAX_ATTRIBUTE_NAMES:
            limit = f"at most {MAX_ATTRIBUTE_NAMES} names"
            raise OutOfRange(self.field, limit, message=f"{path} has too many names ({limit})")
        self.emit("{")
        for index, (name, item) in enumerate(values.items()):
            if not isinstance(name, str):
                raise ValidationError(f"{path}: names must be texts, got {preview(name)}")
            if not name or len(name) > MAX_ATTRIBUTE_NAME_LENGTH:
                limit = f"1 to {MAX_ATTRIBUTE_NAME_LENGTH} characters"
                raise OutOfRange(self.field, limit, value=name, label=f"a name in {path}")
            if index:
                self.emit(",")
            self.emit(json.dumps(name, ensure_ascii=False) + ":")
            self.write_value(item, f"{path}.{name}", depth)
        self.emit("}")

    def write_list(self, items: Sequence[object], path: str, depth: int) -> None:
        self._nesting(path, depth)
        if len(items) > MAX_ATTRIBUTE_ITEMS:
            limit = f"at most {MAX_ATTRIBUTE_ITEMS:,} items"
            raise OutOfRange(self.field, limit, message=f"{path} has too many items ({limit})")
        self.emit("[")
        for index, item in enumerate(items):
            if index:
                self.emit(",")
            self.write_value(item, f"{path}[{index}]", depth)
        self.emit("]")

    def _nesting(self, path: str, depth: int) -> None:
        if depth > MAX_ATTRIBUTE_DEPTH:
            limit = f"at most {MAX_ATTRIBUTE_DEPTH} levels of objects and lists"
            raise OutOfRange(self.field, limit, message=f"{path} is nested too deep ({limit})")


def _number(value: Decimal, path: str, field: str) -> str:
    limit = f"finite, at most {MAX_ATTRIBUTE_NUMBER_DIGITS} digits written plainly"
    if not value.is_finite():
        raise OutOfRange(field, limit, value=value, label=path)
    if value and not -MAX_ATTRIBUTE_NUMBER_DIGITS <= value.adjusted() < MAX_ATTRIBUTE_NUMBER_DIGITS:
        raise OutOfRange(field, limit, value=value, label=path)
    text = format(value, "f")
    if sum(ch.isdigit() for ch in text) > MAX_ATTRIBUTE_NUMBER_DIGITS:
        raise OutOfRange(field, limit, value=value, label=path)
    return text


@dataclass(frozen=True, slots=True)
class Attributes:
    """Canonical JSON text of an object of attributes; build it with `of` or `from_text`
    (which check the limits). Empty attributes are `{}` and false."""

    text: str = EMPTY_TEXT

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not (
            self.text.startswith("{") and self.text.endswith("}")
        ):
            raise ValidationError("attributes are the JSON text of an object")

    @classmethod
    def of(
        cls,
        values: Mapping[str, object] | None,
        *,
        field: str = "attributes",
        max_length: int = MAX_PORTFOLIO_ATTRIBUTES_LENGTH,
    ) -> Attributes:
        """The attributes `values` give (texts, bools, None, int or `Decimal` numbers,
        lists and objects: a float is refused, it cannot hold most decimals exactly).
        Raises `OutOfRange` naming `field` beyond a limit, `ValidationError` otherwise."""
        if values is None:
            return NO_ATTRIBUTES
        if not isinstance(values, Mapping):
            raise ValidationError(f"{field} must be an object")
        writer = _Writer(field, max_length)
        writer.write_object(values, field, 1)
        return cls("".join(writer.parts))

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        field: str = "attributes",
        max_length: int = MAX_PORTFOLIO_ATTRIBUTES_LENGTH,
    ) -> Attributes:
        """Inverse of `text` (stores, backups, exported files): checked like `of`."""
        if not isinstance(text, str):
            raise ValidationError(f"{field} must be the JSON text of an object")
        if len(text) > max_length:
            limit = f"at most {max_length:,} characters as JSON"
            raise OutOfRange(
                field, limit, message=f"{field} are too long (at most {max_length:,} characters)"
            )
        try:
            values = json.loads(
                text, parse_float=Decimal, parse_int=Decimal, parse_constant=_refuse_constant
            )
        except (ValueError, RecursionError):
            raise ValidationError(f"{field} are not valid JSON") from None
        if not isinstance(values, dict):
            raise ValidationError(f"{field} must be the JSON text of an object")
        return cls.of(values, field=field, max_length=max_length)

    def as_dict(self) -> dict[str, AttributeValue]:
        """The attributes as plain values (a fresh copy): every number a `Decimal`."""
        values: dict[str, AttributeValue] = json.loads(
            self.text, parse_float=Decimal, parse_int=Decimal
        )
        return values

    def __bool__(self) -> bool:
        return self.text != EMPTY_TEXT


NO_ATTRIBUTES: Final = Attributes()
