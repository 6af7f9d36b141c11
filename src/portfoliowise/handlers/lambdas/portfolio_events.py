"""The portfolio context's domain events as EventBridge delivers them to the scheduled
function (`detail` = `{eventId, occurredAt, userId, portfolioId, ...}`), parsed with
Powertools' parser. A module of its own, imported on the first such event: the parser and
pydantic are most of what the scheduled function would otherwise load at its start, and
its cron runs never use them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict


class PortfolioEventDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    eventId: str  # the wire's camelCase names
    userId: str
    portfolioId: str


class PortfolioEvent(EventBridgeModel):
    detail: PortfolioEventDetail


def parse_portfolio_event(event: dict[str, Any]) -> PortfolioEvent:
    envelope: PortfolioEvent = parse(event=event, model=PortfolioEvent)
    return envelope
