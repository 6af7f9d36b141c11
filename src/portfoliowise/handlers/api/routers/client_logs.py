"""`POST /client-logs`: the web app's console entries, signed in only (the request guard).

The body is `{"entries": [{"level", "message", "url", "timestamp"}, ...]}`: level one of the
console's `log`, `info`, `warn`, `error`, `debug`; `timestamp` ISO-8601 text
(`new Date().toISOString()`) or epoch milliseconds (`Date.now()`). The existing web app
(its `utils/logger.ts`) only wraps `console`, it ships nothing yet: this is the shape its
shipper sends. Caps and the per-session rate are `application.client_logs`'s; the answer is
202 `{"accepted": n}`."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request
from pydantic import BaseModel, ConfigDict, Field

from portfoliowise.application.auth import session_cookie_value, session_hash
from portfoliowise.application.client_logs import (
    MAX_MESSAGE_CHARS,
    MAX_URL_CHARS,
    ClientLogEntry,
    ClientLogs,
)
from portfoliowise.domain.signals import subject_of
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.access import body_bytes
from portfoliowise.handlers.api.schemas.client_logs import ClientLogsAcceptedOut
from portfoliowise.handlers.api.schemas.common import errors, ok

TAG = "portfolios"  # the tag names the function that serves it
PATH = "/client-logs"

router = Router()  # type: ignore[no-untyped-call]

User = Annotated[str, Depends(deps.current_user)]
Logs = Annotated[ClientLogs, Depends(deps.client_logs)]


class ClientLogEntryIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    level: Literal["log", "info", "warn", "error", "debug"]
    message: str = Field(max_length=MAX_MESSAGE_CHARS)
    url: str = Field(default="", max_length=MAX_URL_CHARS)
    timestamp: Annotated[str, Field(max_length=64)] | int | float


class ClientLogBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[ClientLogEntryIn]


def session_key(request: Request, user: str) -> str:
    """The rate limit's key: a hash of the caller's session (cookie or bearer token)."""
    headers = request.resolved_event.headers
    session = session_cookie_value(headers.get("Cookie"))
    if session:
        return session_hash(session)
    bearer = headers.get("Authorization") or ""
    if bearer:
        return hashlib.sha256(bearer.encode("utf-8")).hexdigest()
    return subject_of(user)


@router.post(
    PATH,
    summary="The web app's console entries",
    description="A batch of console entries, written without secrets to the application "
    "log (CloudWatch `/custom/application`; `client.log` locally) with the user's hashed "
    "id. Too many entries or bytes: 413; too many batches of one session a minute: 429.",
    tags=[TAG],
    responses={202: ok(ClientLogsAcceptedOut, "Written"), **errors(401, 403, 413, 415, 429)},
)
def post_client_logs(
    body: ClientLogBatchIn, request: Request, user: User, logs: Logs
) -> Response[str]:
    entries = [
        ClientLogEntry(
            level=e.level,
            message=e.message,
            url=e.url,
            timestamp=e.timestamp if isinstance(e.timestamp, str) else f"{e.timestamp:.0f}",
        )
        for e in body.entries
    ]
    accepted = logs.accept(
        user_id=user,
        session_key=session_key(request, user),
        entries=entries,
        body_bytes=len(body_bytes(request.resolved_event)),
    )
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=ClientLogsAcceptedOut(accepted=accepted).model_dump_json(),
    )
