"""Request models of the HTTP API (pydantic at the edge). Field names are the camelCase
of the JSON; amounts, quantities and percentages are decimal strings (numbers are accepted
on the way in). The domain checks the rules; these models check the shapes.

The limits (largest quantity and amount, decimal places, text lengths, how many holdings
and targets) are the domain's (`domain.limits`), checked by its constructors as for an
import, the CLI or a restored backup: they are not repeated here, so that `POST
/portfolios` refuses a value with the same `out_of_range` error as `POST
/portfolios/import`. The descriptions quote them for the OpenAPI document."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from portfoliowise.domain.limits import (
    MAX_AMOUNT,
    MAX_DECIMAL_PLACES,
    MAX_HOLDINGS,
    MAX_NAME_LENGTH,
    MAX_QUANTITY,
    MAX_TARGETS,
    MAX_TEXT_LENGTH,
)

MAX_SYMBOLS_PER_REQUEST = 100

_PLACES = f"at most {MAX_DECIMAL_PLACES} decimal places"
Quantity = Annotated[
    Decimal,
    Field(allow_inf_nan=False, description=f"0 to {MAX_QUANTITY:,f}, {_PLACES}"),
]
Amount = Annotated[
    Decimal,
    Field(allow_inf_nan=False, description=f"0 to {MAX_AMOUNT:,f}, {_PLACES}"),
]
Percent = Annotated[Decimal, Field(allow_inf_nan=False, description=f"0 to 100, {_PLACES}")]
Symbol = Annotated[str, Field(min_length=1, max_length=32)]
CurrencyCode = Annotated[str, Field(min_length=3, max_length=3)]
Text = Annotated[str, Field(description=f"at most {MAX_TEXT_LENGTH} characters")]


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
    quantity: Quantity
    asset_class: Text | None = None
    currency: CurrencyCode | None = None
    cost_basis: MoneyIn | None = None
    sector: Text | None = None
    region: Text | None = None
    name: Text | None = None


class PortfolioIn(CamelModel):
    """`POST /portfolios`."""

    name: Annotated[str, Field(min_length=1, description=f"at most {MAX_NAME_LENGTH} characters")]
    base_currency: CurrencyCode = "JPY"
    allow_fractional: bool = False
    holdings: Annotated[
        list[HoldingIn], Field(description=f"at most {MAX_HOLDINGS:,} holdings")
    ] = []
    targets: Annotated[
        dict[Symbol, Percent], Field(description=f"at most {MAX_TARGETS:,} targets")
    ] = {}


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
