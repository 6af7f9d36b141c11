"""Wall time of the CLI, start to finish: `portfoliowise value` on the bundled example
(`make example`'s first command) through the installed console script, in a fresh process
each time, median of 7 after one warm-up run (bytecode written, files in the page cache).
Target: 0.25 s. The modules it loaded are listed by one more run with a probe, and the AWS
SDK, the API, pydantic and httpx must not be among them.
Run with `make bench` (from run.py) or `python bench/bench_cli.py`."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from table import Row

GROUP = "cli"
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "portfoliowise"
ARGS = (
    "value",
    str(ROOT / "examples" / "portfolio.json"),
    "--quotes",
    str(ROOT / "examples" / "quotes.sample.json"),
    "--currency",
    "JPY",
)
RUNS = 7
TARGET_SECONDS = 0.25
HEAVY = (
    "boto3",
    "botocore",
    "pydantic",
    "httpx",
    "pandas",
    "yfinance",
    "dependency_injector",
    "aws_lambda_powertools",
)
_PROBE = """
import json, runpy, sys
sys.argv = {argv!r}
try:
    runpy.run_path({script!r}, run_name="__main__")
except SystemExit:
    pass
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
print(json.dumps(heavy), file=sys.stderr)
"""


def wall_seconds(command: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=60)
    return time.perf_counter() - start


def heavy_modules() -> list[str]:
    probe = _PROBE.format(argv=[str(SCRIPT), *ARGS], script=str(SCRIPT), heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=60
    )
    return list(json.loads(done.stderr.strip().splitlines()[-1]))


def rows() -> list[Row]:
    if not SCRIPT.exists():
        return [Row(GROUP, "portfoliowise value (example)", "n/a", "", None, f"no {SCRIPT}")]
    command = [str(SCRIPT), *ARGS]
    wall_seconds(command)  # warm-up
    times = [wall_seconds(command) for _ in range(RUNS)]
    median = statistics.median(times)
    heavy = heavy_modules()
    note = f"min {min(times):.3f} s, max {max(times):.3f} s; heavy modules: " + (
        ", ".join(heavy) or "none"
    )
    return [
        Row(
            GROUP,
            "portfoliowise value examples/portfolio.json --quotes ... (wall, median of 7)",
            f"{median:.3f} s",
            f"<= {TARGET_SECONDS:.2f} s",
            median <= TARGET_SECONDS and not heavy,
            note,
        )
    ]


if __name__ == "__main__":
    from table import failed, render

    result = rows()
    print(render(result))
    sys.exit(1 if failed(result) else 0)
