"""A process the kill tests run and SIGKILL at an injected point (test code, never imported
by the product): `python crash_driver.py DATA_DIR KILL STEP [ARG]`.

KILL is `none`, `put:N` (the process kills itself as the N-th blob is about to be written
to the local blob store) or `commit:N` (as SQLite starts the N-th `COMMIT` of a write
transaction: the
transaction in flight is never committed). STEP is one of:
- `seed USERS PORTFOLIOS`: portfolios with holdings and activities (no kill point there);
- `backup DATE` / `restore DATE`: the `portfoliowise` commands, in this process;
- `import`: 28 activities imported from one CSV into every portfolio, one after another.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from portfoliowise.adapters.blobs.local import LocalBlobStore
from portfoliowise.domain.audit import RequestContext

CONTEXT = RequestContext(ip="127.0.0.1", user_agent="crash-driver")
ACTIVITIES = "\n".join(
    ["date,type,symbol,quantity,price,currency"]
    + [f"2024-01-{day:02d},buy,7203,100,{2400 + day},JPY" for day in range(1, 29)]
).encode()


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def arm(kill: str) -> None:
    if kill == "none":
        return
    what, _, count = kill.partition(":")
    remaining = [int(count)]

    def due() -> bool:
        remaining[0] -= 1
        return remaining[0] == 0

    if what == "put":
        real_put = LocalBlobStore.put

        def put(self: LocalBlobStore, key: str, body: bytes, *args: Any, **kw: Any) -> None:
            if due():
                _die()
            real_put(self, key, body, *args, **kw)

        LocalBlobStore.put = put  # type: ignore[method-assign]
    elif what == "commit":
        real_connect = sqlite3.connect

        def connect(*args: Any, **kw: Any) -> sqlite3.Connection:
            conn = real_connect(*args, **kw)

            writing = [False]

            def trace(statement: str) -> None:
                text = statement.strip().upper()
                if text.startswith("BEGIN"):
                    writing[0] = text.startswith("BEGIN IMMEDIATE")
                elif text.startswith("COMMIT") and writing[0] and due():
                    _die()

            conn.set_trace_callback(trace)
            return conn

        sqlite3.connect = connect  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown kill point {kill!r}")


def seed(data_dir: Path, users: int, portfolios: int) -> None:
    from portfoliowise.application.ledger_commands import import_activities
    from portfoliowise.application.portfolio_commands import create_portfolio
    from portfoliowise.domain.money import JPY
    from portfoliowise.handlers.container import local_container

    container = local_container(data_dir)
    for u in range(users):
        for p in range(portfolios):
            created = create_portfolio(
                container.portfolio_ports(),
                user_id=f"user-{u}",
                name=f"portfolio {u}-{p}",
                base_currency=JPY,
                context=CONTEXT,
            )
            import_activities(
                container.ledger_ports(),
                user_id=created.user_id,
                portfolio_id=created.portfolio_id,
                data=ACTIVITIES,
                context=CONTEXT,
                filename="seed.csv",
            )
    container.sqlite().close()


def import_everywhere(data_dir: Path) -> None:
    from portfoliowise.application.ledger_commands import import_activities
    from portfoliowise.handlers.container import local_container

    container = local_container(data_dir)
    for portfolio in sorted(
        container.portfolios().all_portfolios(), key=lambda p: (p.user_id, p.portfolio_id)
    ):
        result = import_activities(
            container.ledger_ports(),
            user_id=portfolio.user_id,
            portfolio_id=portfolio.portfolio_id,
            data=ACTIVITIES.replace(b"2024-01", b"2025-02"),
            context=CONTEXT,
            filename="import.csv",
        )
        print(portfolio.portfolio_id, result.imported, result.already_imported, flush=True)  # noqa: T201
    container.sqlite().close()


def main(argv: list[str]) -> int:
    data_dir, kill, step, *rest = argv
    arm(kill)
    if step == "seed":
        seed(Path(data_dir), int(rest[0]), int(rest[1]))
        return 0
    if step == "import":
        import_everywhere(Path(data_dir))
        return 0
    from portfoliowise.handlers.cli import main as cli

    if step == "backup":
        return cli(["backup", "--date", rest[0], "--data-dir", data_dir])
    if step == "restore":
        return cli(["restore", rest[0], "--yes", "--data-dir", data_dir])
    raise SystemExit(f"unknown step {step!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
