"""Answers of the existing web app's portfolio routes (`/api/portfolio`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from portfoliowise.handlers.api.schemas.common import Out


class WebAppAssetOut(BaseModel):
    """One of the existing web app's holdings, every field as the app last sent it (`id`,
    `name`, `price`, `source`, `lastUpdated`, `fundType`, `annualFee`, `feeSource`,
    `feeIsEstimated`, `dividendYield`, `hasDividend`, `dividendFrequency`,
    `dividendIsEstimated`, `isStock`, `isMutualFund`, `purchasePrice`, `purchaseDate`,
    `symbol`, `region`, ...; numbers are JSON numbers with their digits). `ticker`,
    `holdings` (shares; lots of 10,000 units for a fund), `currency`, `name` and `region`
    are the portfolio's own values. `price` is the app's own snapshot, never our quote."""

    model_config = ConfigDict(extra="allow", defer_build=True)  # as `Out`

    ticker: str


class WebAppTargetOut(BaseModel):
    """One of the existing web app's targets (`id`, `ticker`, `name`, `targetPercentage`),
    as the app last sent it; `targetPercentage` is the portfolio's target whenever the
    portfolio has targets."""

    model_config = ConfigDict(extra="allow", defer_build=True)  # as `Out`

    ticker: str


class WebAppBudgetOut(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)  # as `Out`

    amount: float = Field(description="A JSON number with exactly its digits")
    currency: str


class WebAppPortfolioData(Out):
    currentAssets: list[WebAppAssetOut]
    targetPortfolio: list[WebAppTargetOut]
    baseCurrency: str
    exchangeRate: Any = Field(
        description="The app's own `{rate, source, lastUpdated, isDefault?, isStale?}` as it "
        "last sent it (null when it has not): never a rate we convert with"
    )
    additionalBudget: WebAppBudgetOut | None
    aiPromptTemplate: str | None
    version: int = Field(description="Send it back with the next PUT")
    updatedAt: datetime


class WebAppPortfolioOut(Out):
    """`GET /api/portfolio`: `data` is null when the user has no portfolio yet."""

    success: bool
    data: WebAppPortfolioData | None


class WebAppSavedData(Out):
    version: int
    updatedAt: datetime


class WebAppSavedOut(Out):
    success: bool
    data: WebAppSavedData


class WebAppConflictDetails(Out):
    serverVersion: int | None = Field(description="The version stored now")


class WebAppConflictDetail(Out):
    code: str = Field(description="VERSION_CONFLICT")
    message: str
    userFriendly: bool = Field(
        description="Always true: the existing app passes such an error on as it is"
    )
    details: WebAppConflictDetails


class WebAppConflictOut(Out):
    """The existing app's version conflict (409)."""

    success: bool
    error: WebAppConflictDetail
    message: str
