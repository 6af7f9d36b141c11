"""The assets' AWS service data: each keeps the models of the services its role may call,
every endpoint of those resolves as with botocore's full data, and the installed files the
asset's are hard-linked to (the installer's cache, the virtualenv) are never written."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader
from botocore.session import Session
from infra.cdk import botocore_pruning as bp
from infra.cdk import build_assets as ba

INSTALLED = Path(botocore.__file__).parent / "data"
BOTO3_DATA = Path(boto3.__file__).parent / "data"
# The regions the stacks deploy to (primary, DR) and one of each other partition's.
REGIONS = ("us-west-2", "ap-northeast-1", "us-east-1", "cn-north-1", "us-gov-west-1")
EVERY_SERVICE = sorted(set().union(*ba.BOTOCORE_SERVICES.values()))


def _link_copy(source: Path, target: Path) -> None:
    """A copy as an installer makes it: every file hard-linked to the source."""
    shutil.copytree(source, target, copy_function=os.link)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this environment's botocore and boto3 data (a copy: a pruning that wrote
    through a hard link would corrupt it, not this environment)."""
    root = tmp_path_factory.mktemp("installed")
    shutil.copytree(INSTALLED, root / "botocore" / "data")
    shutil.copytree(BOTO3_DATA, root / "boto3" / "data")
    return root


def _session(data: Path | None) -> Session:
    session = Session()
    if data is not None:
        loader = Loader(extra_search_paths=[str(data)], include_default_search_paths=False)
        session.register_component("data_loader", loader)
    return session


def _endpoint(session: Session, service: str, region: str) -> tuple[str, str, str]:
    client = session.create_client(
        service, region_name=region, aws_access_key_id="AKID", aws_secret_access_key="secret"
    )
    return (
        client.meta.endpoint_url,
        client.meta.region_name,
        client.meta.service_model.signing_name,
    )


@pytest.mark.parametrize("function", ba.FUNCTIONS)
def test_an_asset_keeps_its_services_and_resolves_them_as_before(
    function: str, installed: Path, tmp_path: Path
) -> None:
    asset = tmp_path / function
    _link_copy(installed / "botocore", asset / "botocore")
    _link_copy(installed / "boto3", asset / "boto3")
    keep = ba.BOTOCORE_SERVICES[function]

    report = bp.prune(asset, keep)

    assert report is not None
    assert set(report.kept) == keep
    data = asset / "botocore" / "data"
    kept_dirs = {p.name for p in data.iterdir() if p.is_dir()}
    assert kept_dirs == keep
    assert {p.name for p in (asset / "boto3" / "data").iterdir()} <= keep
    before, after = report.endpoints_bytes
    assert after < before / 10  # 1.25 MB: every service of every partition
    pruned, full = _session(data), _session(None)
    for service in sorted(keep):
        for region in REGIONS:
            assert _endpoint(pruned, service, region) == _endpoint(full, service, region)
    with pytest.raises(UnknownServiceError):
        pruned.create_client("ec2", region_name="us-west-2")


def test_the_installed_files_are_never_written(installed: Path, tmp_path: Path) -> None:
    endpoints = installed / "botocore" / "data" / bp.ENDPOINTS_FILE
    original = endpoints.read_bytes()
    asset = tmp_path / "asset"
    _link_copy(installed / "botocore", asset / "botocore")
    linked = asset / "botocore" / "data" / bp.ENDPOINTS_FILE
    assert linked.stat().st_ino == endpoints.stat().st_ino

    bp.prune(asset, {"dynamodb"})

    assert endpoints.read_bytes() == original
    assert (installed / "botocore" / "data" / "ec2").is_dir()


def test_endpoints_keep_every_partition_and_only_the_kept_prefixes() -> None:
    document = json.loads((INSTALLED / bp.ENDPOINTS_FILE).read_text())
    prefixes = bp.endpoint_prefixes(INSTALLED, EVERY_SERVICE)

    pruned = bp.pruned_endpoints(document, prefixes)

    assert [p["partition"] for p in pruned["partitions"]] == [
        p["partition"] for p in document["partitions"]
    ]
    for old, new in zip(document["partitions"], pruned["partitions"], strict=True):
        assert set(new["services"]) == set(old["services"]) & prefixes
        assert {k: v for k, v in new.items() if k != "services"} == {
            k: v for k, v in old.items() if k != "services"
        }


def test_a_service_without_a_model_fails_the_build(tmp_path: Path) -> None:
    (tmp_path / "botocore" / "data" / "dynamodb" / "2012-08-10").mkdir(parents=True)
    with pytest.raises(bp.PruneError, match="no model for 'sns'"):
        bp.prune(tmp_path, {"sns"})


def test_an_asset_without_botocore_is_left_alone(tmp_path: Path) -> None:
    assert bp.prune(tmp_path, {"dynamodb"}) is None


def test_every_function_names_its_services() -> None:
    assert set(ba.BOTOCORE_SERVICES) == set(ba.FUNCTIONS)
    assert set(EVERY_SERVICE) <= {p.name for p in INSTALLED.iterdir() if p.is_dir()}
