"""The edge against a new user and an attacker: the audit trail of every change (paged),
bad bodies (not UTF-8, wrong media type, deep nesting, dates that overflow) answered 4xx
in the error shape, the session checked before the body, and `Vary: Origin`."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from api_harness import NOW, assert_error_shape, call

from portfoliowise.adapters.clock import FixedClock

PID = "p-0001"
AUDIT = f"/portfolios/{PID}/audit"


def _create(app: Any, user: str = "userA") -> dict[str, Any]:
    status, _, body = call(app, "create_portfolio.json", user=user)
    assert status == 201, body
    return dict(body)


def _put(app: Any, clock: FixedClock, body: dict[str, Any]) -> dict[str, Any]:
    clock.advance(timedelta(seconds=1))
    status, _, answer = call(
        app, "put_portfolio.json", body=body, headers={"If-Match": f'"{body["version"]}"'}
    )
    assert status == 200, answer
    return dict(answer)


def _changed(app: Any, clock: FixedClock) -> list[str]:
    """Holdings, targets and settings changed by PUTs; the actions they recorded."""
    current = _create(app)
    current["holdings"].append({"symbol": "MSFT", "quantity": "3"})
    current = _put(app, clock, current)  # holding.added
    current["holdings"][0]["quantity"] = "7"
    current = _put(app, clock, current)  # holding.changed
    current["holdings"] = [h for h in current["holdings"] if h["symbol"] != "MSFT"]
    current = _put(app, clock, current)  # holding.removed
    symbols = [h["symbol"] for h in current["holdings"]]
    current["targets"] = {symbols[0]: "60", symbols[1]: "40"}
    current = _put(app, clock, current)  # portfolio.targets_set
    current["baseCurrency"] = "USD"
    current["allowFractional"] = True
    _put(app, clock, current)  # portfolio.settings_changed
    return [
        "portfolio.created",
        "holding.added",
        "holding.changed",
        "holding.removed",
        "portfolio.targets_set",
        "portfolio.settings_changed",
    ]


def test_the_audit_trail_shows_every_change_of_holdings_targets_and_settings(
    app: Any, clock: FixedClock
) -> None:
    expected = _changed(app, clock)
    status, _, body = call(app, "get_portfolio.json", path=AUDIT)
    assert status == 200, body
    actions = [e["action"] for e in body["entries"]]
    assert actions == expected
    assert f"portfolio/{PID}/holding/MSFT" in {e["resource"] for e in body["entries"]}
    assert body["nextCursor"] is None

    status, _, newest = call(app, "get_portfolio.json", path=AUDIT, query={"order": "desc"})
    assert [e["action"] for e in newest["entries"]] == expected[::-1]


def test_the_audit_trail_pages_with_a_cursor(app: Any, clock: FixedClock) -> None:
    expected = _changed(app, clock)
    seen: list[str] = []
    query = {"limit": "2", "order": "desc"}
    pages = 0
    while True:
        status, _, body = call(app, "get_portfolio.json", path=AUDIT, query=query)
        assert status == 200, body
        assert len(body["entries"]) <= 2
        seen.extend(e["eventId"] for e in body["entries"])
        pages += 1
        if body["nextCursor"] is None:
            break
        query = {"limit": "2", "cursor": body["nextCursor"]}
    assert pages == 3
    assert len(seen) == len(set(seen)) == len(expected)


def test_the_audit_trail_is_the_owners_only_and_keeps_a_deleted_portfolios(
    app: Any, clock: FixedClock
) -> None:
    _create(app)
    assert call(app, "get_portfolio.json", path=AUDIT, user="userB")[0] == 404
    clock.advance(timedelta(seconds=1))
    path = f"/portfolios/{PID}"
    status, _, _ = call(app, "delete_portfolio.json", path=path, headers={"If-Match": '"1"'})
    assert status == 204
    status, _, body = call(app, "get_portfolio.json", path=AUDIT)
    assert status == 200
    assert [e["action"] for e in body["entries"]][-1] == "portfolio.deleted"
    assert call(app, "get_portfolio.json", path="/portfolios/nope/audit")[0] == 404


@pytest.mark.parametrize(
    "query",
    [
        {"until": "9999-12-31T23:59:59-23:59"},
        {"since": "0001-01-01T00:00:00+23:59"},
        {"since": "0001-01-01T00:00:00Z"},
        {"until": "2026-11-27T00:00:00"},  # no zone
        {"since": "2026-01-01T00:00:00Z", "until": "2026-11-27T00:00:00Z"},  # > 90 days
        {"until": "2026-01-01T00:00:00Z", "since": "2026-02-01T00:00:00Z"},  # reversed
        {"cursor": "not-a-cursor"},
        {"cursor": base64.urlsafe_b64encode(b'["a","b","c","d","e"]').decode()},
        {"limit": "0"},
        {"limit": "100000"},
        {"order": "sideways"},
    ],
)
def test_audit_ranges_that_overflow_or_break_the_rules_are_400(
    app: Any, query: dict[str, str]
) -> None:
    _create(app)
    status, _, body = call(app, "get_portfolio.json", path=AUDIT, query=query)
    assert status == 400, body
    assert_error_shape(status, body)


def _raw(app: Any, event: str, body: bytes, content_type: str, **changes: Any) -> Any:
    encoded = base64.b64encode(body).decode()
    headers = {"Content-Type": content_type, **changes.pop("headers", {})}
    return call(app, event, raw_body=encoded, headers=headers, base64=True, **changes)


def test_a_body_that_is_not_utf8_is_400(app: Any) -> None:
    for event in ("create_portfolio.json", "import_portfolio.json"):
        status, _, body = _raw(app, event, b'{"name": "\xff\xfe"}', "application/json")
        assert status == 400, (event, body)
        assert_error_shape(status, body)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "", "text/csv"])
def test_a_body_of_another_media_type_is_415(app: Any, content_type: str) -> None:
    status, _, body = call(
        app,
        "create_portfolio.json",
        raw_body='{"name": "x"}',
        headers={"Content-Type": content_type or None},
    )
    assert status == 415, body
    assert body["error"]["code"] == "unsupported_media_type"


def test_import_takes_csv_and_json_only(app: Any) -> None:
    status, _, body = call(
        app, "import_portfolio.json", raw_body="<x/>", headers={"Content-Type": "application/xml"}
    )
    assert status == 415, body


def test_json_nested_10000_deep_is_400(app: Any) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    for event in ("create_portfolio.json", "import_portfolio.json", "simulate_portfolio.json"):
        status, _, body = call(app, event, raw_body='{"name": ' + deep + "}")
        assert status == 400, (event, body)
        assert_error_shape(status, body)


def test_a_number_too_long_to_read_is_400(app: Any) -> None:
    status, _, body = call(app, "create_portfolio.json", raw_body='{"name": ' + "9" * 5000 + "}")
    assert status == 400, body


def test_without_a_session_it_is_401_whatever_was_sent(app: Any) -> None:
    _create(app)
    for event, changes in [
        ("create_portfolio.json", {"raw_body": "{}"}),
        ("create_portfolio.json", {"raw_body": "not json"}),
        ("create_portfolio.json", {"raw_body": "[" * 10_000}),
        ("create_portfolio.json", {"headers": {"Content-Type": "application/xml"}}),
        ("import_portfolio.json", {"raw_body": "\x00\x01"}),
        ("get_portfolio.json", {"path": AUDIT, "query": {"until": "9999-12-31T23:59:59-23:59"}}),
        ("get_portfolio.json", {"path": f"/portfolios/{PID}/allocation", "query": {"by": "x"}}),
        ("simulate_portfolio.json", {"body": {"budget": "lots"}}),
    ]:
        status, _, body = call(app, event, user=None, **changes)
        assert status == 401, (event, changes, body)
        assert_error_shape(status, body)


def test_every_answer_varies_on_origin(app: Any) -> None:
    for event in ("health.json", "list_portfolios.json", "preflight.json"):
        response = app.resolve(_event(event), None)
        vary = (response.get("multiValueHeaders") or {}).get("Vary") or [
            (response.get("headers") or {}).get("Vary", "")
        ]
        assert any("Origin" in v for v in vary), (event, response)


def _event(name: str) -> dict[str, Any]:
    from api_harness import make_event

    return make_event(name)


def test_the_dev_login_refuses_deep_json(tmp_path: Any) -> None:
    from portfoliowise.adapters.memory import InMemorySessionStore
    from portfoliowise.handlers.auth_wiring import build_auth_app, build_auth_service
    from portfoliowise.handlers.settings import AuthSettings

    settings = AuthSettings.from_env({"DEV_LOGIN": "1", "PORTFOLIOWISE_DATA_DIR": str(tmp_path)})
    service = build_auth_service(settings, InMemorySessionStore(), FixedClock(NOW))
    app = build_auth_app(service, settings)
    deep = '{"email": ' + "[" * 10_000 + "]" * 10_000 + "}"
    status, _, body = call(app, "auth_dev_login.json", user=None, raw_body=deep)
    assert status == 400, body
    assert_error_shape(status, body)
