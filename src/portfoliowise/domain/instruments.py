"""Instruments: parse and normalise user symbols into (code, market).

Canonical codes (the part before `#` in the cache key `symbol#market`):
- Tokyo stocks: `7203`, alphanumeric codes such as `130A` (from `7203`, `7203.T`, `7203.JP`)
- US stocks and ETFs: `AAPL`, `BRK-B` (from `BRK.B`, `BRK/B`, `brk-b`, `AAPL.US`)
- Japanese mutual funds: 8-character association codes such as `0331418A`
- FX pairs: `USD-JPY` (from `USDJPY`, `USDJPY=X`, `USD/JPY`, Yahoo's `JPY=X`)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from portfoliowise.domain.errors import UnknownSymbolError
from portfoliowise.domain.money import JPY, USD, Currency


class Market(StrEnum):
    JP = "JP"  # Tokyo Stock Exchange
    US = "US"  # NYSE / Nasdaq / NYSE Arca
    FUND = "FUND"  # Japanese publicly offered investment trusts (投資信託)
    FX = "FX"


# JPX's alphanumeric codes put letters in the 2nd and/or 4th place, never B E I O Q V Z.
_TSE_LETTER = "0-9ACDFGHJKLMNPRSTUWXY"
_TOKYO = re.compile(rf"^[0-9][{_TSE_LETTER}][0-9][{_TSE_LETTER}]$")
_TOKYO_SUFFIXES = (".T", ".JP", ".TYO", ".JT")
_US = re.compile(r"^([A-Z]{1,5})(?:[.\-/]([A-Z]{1,2}))?$")
_FUND = re.compile(r"^(?=[0-9A-Z]*[0-9])[0-9A-Z]{8}$")
_FX = re.compile(r"^([A-Z]{3})[-/]?([A-Z]{3})(?:=X)?$")
_FX_YAHOO_USD = re.compile(r"^([A-Z]{3})=X$")  # Yahoo: JPY=X is USD-JPY

TOKYO_LOT = Decimal(100)
FUND_PRICE_UNIT = Decimal(10000)  # 基準価額 is quoted per 10,000 units (口)
FRACTIONAL_SHARE_STEP = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    market: Market

    @property
    def symbol(self) -> str:
        """The canonical symbol users see and that keys holdings and targets."""
        return self.code

    @property
    def cache_key(self) -> str:
        return f"{self.code}#{self.market.value}"

    @property
    def currency(self) -> Currency:
        if self.market is Market.US:
            return USD
        if self.market is Market.FX:
            return Currency.of(self.code[4:])
        return JPY

    @property
    def price_unit(self) -> Decimal:
        """How many units one quoted price buys: 10,000 for funds, 1 otherwise."""
        return FUND_PRICE_UNIT if self.market is Market.FUND else Decimal(1)

    @property
    def bought_by_amount(self) -> bool:
        """Funds are bought for an amount of money, not a number of shares."""
        return self.market is Market.FUND

    def lot_size(self, allow_fractional: bool = False) -> Decimal:
        """The smallest tradable quantity step: 100 shares in Tokyo, 1 US share (or a
        0.0001 fraction where the portfolio allows fractional shares), 1 fund unit."""
        if self.market is Market.JP:
            return TOKYO_LOT
        if self.market is Market.US:
            return FRACTIONAL_SHARE_STEP if allow_fractional else Decimal(1)
        return Decimal(1)

    @property
    def yahoo_symbol(self) -> str | None:
        if self.market is Market.JP:
            return f"{self.code}.T"
        if self.market is Market.US:
            return self.code
        if self.market is Market.FX:
            return f"{self.code[:3]}{self.code[4:]}=X"
        return None

    def value_of(self, quantity: Decimal, price: Decimal) -> Decimal:
        return price * quantity / self.price_unit

    def __str__(self) -> str:
        return self.code


def parse_symbol(raw: str) -> Instrument:
    """Parse any accepted spelling; raise `UnknownSymbolError` naming the symbol. The
    instruments of the spellings seen last are remembered (an `Instrument` is immutable):
    a valuation parses each of its symbols several times."""
    if not isinstance(raw, str):
        raise UnknownSymbolError(str(raw), "empty symbol")
    return _parse_symbol(raw)


@lru_cache(maxsize=16_384)
def _parse_symbol(raw: str) -> Instrument:
    if not raw.strip():
        raise UnknownSymbolError(str(raw), "empty symbol")
    text = raw.strip().upper()
    if len(text) > 16:
        raise UnknownSymbolError(raw, "too long")

    for suffix in _TOKYO_SUFFIXES:
        if text.endswith(suffix):
            code = text[: -len(suffix)]
            if _TOKYO.match(code):
                return Instrument(code, Market.JP)
            raise UnknownSymbolError(raw, "not a Tokyo stock code (4 characters, e.g. 7203, 130A)")
    if _TOKYO.match(text):
        return Instrument(text, Market.JP)

    if _FUND.match(text):
        return Instrument(text, Market.FUND)

    fx = _FX.match(text)
    if fx and Currency.is_known(fx.group(1)) and Currency.is_known(fx.group(2)):
        if fx.group(1) == fx.group(2):
            raise UnknownSymbolError(raw, "an FX pair needs two different currencies")
        return Instrument(f"{fx.group(1)}-{fx.group(2)}", Market.FX)
    yahoo_fx = _FX_YAHOO_USD.match(text)
    if yahoo_fx and Currency.is_known(yahoo_fx.group(1)) and yahoo_fx.group(1) != "USD":
        return Instrument(f"USD-{yahoo_fx.group(1)}", Market.FX)

    us_text = text[:-3] if text.endswith(".US") else text
    us = _US.match(us_text)
    if us:
        code = us.group(1) if us.group(2) is None else f"{us.group(1)}-{us.group(2)}"
        return Instrument(code, Market.US)

    raise UnknownSymbolError(raw)


def normalise_symbol(raw: str) -> str:
    return parse_symbol(raw).symbol


def instrument_from_cache_key(key: str) -> Instrument:
    code, sep, market = key.partition("#")
    if not sep:
        raise UnknownSymbolError(key, "cache key must be symbol#market")
    try:
        wanted = Market(market)
    except ValueError:
        raise UnknownSymbolError(key, f"unknown market {market!r}") from None
    instrument = parse_symbol(code)
    if instrument.market is not wanted:
        raise UnknownSymbolError(key, f"{code} is not a {wanted.value} symbol")
    return instrument
