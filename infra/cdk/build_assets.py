"""Builds each Lambda function's code asset without Docker.

For every deployed function (market, auth, portfolio, analysis, scheduled) this installs
the locked runtime dependencies as manylinux wheels for the Lambda platform (Python 3.12 on
arm64) plus the `src/portfoliowise` package into `infra/cdk/build/assets/<function>/`, the
directory that the Compute construct deploys with `Code.from_asset`.

    python -m infra.cdk.build_assets            # every function
    python -m infra.cdk.build_assets auth market
    python -m infra.cdk.build_assets --platform host   # for this machine (tests only)

How:
- The pinned requirement list is `uv export --frozen --no-dev --no-hashes --no-emit-project`
  (the lock, runtime dependencies only). Its `# via` comments give the dependency graph, from
  which each function drops what it must not carry: auth, portfolio and scheduled carry no
  yfinance, pandas, numpy, curl_cffi or openai; market carries no openai; analysis carries
  openai but no yfinance, pandas, numpy or curl_cffi; none carries a package that only
  dropped ones pull in (a package stays while anything else kept still needs it). Cold start
  is a product feature.
- Environment markers are evaluated for the Lambda platform (not for the build machine), and
  the filtered, marker-free list is installed with `--no-deps`: the list is already complete.
- Wheels only (`--only-binary :all:`) for `aarch64-manylinux_2_34` / CPython 3.12, installed by
  uv's pip interface (`uv pip install --target ... --python-platform ... --python-version ...`),
  the same operation as `pip install --platform manylinux2014_aarch64 --implementation cp
  --python-version 3.12 --only-binary=:all: --target ...` with the platform tag raised to
  manylinux_2_34 (see LAMBDA_PLATFORM); the project's virtualenv is
  uv-managed and has no pip, and uv is pinned by the Makefile.
- boto3/botocore are bundled although the Lambda runtime ships a copy: the runtime's copy
  changes under our feet, the bundled one is the locked version the tests ran against (about
  6 MB with the service data cut to the function's services, below).
- botocore's data is cut to the services the function's role may call (BOTOCORE_SERVICES,
  botocore_pruning.py): their models, and an `endpoints.json` listing only them. The full
  file costs every process 6.9 MiB when its first client is made; the models of the other
  440 services, 27 MB of each asset.
- Cached: each asset records a hash of its requirement list and of the source tree; a re-run
  with nothing changed only prints the table.
- Bytecode: every `.py` of the asset is compiled into `__pycache__/*.cpython-312.pyc` by
  CPython 3.12 itself (the runtime's minor, LAMBDA_PYTHON_VERSION; `python3.12` on PATH or
  in pyenv, else the build fails saying so), with `--invalidation-mode unchecked-hash`: the
  interpreter loads it without comparing the source's mtime (which the zip does not keep)
  and never needs to write bytecode into Lambda's read-only /var/task. Without it every cold
  start compiles the ~700 modules it imports: two to three times slower (`make bench`).
- Prints each asset's unzipped size and fails if any exceeds Lambda's 250 MB.

`--platform lambda-x86_64` builds the same assets for Python 3.12 on x86_64
(`infra/cdk/build/x86_64-assets/`), never deployed: `make bench` times the cold import of each
handler from them on this machine (bench/bench_cold_start.py).

`--platform host` builds the same assets for the interpreter running the build instead
(`infra/cdk/build/host-assets/`): the same pinned versions, the same per-function filtering
and pruning, with markers evaluated and wheels chosen for this machine. They are never
deployed: the handler import test (tests/infra/test_handler_imports.py) imports each
function's handler from its host asset, which an x86_64 machine cannot do with the arm64
wheels' compiled extensions (pydantic_core, cryptography, ...).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker, default_environment

from infra.cdk import botocore_pruning

REPO_ROOT = Path(__file__).resolve().parents[2]
SRC_PACKAGE = REPO_ROOT / "src" / "portfoliowise"
DEFAULT_OUT = Path(__file__).resolve().parent / "build" / "assets"
DEFAULT_HOST_OUT = Path(__file__).resolve().parent / "build" / "host-assets"
DEFAULT_X86_OUT = Path(__file__).resolve().parent / "build" / "x86_64-assets"

FUNCTIONS: tuple[str, ...] = ("market", "auth", "portfolio", "analysis", "scheduled")

# Heavy SDKs imported only where used (DESIGN.md "Rules of the house"): the quote sources'
# (Yahoo's yfinance and what it brings) and the AI analyst's (the OpenAI SDK).
QUOTE_PACKAGES = frozenset({"yfinance", "pandas", "numpy", "curl-cffi"})
AI_PACKAGES = frozenset({"openai"})
HEAVY_PACKAGES = QUOTE_PACKAGES | AI_PACKAGES

# Per function, the packages it must not carry (with what only they pull in). market fetches
# quotes (yfinance, not openai); analysis asks the AI analyst (openai) and prices from the
# Cache table (no yfinance, pandas); the others carry neither.
EXCLUDED_BY_FUNCTION: Mapping[str, frozenset[str]] = {
    "market": AI_PACKAGES,
    "auth": HEAVY_PACKAGES,
    "portfolio": HEAVY_PACKAGES,
    "analysis": QUOTE_PACKAGES,
    "scheduled": HEAVY_PACKAGES,
}

# Per function, the AWS services whose botocore data its asset keeps (botocore_pruning.py):
# those its role may call (tests/infra/test_assets.py reads the synthesized roles), ENI
# management and X-Ray aside (the Lambda service and the X-Ray daemon make those calls).
BOTOCORE_SERVICES: Mapping[str, frozenset[str]] = {
    "market": frozenset({"dynamodb", "kms", "logs", "secretsmanager"}),
    "auth": frozenset({"dynamodb", "kms", "logs", "secretsmanager", "sns"}),
    "portfolio": frozenset({"dynamodb", "events", "kms", "logs", "s3", "secretsmanager", "sns"}),
    "analysis": frozenset({"dynamodb", "events", "kms", "logs", "s3", "secretsmanager"}),
    "scheduled": frozenset({"dynamodb", "events", "kms", "lambda", "logs", "s3"}),
}

# The runtime's CPython minor: the wheels' tags, the markers and the bytecode's interpreter
# all follow it; the CDK's runtime must be `python3.12` too (test_handler_imports.py).
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_RUNTIME = f"python{LAMBDA_PYTHON_VERSION}"
# The python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34): manylinux2014 (glibc 2.17)
# up to manylinux_2_34 wheels load there. numpy 2.5 ships aarch64 wheels for manylinux_2_28
# only, so `manylinux2014` alone (pip's `--platform manylinux2014_aarch64`) cannot resolve.
LAMBDA_PLATFORM = "aarch64-manylinux_2_34"
LAMBDA_X86_PLATFORM = "x86_64-manylinux_2_34"  # the same on x86_64 (bench only)
LAMBDA_UNZIPPED_LIMIT_MB = 250.0

# The Lambda python3.12 arm64 environment, for evaluating environment markers.
LAMBDA_MARKER_ENV: Mapping[str, str] = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.0",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.12.0",
    "python_version": LAMBDA_PYTHON_VERSION,
    "sys_platform": "linux",
}

# Packages whose own test suites ship inside their wheels (about 26 MB for these two): never
# imported at run time, pruned from the asset to keep market clear of 250 MB.
PRUNED_TEST_SUITES: tuple[str, ...] = ("pandas", "numpy")

# What the Lambda Python runtime itself provides on sys.path (/var/runtime): boto3 and its
# dependencies. Our assets bundle their own copy (see above); inline-code functions (the
# secret rotation function) rely on the runtime's.
LAMBDA_RUNTIME_PACKAGES: tuple[str, ...] = ("boto3",)

PROJECT_NAME = "portfoliowise"
_IGNORED_SOURCE_PARTS = frozenset({"__pycache__"})
_IGNORED_SOURCE_SUFFIXES = frozenset({".pyc", ".pyo"})


# How the assets' bytecode is compiled (part of every input hash: a change rebuilds).
BYTECODE = "bytecode: compileall unchecked-hash"


class AssetBuildError(RuntimeError):
    """The installer failed, the bytecode's interpreter is missing or an asset is over
    Lambda's size limit."""


def _python_version_of(candidate: str) -> str | None:
    """`3.12` for a CPython 3.12 interpreter, None when it does not run (a pyenv shim whose
    version is not selected, say) or is not CPython."""
    probe = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"
    try:
        done = subprocess.run(
            [candidate, "-I", "-c", probe], capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    name, _, version = done.stdout.strip().partition(" ")
    return version if done.returncode == 0 and name == "cpython" else None


def python_candidates(version: str) -> list[str]:
    """Where a CPython `version` may be: $PYTHON312 (for 3.12), `python3.12` on PATH, then
    pyenv's installed versions (newest patch first)."""
    found = [
        os.environ.get(f"PYTHON{version.replace('.', '')}", ""),
        shutil.which(f"python{version}"),
    ]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installed = (pyenv_root / "versions").glob(f"{version}.*/bin/python{version}")

    def release(path: Path) -> tuple[int, ...]:  # versions/3.12.10/bin/python3.12 -> (3, 12, 10)
        return tuple(int(part) for part in re.findall(r"\d+", path.parents[1].name))

    found += [str(path) for path in sorted(installed, key=release, reverse=True)]
    return [candidate for candidate in found if candidate]


def find_python(version: str = LAMBDA_PYTHON_VERSION) -> str:
    """A CPython `version` interpreter (the Lambda runtime's minor compiles its bytecode)."""
    for candidate in python_candidates(version):
        if _python_version_of(candidate) == version:
            return candidate
    raise AssetBuildError(
        f"CPython {version} not found (the Lambda runtime's bytecode must be compiled by the "
        f"runtime's own minor): install it (`pyenv install {version}`) or set "
        f"PYTHON{version.replace('.', '')}=/path/to/python{version}"
    )


def compile_bytecode(target: Path, python: str) -> None:
    """Compiles every `.py` under `target` with `python`, into `__pycache__` beside it, as
    unchecked-hash .pyc: loaded without looking at the source's mtime, never rewritten."""
    command = [python, "-I", "-m", "compileall", "-q", "-j0"]
    command += ["--invalidation-mode", "unchecked-hash", str(target)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stdout + done.stderr).strip()[-4000:]
        raise AssetBuildError(f"compiling the bytecode of {target} failed:\n{detail}")


@dataclass(frozen=True, slots=True)
class Platform:
    """Where an asset is meant to run: which wheels to install and how to evaluate markers.

    `python_platform` + `python_version` select wheels for another machine (uv's
    `--python-platform`/`--python-version`); `interpreter` selects them for that interpreter
    (uv's `--python`: its own tags). `bytecode`: compile the asset's `.py` files with the
    platform's CPython minor (`python_version`, else `interpreter`)."""

    name: str
    marker_env: Mapping[str, str]
    python_platform: str | None = None
    python_version: str | None = None
    interpreter: str | None = None
    bytecode: bool = True

    def describe(self) -> str:
        """What goes into an asset's input hash."""
        compiled = f" {BYTECODE}" if self.bytecode else ""
        if self.python_platform is not None:
            return f"{self.python_platform} cp{self.python_version}{compiled}"
        env = self.marker_env
        return (
            f"{self.name} {self.interpreter} {env.get('implementation_name')}"
            f"{env.get('python_full_version')} {env.get('sys_platform')} "
            f"{env.get('platform_machine')}{compiled}"
        )

    def bytecode_interpreter(self) -> str:
        """The interpreter that compiles the asset's bytecode: a CPython of the platform's
        minor (python3.12 for Lambda), else the platform's own interpreter."""
        if self.python_version is not None:
            return find_python(self.python_version)
        return self.interpreter or sys.executable


LAMBDA = Platform(
    name="lambda",
    marker_env=LAMBDA_MARKER_ENV,
    python_platform=LAMBDA_PLATFORM,
    python_version=LAMBDA_PYTHON_VERSION,
)
# The Lambda assets for x86_64 (same versions, markers for x86_64): bench/bench_cold_start.py
# imports them on this machine. Never deployed (the functions are arm64).
LAMBDA_X86 = Platform(
    name="lambda-x86_64",
    marker_env={**LAMBDA_MARKER_ENV, "platform_machine": "x86_64"},
    python_platform=LAMBDA_X86_PLATFORM,
    python_version=LAMBDA_PYTHON_VERSION,
)
PLATFORMS: Mapping[str, Platform] = {LAMBDA.name: LAMBDA, LAMBDA_X86.name: LAMBDA_X86}


def host_platform() -> Platform:
    """The interpreter running this code, on this machine (for tests: never deployed). No
    bytecode: the handler import test runs with a `pycache_prefix` of its own, which makes
    the interpreter ignore an asset's `__pycache__`."""
    return Platform(
        name="host",
        marker_env={key: str(value) for key, value in default_environment().items()},
        interpreter=sys.executable,
        bytecode=False,
    )


def normalize(name: str) -> str:
    """PEP 503 name: `Curl_CFFI` -> `curl-cffi`."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True, slots=True)
class Requirement:
    """One pinned line of the export: `name==version` (its marker apart) and who needs it."""

    name: str
    specifier: str
    marker: str | None
    parents: frozenset[str]

    def applies_to(self, platform: Platform) -> bool:
        return self.marker is None or Marker(self.marker).evaluate(dict(platform.marker_env))

    def applies_to_lambda(self) -> bool:
        return self.applies_to(LAMBDA)


def parse_export(text: str) -> list[Requirement]:
    """Parses `uv export` output (requirements.txt with `# via` comments)."""
    result: list[Requirement] = []
    current: tuple[str, str, str | None] | None = None
    parents: set[str] = set()
    in_via = False

    def flush() -> None:
        if current is not None:
            result.append(Requirement(current[0], current[1], current[2], frozenset(parents)))

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not raw[0].isspace() and not line.startswith("#"):
            flush()
            spec, _, marker = line.partition(";")
            spec = spec.strip()
            name = normalize(re.split(r"[\s=<>!~\[@]", spec, maxsplit=1)[0])
            current = (name, spec, marker.strip() or None)
            parents = set()
            in_via = False
        elif current is not None and line.startswith("#"):
            comment = line.lstrip("#").strip()
            if comment.startswith("via"):
                rest = comment[3:].strip()
                in_via = True
                if rest:
                    parents.add(normalize(rest))
            elif in_via and comment:
                parents.add(normalize(comment))
    flush()
    return result


def dropped_packages(requirements: Sequence[Requirement], excluded: Iterable[str]) -> set[str]:
    """The excluded packages and every package needed only by dropped ones (fixed point)."""
    dropped = {normalize(name) for name in excluded}
    changed = True
    while changed:
        changed = False
        for req in requirements:
            if req.name in dropped or not req.parents:
                continue
            if all(parent in dropped for parent in req.parents):
                dropped.add(req.name)
                changed = True
    return dropped


def requirements_for(
    requirements: Sequence[Requirement], function: str, platform: Platform | None = None
) -> list[str]:
    """The pinned, marker-free lines to install for one function on `platform` (Lambda)."""
    target = platform or LAMBDA
    dropped = dropped_packages(requirements, EXCLUDED_BY_FUNCTION[function])
    return sorted(
        {
            req.specifier
            for req in requirements
            if req.name not in dropped and req.applies_to(target)
        }
    )


def requirements_closure(
    requirements: Sequence[Requirement], roots: Iterable[str], platform: Platform | None = None
) -> list[str]:
    """The pinned lines of `roots` and everything they need (from the `# via` graph)."""
    target = platform or LAMBDA
    children: dict[str, set[str]] = {}
    for req in requirements:
        for parent in req.parents:
            children.setdefault(parent, set()).add(req.name)
    wanted: set[str] = set()
    pending = [normalize(name) for name in roots]
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(children.get(name, ()))
    return sorted(
        {req.specifier for req in requirements if req.name in wanted and req.applies_to(target)}
    )


def export_requirements(uv: str) -> str:
    """The locked runtime requirements, from `uv export` (no network: `--frozen`)."""
    command = [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project"]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssetBuildError(f"{' '.join(command)} failed:\n{done.stderr}")
    return done.stdout


def find_uv() -> str:
    for candidate in (os.environ.get("UV"), str(REPO_ROOT / ".tools" / "bin" / "uv")):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("uv")
    if found is None:
        raise AssetBuildError("uv not found: run `make setup` (it installs .tools/bin/uv)")
    return found


def _source_files(source: Path) -> list[Path]:
    return sorted(
        path
        for path in source.rglob("*")
        if path.is_file()
        and not _IGNORED_SOURCE_PARTS.intersection(path.relative_to(source).parts)
        and path.suffix not in _IGNORED_SOURCE_SUFFIXES
    )


def input_hash(
    lines: Sequence[str],
    source: Path | None,
    platform: Platform | None = None,
    services: Iterable[str] = (),
) -> str:
    """Hash of what an asset is made of: platform, pruning (test suites, AWS services),
    requirement list, source tree."""
    digest = hashlib.sha256()
    digest.update(f"{(platform or LAMBDA).describe()}\n".encode())
    digest.update(f"pruned: {','.join(PRUNED_TEST_SUITES)}\n".encode())
    digest.update(f"aws services: {','.join(sorted(services))}\n".encode())
    for line in lines:
        digest.update(line.encode() + b"\n")
    if source is not None:
        for path in _source_files(source):
            digest.update(path.relative_to(source).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def directory_size_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return total / (1024 * 1024)


@dataclass(frozen=True, slots=True)
class AssetReport:
    function: str
    path: Path
    size_mb: float
    packages: int
    cached: bool
    seconds: float

    @property
    def over_limit(self) -> bool:
        return self.size_mb > LAMBDA_UNZIPPED_LIMIT_MB


def manifest_path(out_root: Path, function: str) -> Path:
    return out_root / f"{function}.manifest.json"


def install_command(
    uv: str, target: Path, requirements_file: Path, platform: Platform | None = None
) -> list[str]:
    where = platform or LAMBDA
    if where.python_platform is not None:
        wheels = ["--python-platform", where.python_platform]
        wheels += ["--python-version", where.python_version or LAMBDA_PYTHON_VERSION]
    else:
        wheels = ["--python", where.interpreter or sys.executable]
    return [
        uv,
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        *wheels,
        "--only-binary",
        ":all:",
        "--no-deps",
        "--requirement",
        str(requirements_file),
    ]


def build_function(
    function: str,
    lines: Sequence[str],
    out_root: Path = DEFAULT_OUT,
    *,
    source: Path | None = SRC_PACKAGE,
    uv: str | None = None,
    platform: Platform | None = None,
) -> AssetReport:
    """Builds (or reuses) one function's asset directory `out_root/<function>` (with the
    `source` package, unless None: then the requirements alone)."""
    started = time.monotonic()
    out_root.mkdir(parents=True, exist_ok=True)
    final = out_root / function
    manifest = manifest_path(out_root, function)
    services = BOTOCORE_SERVICES.get(function, frozenset())
    key = input_hash(lines, source, platform, services)
    if final.is_dir() and manifest.is_file():
        recorded = json.loads(manifest.read_text())
        if recorded.get("inputHash") == key:
            return AssetReport(function, final, directory_size_mb(final), len(lines), True, 0.0)
    staging = out_root / f".{function}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    if lines:
        requirements_file = out_root / f".{function}.requirements.txt"
        requirements_file.write_text("\n".join(lines) + "\n")
        command = install_command(uv or find_uv(), staging, requirements_file, platform)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise AssetBuildError(f"installing {function}'s dependencies failed:\n{done.stderr}")
    prune_test_suites(staging)
    if services:
        botocore_pruning.prune(staging, services)
    if source is not None:
        shutil.copytree(
            source,
            staging / PROJECT_NAME,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"),
        )
    target = platform or LAMBDA
    if target.bytecode:
        try:
            compile_bytecode(staging, target.bytecode_interpreter())
        except AssetBuildError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    shutil.rmtree(final, ignore_errors=True)
    manifest.unlink(missing_ok=True)
    staging.rename(final)
    manifest.write_text(
        json.dumps({"function": function, "inputHash": key, "requirements": list(lines)}, indent=1)
    )
    return AssetReport(
        function, final, directory_size_mb(final), len(lines), False, time.monotonic() - started
    )


def prune_test_suites(target: Path) -> None:
    """Deletes the `tests` packages inside PRUNED_TEST_SUITES' installed packages."""
    for package in PRUNED_TEST_SUITES:
        root = target / package
        if root.is_dir():
            for tests in sorted(root.rglob("tests"), reverse=True):
                if tests.is_dir():
                    shutil.rmtree(tests)


def size_table(reports: Sequence[AssetReport]) -> str:
    rows = [f"{'function':<10} {'size (MB)':>10} {'packages':>9}  {'build':>8}  status"]
    for r in reports:
        status = "OVER 250 MB" if r.over_limit else "ok"
        build = "cached" if r.cached else f"{r.seconds:.1f}s"
        rows.append(f"{r.function:<10} {r.size_mb:>10.1f} {r.packages:>9}  {build:>8}  {status}")
    rows.append(f"limit: {LAMBDA_UNZIPPED_LIMIT_MB:.0f} MB unzipped per function (code + layers)")
    return "\n".join(rows)


def check_sizes(reports: Sequence[AssetReport]) -> None:
    over = [r for r in reports if r.over_limit]
    if over:
        names = ", ".join(f"{r.function} ({r.size_mb:.1f} MB)" for r in over)
        raise AssetBuildError(f"over Lambda's {LAMBDA_UNZIPPED_LIMIT_MB:.0f} MB limit: {names}")


def build_all(
    functions: Sequence[str] = FUNCTIONS,
    out_root: Path = DEFAULT_OUT,
    platform: Platform | None = None,
) -> list[AssetReport]:
    uv = find_uv()
    requirements = parse_export(export_requirements(uv))
    return [
        build_function(
            name,
            requirements_for(requirements, name, platform),
            out_root,
            uv=uv,
            platform=platform,
        )
        for name in functions
    ]


def build_lambda_runtime(out_root: Path, platform: Platform | None = None) -> AssetReport:
    """`out_root/lambda-runtime`: what the Lambda runtime provides (LAMBDA_RUNTIME_PACKAGES,
    at the locked versions), for inline-code functions in the handler import test."""
    uv = find_uv()
    requirements = parse_export(export_requirements(uv))
    lines = requirements_closure(requirements, LAMBDA_RUNTIME_PACKAGES, platform)
    return build_function("lambda-runtime", lines, out_root, source=None, uv=uv, platform=platform)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.cdk.build_assets", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("functions", nargs="*", help=f"any of {', '.join(FUNCTIONS)} (default all)")
    parser.add_argument(
        "--out",
        type=Path,
        help=f"asset root directory (default {DEFAULT_OUT} or, for the host, {DEFAULT_HOST_OUT})",
    )
    parser.add_argument(
        "--platform",
        choices=("lambda", LAMBDA_X86.name, "host"),
        default="lambda",
        help="lambda (default): the deployed assets; lambda-x86_64: the same for x86_64, for "
        "the cold-start bench; host: this machine's interpreter, for the handler import test "
        "(the last two never deployed)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.functions) - set(FUNCTIONS))
    if unknown:
        parser.error(f"unknown function(s): {', '.join(unknown)}")
    platform = host_platform() if args.platform == "host" else PLATFORMS[args.platform]
    default_out = {"host": DEFAULT_HOST_OUT, LAMBDA_X86.name: DEFAULT_X86_OUT}
    out = args.out or default_out.get(args.platform, DEFAULT_OUT)
    started = time.monotonic()
    try:
        reports = build_all(args.functions or FUNCTIONS, out, platform)
        print(size_table(reports))  # noqa: T201
        print(f"total {time.monotonic() - started:.1f}s -> {out}")  # noqa: T201
        check_sizes(reports)
    except AssetBuildError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
