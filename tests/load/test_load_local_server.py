"""A bounded load test against `portfoliowise serve` on 127.0.0.1: 8 threads make a fixed
number of updates of 2 shared portfolios (each adds 1 to a holding's quantity, read at a
version and written with `If-Match`, retried on 409), with reads mixed in; it stops by
itself. Afterwards every acknowledged update is in the quantity and has its audit entry,
the acknowledged versions are all distinct, and no request got a 5xx."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
from local_servers import Server, sign_in

log = logging.getLogger(__name__)

THREADS = 8
UPDATES_PER_THREAD = 10
MAX_TRIES = 200  # per update: a thread never spins forever
SHARED = 2


def test_concurrent_updates_of_shared_portfolios_lose_nothing(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    statuses: Counter[int] = Counter()
    acked: dict[str, list[int]] = {}
    lock = threading.Lock()
    try:
        headers = sign_in(server.url, "load@example.com")
        pids = []
        for i in range(SHARED):
            created = httpx.post(
                f"{server.url}/portfolios",
                json={
                    "name": f"shared {i}",
                    "baseCurrency": "JPY",
                    "holdings": [{"symbol": "7203", "quantity": "100"}],
                },
                headers=headers,
                timeout=10,
            )
            assert created.status_code == 201, created.text
            pids.append(str(created.json()["portfolioId"]))
            acked[pids[-1]] = []

        def worker(index: int) -> None:
            with httpx.Client(base_url=server.url, timeout=10, headers=headers) as http:
                for n in range(UPDATES_PER_THREAD):
                    pid = pids[(index + n) % SHARED]
                    for _ in range(MAX_TRIES):
                        http.get("/portfolios")  # a read mixed in
                        current = http.get(f"/portfolios/{pid}")
                        with lock:
                            statuses[current.status_code] += 1
                        body = current.json()
                        body["holdings"][0]["quantity"] = str(
                            Decimal(body["holdings"][0]["quantity"]) + 1
                        )
                        put = http.put(
                            f"/portfolios/{pid}",
                            json=body,
                            headers={"If-Match": f'"{body["version"]}"'},
                        )
                        with lock:
                            statuses[put.status_code] += 1
                        if put.status_code == 200:
                            with lock:
                                acked[pid].append(int(put.json()["version"]))
                            break
                        assert put.status_code == 409, put.text

        started = time.monotonic()
        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - started
        assert not any(thread.is_alive() for thread in threads)
        final = {
            pid: httpx.get(f"{server.url}/portfolios/{pid}", headers=headers, timeout=10).json()
            for pid in pids
        }
    finally:
        server.stop()

    assert not [s for s in statuses if s >= 500], statuses
    assert sum(len(v) for v in acked.values()) == THREADS * UPDATES_PER_THREAD
    uri = f"file:{tmp_path / 'portfoliowise.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        for pid in pids:
            versions = acked[pid]
            assert len(set(versions)) == len(versions)  # no two acks of one version
            assert Decimal(final[pid]["holdings"][0]["quantity"]) == 100 + len(versions)
            assert final[pid]["version"] == max(versions)
            audited = db.execute(
                """SELECT COUNT(*) FROM Audit WHERE resource LIKE ? AND "action" != ?""",
                (f"portfolio/{pid}%", "portfolio.created"),
            ).fetchone()[0]
            assert audited == len(versions)  # one audit entry per acknowledged update
    log.info(
        f"{THREADS * UPDATES_PER_THREAD} updates acknowledged in {elapsed:.1f} s; "
        f"statuses {dict(statuses)} ({statuses[409]} conflicts retried)"
    )
