"""Cold start, memory and asset sizes of the Lambda functions, measured as Lambda runs them.

- Assets: each function's asset built for Python 3.12 on x86_64 (`build_assets --platform
  lambda-x86_64`, cached under infra/cdk/build/x86_64-assets/): the same pinned packages,
  filtering, pruning and bytecode as the deployed arm64 asset, with wheels this machine loads.
- Cold import: for each function, RUNS pairs of fresh `python3.12 -I -S` interpreters (the
  runtime's minor), each seeing the standard library and that asset only, with Lambda's
  environment and the function's variables as the CDK sets them (FUNCTION_ENV, mirroring
  infra/cdk/components/compute.py). One interpreter of a pair times `import boto3`, the other
  the handler module's import (what Lambda does at init); the order alternates between pairs.
  The figure is the median over the pairs of handler / boto3 (paired, so that a noisy moment
  weighs on both). An audit hook refuses the network: an import that calls AWS fails the row.
  For reference the note gives the same ratio without bytecode (a copy of the asset without
  `__pycache__`, run with `-B` as Lambda's read-only /var/task would).
- Memory: one invocation per function (the scheduled one: each of SCHEDULED_JOBS, the
  largest the figure) in a fresh interpreter (asset only, as above), against
  moto's server in *this* process (`AWS_ENDPOINT_URL`), so moto is not in the measured
  process; the figure is that process's peak RSS (VmHWM) against the function's memory
  size (infra/cdk/constants.py). Signed-in requests carry a session seeded in the Session
  table. Outbound calls other than AWS (quote sources, Google, OpenAI) are not made here.
- Sizes: each x86_64 asset's unzipped size against Lambda's 250 MB (the deployed arm64 ones
  are printed by `make assets`, which fails over the limit).

`python bench/bench_cold_start.py` prints the table; `rows()` is for bench/run.py."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for entry in (str(ROOT), str(ROOT / "src"), str(Path(__file__).resolve().parent)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from infra.cdk import build_assets as ba  # noqa: E402
from infra.cdk import constants as C  # noqa: E402
from infra.cdk.lambda_runtime import runtime_environment  # noqa: E402

from table import Row, render  # noqa: E402  (bench/table.py)

RUNS = 9  # pairs per function (the target asks for >= 7)
REFERENCE_RUNS = 5  # pairs without bytecode (reference only)
GROUP_COLD = "cold start"
GROUP_MEMORY = "memory"
GROUP_SIZE = "asset size"
# handler import / `import boto3` (median of paired runs)
TARGET_RATIO: Mapping[str, float] = {
    "portfolio": 1.5,
    "market": 1.5,
    "scheduled": 1.5,
    "auth": 2.0,
    "analysis": 2.0,
}
MEMORY_TARGET_SHARE = 0.5
REGION = C.DEFAULT_PRIMARY_REGION
ACCOUNT = "123456789012"
EVENTS = ROOT / "tests" / "events"
BENCH_USER = "bench-user"


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


# What compute.py sets (tables, bus and secrets by plausible names; the memory run replaces
# the ARNs with moto's). tests/infra/test_assets.py checks the names against the template.
COMMON_ENV: Mapping[str, str] = {
    "PORTFOLIO_TABLE": "portfoliowise-portfolio",
    "AUDIT_TABLE": "portfoliowise-audit",
    "SESSION_TABLE": "portfoliowise-session",
    "CACHE_TABLE": "portfoliowise-cache",
    "EVENT_BUS_NAME": "portfoliowise",
    "STAGE": C.DEFAULT_STAGE,
    "CORS_ORIGINS": "https://portfolio-wise.example.com",
    "PORTFOLIOWISE_MODE": "aws",
    "POWERTOOLS_METRICS_NAMESPACE": C.METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "true",
}
SIGNING = {"SESSION_SIGNING_SECRET_ARN": _arn("secretsmanager", "secret:signing-AbCdEf")}
FUNCTION_ENV: Mapping[str, Mapping[str, str]] = {
    "market": {"YFINANCE_CACHE_DIR": "/tmp/portfoliowise-yfinance", **SIGNING},
    "auth": {
        "GOOGLE_CLIENT_SECRET_ARN": _arn("secretsmanager", "secret:google-AbCdEf"),
        **SIGNING,
        "SESSION_TOKEN_KEY_ARN": _arn("kms", "key/0b4a3c1e-0000-4000-8000-000000000001"),
        "CLIENT_IP_HEADER": C.CLIENT_IP_HEADER,
        "INFO_TOPIC_ARN": _arn("sns", "portfoliowise-info"),
    },
    "portfolio": {
        "BACKUP_BUCKET": "portfoliowise-backups",
        **SIGNING,
        "INFO_TOPIC_ARN": _arn("sns", "portfoliowise-info"),
        "CLIENT_LOG_GROUP": "/custom/application",
    },
    "analysis": {
        "OPENAI_API_KEY_SECRET": _arn("secretsmanager", "secret:openai-AbCdEf"),
        "OPENAI_MODEL": C.OPENAI_MODEL,
        **SIGNING,
        "MODELS_BUCKET": "portfoliowise-models",
    },
    "scheduled": {
        "BACKUP_BUCKET": "portfoliowise-backups",
        "MARKET_FUNCTION_NAME": "portfoliowise-market",
    },
}


def handler_module(function: str) -> str:
    return f"{C.LAMBDA_HANDLER_PACKAGE}.{function}"


def lambda_environment(function: str, tmp: Path, task_root: Path) -> dict[str, str]:
    """What the python3.12 runtime sets, fake credentials, then the function's variables."""
    name = f"portfoliowise-{function}"
    runtime = runtime_environment(
        name=name,
        handler=f"{handler_module(function)}.handler",
        runtime=ba.LAMBDA_RUNTIME,
        region=REGION,
        memory_mb=C.LAMBDA_MEMORY_MB[function],
        task_root=task_root,
        tmp=tmp,
    )
    return {**runtime, **COMMON_ENV, **FUNCTION_ENV[function], "POWERTOOLS_SERVICE_NAME": name}


# -- the interpreter's side ------------------------------------------------------------------

# argv: the module to import, then optionally the event file to invoke the handler with.
# Prints one line `RESULT=<json>` (the handler's logs also go to stdout).
PROBE = r"""
import json, os, socket, sys, time

def peak_rss_kib():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over execve, from the parent process
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

class NetworkAtImport(BaseException):
    pass

importing = True

def audit(event, details):
    if not importing:
        return
    if event == "socket.getaddrinfo" or (
        event == "socket.connect" and details[0].family in (socket.AF_INET, socket.AF_INET6)
    ):
        raise NetworkAtImport(f"{event} {details[1:]}")

sys.addaudithook(audit)
module_name = sys.argv[1]
started = time.perf_counter()
module = __import__(module_name, fromlist=["handler"])
seconds = time.perf_counter() - started
importing = False
result = {"seconds": seconds, "modules": len(sys.modules)}
if len(sys.argv) > 2:
    result["importRssKiB"] = peak_rss_kib()
    with open(sys.argv[2]) as f:
        event = json.load(f)

    class Context:
        function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        function_version = "$LATEST"
        invoked_function_arn = "arn:aws:lambda:us-west-2:123456789012:function:" + function_name
        memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        aws_request_id = "52fdfc07-2182-454f-963f-5f0f9a621d72"
        log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]

        @staticmethod
        def get_remaining_time_in_millis():
            return 30_000

    answer = module.handler(event, Context())
    result["status"] = answer.get("statusCode") if isinstance(answer, dict) else None
    if result["status"] is None:  # a job's report
        result["report"] = json.loads(json.dumps(answer, default=str))
    result["peakRssKiB"] = peak_rss_kib()
print("RESULT=" + json.dumps(result), flush=True)
"""


def python312() -> str:
    return ba.find_python(ba.LAMBDA_PYTHON_VERSION)


def run_probe(
    python: str,
    asset: Path,
    function: str,
    module: str,
    *,
    bytecode: bool = True,
    event: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> dict[str, Any]:
    """One fresh interpreter: stdlib + `asset` only, Lambda's environment."""
    with tempfile.TemporaryDirectory(prefix="pw-cold-") as tmp:
        bootstrap = (
            f"import sys; sys.path.insert(0, {str(asset)!r}); "
            f"sys.argv[1:] = {[module, *([str(event)] if event else [])]!r}; "
            f"exec(compile({PROBE!r}, 'probe', 'exec'))"
        )
        command = [python, "-I", "-S", *([] if bytecode else ["-B"]), "-c", bootstrap]
        env = lambda_environment(function, Path(tmp), asset) | dict(extra_env or {})
        done = subprocess.run(
            command,
            cwd=asset,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT=")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0][:160]}
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT="))
    return result


# -- assets ----------------------------------------------------------------------------------


def build_assets() -> list[ba.AssetReport]:
    """The x86_64 assets (cached: rebuilt when the lock or src/ changed), locked against
    another run on this checkout building them at the same time."""
    ba.DEFAULT_X86_OUT.mkdir(parents=True, exist_ok=True)
    with (ba.DEFAULT_X86_OUT / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return ba.build_all(ba.FUNCTIONS, ba.DEFAULT_X86_OUT, ba.LAMBDA_X86)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


@contextmanager
def without_bytecode(asset: Path) -> Iterator[Path]:
    """A copy of `asset` without its `__pycache__` (hard links: no data copied)."""
    with tempfile.TemporaryDirectory(prefix="pw-nobytecode-") as tmp:
        copy = Path(tmp) / asset.name
        shutil.copytree(
            asset,
            copy,
            ignore=shutil.ignore_patterns("__pycache__"),
            copy_function=_link_or_copy,
            symlinks=True,
        )
        yield copy


def _pairs(python: str, asset: Path, function: str, runs: int, *, bytecode: bool) -> dict[str, Any]:
    """`runs` pairs (boto3, handler), alternating which goes first."""
    boto3, handler, ratios, modules = [], [], [], 0
    for run in range(runs):
        order = ("boto3", handler_module(function))
        if run % 2:
            order = order[::-1]
        timed = {m: run_probe(python, asset, function, m, bytecode=bytecode) for m in order}
        for result in timed.values():
            if "error" in result:
                return {"error": result["error"]}
        base, mine = timed["boto3"]["seconds"], timed[handler_module(function)]["seconds"]
        modules = timed[handler_module(function)]["modules"]
        boto3.append(base)
        handler.append(mine)
        ratios.append(mine / base)
    return {
        "ratio": statistics.median(ratios),
        "boto3": statistics.median(boto3),
        "handler": statistics.median(handler),
        "modules": modules,
    }


def cold_start_rows(reports: list[ba.AssetReport], python: str) -> list[Row]:
    rows = []
    for report in reports:
        function = report.function
        target = TARGET_RATIO[function]
        name = f"{function} handler import / import boto3"
        with_pyc = _pairs(python, report.path, function, RUNS, bytecode=True)
        if "error" in with_pyc:
            rows.append(
                Row(GROUP_COLD, name, "failed", f"<= {target:.1f}x", False, with_pyc["error"])
            )
            continue
        with without_bytecode(report.path) as bare:
            no_pyc = _pairs(python, bare, function, REFERENCE_RUNS, bytecode=False)
        reference = (
            f"without bytecode {no_pyc['ratio']:.2f}x ({no_pyc['handler'] * 1000:.0f} ms)"
            if "error" not in no_pyc
            else f"without bytecode: {no_pyc['error']}"
        )
        note = (
            f"median of {RUNS} paired runs: handler {with_pyc['handler'] * 1000:.0f} ms, "
            f"boto3 {with_pyc['boto3'] * 1000:.0f} ms, {with_pyc['modules']} modules; {reference}"
        )
        ratio = with_pyc["ratio"]
        rows.append(
            Row(GROUP_COLD, name, f"{ratio:.2f}x", f"<= {target:.1f}x", ratio <= target, note)
        )
    return rows


def size_rows(reports: list[ba.AssetReport]) -> list[Row]:
    limit = ba.LAMBDA_UNZIPPED_LIMIT_MB
    return [
        Row(
            GROUP_SIZE,
            f"{r.function} asset, unzipped",
            f"{r.size_mb:.1f} MB",
            f"<= {limit:.0f} MB",
            not r.over_limit,
            f"x86_64 build of the deployed asset, bytecode included; {r.packages} packages",
        )
        for r in reports
    ]


# -- memory: one invocation against moto's server --------------------------------------------


def _event(name: str, *, path: str | None = None, cookie: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    if path is not None:
        event["path"] = event["resource"] = path
        event["requestContext"]["path"] = f"/prod{path}"
    headers = event.setdefault("headers", {})
    multi = event.setdefault("multiValueHeaders", {}) or {}
    event["multiValueHeaders"] = multi
    for key in [k for k in headers if k.lower() == "cookie"]:
        del headers[key]
        multi.pop(key, None)
    if cookie is not None:
        headers["Cookie"] = cookie
        multi["Cookie"] = [cookie]
    return event


def _seed(endpoint: str) -> tuple[dict[str, str], str]:
    """Tables, secrets, key, buckets and bus in moto; a live session. Returns the ARNs the
    functions are given and the session cookie."""
    import boto3

    from portfoliowise.adapters.dynamodb import TableNames, create_tables
    from portfoliowise.adapters.dynamodb.sessions import DynamoSessionStore
    from portfoliowise.application.request_auth import SESSION_COOKIE, token_hash
    from portfoliowise.domain.sessions import Session

    kwargs = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    dynamodb = boto3.client("dynamodb", **kwargs)
    names = TableNames.from_env(COMMON_ENV)
    create_tables(dynamodb, names)
    sm = boto3.client("secretsmanager", **kwargs)

    def secret(name: str, value: str) -> str:
        arn: str = sm.create_secret(Name=name, SecretString=value)["ARN"]
        return arn

    arns = {
        "SESSION_SIGNING_SECRET_ARN": secret("pw/signing", secrets.token_hex(32)),
        "GOOGLE_CLIENT_SECRET_ARN": secret("pw/google", "google-secret"),
        "OPENAI_API_KEY_SECRET": secret("pw/openai", "sk-bench"),
        "SESSION_TOKEN_KEY_ARN": boto3.client("kms", **kwargs).create_key()["KeyMetadata"]["Arn"],
        "INFO_TOPIC_ARN": boto3.client("sns", **kwargs).create_topic(Name="pw-info")["TopicArn"],
    }
    s3 = boto3.client("s3", **kwargs)
    for bucket in ("portfoliowise-backups", "portfoliowise-models"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    boto3.client("events", **kwargs).create_event_bus(Name=COMMON_ENV["EVENT_BUS_NAME"])
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=1)
    DynamoSessionStore(dynamodb, names).put(Session(token_hash(token), BENCH_USER, expires))
    _seed_portfolio(dynamodb, names)
    return arns, f"{SESSION_COOKIE}={token}"


def _seed_portfolio(dynamodb: Any, names: Any) -> None:
    """The bundled example portfolio, the bench user's: the backup job has data to write."""
    from portfoliowise.adapters.clock import SystemClock
    from portfoliowise.adapters.dynamodb.portfolios import DynamoPortfolioRepository
    from portfoliowise.adapters.market.sample import examples_dir
    from portfoliowise.adapters.portfolio_files import load_portfolio
    from portfoliowise.domain.portfolio import Portfolio

    clock = SystemClock()
    example = load_portfolio(examples_dir() / "portfolio.json", at=clock.now()).portfolio
    portfolio = Portfolio.create(
        user_id=BENCH_USER,
        portfolio_id="bench-portfolio",
        name=example.name,
        base_currency=example.base_currency,
        at=clock.now(),
        holdings=example.holdings,
        targets=example.targets,
    )
    DynamoPortfolioRepository(dynamodb, names, clock).add(portfolio, [])


def invocations(cookie: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per API function: what the invocation is, and its event (scheduled: SCHEDULED_JOBS)."""
    return {
        "market": ("GET /api/market-data (recorded)", _event("legacy_market_data.json")),
        "auth": ("GET /auth/session, signed in", _event("auth_session.json", cookie=cookie)),
        "portfolio": ("GET /portfolios, signed in", _event("list_portfolios.json", cookie=cookie)),
        "analysis": (
            "GET /analysis/<job>, signed in",
            _event("list_portfolios.json", path="/analysis/bench-job", cookie=cookie),
        ),
    }


# The scheduled function's cron jobs measured, each in its own fresh interpreter (the row is
# the largest). The cache-warm job is not: it invokes the market function and fetches JPX's
# file, neither of which a moto server here can answer.
SCHEDULED_JOBS = ("backup", "cleanup")


def memory_rows(reports: list[ba.AssetReport], python: str) -> list[Row]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    rows = []
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        arns, cookie = _seed(endpoint)
        calls = invocations(cookie)
        with tempfile.TemporaryDirectory(prefix="pw-events-") as tmp:
            for report in reports:
                function = report.function
                env = {"AWS_ENDPOINT_URL": endpoint}
                env |= {k: v for k, v in arns.items() if k in FUNCTION_ENV[function]}
                measured = []
                for what, event in _events_of(function, calls):
                    event_file = Path(tmp) / f"{function}.json"
                    event_file.write_text(json.dumps(event))
                    result = run_probe(
                        python,
                        report.path,
                        function,
                        handler_module(function),
                        event=event_file,
                        extra_env=env,
                    )
                    measured.append((what, result))
                rows.append(_largest(function, measured))
    finally:
        server.stop()
    return rows


def _events_of(
    function: str, calls: Mapping[str, tuple[str, dict[str, Any]]]
) -> list[tuple[str, dict[str, Any]]]:
    if function == "scheduled":
        return [(f"{job} job", {"job": job, "id": f"bench-{job}"}) for job in SCHEDULED_JOBS]
    return [calls[function]]


def _largest(function: str, measured: list[tuple[str, Mapping[str, Any]]]) -> Row:
    """The row of the invocation with the largest peak (a failed one first), the others'
    peaks in its note."""
    failed = [(what, result) for what, result in measured if "error" in result]
    if failed:
        return _memory_row(function, *failed[0])
    ranked = sorted(measured, key=lambda item: item[1]["peakRssKiB"], reverse=True)
    row = _memory_row(function, *ranked[0])
    others = "; ".join(f"{what}: {r['peakRssKiB'] / 1024:.1f} MiB" for what, r in ranked[1:])
    return replace(row, note=f"{row.note}; {others}") if others else row


def _memory_row(function: str, what: str, result: Mapping[str, Any]) -> Row:
    size = C.LAMBDA_MEMORY_MB[function]
    name = f"{function} peak RSS, one invocation / memory size"
    target = f"< {MEMORY_TARGET_SHARE:.0%} of {size} MB"
    if "error" in result:
        return Row(GROUP_MEMORY, name, "failed", target, False, f"{what}: {result['error']}")
    peak = result["peakRssKiB"] / 1024
    share = peak / size
    answered = result["status"]
    if answered is None:
        report = result.get("report")
        answered = f"returned {json.dumps(report)}" if report else "returned"
    note = f"{what} -> {answered}; after the import alone {result['importRssKiB'] / 1024:.1f} MiB"
    figure = f"{peak:.1f} MiB ({share:.0%})"
    return Row(GROUP_MEMORY, name, figure, target, share < MEMORY_TARGET_SHARE, note)


def rows() -> list[Row]:
    python = python312()
    reports = build_assets()
    return [
        *cold_start_rows(reports, python),
        *memory_rows(reports, python),
        *size_rows(reports),
    ]


if __name__ == "__main__":
    print(render(rows()))
