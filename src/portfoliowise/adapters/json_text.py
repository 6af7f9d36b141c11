"""Reading JSON text from outside (request bodies, imported files) safely: numbers become
`Decimal` (never floats), and nesting is checked before parsing so that no input can
exhaust the stack (`json` recurses once per level)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Final

from portfoliowise.domain.errors import ValidationError

MAX_JSON_DEPTH: Final = 32
"""Deeper than any document of ours (a portfolio file nests 4 levels)."""


class InvalidJson(ValidationError):
    code = "invalid_json"


def json_depth_ok(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether no array or object in `text` nests deeper than `limit`: one linear scan
    that skips strings."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def load_json(text: str) -> Any:
    """JSON with every number a `Decimal`; bad JSON, JSON nested deeper than 32 levels, or
    an integer too long to read is an `InvalidJson` (400)."""
    if not json_depth_ok(text):
        raise InvalidJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidJson(
            f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):  # an integer over Python's digit limit
        raise InvalidJson("not valid JSON (a number is too long)") from None
