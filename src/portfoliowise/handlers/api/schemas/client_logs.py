"""Answers of the client-log route."""

from __future__ import annotations

from portfoliowise.handlers.api.schemas.common import Out


class ClientLogsAcceptedOut(Out):
    """`POST /client-logs`: how many console entries were written."""

    accepted: int
