"""Rebuild a portfolio's state from its audit trail alone: the proof that the trail records
every change with enough detail (what the audit trail is for)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from portfoliowise.domain.audit import AuditEntry
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.events import JsonValue

_SNAPSHOT_ACTIONS = frozenset({"portfolio.created", "portfolio.restored"})
_FIELD_ACTIONS = frozenset({"portfolio.renamed", "portfolio.settings_changed"})
_OPTIONAL_FIELDS = ("additionalBudget", "aiPromptTemplate", "attributes")
"""Fields a portfolio document has only when they are set (None otherwise, here)."""


def _holding(data: Mapping[str, Any]) -> dict[str, Any]:
    """A holding as its document has it: `attributes` only when there are some."""
    return {k: v for k, v in data.items() if not (k == "attributes" and v is None)}


def _after(changes: dict[str, JsonValue]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, change in changes.items():
        if isinstance(change, dict) and "after" in change:
            found[key] = change["after"]
    return found


def replay(entries: Iterable[AuditEntry], portfolio_id: str) -> dict[str, Any] | None:
    """The state (`name, baseCurrency, allowFractional, holdings{symbol: holding}, targets`
    and the optional fields: additional budget, AI prompt template, attributes) that the
    trail of `portfolio_id` leads to, or None when it ends deleted or never began. Entries
    are applied in timestamp order."""
    resource = f"portfolio/{portfolio_id}"
    state: dict[str, Any] | None = None
    ordered = sorted(entries, key=lambda e: e.timestamp)
    for entry in ordered:
        if entry.resource != resource and not entry.resource.startswith(resource + "/"):
            continue
        after = _after(entry.changes)
        if entry.action in _SNAPSHOT_ACTIONS:
            state = {
                "name": after["name"],
                "baseCurrency": after["baseCurrency"],
                "allowFractional": after["allowFractional"],
                "holdings": {h["symbol"]: _holding(h) for h in after.get("holdings") or []},
                "targets": dict(after.get("targets") or {}),
                **{key: after.get(key) for key in _OPTIONAL_FIELDS},
            }
            continue
        if state is None:
            raise ValidationError(f"audit trail of {portfolio_id} changes it before creating it")
        if entry.action in _FIELD_ACTIONS:
            state.update(after)
        elif entry.action == "portfolio.targets_set":
            state["targets"] = dict(after.get("targets") or {})
        elif entry.action == "holding.added":
            state["holdings"][after["symbol"]] = _holding(after)
        elif entry.action == "holding.changed":
            symbol = entry.resource.rsplit("/", 1)[-1]
            state["holdings"][symbol] = _holding({**state["holdings"][symbol], **after})
        elif entry.action == "holding.removed":
            del state["holdings"][entry.resource.rsplit("/", 1)[-1]]
        elif entry.action == "portfolio.deleted":
            state = None
    return state


def state_of(portfolio_json: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a stored portfolio document that `replay` rebuilds."""
    return {
        "name": portfolio_json["name"],
        "baseCurrency": portfolio_json["baseCurrency"],
        "allowFractional": portfolio_json["allowFractional"],
        "holdings": {h["symbol"]: _holding(h) for h in portfolio_json.get("holdings") or []},
        "targets": dict(portfolio_json.get("targets") or {}),
        **{key: portfolio_json.get(key) for key in _OPTIONAL_FIELDS},
    }
