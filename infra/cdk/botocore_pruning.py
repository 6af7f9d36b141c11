"""The AWS service data a function's asset keeps: the service models of the services its
role may call, and an `endpoints.json` that lists those services alone.

botocore ships the models of every AWS service (about 450 directories, 28 MB unzipped) and
one `endpoints.json` (1.25 MB) naming every service's endpoints in every partition. The
first client a process makes parses the whole of `endpoints.json`: 6.9 MiB of the 128 MiB
of a small function, measured with the auth asset on CPython 3.12, whichever service the
client is for. A function only ever makes clients for the services its role may call
(`build_assets.BOTOCORE_SERVICES`, checked against the synthesized roles by
tests/infra/test_assets.py), so the rest is deleted from its asset, and `endpoints.json`
is rewritten with those services' entries only, in every partition, unchanged.

botocore resolves a service absent from `endpoints.json` from its partition's defaults,
and every endpoint of the kept services resolves exactly as before (tested against the
unpruned data); a client for a deleted service fails with `UnknownServiceError`."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENDPOINTS_FILE = "endpoints.json"


@dataclass(frozen=True)
class PruneReport:
    kept: tuple[str, ...]  # service directories kept
    deleted: int  # service directories deleted (botocore's and boto3's)
    endpoints_bytes: tuple[int, int]  # endpoints.json before, after


class PruneError(RuntimeError):
    """A service to keep has no model in the data: the asset would fail at its first call."""


def _service_dirs(data: Path) -> dict[str, Path]:
    return {p.name: p for p in data.iterdir() if p.is_dir() and not p.name.startswith("_")}


def _latest_model(service_dir: Path) -> dict[str, Any]:
    """The newest API version's `service-2.json` (or `.json.gz`), as botocore picks it."""
    for version in sorted((p for p in service_dir.iterdir() if p.is_dir()), reverse=True):
        plain, packed = version / "service-2.json", version / "service-2.json.gz"
        if plain.is_file():
            loaded: dict[str, Any] = json.loads(plain.read_text(encoding="utf-8"))
            return loaded
        if packed.is_file():
            unpacked: dict[str, Any] = json.loads(gzip.decompress(packed.read_bytes()))
            return unpacked
    raise PruneError(f"{service_dir.name}: no service-2.json in {service_dir}")


def endpoint_prefixes(data: Path, services: Iterable[str]) -> set[str]:
    """The `endpointPrefix` of each service: its key in `endpoints.json`."""
    found = _service_dirs(data)
    prefixes = set()
    for service in services:
        if service not in found:
            raise PruneError(f"botocore has no model for {service!r} in {data}")
        metadata = _latest_model(found[service]).get("metadata", {})
        prefixes.add(str(metadata.get("endpointPrefix", service)))
    return prefixes


def pruned_endpoints(document: dict[str, Any], prefixes: set[str]) -> dict[str, Any]:
    """`endpoints.json` with each partition's `services` cut down to `prefixes`."""
    partitions = []
    for partition in document["partitions"]:
        services = partition.get("services", {})
        kept = {key: services[key] for key in services if key in prefixes}
        partitions.append({**partition, "services": kept})
    return {**document, "partitions": partitions}


def prune(package_root: Path, services: Iterable[str]) -> PruneReport | None:
    """Prune the installed botocore (and boto3's resource models) under `package_root` to
    `services`; None when the asset has no botocore."""
    data = package_root / "botocore" / "data"
    if not data.is_dir():
        return None
    keep = sorted(set(services))
    prefixes = endpoint_prefixes(data, keep)
    deleted = 0
    for root in (data, package_root / "boto3" / "data"):
        if not root.is_dir():
            continue
        for name, path in _service_dirs(root).items():
            if name not in keep:
                shutil.rmtree(path)
                deleted += 1
    endpoints = data / ENDPOINTS_FILE
    before = endpoints.stat().st_size
    document = json.loads(endpoints.read_text(encoding="utf-8"))
    # A new file, never a write through the old one: installers hard-link the files of an
    # asset to their cache (and to every other environment installed from it).
    endpoints.unlink()
    endpoints.write_text(
        json.dumps(pruned_endpoints(document, prefixes), separators=(",", ":")), encoding="utf-8"
    )
    return PruneReport(tuple(keep), deleted, (before, endpoints.stat().st_size))
