"""A process SIGKILLed in the middle of a backup, a restore and an import (the embedded
store: SQLite and the local blob directory), at a point injected by the driver
(`crash_driver.py`, in a forked child: as the N-th blob is about to be written, or as
SQLite starts the N-th write `COMMIT`); then a rerun. Afterwards the backup's manifest
checks pass, the counts are exact, and nothing is half-applied: each portfolio is wholly
before or wholly after the step, with exactly one audit entry per applied change.

(Single-process crash paths are also covered by tests/unit/test_backup.py, the blob store
contract's interrupted write, and tests/integration/test_dynamodb_activities.py for a
DynamoDB import.)"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import crash_driver
import pytest

from portfoliowise.adapters.blobs.local import LocalBlobStore
from portfoliowise.application.backup import prefixes_for, verify_backup
from portfoliowise.domain.errors import NotFoundError
from portfoliowise.handlers.container import BACKUPS_DIR

USERS, PORTFOLIOS = 3, 2
SEEDED, IMPORTED = 28, 56  # activities per portfolio before and after the import
SUNDAY_THE_1ST = date(2026, 3, 1)  # daily, weekly and monthly copies: 3 x (3 users + manifest)
TIMEOUT = 60


def _run(data_dir: Path, kill: str, *step: str) -> tuple[int, str]:
    """Run the driver in a forked child (a real process, without a new interpreter's
    start-up): (its exit status, negative for a signal, and what it printed)."""
    out = data_dir.parent / f"driver-{time.monotonic_ns()}.out"
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: run the step, never return into pytest
        code = 70
        try:
            with out.open("w") as sink, contextlib.redirect_stdout(sink):
                code = crash_driver.main([str(data_dir), kill, *step])
        except BaseException:
            with out.open("a") as sink:
                traceback.print_exc(file=sink)
        finally:
            os._exit(code)
    deadline = time.monotonic() + TIMEOUT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the driver did not finish in {TIMEOUT} s: {step}")
        time.sleep(0.01)
    text = out.read_text() if out.exists() else ""
    return os.waitstatus_to_exitcode(status), text


def _killed(data_dir: Path, kill: str, *step: str) -> None:
    code, text = _run(data_dir, kill, *step)
    assert code == -signal.SIGKILL, (code, text)


def _ok(data_dir: Path, *step: str) -> str:
    code, text = _run(data_dir, "none", *step)
    assert code == 0, text
    return text


@contextlib.contextmanager
def _db(data_dir: Path) -> Iterator[sqlite3.Connection]:
    uri = f"file:{data_dir / 'portfoliowise.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        yield db


def _activities(data_dir: Path) -> dict[str, int]:
    with _db(data_dir) as db:
        rows = db.execute("SELECT portfolioId, COUNT(*) FROM Activity GROUP BY portfolioId")
        found = dict(rows.fetchall())
        ids = [r[0] for r in db.execute("SELECT portfolioId FROM Portfolio").fetchall()]
    return {pid: int(found.get(pid, 0)) for pid in ids}


def _actions(data_dir: Path) -> Counter[str]:
    with _db(data_dir) as db:
        return Counter(r[0] for r in db.execute('SELECT "action" FROM Audit').fetchall())


def _versions(data_dir: Path) -> dict[str, int]:
    with _db(data_dir) as db:
        return dict(db.execute("SELECT portfolioId, version FROM Portfolio").fetchall())


@pytest.fixture(scope="module")
def _seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("seed")
    _ok(data_dir, "seed", str(USERS), str(PORTFOLIOS))
    assert set(_activities(data_dir).values()) == {SEEDED}
    return data_dir


@pytest.fixture
def seeded(_seed: Path, tmp_path: Path) -> Path:
    """A copy of the seeded data directory (nothing holds the database open)."""
    data_dir = tmp_path / "data"
    shutil.copytree(_seed, data_dir)
    return data_dir


def _blobs(data_dir: Path) -> LocalBlobStore:
    return LocalBlobStore(data_dir / BACKUPS_DIR)


def _verified(data_dir: Path) -> int:
    """Every copy of the day's backup verifies; the number of portfolios in each."""
    counts = {
        len(verify_backup(_blobs(data_dir), p).portfolios) for p in prefixes_for(SUNDAY_THE_1ST)
    }
    assert len(counts) == 1
    return counts.pop()


@pytest.mark.parametrize("kill_at", [3, 6])  # in the daily copy; in the weekly one
def test_a_backup_killed_midway_is_visibly_incomplete_and_a_rerun_completes_it(
    seeded: Path, kill_at: int
) -> None:
    _killed(seeded, f"put:{kill_at}", "backup", SUNDAY_THE_1ST.isoformat())
    # A copy whose manifest was not written yet is no backup at all (never a partial one).
    complete = 0
    for prefix in prefixes_for(SUNDAY_THE_1ST):
        try:
            verify_backup(_blobs(seeded), prefix)
            complete += 1
        except NotFoundError:
            pass
    assert complete == (kill_at - 1) // (USERS + 1)

    out = _ok(seeded, "backup", SUNDAY_THE_1ST.isoformat())
    assert f"backed up {USERS * PORTFOLIOS} portfolio(s) of {USERS} user(s)" in out
    assert _verified(seeded) == USERS * PORTFOLIOS


def test_a_rerun_killed_over_an_older_backup_of_the_day_leaves_that_backup_whole(
    seeded: Path,
) -> None:
    """The day's backup exists; the data changes; a rerun is killed after writing one
    user's new object: objects are named by their content and the manifest goes last, so
    the day's backup is still the old one, whole (nothing restores a mixture). A complete
    rerun replaces it with the new data."""
    _ok(seeded, "backup", SUNDAY_THE_1ST.isoformat())
    _ok(seeded, "import")  # every portfolio changes (28 more activities)
    _killed(seeded, "put:2", "backup", SUNDAY_THE_1ST.isoformat())
    before = verify_backup(_blobs(seeded), prefixes_for(SUNDAY_THE_1ST)[0])
    assert {len(a) for a in before.activities.values()} == {SEEDED}
    _ok(seeded, "backup", SUNDAY_THE_1ST.isoformat())
    backup = verify_backup(_blobs(seeded), prefixes_for(SUNDAY_THE_1ST)[0])
    assert {len(a) for a in backup.activities.values()} == {IMPORTED}


@pytest.mark.parametrize("kill_at", [4])  # the 2nd portfolio: snapshot and activities
def test_a_restore_killed_midway_leaves_whole_portfolios_and_a_rerun_completes_it(
    seeded: Path, kill_at: int
) -> None:
    _ok(seeded, "backup", SUNDAY_THE_1ST.isoformat())  # 28 activities each
    _ok(seeded, "import")  # now 56 each: the restore must take them back to 28
    restored_before = _actions(seeded)["portfolio.restored"]

    _killed(seeded, f"commit:{kill_at}", "restore", SUNDAY_THE_1ST.isoformat())
    counts = _activities(seeded)
    assert set(counts.values()) <= {SEEDED, IMPORTED}  # never a partial set
    assert len(counts) == USERS * PORTFOLIOS

    out = _ok(seeded, "restore", SUNDAY_THE_1ST.isoformat())
    assert f"restored {USERS * PORTFOLIOS} portfolio(s)" in out
    assert set(_activities(seeded).values()) == {SEEDED}
    restored = _actions(seeded)["portfolio.restored"] - restored_before
    assert USERS * PORTFOLIOS <= restored <= 2 * USERS * PORTFOLIOS  # one per write, no more
    assert _verified(seeded) == USERS * PORTFOLIOS  # the backup itself is untouched


@pytest.mark.parametrize("kill_at", [1, 4])
def test_an_import_killed_midway_applies_whole_files_and_a_rerun_completes_it(
    seeded: Path, kill_at: int
) -> None:
    versions = _versions(seeded)
    changed_before = _actions(seeded)["portfolio.activities_changed"]

    _killed(seeded, f"commit:{kill_at}", "import")
    counts = _activities(seeded)
    assert sorted(counts.values()) == sorted(
        [IMPORTED] * (kill_at - 1) + [SEEDED] * (USERS * PORTFOLIOS - kill_at + 1)
    )
    applied = _actions(seeded)["portfolio.activities_changed"] - changed_before
    assert applied == kill_at - 1  # an audit entry for each applied import, no other
    after_kill = _versions(seeded)
    for pid, count in counts.items():  # the version moved only where the import landed
        assert after_kill[pid] == versions[pid] + (count == IMPORTED)

    out = _ok(seeded, "import")
    assert set(_activities(seeded).values()) == {IMPORTED}
    assert _actions(seeded)["portfolio.activities_changed"] - changed_before == USERS * PORTFOLIOS
    lines = [line.split() for line in out.splitlines()]
    assert sorted(int(imported) for _, imported, _ in lines) == sorted(
        [0] * (kill_at - 1) + [SEEDED] * (USERS * PORTFOLIOS - kill_at + 1)
    )
