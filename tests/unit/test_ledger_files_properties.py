"""Properties of activities files: this project's JSON export read back is the same
ledger, decimal for decimal; a CSV's refused rows are named by the lines they start on;
the two modes agree; and no input, however malformed, raises anything but a
`ValidationError`."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from portfoliowise.adapters.ledger_files import (
    LedgerRejected,
    read_ledger,
    read_prices,
    write_ledger_json,
)
from portfoliowise.domain.activities import (
    EARLIEST_DAY,
    LATEST_DAY,
    TRADES,
    Activity,
    ActivityType,
)
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.money import Currency

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SYMBOLS = ("7203", "130A", "AAPL", "BRK-B", "0331418A", "VTI", "9984")
CURRENCIES = tuple(Currency.of(code) for code in ("JPY", "USD", "EUR", "GBP", "KRW"))
DECIMAL_FIELDS = ("quantity", "unit_price", "amount", "fees", "taxes", "fx_rate")


def decimals(*, high: int = 10**15, positive: bool = False) -> st.SearchStrategy[Decimal]:
    """Decimals as they are written: digits and an exponent, so that trailing zeros
    (`1.50`), exponents (`1E+3`) and zeros (`0.0`, `0E+2`) all occur."""
    values = st.builds(
        lambda digits, exponent: Decimal(digits).scaleb(exponent),
        st.integers(0, 10**14),
        st.integers(-10, 4),
    )
    return values.filter(lambda d: d <= high and (d > 0 or not positive))


@st.composite
def activity(draw: st.DrawFn, activity_id: str) -> Activity:
    kind = draw(st.sampled_from(list(ActivityType)))
    fields: dict[str, Any] = {
        "activity_id": activity_id,
        "type": kind,
        "day": draw(st.dates(EARLIEST_DAY, LATEST_DAY)),
        "currency": draw(st.sampled_from(CURRENCIES)),
        "fx_rate": draw(st.none() | st.decimals("0.000001", "1000000", places=8)),
        "note": draw(st.none() | st.text(max_size=200)),
    }
    if kind in TRADES:
        fields["quantity"] = draw(decimals(high=10**12, positive=True))
        fields["unit_price"] = draw(decimals(high=10**9))
    elif kind is ActivityType.SPLIT:
        fields["quantity"] = draw(st.sampled_from(["2", "0.1", "1.5", "1000", "0.001"]))
        fields["quantity"] = Decimal(fields["quantity"])
    else:
        fields["amount"] = draw(decimals())
    if kind is not ActivityType.SPLIT:
        fields["fees"] = draw(decimals())
        fields["taxes"] = draw(decimals())
    if kind not in (ActivityType.DEPOSIT, ActivityType.WITHDRAWAL):
        required = kind in (*TRADES, ActivityType.DIVIDEND, ActivityType.SPLIT)
        symbols = st.sampled_from(SYMBOLS)
        fields["symbol"] = draw(symbols if required else st.none() | symbols)
    try:
        return Activity(**fields)
    except ValidationError:
        reject()  # e.g. quantity × price over the amount limit


@st.composite
def ledgers(draw: st.DrawFn) -> list[Activity]:
    ids = draw(st.lists(st.text(min_size=1, max_size=100), max_size=12, unique=True))
    return [draw(activity(i)) for i in ids]


def exact(a: Activity) -> tuple[str, ...]:
    """The decimals as written: `Decimal` equality alone says 1.50 == 1.5."""
    return tuple(str(getattr(a, name)) for name in DECIMAL_FIELDS)


@SETTINGS
@given(ledgers(), st.sampled_from(["JPY", "USD"]), st.sampled_from(["average", "fifo"]))
def test_export_then_import_is_the_identity(
    activities: list[Activity], base: str, method: Any
) -> None:
    text = write_ledger_json(activities, base_currency=base, cost_basis=method)

    result = read_ledger(text.encode(), filename=None, mode="all_or_nothing")

    assert result.activities == tuple(activities)
    assert [exact(a) for a in result.activities] == [exact(a) for a in activities]
    assert (result.base_currency, result.cost_basis) == (Currency.of(base), method)
    assert write_ledger_json(result.activities, base_currency=base, cost_basis=method) == text


# -- CSV line numbers and modes ----------------------------------------------------------
GOOD = ("2024-01-05", "buy", "7203", "100", "2450", "")
BAD = ("2024-01-05", "buy", "7203", "-1", "2450", "")


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, list[int], list[int]]:
    """A CSV of good, bad and blank rows (notes with line breaks and quotes), and the
    lines the good and bad rows start on."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(["date", "type", "symbol", "quantity", "unit_price", "note"])
    line = 2
    good: list[int] = []
    bad: list[int] = []
    kinds = draw(st.lists(st.sampled_from(["good", "bad", "blank"]), max_size=25))
    for kind in kinds:
        if kind == "blank":
            out.write("\n")
            line += 1
            continue
        note = draw(st.text(st.sampled_from('ab\n",ｱ'), max_size=8))
        writer.writerow([*(GOOD if kind == "good" else BAD)[:5], note])
        (good if kind == "good" else bad).append(line)
        line += 1 + note.count("\n")
    return out.getvalue(), good, bad


@SETTINGS
@given(csv_files())
def test_refused_rows_are_named_by_the_line_they_start_on(
    file: tuple[str, list[int], list[int]],
) -> None:
    text, good, bad = file

    result = read_ledger(text.encode("cp932"), filename=None, mode="partial")

    assert len(result.activities) == len(good)
    assert [r.line for r in result.rejected] == bad
    assert result.rows == len(good) + len(bad)


@SETTINGS
@given(csv_files())
def test_all_or_nothing_is_partial_without_refused_rows(
    file: tuple[str, list[int], list[int]],
) -> None:
    text, _good, bad = file
    partial = read_ledger(text.encode(), filename=None, mode="partial")

    if bad:
        with pytest.raises(LedgerRejected) as caught:
            read_ledger(text.encode(), filename=None, mode="all_or_nothing")
        assert caught.value.rejected == partial.rejected
    else:
        assert read_ledger(text.encode(), filename=None, mode="all_or_nothing") == partial


# -- hostile input -----------------------------------------------------------------------
def never_crashes(data: bytes) -> None:
    for mode in ("partial", "all_or_nothing"):
        with contextlib.suppress(ValidationError):
            read_ledger(data, filename="f", mode=mode, opening_date=date(2026, 1, 1))  # type: ignore[arg-type]
    with contextlib.suppress(ValidationError):
        read_prices(data, filename="f", mode="partial")


@SETTINGS
@given(st.binary(max_size=3000))
def test_any_bytes_are_read_or_refused_cleanly(data: bytes) -> None:
    never_crashes(data)


CELLS = st.sampled_from(
    [
        *("date", "type", "symbol", "quantity", "unit_price", "amount", "ticker", "close"),
        *("銘柄コード", "保有数量", "取得単価", "預り区分", "holdings", "2024-01-05", "buy"),
        *("split", "7203", "1", "-1", "1,000", "1e999", "9" * 50, '"', "", "\r", "\n"),
        *(",", "\t"),
    ]
)


@SETTINGS
@given(st.lists(st.lists(CELLS, max_size=8), max_size=12), st.sampled_from(["utf-8", "cp932"]))
def test_any_csv_like_text_is_read_or_refused_cleanly(rows: list[list[str]], enc: str) -> None:
    never_crashes("\n".join(",".join(row) for row in rows).encode(enc))


KEYS = [
    *("type", "symbol", "date", "quantity", "unitPrice", "fee", "currency", "id", "amount"),
    *("ticker", "holdings", "price", "purchasePrice"),
]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["BUY", "DIVIDEND", "ITEM", "7203", "2024-01-05", "GBp", "1E+999"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(KEYS),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@SETTINGS
@given(
    st.sampled_from(["activities", "currentAssets"]),
    st.lists(JSON_VALUES, max_size=5),
    st.sampled_from([{}, {"format": "portfoliowise/activities@1"}, {"meta": {}}]),
)
def test_any_json_document_is_read_or_refused_cleanly(
    key: str, items: list[Any], top: dict[str, Any]
) -> None:
    never_crashes(json.dumps(top | {key: items}).encode())
