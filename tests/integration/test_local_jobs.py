"""The local server's scheduler runs the jobs `bootstrap.scheduled_jobs` builds on the
embedded store: each run is announced with a `JobCompleted` on the in-process bus."""

from __future__ import annotations

import threading
from pathlib import Path

from portfoliowise.adapters.events import ALL, InProcessBus
from portfoliowise.application.scheduled_jobs import SCHEDULES
from portfoliowise.domain.events import DomainEvent
from portfoliowise.domain.job_events import JobCompleted
from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.container import local_container
from portfoliowise.handlers.local_scheduler import Scheduler
from portfoliowise.handlers.settings import Settings


def test_a_local_run_publishes_its_completion_on_the_in_process_bus(tmp_path: Path) -> None:
    container = local_container(tmp_path, Settings.from_env({}))
    try:
        bus = container.events()
        assert isinstance(bus, InProcessBus)
        received: list[DomainEvent] = []
        bus.subscribe(ALL, received.append)
        scheduler = Scheduler(SCHEDULES, bootstrap.scheduled_jobs(container), threading.Lock())
        report = scheduler.run("cleanup")
        scheduler.run("backup")
    finally:
        container.sqlite().close()
    assert isinstance(report, dict)
    assert report["deleted"]["sessions"] == 0  # an empty store: nothing expired
    assert [event.name for event in received] == ["JobCompleted", "JobCompleted"]
    cleanup, backup = received
    assert isinstance(cleanup, JobCompleted)
    assert cleanup.source == "portfoliowise.jobs"
    assert cleanup.to_json()["counts"] == {"deleted": report["deleted"]}
    assert isinstance(backup, JobCompleted)
    assert backup.job == "backup"
