"""Two `portfoliowise serve` processes on one data directory (one SQLite file in WAL mode),
written to from threads through both, while one of them is SIGKILLed mid-burst three
times (and restarted): every write acknowledged with a 2xx is stored afterwards, with its
audit entry, and no request was answered 5xx. Bounded: a fixed number of writes per
thread, timeouts on every request and process."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from local_servers import Server, sign_in

log = logging.getLogger(__name__)

THREADS = 4
WRITES_PER_THREAD = 120
KILLS = 3


def test_two_servers_and_a_killed_writer_lose_no_acknowledged_write(tmp_path: Path) -> None:
    steady = Server(tmp_path).start()
    victim = Server(tmp_path).start()
    acknowledged: list[str] = []  # portfolio ids answered 201
    statuses: Counter[int] = Counter()
    refused = [0]  # requests that found the victim down (never acknowledged)
    lock = threading.Lock()
    try:
        headers = sign_in(steady.url, "writer@example.com")  # one session, valid on both

        def writer(index: int) -> None:
            with httpx.Client(timeout=10, headers=headers) as http:
                for n in range(WRITES_PER_THREAD):
                    target = victim if n % 2 else steady
                    try:
                        answer = http.post(
                            f"{target.url}/portfolios",
                            json={"name": f"w{index}-{n}", "baseCurrency": "JPY"},
                        )
                    except httpx.TransportError:
                        with lock:
                            refused[0] += 1
                        continue
                    with lock:
                        statuses[answer.status_code] += 1
                        if answer.status_code == 201:
                            acknowledged.append(str(answer.json()["portfolioId"]))

        threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for _ in range(KILLS):
            time.sleep(0.7)
            victim.kill()
            victim.start()  # same port, same data directory
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)

        assert not [s for s in statuses if s >= 500], statuses
        # Never acknowledged, and nothing stored: 503, the file was busy; 409, the two
        # processes stamped this user's audit entries in the same microsecond (the audit
        # key is the time), so the change was rolled back and is to be retried.
        assert set(statuses) <= {201, 409, 503}, statuses
        listed = httpx.get(f"{steady.url}/portfolios", headers=headers, timeout=30).json()
    finally:
        victim.stop()
        steady.stop()

    stored = {p["portfolioId"] for p in listed["portfolios"]}
    assert set(acknowledged) <= stored
    uri = f"file:{tmp_path / 'portfoliowise.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        audited = Counter(
            row[0].split("/", 1)[1]
            for row in db.execute(
                """SELECT resource FROM Audit WHERE "action" = 'portfolio.created'"""
            )
        )
        rows = db.execute("SELECT COUNT(*) FROM Portfolio").fetchone()[0]
    assert all(audited[pid] == 1 for pid in acknowledged)  # each with exactly one entry
    assert rows == len(audited)  # and no portfolio without its entry, nor the reverse
    assert len(acknowledged) > THREADS * WRITES_PER_THREAD / 3  # the burst really ran
    log.info(
        f"acknowledged {len(acknowledged)} writes over {KILLS} kills; statuses {dict(statuses)}; "
        f"{refused[0]} refused while down; {rows - len(acknowledged)} stored but unacknowledged"
    )
