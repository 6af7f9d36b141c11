"""Helpers of the auth integration tests: the auth resolver wired from configuration as the
auth Lambda and the local server wire it, and recorded API Gateway proxy events
(`tests/events/auth_*.json`) adapted per test."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from fake_google import FakeGoogle

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.memory import InMemorySessionStore
from portfoliowise.application.auth import AuthService

EVENTS = Path(__file__).resolve().parents[2] / "events"
NOW = datetime.now(UTC).replace(microsecond=0)  # ID tokens are checked against real time


def recorded_event(
    name: str,
    *,
    headers: Mapping[str, str | None] | None = None,
    body: Any = ...,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """A recorded proxy event with headers replaced (None removes one), another JSON body,
    or another `requestContext.identity.sourceIp`."""
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / name).read_text("utf-8")))
    for key, value in (headers or {}).items():
        for existing in [k for k in event["headers"] if k.lower() == key.lower()]:
            del event["headers"][existing]
            del event["multiValueHeaders"][existing]
        if value is not None:
            event["headers"][key] = value
            event["multiValueHeaders"][key] = [value]
    if body is not ...:
        event["body"] = None if body is None else json.dumps(body)
    if source_ip is not None:
        event["requestContext"]["identity"]["sourceIp"] = source_ip
    return event


def set_cookie(response: Mapping[str, Any], name: str = "__Host-session") -> str:
    """The one `Set-Cookie` of cookie `name` (a sign-in also sets `__Host-refresh`)."""
    cookies = [
        c for c in response["multiValueHeaders"].get("Set-Cookie", []) if c.startswith(name + "=")
    ]
    assert len(cookies) == 1, cookies
    return str(cookies[0])


def cookie_pair(response: Mapping[str, Any], name: str = "__Host-session") -> str:
    """`<name>=<value>`, as the browser sends it back."""
    return set_cookie(response, name).split(";")[0]


def cookies_of(response: Mapping[str, Any]) -> str:
    """Every cookie the response sets, as one `Cookie` header (what the browser sends)."""
    pairs = [c.split(";")[0] for c in response["multiValueHeaders"].get("Set-Cookie", [])]
    return "; ".join(p for p in pairs if not p.endswith("="))


def body_of(response: Mapping[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


@dataclass
class AuthApp:
    app: APIGatewayRestResolver
    service: AuthService
    google: FakeGoogle
    sessions: InMemorySessionStore
    clock: FixedClock

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.app.resolve(event, None)


BuildApp = Callable[..., AuthApp]
