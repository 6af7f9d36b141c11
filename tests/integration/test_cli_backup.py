"""`portfoliowise backup` / `restore` against the embedded store of a data directory."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.sqlite import open_sqlite_stores
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.money import JPY
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.handlers.cli import EXIT_USER_ERROR, main

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # a Sunday: daily and weekly
DAY = "2026-11-29"


def _store_portfolios(data_dir: Path, *owners: tuple[str, str], at: datetime = T0) -> None:
    clock = FixedClock(at)
    stores = open_sqlite_stores(data_dir, clock)
    try:
        for user_id, portfolio_id in owners:
            clock.advance(timedelta(seconds=1))  # one user's audit key is its time
            portfolio = Portfolio.create(
                user_id=user_id,
                portfolio_id=portfolio_id,
                name="NISA",
                base_currency=JPY,
                at=clock.now(),
                holdings=[Holding.of("7203", "100"), Holding.of("0331418A", "10000")],
            )
            events = portfolio.pull_events()
            stores.portfolios.add(portfolio, audit_entries(events, RequestContext()))
    finally:
        stores.close()


def _portfolios(data_dir: Path) -> dict[tuple[str, str], dict[str, object]]:
    stores = open_sqlite_stores(data_dir, FixedClock(T0))
    try:
        return {
            (p.user_id, p.portfolio_id): p.to_json() for p in stores.portfolios.all_portfolios()
        }
    finally:
        stores.close()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_backup_writes_daily_and_weekly_copies_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_portfolios(tmp_path, ("u1", "a"), ("u1", "b"), ("u2", "a"))
    code, out, err = _run(capsys, "backup", "--data-dir", str(tmp_path), "--date", DAY)
    assert (code, err) == (0, "")
    assert out.startswith("backed up 3 portfolio(s) of 2 user(s) to daily/2026-11-29/, ")
    assert "weekly/2026-W48/" in out
    daily = tmp_path / "backups" / "daily" / DAY
    assert sorted(p.name for p in daily.iterdir()) == ["manifest.json", "u1", "u2"]
    assert (tmp_path / "backups" / "weekly" / "2026-W48" / "manifest.json").is_file()


def test_the_same_date_twice_writes_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_portfolios(tmp_path, ("u1", "a"))
    _run(capsys, "backup", "--data-dir", str(tmp_path), "--date", DAY)
    files = sorted((tmp_path / "backups").rglob("*.gz"))
    first = [f.read_bytes() for f in files]
    _run(capsys, "backup", "--data-dir", str(tmp_path), "--date", DAY)
    assert sorted((tmp_path / "backups").rglob("*.gz")) == files
    assert [f.read_bytes() for f in files] == first


def test_restore_into_a_wiped_store_gives_back_the_same_portfolios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_portfolios(tmp_path, ("u1", "a"), ("u2", "a"))
    before = _portfolios(tmp_path)
    _run(capsys, "backup", "--data-dir", str(tmp_path), "--date", DAY)
    for db in tmp_path.glob("portfoliowise.db*"):
        db.unlink()  # wipe the store, keep the backups
    assert _portfolios(tmp_path) == {}

    code, out, err = _run(capsys, "restore", DAY, "--data-dir", str(tmp_path))
    assert (code, err) == (0, "")
    assert out.strip() == (
        "restored 2 portfolio(s) from daily/2026-11-29/: 2 created, 0 overwritten "
        "(checksums verified)"
    )
    assert _portfolios(tmp_path) == before


def test_restore_over_stored_portfolios_needs_yes_and_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_portfolios(tmp_path, ("u1", "a"))
    _run(capsys, "backup", "--data-dir", str(tmp_path), "--date", DAY)
    _store_portfolios(tmp_path, ("u1", "b"), at=T0 + timedelta(hours=1))
    before = _portfolios(tmp_path)

    code, out, err = _run(capsys, "restore", DAY, "--data-dir", str(tmp_path))
    assert code == EXIT_USER_ERROR
    assert out == ""
    assert err.strip() == (
        "portfoliowise: error: restoring daily/2026-11-29/ would overwrite 1 stored "
        "portfolio(s) (u1/a): pass --yes to overwrite them"
    )
    assert _portfolios(tmp_path) == before  # nothing written

    code, out, _ = _run(capsys, "restore", DAY, "--yes", "--data-dir", str(tmp_path))
    assert code == 0
    assert "0 created, 1 overwritten" in out
    assert set(_portfolios(tmp_path)) == {("u1", "a"), ("u1", "b")}  # b is left alone


def test_a_corrupt_backup_is_refused_and_nothing_is_restored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store_portfolios(tmp_path, ("u1", "a"))
    _run(capsys, "backup", "--data-dir", str(tmp_path), "--date", DAY)
    [obj] = (tmp_path / "backups" / "daily" / DAY).rglob("*.gz")
    obj.write_bytes(gzip.compress(b'{"portfolios": []}'))
    for db in tmp_path.glob("portfoliowise.db*"):
        db.unlink()

    code, out, err = _run(capsys, "restore", DAY, "--data-dir", str(tmp_path))
    assert code == EXIT_USER_ERROR
    assert out == ""
    assert "is corrupt or partial" in err
    assert "checksum does not match" in err
    assert err.count("\n") == 1  # one line, no traceback
    assert _portfolios(tmp_path) == {}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["restore", "2026-11-30"], "no backup at daily/2026-11-30/"),
        (["restore", "yesterday"], "yesterday"),
        (["backup", "--date", "2026-13-01"], "--date '2026-13-01' is not a date"),
    ],
)
def test_bad_dates_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *argv, "--data-dir", str(tmp_path))
    assert code == EXIT_USER_ERROR
    assert out == ""
    assert err.startswith("portfoliowise: error: ")
    assert message in err
    assert err.count("\n") == 1
