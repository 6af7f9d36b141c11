"""Importing a portfolio from a file (this project's JSON, the existing app's export, CSV)
and exporting one (JSON or CSV). Reading and writing the formats is an adapter's
(`PortfolioFiles`); these use cases store what was read like any created portfolio (audit
entry and events included), and read what is exported from the owner's portfolios only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from portfoliowise.application.portfolio_commands import PortfolioPorts, create_portfolio
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.ports import PortfolioRepository

JSON = "json"
CSV = "csv"
FORMATS = (JSON, CSV)
DEFAULT_NAME = "Imported portfolio"


@dataclass(frozen=True, slots=True)
class ExportedFile:
    media_type: str
    filename: str
    text: str


class PortfolioFormats(Protocol):
    def read(
        self, text: str, *, format: str, name: str | None, currency: str | None, at: datetime
    ) -> Portfolio:
        """The portfolio a file describes (its user and ids are placeholders). Raises
        `ValidationError` (a `FileFormatError`) naming what is wrong and where."""
        ...

    def write(self, portfolio: Portfolio, *, format: str) -> ExportedFile: ...


def import_portfolio(
    ports: PortfolioPorts,
    formats: PortfolioFormats,
    *,
    user_id: str,
    text: str,
    format: str,
    context: RequestContext,
    name: str | None = None,
    currency: str | None = None,
) -> Portfolio:
    """Create a portfolio of `user_id` from a file: `format` is json (either JSON format)
    or csv; `name` overrides the file's, `currency` values a CSV portfolio."""
    if format not in FORMATS:
        raise ValidationError(f"format must be one of {', '.join(FORMATS)}")
    source = formats.read(text, format=format, name=name, currency=currency, at=ports.clock.now())
    return create_portfolio(
        ports,
        user_id=user_id,
        name=name or source.name,
        base_currency=source.base_currency,
        context=context,
        holdings=source.holdings,
        targets=source.targets or None,
        allow_fractional=source.allow_fractional,
        additional_budget=source.additional_budget,
        ai_prompt_template=source.ai_prompt_template,
        attributes=source.attributes,
    )


def export_portfolio(
    repository: PortfolioRepository,
    formats: PortfolioFormats,
    *,
    user_id: str,
    portfolio_id: str,
    format: str,
) -> ExportedFile:
    if format not in FORMATS:
        raise ValidationError(f"format must be one of {', '.join(FORMATS)}")
    return formats.write(repository.get(user_id, portfolio_id), format=format)
