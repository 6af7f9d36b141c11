"""Synthesizes the CDK app once per configuration and shares the templates (synthesis takes
seconds; every infra test reads the same cloud assembly).

- `default`: the `cdk.json` settings (NAT single, no DR), cdk-nag on.
- `dr`: DR with a domain: replicas, replication, the DR-region stack, failover records.
- `standby`: the standby deployment in us-east-1 over the replicas.
- `per_az` / `no_nat`: the foundation alone (network differences only), cdk-nag on.

The Lambda assets are stand-ins (an empty `portfoliowise` package per function, and a file
naming the function) so that synthesis needs no asset build; the real assets are checked by
the build step, and test_handler_imports.py imports each function's handler from its asset
built for this machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# The repository root, for `infra.cdk` (the `pytest` script does not put it on sys.path).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from infra.cdk import constants as c
from infra.cdk.app import FEATURE_FLAGS
from infra.cdk.build_assets import FUNCTIONS
from infra.cdk.config import Settings
from infra.cdk.stack import Foundation
from infra_synth import STAND_IN_MARKER, Synth, read_synth, synthesize

DR_CONTEXT = {
    "dr": True,
    "domainName": "portfolio-wise.example.com",
    "hostedZoneId": "Z0123456789ABCDEFGHIJ",
    "drStandbyApiHost": "api-standby.portfolio-wise.example.com",
    "alarmEmail": "admin@portfolio-wise.example.com",
    "allowedOrigins": ["https://portfolio-wise.example.com"],
}


@pytest.fixture(scope="session")
def asset_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("assets")
    for name in FUNCTIONS:
        package = root / name / "portfoliowise"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (root / name / STAND_IN_MARKER).write_text(name)
    return root


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory, asset_root: Path) -> Synth:
    return synthesize(tmp_path_factory.mktemp("default"), {"assetRoot": str(asset_root)})


@pytest.fixture(scope="session")
def dr_synth(tmp_path_factory: pytest.TempPathFactory, asset_root: Path) -> Synth:
    return synthesize(tmp_path_factory.mktemp("dr"), {"assetRoot": str(asset_root), **DR_CONTEXT})


@pytest.fixture(scope="session")
def standby_synth(tmp_path_factory: pytest.TempPathFactory, asset_root: Path) -> Synth:
    """The standby deployment in the DR region (its key lookups return CDK's dummy key
    offline; the CLI resolves them against the account)."""
    return synthesize(
        tmp_path_factory.mktemp("standby"),
        {"assetRoot": str(asset_root), "standby": True, "region": c.DR_REGION},
        account="123456789012",
    )


def _foundation(outdir: Path, nat_mode: str, interface_endpoints: bool = False) -> Synth:
    """The foundation alone in a stack of its own, cdk-nag on (network variants)."""
    app = cdk.App(outdir=str(outdir), context=dict(FEATURE_FLAGS))
    settings = Settings(nat_mode=nat_mode, interface_endpoints=interface_endpoints)
    stack = cdk.Stack(app, "FoundationOnly", env=cdk.Environment(region=settings.region))
    Foundation(stack, "Foundation", settings=settings)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return read_synth(app, outdir, stack.artifact_id)


@pytest.fixture(scope="session")
def per_az_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _foundation(tmp_path_factory.mktemp("per-az"), c.NAT_MODE_PER_AZ)


@pytest.fixture(scope="session")
def no_nat_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _foundation(tmp_path_factory.mktemp("none"), c.NAT_MODE_NONE, interface_endpoints=True)


@pytest.fixture(scope="session")
def per_az_template(per_az_synth: Synth) -> Template:
    return per_az_synth.template


@pytest.fixture(scope="session")
def no_nat_template(no_nat_synth: Synth) -> Template:
    return no_nat_synth.template
