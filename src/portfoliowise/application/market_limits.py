"""The market requests' limits and the existing app's market types: constants only, so that
what shows them (the client configuration of `web_app`) does not load the market service."""

from __future__ import annotations

from typing import Final

MAX_SYMBOLS: Final = 100
"""Symbols per `get_quotes`/`get_rates` call (`GET /market/quotes` takes at most 100)."""

MAX_HISTORY_DAYS: Final = 366 * 20
"""The longest daily history asked at once."""

LEGACY_MAX_SYMBOLS: Final = 400
"""Symbols of one legacy market-data request, asked of the market in batches of 100: the
app sends a whole portfolio's tickers of one type in one request, and a refusal would make
it fall back on its own made-up prices."""

LEGACY_TYPE_NAMES: Final = ("us-stock", "jp-stock", "mutual-fund", "exchange-rate")
"""The existing app's market types (`/api/market-data?type=`), in its order."""
