"""A JSON document read for its activities, within bounds, with the line of each item.

The top-level object is scanned key by key. The array of activities is decoded one item
at a time (numbers as `Decimal`, never a float), each item's line counted on the way, so
that a refused item is reported on its line and an array of a million items stops at
`MAX_ROWS`. The other values are decoded only when asked for (small ones: `format`,
`baseCurrency`...); the rest (a Ghostfolio export's accounts and asset profiles) are only
checked for balanced brackets and closed strings, never built in memory."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, Final

from portfoliowise.adapters.json_text import MAX_JSON_DEPTH, InvalidJson
from portfoliowise.adapters.ledger_files.model import MAX_ITEM_BYTES, MAX_ROWS
from portfoliowise.domain.errors import DomainError, OutOfRange, ValidationError
from portfoliowise.domain.limits import check_count

MAX_TOP_LEVEL_KEYS: Final = 1_000

_WS: Final = re.compile(r"[ \t\n\r]*")
_SCALAR: Final = re.compile(r"[^,\]}\s]*")
_DECODER: Final = json.JSONDecoder(parse_float=Decimal)
_CLOSERS: Final = {"[": "]", "{": "}"}
_STRING: Final = r'"(?:[^"\\]++|\\.)*+"'
_LEAF: Final = rf'(?:[^{{}}\[\]"]++|{_STRING})*+'
_NESTED: Final = rf'(?:[^{{}}\[\]"]++|{_STRING}|\[{_LEAF}\]|\{{{_LEAF}\}})*+'
_SHALLOW: Final = re.compile(rf"\{{{_NESTED}\}}|\[{_NESTED}\]")
"""An object or array at most two levels deep (`{"tags": []}`), strings skipped whole;
possessive, so matching never backtracks."""


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line} column {column}"


def _invalid(text: str, pos: int, what: str) -> InvalidJson:
    return InvalidJson(f"not valid JSON ({what}, {_where(text, pos)})")


@dataclass(frozen=True, slots=True)
class JsonItem:
    index: int
    line: int
    value: Any = None
    error: DomainError | None = None


class JsonDocument:
    def __init__(self, text: str) -> None:
        self.text = text
        self.keys: dict[str, tuple[int, int]] = {}  # key -> span of its value
        self._scan()

    # -- scanning ----------------------------------------------------------------------
    def _ws(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return pos if match is None else match.end()

    def _expect(self, pos: int, char: str, what: str) -> int:
        if self.text[pos : pos + 1] != char:
            raise _invalid(self.text, pos, f"expected {what}")
        return pos + 1

    def _string_end(self, pos: int) -> tuple[str, int]:
        """The string starting after the quote at `pos - 1`, and where it ends."""
        try:
            value, end = scanstring(self.text, pos, True)
        except json.JSONDecodeError as exc:
            raise _invalid(self.text, exc.pos, exc.msg) from None
        return str(value), int(end)

    def value_end(self, pos: int, depth: int = 1) -> int:
        """Where the value starting at `pos` ends, checking its structure (brackets,
        commas, colons, strings) but not building it; numbers and literals are checked
        when decoded. A shallow object or array is matched whole by one regular
        expression (in C); a deeper one is walked child by child, at most `MAX_ROWS`
        children and `MAX_JSON_DEPTH` levels."""
        text = self.text
        first = text[pos : pos + 1]
        if first == '"':
            return self._string_end(pos + 1)[1]
        if first not in _CLOSERS:
            end = _SCALAR.match(text, pos)
            if end is None or end.end() == pos:
                raise _invalid(text, pos, "expected a value")
            return end.end()
        if depth > MAX_JSON_DEPTH:
            raise InvalidJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        shallow = _SHALLOW.match(text, pos)
        if shallow is not None:
            return shallow.end()
        close = _CLOSERS[first]
        pos = self._ws(pos + 1)
        if text[pos : pos + 1] == close:
            return pos + 1
        children = 0
        while True:
            if first == "{":
                pos = self._string_end(self._expect(pos, '"', "a key"))[1]
                pos = self._ws(self._expect(self._ws(pos), ":", "':'"))
            pos = self._ws(self.value_end(pos, depth + 1))
            children += 1
            if children > MAX_ROWS:
                check_count(children, "items in one JSON array or object", MAX_ROWS)
            if text[pos : pos + 1] == ",":
                pos = self._ws(pos + 1)
                continue
            return self._expect(pos, close, f"',' or {close!r}")

    def _scan(self) -> None:
        text = self.text
        pos = self._ws(0)
        if text[pos : pos + 1] != "{":
            raise InvalidJson("a JSON activities file is an object ({...})")
        pos = self._ws(pos + 1)
        if text[pos : pos + 1] == "}":
            pos += 1
        else:
            while True:
                pos = self._expect(pos, '"', "a key")
                key, pos = self._string_end(pos)
                pos = self._expect(self._ws(pos), ":", "':'")
                start = self._ws(pos)
                end = self.value_end(start)
                self.keys.pop(key, None)  # the last of repeated keys wins, as in json
                self.keys[key] = (start, end)
                if len(self.keys) > MAX_TOP_LEVEL_KEYS:
                    check_count(len(self.keys), "top-level keys", MAX_TOP_LEVEL_KEYS)
                pos = self._ws(end)
                if text[pos : pos + 1] == ",":
                    pos = self._ws(pos + 1)
                    continue
                pos = self._expect(pos, "}", "',' or '}'")
                break
        if self._ws(pos) != len(text):
            raise _invalid(text, self._ws(pos), "extra data after the object")

    # -- decoding ----------------------------------------------------------------------
    def _decode(self, start: int, end: int) -> Any:
        try:
            value, stop = _DECODER.raw_decode(self.text, start)
        except json.JSONDecodeError as exc:
            raise _invalid(self.text, exc.pos, exc.msg) from None
        except RecursionError:
            raise InvalidJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
        except ValueError:  # an integer over Python's digit limit
            raise _invalid(self.text, start, "a number is too long") from None
        if stop != end:
            raise _invalid(self.text, stop, "unexpected data")
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """A top-level value (at most `MAX_ITEM_BYTES` of JSON), or `default`."""
        span = self.keys.get(key)
        if span is None:
            return default
        start, end = span
        if end - start > MAX_ITEM_BYTES:
            limit = f"at most {MAX_ITEM_BYTES:,} bytes"
            raise OutOfRange(key, limit, message=f"`{key}` is too large ({limit})")
        return self._decode(start, end)

    def items(self, key: str) -> Iterator[JsonItem]:
        """The items of the top-level array `key`, one at a time, with their lines. An
        item over `MAX_ITEM_BYTES` comes with an error instead of its value. The items
        are counted first: more than `MAX_ROWS` is refused before any is decoded."""
        start, end = self.keys[key]
        text = self.text
        if text[start : start + 1] != "[":
            raise InvalidJson(f"`{key}` must be a list")
        spans: list[tuple[int, int, int]] = []
        line, counted = 1, 0
        pos = self._ws(start + 1)
        if text[pos : pos + 1] != "]":
            while True:
                if len(spans) >= MAX_ROWS:
                    check_count(len(spans) + 1, "activities", MAX_ROWS)
                item_end = self.value_end(pos, 2)
                line += text.count("\n", counted, pos)
                counted = pos
                spans.append((pos, item_end, line))
                pos = self._ws(item_end)
                if text[pos : pos + 1] == ",":
                    pos = self._ws(pos + 1)
                    continue
                break
        self._expect(pos, "]", "',' or ']'")
        if pos + 1 != end:
            raise _invalid(text, pos + 1, "unexpected data")
        for index, (item_start, item_end, item_line) in enumerate(spans):
            if item_end - item_start > MAX_ITEM_BYTES:
                limit = f"at most {MAX_ITEM_BYTES:,} bytes"
                error = OutOfRange("item", limit, message=f"the item is too large ({limit})")
                yield JsonItem(index, item_line, error=error)
            else:
                yield JsonItem(index, item_line, self._decode(item_start, item_end))


def item_fields(item: JsonItem, allowed: frozenset[str] | None = None) -> dict[str, Any]:
    """An item that must be an object (with only the `allowed` keys, when given)."""
    if not isinstance(item.value, dict):
        raise ValidationError("an activity is an object ({...})")
    if allowed is not None:
        unknown = sorted(set(item.value) - allowed)
        if unknown:
            raise ValidationError(f"unknown field {unknown[0][:40]!r}")
    return item.value
