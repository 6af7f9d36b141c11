"""The `--demo` price source: the bundled sample quotes (`examples/quotes.sample.json`),
last in the chain so that the local server is usable with no internet. Every quote it
gives says `source: "sample"`: these are illustrative numbers, never market prices; and
`status: "cached"` with the file's `asOf`, whatever the file says: a price read from a
file is never live."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path

from portfoliowise.adapters.portfolio_files import QuoteSnapshot, load_quotes
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import Instrument
from portfoliowise.domain.money import Currency
from portfoliowise.domain.quotes import Quote, QuoteStatus

SAMPLE = "sample"


def examples_dir() -> Path:
    """The bundled examples (portfolio and sample quotes), inside the package."""
    return Path(str(resources.files("portfoliowise") / "examples"))


def load_sample(path: Path | None = None) -> QuoteSnapshot:
    return load_quotes(path or examples_dir() / "quotes.sample.json")


class SampleQuoteSource:
    live = False  # recorded prices: never `live` (the market service keeps them `cached`)
    name = SAMPLE

    def __init__(self, snapshot: QuoteSnapshot | None = None) -> None:
        sample = snapshot or load_sample()
        self._quotes = {
            symbol: replace(
                quote,
                status=QuoteStatus.CACHED,
                source=SAMPLE,
                as_of=sample.as_of or quote.as_of,
            )
            for symbol, quote in sample.quotes.items()
        }

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        return {i.symbol: self._quotes[i.symbol] for i in instruments if i.symbol in self._quotes}


class SampleFxSource:
    live = False
    name = SAMPLE

    def __init__(self, snapshot: QuoteSnapshot | None = None) -> None:
        sample = snapshot or load_sample()
        self._rates = [
            replace(rate, source=SAMPLE, as_of=sample.as_of or rate.as_of) for rate in sample.rates
        ]

    def fetch_rates(self, pairs: Sequence[tuple[Currency, Currency]]) -> list[FxRate]:
        wanted = set(pairs)
        found = [r for r in self._rates if (r.base, r.quote) in wanted]
        found += [r.inverse() for r in self._rates if (r.quote, r.base) in wanted]
        return found
