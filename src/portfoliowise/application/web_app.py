"""What the existing web app asks of this deployment besides portfolios and prices: its
client configuration, the usage limits, and the signed-in user's plan.

The limits are the ones the product enforces (`domain.limits`, the market service's batch
size, the request body limit), never numbers made up for the app. There is no billing:
every user is on the free plan, with no subscription and no payment customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from portfoliowise.application.market_limits import (
    LEGACY_MAX_SYMBOLS,
    LEGACY_TYPE_NAMES,
    MAX_HISTORY_DAYS,
    MAX_SYMBOLS,
)
from portfoliowise.domain import limits
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR

FREE_PLAN: Final = "free"


@dataclass(frozen=True, slots=True)
class UsageLimits:
    """What a user may store and ask, as enforced."""

    max_holdings: int = limits.MAX_HOLDINGS
    max_targets: int = limits.MAX_TARGETS
    max_portfolio_name_length: int = limits.MAX_NAME_LENGTH
    max_text_length: int = limits.MAX_TEXT_LENGTH
    max_decimal_places: int = limits.MAX_DECIMAL_PLACES
    max_quote_symbols: int = MAX_SYMBOLS
    max_market_data_symbols: int = LEGACY_MAX_SYMBOLS
    max_history_days: int = MAX_HISTORY_DAYS
    max_request_body_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """The deployment's public configuration (`GET /config/client`)."""

    api_version: str
    google_client_id: str
    limits: UsageLimits
    supported_markets: tuple[str, ...] = LEGACY_TYPE_NAMES
    market_data_fresh_seconds: int = int(QUOTE_FRESH_FOR.total_seconds())
    google_drive: bool = False
    billing: bool = False


@dataclass(frozen=True, slots=True)
class SubscriptionStatus:
    """A user's plan: always the free plan, with no subscription and no payment customer
    (there is no billing)."""

    user_id: str
    limits: UsageLimits
    plan_type: str = FREE_PLAN
    has_payment_customer: bool = False


def client_config(
    *, api_version: str, google_client_id: str, max_request_body_bytes: int
) -> ClientConfig:
    return ClientConfig(
        api_version=api_version,
        google_client_id=google_client_id,
        limits=UsageLimits(max_request_body_bytes=max_request_body_bytes),
    )


def subscription_status(config: ClientConfig, user_id: str) -> SubscriptionStatus:
    """The plan of `user_id`: the free plan, with the deployment's limits."""
    return SubscriptionStatus(user_id=user_id, limits=config.limits)
