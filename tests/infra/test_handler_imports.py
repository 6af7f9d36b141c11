"""Infra and code agree: every Lambda handler of the synthesized app imports, and its handler
attribute resolves, in a fresh interpreter with only that function's asset on the path and
Lambda's environment, without network (see lambda_imports.py for how).

The assets imported are built for this machine (`build_assets --platform host`, under
`infra/cdk/build/host-assets/`, cached there; the wheels come from uv's cache, which
`make setup` fills with the same pinned versions for this interpreter).
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from infra.cdk import build_assets as ba
from infra.cdk import constants as C
from infra_synth import Synth
from lambda_imports import (
    ImportResult,
    LambdaFunction,
    import_handler,
    lambda_functions,
    write_inline,
)

SYNTHS = ("default_synth", "dr_synth", "standby_synth")
RUNTIME = "lambda-runtime"  # what the Python runtime provides to inline code
PYCACHE = ba.DEFAULT_HOST_OUT.parent / "host-pycache"


@contextmanager
def _locked() -> Iterator[None]:
    """The host assets, locked: another test session on this checkout (several people, one
    machine) neither rebuilds them under this one's imports nor builds them at the same time."""
    ba.DEFAULT_HOST_OUT.mkdir(parents=True, exist_ok=True)
    with (ba.DEFAULT_HOST_OUT / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture
def host_assets() -> Iterator[Path]:
    """Every function's asset for this machine, plus the runtime's own boto3 (cached: rebuilt
    only when the lock file or src/ changed), for the test's duration."""
    with _locked():
        platform = ba.host_platform()
        ba.check_sizes(ba.build_all(ba.FUNCTIONS, ba.DEFAULT_HOST_OUT, platform))
        ba.build_lambda_runtime(ba.DEFAULT_HOST_OUT, platform)
        yield ba.DEFAULT_HOST_OUT


@pytest.fixture
def runtime_asset() -> Iterator[Path]:
    """The runtime's own boto3 alone (for the harness's own tests)."""
    with _locked():
        yield ba.build_lambda_runtime(ba.DEFAULT_HOST_OUT, ba.host_platform()).path


@pytest.fixture(scope="session")
def functions(request: pytest.FixtureRequest) -> list[LambdaFunction]:
    """Every Lambda function of every synthesized configuration, once per distinct
    (code, handler, environment)."""
    seen: dict[tuple[object, ...], LambdaFunction] = {}
    for fixture in SYNTHS:
        synth: Synth = request.getfixturevalue(fixture)
        for function in lambda_functions(synth, fixture.removesuffix("_synth")):
            code = function.asset or hashlib.sha256((function.inline or "").encode()).hexdigest()
            key = (code, function.handler, tuple(sorted(function.environment.items())))
            seen.setdefault(key, function)
    return list(seen.values())


def _import(function: LambdaFunction, host_assets: Path, work: Path) -> ImportResult:
    """One import, in `work` (a directory of its own)."""
    if function.asset is not None:
        paths = [host_assets / function.asset]
    else:
        paths = [write_inline(function, work / "inline"), host_assets / RUNTIME]
    return import_handler(function, paths, PYCACHE, work / "run")


def test_every_lambda_handler_imports_with_only_its_asset(
    functions: list[LambdaFunction], host_assets: Path, tmp_path: Path
) -> None:
    assert functions
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(
                lambda n: _import(functions[n], host_assets, tmp_path / str(n)),
                range(len(functions)),
            )
        )
    problems = {result.function.label: result.problems() for result in results if result.problems()}
    report = "\n\n".join(
        f"{label}:\n" + "\n".join(found) for label, found in sorted(problems.items())
    )
    assert not problems, report
    outside = (sys.prefix, str(ba.REPO_ROOT / "src"))  # the virtualenv, the source tree
    for result in results:
        if result.function.asset is not None:
            assert result.sys_path[0] == str(host_assets / result.function.asset)
        assert not [entry for entry in result.sys_path if entry.startswith(outside)]


def test_the_synthesized_functions_are_the_built_ones(functions: list[LambdaFunction]) -> None:
    """Every function with an asset is one that build_assets builds, and every function that
    build_assets builds is deployed with the handler of its name."""
    deployed = {(f.asset, f.handler) for f in functions if f.asset is not None}
    assert set(ba.FUNCTIONS) == set(C.LAMBDA_FUNCTION_NAMES)
    assert deployed == {
        (name, f"{C.LAMBDA_HANDLER_PACKAGE}.{name}.handler") for name in ba.FUNCTIONS
    }


def test_the_runtime_is_the_one_the_bytecode_is_compiled_for(
    functions: list[LambdaFunction],
) -> None:
    """The assets ship bytecode compiled by CPython `LAMBDA_PYTHON_VERSION`: every function
    built from an asset runs on that runtime (other bytecode would be ignored and every
    module compiled at each cold start)."""
    assert {f.runtime for f in functions if f.asset is not None} == {ba.LAMBDA_RUNTIME}


def test_the_cold_start_bench_sets_each_functions_variables(
    functions: list[LambdaFunction],
) -> None:
    """bench/bench_cold_start.py imports each handler with the variables the stack sets
    (its own copy, with fake names): the same variable names, function by function."""
    sys.path.insert(0, str(ba.REPO_ROOT / "bench"))
    try:
        import bench_cold_start as bench
    finally:
        sys.path.remove(str(ba.REPO_ROOT / "bench"))
    default = {f.asset: f for f in functions if f.asset is not None and f.config == "default"}
    assert set(default) == set(ba.FUNCTIONS)
    for name, function in default.items():
        bench_env = {**bench.COMMON_ENV, **bench.FUNCTION_ENV[name], "POWERTOOLS_SERVICE_NAME": ""}
        optional = {"GOOGLE_CLIENT_ID"}  # set only when configured
        assert set(function.environment) - optional == set(bench_env) - optional, name


def test_the_host_assets_carry_the_same_packages_as_the_lambda_assets() -> None:
    """Same per-function filtering; only marker-chosen versions may differ (numpy for
    Python < 3.12, say)."""
    requirements = ba.parse_export(ba.export_requirements(ba.find_uv()))
    host = ba.host_platform()

    def names(lines: list[str]) -> set[str]:
        return {ba.normalize(re.split(r"[=<>!~\[ ]", line, maxsplit=1)[0]) for line in lines}

    for function in ba.FUNCTIONS:
        on_lambda = names(ba.requirements_for(requirements, function))
        on_host = names(ba.requirements_for(requirements, function, host))
        assert on_host == on_lambda, function
    runtime = names(ba.requirements_closure(requirements, ba.LAMBDA_RUNTIME_PACKAGES, host))
    assert {"boto3", "botocore", "s3transfer", "jmespath"} <= runtime
    assert not runtime & {"pydantic", "httpx", "aws-lambda-powertools"}


# -- the harness catches what it is meant to catch ----------------------------------------------

PROBES = {
    "reads_the_network": "import socket\nsocket.getaddrinfo('example.com', 443)\n",
    "calls_aws": (
        "import boto3\n"
        "boto3.client('secretsmanager').get_secret_value(SecretId='portfoliowise/signing')\n"
    ),
    "imports_the_venv": "import pytest\n",
    "imports_src": "import portfoliowise.domain\n",
    "writes_the_task_root": "open('/var/task/probe.log', 'w').close()\n",
    "writes_tmp": (
        "import os, tempfile\nos.makedirs('/tmp/portfoliowise-probe', exist_ok=True)\n"
        "tempfile.NamedTemporaryFile().close()\n"
    ),
}


def _probe(name: str, runtime: Path, tmp_path: Path, handler: str = "handler") -> ImportResult:
    asset = tmp_path / "asset"
    asset.mkdir(exist_ok=True)
    (asset / f"{name}.py").write_text(PROBES[name] + "def handler(event, context):\n    pass\n")
    probe = LambdaFunction(
        config="probe",
        stack="Probe",
        logical_id=name,
        handler=f"{name}.{handler}",
        runtime="python3.12",
        memory=128,
        region="ap-northeast-1",
        environment={},
        asset=None,
        inline=None,
    )
    return import_handler(probe, [asset, runtime], PYCACHE, tmp_path / name)


def test_the_harness_refuses_network_and_aws_calls(runtime_asset: Path, tmp_path: Path) -> None:
    network = _probe("reads_the_network", runtime_asset, tmp_path)
    assert not network.ok
    assert network.network == ["DNS lookup of example.com:443"]
    aws = _probe("calls_aws", runtime_asset, tmp_path)
    assert not aws.ok
    assert any("secretsmanager.ap-northeast-1.amazonaws.com" in n for n in aws.network)


def test_the_harness_sees_neither_the_virtualenv_nor_src(
    runtime_asset: Path, tmp_path: Path
) -> None:
    for name, module in (("imports_the_venv", "pytest"), ("imports_src", "portfoliowise")):
        result = _probe(name, runtime_asset, tmp_path)
        assert not result.ok
        assert f"No module named '{module}'" in (result.error or "")


def test_the_harness_records_writes_outside_tmp(runtime_asset: Path, tmp_path: Path) -> None:
    result = _probe("writes_the_task_root", runtime_asset, tmp_path)
    assert not result.ok
    assert "Read-only file system" in (result.error or "")
    assert result.writes == ["/var/task/probe.log"]
    assert _probe("writes_tmp", runtime_asset, tmp_path).problems() == []


def test_the_harness_resolves_the_handler_attribute(runtime_asset: Path, tmp_path: Path) -> None:
    result = _probe("writes_tmp", runtime_asset, tmp_path, handler="missing")
    assert not result.ok
    assert "has no attribute 'missing'" in (result.error or "")
