"""Imports each Lambda function's handler the way the Lambda runtime does at a cold start, in
a fresh interpreter that sees nothing but that function's code (used by
test_handler_imports.py).

- The functions come from the synthesized templates: every `AWS::Lambda::Function`, its
  `Handler`, its environment and its code. Code from an asset is mapped to the function's
  asset directory through the stand-in the test app was synthesized with (each stand-in
  names its function, see infra_synth.STAND_IN_MARKER); inline code (`ZipFile`) is written
  out as `index.py` next to what the Python runtime itself provides (boto3 and its
  dependencies, build_assets.LAMBDA_RUNTIME_PACKAGES).
- The asset imported is the function's *host* asset (`build_assets --platform host`): the
  same pinned packages, filtering and pruning as the deployed arm64 asset, with wheels this
  machine can load.
- The interpreter runs with `-I -S`: no PYTHON* variables, no user or site packages (so
  neither the project's virtualenv nor `src/` is importable); sys.path is the standard
  library plus the asset. After the import every loaded module must come from one of them.
- The environment is Lambda's: the function's variables from the template (references to
  other resources become plausible fake names and ARNs), the runtime's own variables and fake
  credentials; nothing of the test process leaks in.
- An audit hook refuses network (DNS lookups and inet connections): a cold start must not
  call AWS. It also refuses, as Lambda's read-only file system would, and records writes
  outside /tmp (the only writable place on Lambda).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.cdk.lambda_runtime import runtime_environment
from infra_synth import STAND_IN_MARKER, Synth

ACCOUNT = "123456789012"
IMPORT_TIMEOUT_SECONDS = 120

# What runs in the fresh interpreter: argv[1] is a JSON object (paths, handler, result file,
# writable roots). The result goes to a file: the handler's own logging writes to stdout.
BOOTSTRAP = r"""
import errno, json, os, socket, sys, sysconfig, time, traceback

args = json.loads(sys.argv[1])
network, writes = [], []
writable = tuple(os.path.abspath(p) + os.sep for p in args["writable"])


class NetworkAtImport(BaseException):
    pass


def _written(path):
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str) or path == os.devnull:
        return
    full = os.path.abspath(path)
    if not (full + os.sep).startswith(writable):
        writes.append(full)
        raise OSError(errno.EROFS, "Read-only file system (Lambda: only /tmp is writable)", full)


def audit(event, details):
    if event == "socket.getaddrinfo":
        network.append(f"DNS lookup of {details[0]}:{details[1]}")
        raise NetworkAtImport(network[-1])
    if event in ("socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        network.append(f"{event} {details[0]}")
        raise NetworkAtImport(network[-1])
    if event in ("socket.connect", "socket.sendto"):
        sock, address = details[0], details[-1]
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            network.append(f"{event} to {address}")
            raise NetworkAtImport(network[-1])
    elif event == "open":
        path, mode, flags = details
        if isinstance(mode, str):
            writing = any(c in mode for c in "wax+")
        else:
            bits = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
            writing = bool((flags or 0) & bits)
        if writing:
            _written(path)
    elif event in ("os.mkdir", "os.remove", "shutil.rmtree"):
        _written(details[0])
    elif event == "os.rename":
        _written(details[0])
        _written(details[1])


sys.addaudithook(audit)
sys.path[:0] = args["paths"]
result = {"ok": False, "error": None, "network": network, "writes": writes, "foreign": []}
started = time.monotonic()
try:
    module_name, _, attribute = args["handler"].rpartition(".")
    module = __import__(module_name, fromlist=[attribute])
    handler = getattr(module, attribute)
    if not callable(handler):
        raise TypeError(f"{args['handler']} is not callable")
    result["ok"] = True
except BaseException:
    result["error"] = traceback.format_exc()
result["seconds"] = round(time.monotonic() - started, 2)
allowed = tuple(
    os.path.abspath(p) + os.sep
    for p in [*args["paths"], sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]]
)
for name, loaded in sorted(sys.modules.items()):
    origin = getattr(loaded, "__file__", None)
    if origin and not os.path.abspath(origin).startswith(allowed):
        result["foreign"].append(f"{name}: {origin}")
result["sys_path"] = sys.path
with open(args["result"], "w") as out:
    json.dump(result, out)
"""


@dataclass(frozen=True)
class LambdaFunction:
    """One `AWS::Lambda::Function` of a synthesized template."""

    config: str  # which synthesized app (default, dr, standby)
    stack: str
    logical_id: str
    handler: str
    runtime: str
    memory: int
    region: str
    environment: dict[str, str]
    asset: str | None  # the function name of its asset (stand-in), or None for inline code
    inline: str | None  # inline code (ZipFile)

    @property
    def label(self) -> str:
        return f"{self.config}: {self.stack}/{self.logical_id} ({self.handler})"


@dataclass
class ImportResult:
    function: LambdaFunction
    ok: bool
    error: str | None
    network: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    sys_path: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def problems(self) -> list[str]:
        found = []
        if not self.ok:
            found.append(f"import failed:\n{self.error}")
        if self.network:
            found.append(f"network at import: {self.network}")
        if self.writes:
            found.append(f"writes outside /tmp at import (read-only on Lambda): {self.writes}")
        if self.foreign:
            found.append(f"modules from outside the asset and the stdlib: {self.foreign}")
        return found


# -- the functions of a synthesized app ---------------------------------------------------------


def region_of(synth: Synth, stack: str) -> str:
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    region: str = manifest["artifacts"][stack]["environment"].rsplit("/", 1)[-1]
    return region


def lambda_functions(synth: Synth, config: str = "") -> list[LambdaFunction]:
    found = []
    for stack, template in synth.templates.items():
        region = region_of(synth, stack)
        for logical, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            props = resource["Properties"]
            code = props["Code"]
            asset = None
            if "S3Key" in code:
                directory = synth.outdir / f"asset.{str(code['S3Key']).removesuffix('.zip')}"
                asset = (directory / STAND_IN_MARKER).read_text().strip()
            variables = props.get("Environment", {}).get("Variables", {})
            found.append(
                LambdaFunction(
                    config=config,
                    stack=stack,
                    logical_id=logical,
                    handler=props["Handler"],
                    runtime=props["Runtime"],
                    memory=int(props.get("MemorySize", 128)),
                    region=region,
                    environment={
                        key: fake_value(value, template, region) for key, value in variables.items()
                    },
                    asset=asset,
                    inline=code.get("ZipFile"),
                )
            )
    return found


def fake_value(value: Any, template: dict[str, Any], region: str) -> str:
    """A template value as the function would see it, with references to other resources
    replaced by plausible fake names and ARNs (a table's name, a secret's ARN, ...)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return _ref(str(argument), template, region)
        if function == "Fn::GetAtt":
            logical, attribute = (
                argument if isinstance(argument, list) else str(argument).split(".", 1)
            )
            return _attribute(logical, attribute, template, region)
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(fake_value(part, template, region) for part in parts)
        if function == "Fn::Sub" and isinstance(argument, str):
            text = argument
            while "${" in text:
                start = text.index("${")
                end = text.index("}", start)
                name = text[start + 2 : end]
                if "." in name:
                    replacement = _attribute(*name.split(".", 1), template, region)
                else:
                    replacement = _ref(name, template, region)
                text = text[:start] + replacement + text[end + 1 :]
            return text
    raise ValueError(f"no fake value for {value!r}: extend lambda_imports.fake_value")


def _pseudo(name: str, region: str) -> str:
    return {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": "PortfolioWise",
    }[name]


def _kind(logical: str, template: dict[str, Any]) -> tuple[str, str]:
    """(service, resource kind) of a resource: AWS::KMS::Key -> (kms, key)."""
    _, service, kind = template["Resources"][logical]["Type"].split("::")
    return service.lower(), kind.lower()


def _ref(name: str, template: dict[str, Any], region: str) -> str:
    if name.startswith("AWS::"):
        return _pseudo(name, region)
    if name not in template["Resources"]:
        return f"fake-parameter-{name.lower()}"
    service, kind = _kind(name, template)
    if (service, kind) == ("secretsmanager", "secret"):  # a secret's Ref is its ARN
        return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name.lower()}-AbCdEf"
    return f"fake-{name.lower()}"


def _attribute(logical: str, attribute: str, template: dict[str, Any], region: str) -> str:
    service, kind = _kind(logical, template)
    if attribute == "Arn":
        if service == "s3":
            return f"arn:aws:s3:::fake-{logical.lower()}"
        return f"arn:aws:{service}:{region}:{ACCOUNT}:{kind}/fake-{logical.lower()}"
    return f"fake-{logical.lower()}-{attribute.lower()}"


# -- running an import ----------------------------------------------------------------------------


def lambda_environment(function: LambdaFunction, task_root: Path, tmp: Path) -> dict[str, str]:
    """What the Lambda runtime sets (python3.12), then the function's own variables."""
    runtime = runtime_environment(
        name=f"{function.stack}-{function.logical_id}",
        handler=function.handler,
        runtime=function.runtime,
        region=function.region,
        memory_mb=function.memory,
        task_root=task_root,
        tmp=tmp,
    )
    return {
        **runtime,
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        **function.environment,
    }


def interpreter() -> str:
    """The Python under the test's virtualenv (the host assets are built for its tags)."""
    base = getattr(sys, "_base_executable", None)
    return base if base and Path(base).exists() else sys.executable


def import_handler(
    function: LambdaFunction, paths: list[Path], pycache: Path, work: Path
) -> ImportResult:
    """Imports `function.handler` with only `paths` (its asset) besides the stdlib."""
    work.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=work))
    result_file = work / "result.json"
    args = {
        "paths": [str(p) for p in paths],
        "handler": function.handler,
        "result": str(result_file),
        "writable": ["/tmp", tempfile.gettempdir(), str(tmp), str(pycache), str(work)],
    }
    command = [
        interpreter(),
        "-I",
        "-S",
        "-X",
        f"pycache_prefix={pycache}",
        "-c",
        BOOTSTRAP,
        json.dumps(args),
    ]
    done = subprocess.run(
        command,
        cwd=paths[0],
        env=lambda_environment(function, paths[0], tmp),
        capture_output=True,
        text=True,
        timeout=IMPORT_TIMEOUT_SECONDS,
        check=False,
    )
    if not result_file.exists():
        return ImportResult(
            function,
            False,
            f"the interpreter exited {done.returncode}:\n{done.stderr[-4000:]}",
        )
    data = json.loads(result_file.read_text())
    return ImportResult(
        function,
        bool(data["ok"]),
        data["error"],
        data["network"],
        data["writes"],
        data["foreign"],
        data["sys_path"],
        float(data["seconds"]),
    )


def write_inline(function: LambdaFunction, directory: Path) -> Path:
    """The inline code as the runtime unpacks it: `index.py` in `directory`."""
    assert function.inline is not None
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.py").write_text(function.inline)
    return directory
