"""Cold import time of what the market handler imports (the market service, the Yahoo
adapters, the trading calendars) against `import boto3`, each in a fresh interpreter,
median of 5; and a check that yfinance and pandas are NOT loaded by those imports (they
load on the first call that reaches Yahoo). `import yfinance` is timed for reference: it is
what a top-level import would add to every cold start. Run with `make bench` (from run.py)
or `python bench/market_import.py`."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

RUNS = 5
SRC = Path(__file__).resolve().parent.parent / "src"
HEAVY = ("pandas", "yfinance", "numpy", "curl_cffi")
MARKET_MODULES = (
    "portfoliowise.application.market_service",
    "portfoliowise.adapters.market.yahoo",
    "portfoliowise.adapters.market.calendars",
)
CASES = (
    ("market handler modules (service, yahoo, calendars)", MARKET_MODULES),
    ("boto3", ("boto3",)),
    ("yfinance (reference: not imported at cold start)", ("yfinance",)),
)

_PROBE = """
import json, sys, time
start = time.perf_counter()
for name in {modules!r}:
    __import__(name)
seconds = time.perf_counter() - start
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print(json.dumps({{"seconds": seconds, "heavy": heavy}}))
"""


def cold_import(modules: tuple[str, ...]) -> tuple[float, list[str]]:
    """Median import time over RUNS fresh interpreters, and the heavy modules loaded."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    code = _PROBE.format(modules=modules, heavy=HEAVY)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    times, heavy = [], []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(float(result["seconds"]))
        heavy = list(result["heavy"])
    return statistics.median(times), heavy


def main() -> int:
    print(f"{'cold import, median of 5 fresh interpreters':<52} {'seconds':>8}  heavy modules")
    failed = False
    for label, modules in CASES:
        seconds, heavy = cold_import(modules)
        note = ", ".join(sorted({m.split(".")[0] for m in heavy})) or "none"
        print(f"{label:<52} {seconds:>8.3f}  {note}")
        if modules == MARKET_MODULES and heavy:
            failed = True
            print(f"FAIL: the market handler's imports loaded {note}")
    if not failed:
        print("ok: pandas and yfinance are not in sys.modules after the market imports")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
