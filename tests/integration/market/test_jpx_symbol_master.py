"""JPX's listed-issues file as the Tokyo symbol master: the real .xls layout (numbers as
floats, alphanumeric codes as text, `-` for none), the same columns as CSV, lookups by
any spelling of a code, and the JSON table the scheduled refresh keeps in the blob store.

`data_j.xls` was written with xlwt (see tests/fixtures/market/make_jpx_fixture.py)."""

from __future__ import annotations

import pytest
from recorded_http import TRANSPORT_FAILURES, Answer, Recorder, body, fixture, raw

from portfoliowise.adapters.market.jpx import (
    BLOB_KEY,
    JPX_URL,
    JpxSymbolMaster,
    refresh_listed_issues,
)
from portfoliowise.adapters.memory import InMemoryBlobStore
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable, ValidationError
from portfoliowise.domain.market import ListedIssue
from portfoliowise.domain.ports import SymbolMaster

TOYOTA = ListedIssue(
    code="7203",
    name="トヨタ自動車",
    segment="プライム（内国株式）",
    sector33_code="3700",
    sector33="輸送用機器",
    sector17_code="6",
    sector17="自動車・輸送機",
)


def xls_master() -> JpxSymbolMaster:
    return JpxSymbolMaster.load(fixture("data_j.xls"))


def test_the_xls_is_read() -> None:
    master = xls_master()
    assert len(master) == 10
    assert master.as_of is not None
    assert master.as_of.isoformat() == "2026-10-31"
    assert master.lookup("7203") == TOYOTA
    # Alphanumeric codes are text cells; names keep JPX's full-width spelling.
    issue = master.lookup("130A")
    assert issue is not None
    assert issue.name == "Ｖｅｒｉｔａｓ\u3000Ｉｎ\u3000Ｓｉｌｉｃｏ"
    assert (issue.segment, issue.sector33_code, issue.sector33) == (
        "グロース（内国株式）",
        "3250",
        "医薬品",
    )


def test_dashes_mean_no_sector() -> None:
    etf = xls_master().lookup("1305")
    assert etf is not None
    assert etf.segment == "ETF・ETN"
    assert (etf.sector33_code, etf.sector33, etf.sector17_code, etf.sector17) == (
        None,
        None,
        None,
        None,
    )


def test_codes_are_looked_up_in_any_spelling() -> None:
    master: SymbolMaster = xls_master()
    for spelling in ("7203", "7203.T", "7203.jp", " 7203 "):
        assert master.lookup(spelling) == TOYOTA
    assert master.lookup("130a") is not None
    assert master.lookup("9999") is None
    assert "7203.T" in xls_master()
    assert "9999" not in xls_master()


def test_the_csv_reads_the_same_as_the_xls() -> None:
    assert list(JpxSymbolMaster.load(fixture("data_j.csv"))) == list(xls_master())


def test_a_shift_jis_csv_is_read_too() -> None:
    data = fixture("data_j.csv").decode("utf-8").encode("cp932")
    assert JpxSymbolMaster.load(data).lookup("8306") == xls_master().lookup("8306")


def test_title_rows_above_the_header_are_skipped() -> None:
    text = "東証上場銘柄一覧（2026年10月末）\r\n" + fixture("data_j.csv").decode("utf-8")
    assert len(JpxSymbolMaster.load(text.encode("utf-8"))) == 10


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body>Not Found</body></html>",
        b"PK\x03\x04 an xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 then nothing an xls needs",
        "コード,名前\r\n7203,トヨタ\r\n".encode(),
        b"\x81\xff\xfe",
        b"",
    ],
    ids=["html", "xlsx", "corrupt-xls", "other-columns", "undecodable", "empty"],
)
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(ValidationError, match="JPX"):
        JpxSymbolMaster.load(data)


def test_the_table_round_trips_through_the_blob_store() -> None:
    store = InMemoryBlobStore()
    master = xls_master()
    master.save(store)
    assert store.list("reference/jpx/") == [BLOB_KEY] == ["reference/jpx/listed-issues.json"]
    again = JpxSymbolMaster.read(store)
    assert list(again) == list(master)
    assert again.as_of == master.as_of
    assert "トヨタ自動車".encode() in store.get(BLOB_KEY)  # compact UTF-8, not \\u escapes


def test_reading_before_the_first_refresh_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        JpxSymbolMaster.read(InMemoryBlobStore())


@pytest.mark.parametrize(
    "data",
    [b"{", b"[]", b'{"format":2}', b'{"format":1,"columns":["code"],"issues":[]}'],
)
def test_an_unreadable_stored_table_is_refused(data: bytes) -> None:
    with pytest.raises(ValidationError):
        JpxSymbolMaster.from_json(data)


def test_a_stored_row_of_the_wrong_shape_is_refused() -> None:
    document = xls_master().to_json().replace(b'"7203"', b"7203")
    with pytest.raises(ValidationError):
        JpxSymbolMaster.from_json(document)


def test_the_refresh_downloads_once_and_stores_the_table() -> None:
    recorder = Recorder(body("data_j.xls", content_type="application/vnd.ms-excel"))
    store = InMemoryBlobStore()
    master = refresh_listed_issues(recorder.client(30.0), store, min_issues=5)
    assert recorder.count == 1
    assert str(recorder.requests[0].url) == JPX_URL
    assert len(JpxSymbolMaster.read(store)) == len(master) == 10


@pytest.mark.parametrize(
    "answer",
    [
        *TRANSPORT_FAILURES.values(),
        raw("<html><body>メンテナンス中</body></html>"),
        body("data_j.xls"),  # too few rows for a real list (min_issues default)
    ],
)
def test_a_failed_refresh_keeps_the_previous_table(answer: Answer) -> None:
    store = InMemoryBlobStore()
    xls_master().save(store)
    before = store.get(BLOB_KEY)
    with pytest.raises(SourceUnavailable, match="jpx"):
        refresh_listed_issues(Recorder(answer).client(), store)
    assert store.get(BLOB_KEY) == before
