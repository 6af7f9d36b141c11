"""Market reference data beyond quotes: daily history and the Tokyo symbol master."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class DailyClose:
    day: date
    close: Decimal
    volume: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DailyHistory:
    symbol: str
    currency: str
    closes: tuple[DailyClose, ...]  # oldest first, one per trading day
    source: str


@dataclass(frozen=True, slots=True)
class ListedIssue:
    """One row of JPX's listed-issues file (東証上場銘柄一覧)."""

    code: str  # 7203, 130A
    name: str
    segment: str  # 市場・商品区分, e.g. プライム（内国株式）
    sector33_code: str | None
    sector33: str | None  # 33業種区分
    sector17_code: str | None
    sector17: str | None  # 17業種区分
