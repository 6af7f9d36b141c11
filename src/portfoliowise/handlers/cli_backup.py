"""`portfoliowise backup` and `portfoliowise restore`: the backup use cases against the
embedded store (the SQLite file and the local blob directory of one data directory)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from tqdm import tqdm

from portfoliowise.adapters.clock import SystemClock
from portfoliowise.adapters.sqlite import default_data_dir
from portfoliowise.application.backup import plan_restore, restore, run_backup
from portfoliowise.domain.errors import ValidationError
from portfoliowise.handlers.container import BACKUPS_DIR, local_container

PREVIEW = 10  # portfolios named when stating what a restore overwrites


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    backup = commands.add_parser("backup", help="back up every portfolio of the local store")
    backup.add_argument("--date", help="the backup's date, YYYY-MM-DD (default: today, UTC)")
    _data_dir_option(backup)
    backup.set_defaults(handler=cmd_backup)

    back = commands.add_parser("restore", help="restore the local store from a backup")
    back.add_argument("label", metavar="DATE", help="YYYY-MM-DD, or YYYY-Www / YYYY-MM")
    back.add_argument(
        "--yes", action="store_true", help="overwrite the portfolios the backup also holds"
    )
    _data_dir_option(back)
    back.set_defaults(handler=cmd_restore)


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, help=f"where the store lives (default: {default_data_dir()})"
    )


def _day(raw: str | None) -> date:
    if raw is None:
        return SystemClock().now().date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"--date {raw!r} is not a date (YYYY-MM-DD)") from None


@contextmanager
def _bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr (hidden when stderr is not a terminal), fed (done, total)."""
    with tqdm(desc=what, unit="obj", file=sys.stderr, disable=None, leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield progress


def cmd_backup(args: argparse.Namespace) -> int:
    day = _day(args.date)
    data_dir: Path = args.data_dir or default_data_dir()
    container = local_container(data_dir)
    try:
        with _bar("backup") as progress:
            report = run_backup(container.portfolios(), container.backups(), day, progress)
    finally:
        container.sqlite().close()
    where = ", ".join(report.prefixes)
    print(
        f"backed up {report.portfolios} portfolio(s) of {report.users} user(s) "
        f"to {where} ({report.objects} object(s), {report.bytes:,} bytes) "
        f"in {data_dir / BACKUPS_DIR}"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir or default_data_dir()
    container = local_container(data_dir)
    try:
        plan = plan_restore(container.portfolios(), container.backups(), args.label)
        if plan.overwrites and not args.yes:
            named = ", ".join(plan.overwrites[:PREVIEW])
            more = (
                f" and {len(plan.overwrites) - PREVIEW} more"
                if len(plan.overwrites) > PREVIEW
                else ""
            )
            raise ValidationError(
                f"restoring {plan.prefix} would overwrite {len(plan.overwrites)} stored "
                f"portfolio(s) ({named}{more}): pass --yes to overwrite them"
            )
        with _bar("restore") as progress:
            written = restore(container.portfolios(), plan, container.clock(), progress=progress)
    finally:
        container.sqlite().close()
    print(
        f"restored {written} portfolio(s) from {plan.prefix}: {len(plan.creates)} created, "
        f"{len(plan.overwrites)} overwritten (checksums verified)"
    )
    return 0
