"""Answers of the ledger (activities) routes."""

from __future__ import annotations

from pydantic import Field

from portfoliowise.handlers.api.schemas.common import DecimalText, Out


class ActivityOut(Out):
    """One activity of a portfolio's ledger: every field, decimals as strings."""

    id: str
    type: str = Field(
        description="buy, sell, dividend, interest, fee, tax, split, deposit or withdrawal"
    )
    date: str = Field(description="YYYY-MM-DD")
    currency: str
    symbol: str | None
    quantity: DecimalText = Field(description="A trade's shares (fund units); a split's ratio")
    unitPrice: DecimalText = Field(description="Per share; per 10,000 units for a fund")
    amount: DecimalText = Field(description="Income, charge, deposit or withdrawal")
    fees: DecimalText
    taxes: DecimalText
    fxRate: DecimalText | None = Field(
        description="1 unit of `currency` in the portfolio's base currency, as settled"
    )
    note: str | None


class ActivityPageOut(Out):
    portfolioId: str
    version: int
    holdingsSource: str = Field(description="holdings or activities")
    costBasis: str = Field(description="average or fifo")
    total: int = Field(description="The portfolio's activities, all pages")
    activities: list[ActivityOut]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page")


class ActivitiesChangedOut(Out):
    portfolioId: str
    version: int = Field(description="The portfolio's version after the change (also ETag)")
    holdingsSource: str
    activities: list[ActivityOut] = Field(description="The activities added")


class RejectedRowOut(Out):
    line: int = Field(description="1-based, as a spreadsheet or an editor shows it")
    reason: str
    code: str


class ActivitiesImportOut(Out):
    portfolioId: str
    version: int
    holdingsSource: str
    batchId: str = Field(
        description="sha256 of the portfolio id, the read options and the file: importing "
        "the same file again adds nothing"
    )
    sha256: str = Field(description="The file's")
    format: str
    encoding: str
    rows: int = Field(description="Data rows (CSV) or items (JSON) read")
    imported: int
    duplicates: int = Field(description="The file's activities the portfolio already had")
    alreadyImported: bool
    rejectedCount: int
    rejected: list[RejectedRowOut] = Field(
        description="partial mode: the rows not imported (the first 1,000)"
    )
