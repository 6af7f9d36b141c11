"""Answers of the existing web app's configuration and subscription routes."""

from __future__ import annotations

from pydantic import Field

from portfoliowise.handlers.api.schemas.common import ErrorDetail, Out


class LimitsOut(Out):
    """The limits the API enforces."""

    maxHoldings: int
    maxTargets: int
    maxPortfolioNameLength: int
    maxTextLength: int
    maxDecimalPlaces: int
    maxQuoteSymbols: int
    maxMarketDataSymbols: int
    maxHistoryDays: int
    maxRequestBodyBytes: int


class ClientFeaturesOut(Out):
    useProxy: bool
    useMockApi: bool
    useDirectApi: bool
    googleDrive: bool
    billing: bool


class CacheTimeOut(Out):
    marketData: int = Field(description="Seconds a price is served from the cache")


class ClientConfigData(Out):
    apiVersion: str
    marketDataApiUrl: str
    apiStage: str
    googleClientId: str
    features: ClientFeaturesOut
    limits: LimitsOut
    supportedMarkets: list[str]
    cacheTime: CacheTimeOut


class ClientConfigOut(Out):
    success: bool
    data: ClientConfigData


class SubscriptionStatusData(Out):
    planType: str = Field(description="Always free: there is no billing")
    limits: LimitsOut
    subscription: None
    hasStripeCustomer: bool


class SubscriptionStatusOut(Out):
    success: bool
    data: SubscriptionStatusData


class NotAvailableOut(Out):
    """A feature this deployment does not offer, in the existing app's failure shape (a
    2xx answer with `success: false`, the only one whose `message` the app shows)."""

    success: bool
    error: ErrorDetail
    message: str
    errorCode: str
