"""The one table `make bench` prints: a row per measured figure, beside its target and
whether it is met. Every benchmark module exposes `rows() -> list[Row]`; `bench/run.py`
collects them, prints the table, and exits non-zero when a row with a target misses it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Row:
    """One measurement. `figure` and `target` are printed as given (units included, e.g.
    "1.21x", "0.180 s", "5 (3 in sequence)"); `ok` is None for a figure shown for reference
    only (no target)."""

    group: str  # the section: "cold start", "memory", "round trips", "server", "cli", ...
    name: str
    figure: str
    target: str = ""
    ok: bool | None = None
    note: str = ""


def render(rows: Iterable[Row]) -> str:
    rows = list(rows)
    head = ("group", "benchmark", "figure", "target", "ok", "note")
    cells = [
        (
            r.group,
            r.name,
            r.figure,
            r.target,
            "-" if r.ok is None else ("yes" if r.ok else "NO"),
            r.note,
        )
        for r in rows
    ]
    widths = [
        max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(head)
    ]
    widths[-1] = 0  # the note is last and unpadded

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(head), line((*("-" * w for w in widths[:-1]), "----"))]
    out += [line(c) for c in cells]
    return "\n".join(out)


def failed(rows: Iterable[Row]) -> bool:
    return any(r.ok is False for r in rows)
