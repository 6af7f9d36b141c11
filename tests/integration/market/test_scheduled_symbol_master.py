"""The cache-warm job keeps the JPX symbol master fresh, from the recorded JPX file."""

from __future__ import annotations

from datetime import UTC, date, datetime

from recorded_http import SERVER_ERROR, Recorder, body, fixture

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.jpx import BLOB_KEY, JpxSymbolMaster
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryPortfolioRepository,
)
from portfoliowise.application.scheduled_jobs import ServiceWarmer
from portfoliowise.handlers.jobs import build_jobs, refresh_symbol_master

XLS = body("data_j.xls", content_type="application/vnd.ms-excel")


def test_a_missing_table_is_downloaded_and_stored() -> None:
    recorder = Recorder(XLS)
    store = InMemoryBlobStore()
    clock = FixedClock(datetime(2026, 11, 29, tzinfo=UTC))
    report = refresh_symbol_master(store, clock, lambda: recorder.client(30.0), min_issues=5)
    assert report["status"] == "refreshed"
    assert report["issues"] == 10
    assert recorder.count == 1
    assert len(JpxSymbolMaster.read(store)) == 10


def test_a_table_younger_than_a_week_is_not_downloaded_again() -> None:
    recorder = Recorder(XLS)
    store = InMemoryBlobStore()
    master = JpxSymbolMaster.load(fixture("data_j.xls"))
    JpxSymbolMaster(list(master), date(2026, 11, 25)).save(store)
    clock = FixedClock(datetime(2026, 11, 29, tzinfo=UTC))
    report = refresh_symbol_master(store, clock, lambda: recorder.client(30.0), min_issues=5)
    assert report == {"status": "fresh", "issues": 10, "asOf": "2026-11-25"}
    assert recorder.count == 0


def test_a_failed_download_keeps_the_old_table_and_the_job_goes_on() -> None:
    store = InMemoryBlobStore()
    JpxSymbolMaster([], date(2026, 1, 1)).save(store)
    before = store.get(BLOB_KEY)
    clock = FixedClock(datetime(2026, 11, 29, tzinfo=UTC))

    class NoMarket:
        def get_quotes(self, symbols: object) -> dict[str, object]:
            return {}

        def get_rates(self, pairs: object) -> dict[str, object]:
            return {}

    jobs = build_jobs(
        repository=InMemoryPortfolioRepository(InMemoryAuditLog()),
        backups=InMemoryBlobStore(),
        reference=store,
        warmer=ServiceWarmer(NoMarket()),  # type: ignore[arg-type]
        clock=clock,
        jpx_client=lambda: Recorder(SERVER_ERROR).client(),
    )
    report = jobs["cache-warm"]()
    assert report["symbolMaster"]["status"] == "failed"  # type: ignore[index]
    assert store.get(BLOB_KEY) == before
