"""The portfolio file formats behind import and export (`PortfolioFormats` of
`application.portfolio_io`): this project's JSON and the existing app's export (told apart
by their fields), and CSV. Every value read goes through the domain's constructors, so a
file meets the same limits as `POST /portfolios`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from portfoliowise.adapters.json_text import load_json
from portfoliowise.adapters.portfolio_csv import csv_document, portfolio_to_csv
from portfoliowise.adapters.portfolio_files import (
    PORTFOLIO_FORMAT,
    FileFormatError,
    parse_portfolio_document,
)
from portfoliowise.application.portfolio_io import CSV, DEFAULT_NAME, ExportedFile
from portfoliowise.domain.money import Currency
from portfoliowise.domain.portfolio import Portfolio

JSON_TYPE = "application/json"
CSV_TYPE = "text/csv; charset=utf-8"


class PortfolioFiles:
    def read(
        self, text: str, *, format: str, name: str | None, currency: str | None, at: datetime
    ) -> Portfolio:
        default_name = name or DEFAULT_NAME
        if format == CSV:
            base = Currency.of(currency or "JPY").code
            data: Any = csv_document(text, name=default_name, base_currency=base)
        else:
            data = load_json(text)
            if not isinstance(data, dict):
                raise FileFormatError("a portfolio file is a JSON object")
        return parse_portfolio_document(data, at=at, default_name=default_name).portfolio

    def write(self, portfolio: Portfolio, *, format: str) -> ExportedFile:
        filename = f"portfolio-{portfolio.portfolio_id}.{format}"
        if format == CSV:
            return ExportedFile(CSV_TYPE, filename, portfolio_to_csv(portfolio))
        document = {"format": PORTFOLIO_FORMAT, **portfolio.to_json()}
        document.pop("userId", None)
        return ExportedFile(JSON_TYPE, filename, json.dumps(document, ensure_ascii=False))
