"""DR for the secrets: with `dr` every secret a function reads is replicated to us-east-1
(Secrets Manager `ReplicaRegions`) under the DR region's secrets key, and the standby can run
over those replicas (`standbySecretArns`) instead of secrets of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from infra.cdk import constants as c
from infra.cdk.config import SECRET_NAMES, Settings, SettingsError
from infra_synth import Synth, synthesize

ACCOUNT = "123456789012"
REPLICA_ARNS = {
    name: f"arn:aws:secretsmanager:{c.DR_REGION}:{ACCOUNT}:secret:portfoliowise/{name}-AbC12z"
    for name in SECRET_NAMES.values()
}


@pytest.fixture(scope="module")
def standby_over_replicas(tmp_path_factory: pytest.TempPathFactory, asset_root: Path) -> Synth:
    return synthesize(
        tmp_path_factory.mktemp("standby-replicas"),
        {
            "assetRoot": str(asset_root),
            "standby": True,
            "region": c.DR_REGION,
            "standbySecretArns": json.dumps(REPLICA_ARNS),
        },
        account=ACCOUNT,
    )


def _secrets_read_by_functions(synth: Synth) -> set[str]:
    """Logical ids of the secrets named in a function's environment."""
    secrets = set(synth.resources("AWS::SecretsManager::Secret"))
    read: set[str] = set()
    for function in synth.resources("AWS::Lambda::Function").values():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for value in variables.values():
            if isinstance(value, dict) and value.get("Ref") in secrets:
                read.add(value["Ref"])
    return read


def test_every_secret_a_function_reads_is_replicated_to_the_dr_region(dr_synth: Synth) -> None:
    secrets = dr_synth.resources("AWS::SecretsManager::Secret")
    read = _secrets_read_by_functions(dr_synth)
    assert len(read) == len(SECRET_NAMES)  # Google client secret, OpenAI key, signing key
    for logical in read:
        replicas = secrets[logical]["Properties"]["ReplicaRegions"]
        assert len(replicas) == 1, logical
        (replica,) = replicas
        assert replica["Region"] == c.DR_REGION
        key = json.dumps(replica["KmsKeyId"])
        assert f":kms:{c.DR_REGION}:" in key
        assert "alias/portfoliowise-secrets-replica" in key


def test_the_replica_key_is_created_in_the_dr_region_stack(dr_synth: Synth) -> None:
    aliases = {
        r["Properties"]["AliasName"]
        for r in dr_synth.resources("AWS::KMS::Alias", "PortfolioWise-DrRegion").values()
    }
    assert "alias/portfoliowise-secrets-replica" in aliases


def test_without_dr_nothing_is_replicated(default_synth: Synth) -> None:
    for secret in default_synth.resources("AWS::SecretsManager::Secret").values():
        assert "ReplicaRegions" not in secret["Properties"]


def test_standby_over_the_replicas_creates_no_secret_and_reads_the_replicas(
    standby_over_replicas: Synth,
) -> None:
    assert standby_over_replicas.validation_error is None, standby_over_replicas.validation_error
    assert not standby_over_replicas.resources("AWS::SecretsManager::Secret")
    assert not standby_over_replicas.resources("AWS::SecretsManager::RotationSchedule")
    arns: set[Any] = set()
    for function in standby_over_replicas.resources("AWS::Lambda::Function").values():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        arns |= {v for k, v in variables.items() if "SECRET" in k and isinstance(v, str)}
    assert arns == set(REPLICA_ARNS.values())
    granted = json.dumps(standby_over_replicas.resources("AWS::IAM::Policy"))
    for arn in REPLICA_ARNS.values():
        assert arn in granted
    manifest = json.loads((standby_over_replicas.outdir / "manifest.json").read_text())
    lookups = [
        entry["props"]["aliasName"]
        for entry in manifest.get("missing", [])
        if entry["provider"] == "key-provider"
    ]
    assert "alias/portfoliowise-secrets-replica" in lookups


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"standbySecretArns": json.dumps(REPLICA_ARNS)}, "only with standby"),
        (
            {
                "standby": True,
                "region": c.DR_REGION,
                "standbySecretArns": json.dumps({"openai-api-key": REPLICA_ARNS["openai-api-key"]}),
            },
            "one ARN for each",
        ),
        (
            {
                "standby": True,
                "region": c.DR_REGION,
                "standbySecretArns": json.dumps(
                    {k: v.replace(c.DR_REGION, "us-west-2") for k, v in REPLICA_ARNS.items()}
                ),
            },
            "complete ARN",
        ),
        (
            {
                "standby": True,
                "region": c.DR_REGION,
                "standbySecretArns": json.dumps(
                    {k: v.rsplit("-", 1)[0] for k, v in REPLICA_ARNS.items()}
                ),
            },
            "complete ARN",
        ),
    ],
)
def test_standby_secret_arns_are_checked(context: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_context(cdk.App(context=context).node)
