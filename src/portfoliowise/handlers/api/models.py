"""Request models of the HTTP API (pydantic at the edge). Field names are the camelCase
of the JSON; amounts, quantities and percentages are decimal strings (numbers are accepted
on the way in). The domain checks the rules; these models check the shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

MAX_SYMBOLS_PER_REQUEST = 100
MAX_HOLDINGS_PER_REQUEST = 10_000
LIMIT = Decimal(10) ** 15  # quantities and amounts stay well inside Decimal's 28 digits

Amount = Annotated[
    Decimal,
    Field(allow_inf_nan=False, max_digits=25, decimal_places=10, gt=-LIMIT, lt=LIMIT),
]
Percent = Annotated[
    Decimal, Field(allow_inf_nan=False, max_digits=12, decimal_places=6, ge=0, le=100)
]
Symbol = Annotated[str, Field(min_length=1, max_length=32)]
CurrencyCode = Annotated[str, Field(min_length=3, max_length=3)]
Text = Annotated[str, Field(max_length=200)]


class CamelModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class MoneyIn(CamelModel):
    amount: Amount
    currency: CurrencyCode


class HoldingIn(CamelModel):
    model_config = ConfigDict(extra="ignore")  # accepts the holdings GET returns (market…)

    symbol: Symbol
    quantity: Amount
    asset_class: Text | None = None
    currency: CurrencyCode | None = None
    cost_basis: MoneyIn | None = None
    sector: Text | None = None
    region: Text | None = None
    name: Text | None = None


class PortfolioIn(CamelModel):
    """`POST /portfolios`."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    base_currency: CurrencyCode = "JPY"
    allow_fractional: bool = False
    holdings: Annotated[list[HoldingIn], Field(max_length=MAX_HOLDINGS_PER_REQUEST)] = []
    targets: Annotated[dict[Symbol, Percent], Field(max_length=MAX_HOLDINGS_PER_REQUEST)] = {}


class PortfolioReplace(PortfolioIn):
    """`PUT /portfolios/{id}`: the representation `GET` returns (its read-only fields are
    ignored), with the version it was read at here or in `If-Match`."""

    model_config = ConfigDict(extra="ignore")

    version: Annotated[int, Field(ge=0)] | None = None


class SimulateIn(CamelModel):
    """`POST /portfolios/{id}/simulate`: plan an additional investment of `budget`."""

    budget: MoneyIn
    mode: Literal["buy", "rebalance"] = "buy"
    tolerance: Percent = Decimal(5)
