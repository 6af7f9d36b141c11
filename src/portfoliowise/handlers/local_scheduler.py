"""The local server's in-process scheduler: the same cron rules as the EventBridge
schedules (UTC), running the same job functions on a background thread. The jobs of
`bootstrap.scheduled_jobs` announce each run themselves (`JobCompleted` on the in-process bus);
they run here without a deadline."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from croniter import croniter

log = logging.getLogger(__name__)

Job = Callable[[], object]


def next_runs(schedules: Mapping[str, str], after: datetime) -> dict[str, datetime]:
    """When each job next runs after `after` (UTC)."""
    return {
        name: croniter(expression, after.astimezone(UTC)).get_next(datetime)
        for name, expression in schedules.items()
    }


class Scheduler:
    """Runs `jobs[name]` at the times of `schedules[name]` until `stop()`; a failing job is
    logged and runs again at its next time. `lock` is held while a job runs."""

    def __init__(
        self,
        schedules: Mapping[str, str],
        jobs: Mapping[str, Job],
        lock: threading.Lock,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        missing = set(schedules) - set(jobs)
        if missing:
            raise ValueError(f"no job for schedule(s): {', '.join(sorted(missing))}")
        self._schedules = dict(schedules)
        self._jobs = dict(jobs)
        self._lock = lock
        self._now = now
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def run(self, name: str) -> object:
        """Run one job now (under the lock) and return its report."""
        with self._lock:
            return self._jobs[name]()

    def _loop(self) -> None:
        due = next_runs(self._schedules, self._now())
        while not self._stopped.is_set():
            name, at = min(due.items(), key=lambda item: item[1])
            wait = (at - self._now()).total_seconds()
            if wait > 0 and self._stopped.wait(min(wait, 60.0)):
                return
            if self._now() < at:
                continue
            try:
                log.info("scheduled job %s: %s", name, self.run(name))
            except Exception:
                log.exception("scheduled job %s failed", name)
            due[name] = next_runs({name: self._schedules[name]}, at)[name]
