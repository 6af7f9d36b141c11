"""Other Lambda functions of this app, called directly (not through the API)."""

from portfoliowise.adapters.functions.market_warmer import (
    WARM_REQUEST,
    InvokedMarketWarmer,
    lambda_client,
)

__all__ = ["WARM_REQUEST", "InvokedMarketWarmer", "lambda_client"]
