"""The local scheduler runs the seed's cron rules with the same jobs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from portfoliowise.application.scheduled_jobs import SCHEDULES
from portfoliowise.handlers.local_scheduler import Scheduler, next_runs

SAT = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)


def test_next_runs_follow_the_seed_crons() -> None:
    assert next_runs(SCHEDULES, SAT) == {
        "cache-warm": datetime(2026, 11, 29, 0, 0, tzinfo=UTC),
        "backup": datetime(2026, 11, 29, 2, 0, tzinfo=UTC),
        "cleanup": datetime(2026, 11, 29, 3, 0, tzinfo=UTC),  # Sunday
    }
    assert next_runs({"cleanup": SCHEDULES["cleanup"]}, datetime(2026, 11, 29, 3, 0, tzinfo=UTC))[
        "cleanup"
    ] == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def test_a_schedule_without_a_job_is_refused() -> None:
    with pytest.raises(ValueError, match="no job for schedule"):
        Scheduler({"backup": "0 2 * * *"}, {}, threading.Lock())


def test_due_jobs_run_and_a_failing_one_does_not_stop_the_others() -> None:
    clock = [datetime(2026, 11, 29, 1, 59, 0, tzinfo=UTC)]
    ran: list[str] = []
    done = threading.Event()

    def now() -> datetime:
        clock[0] += timedelta(seconds=30)  # time flies: each look at the clock is 30 s later
        return clock[0]

    def boom() -> object:
        ran.append("cache-warm")
        raise RuntimeError("source down")

    def backup() -> object:
        ran.append("backup")
        done.set()
        return {"job": "backup"}

    scheduler = Scheduler(
        {"cache-warm": "*/1 * * * *", "backup": "0 2 * * *"},
        {"cache-warm": boom, "backup": backup},
        threading.Lock(),
        now=now,
    )
    scheduler.start()
    try:
        assert done.wait(5)
    finally:
        scheduler.stop()
    assert "backup" in ran
    assert ran.index("cache-warm") < ran.index("backup")
