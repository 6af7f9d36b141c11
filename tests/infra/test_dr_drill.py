"""DR.md's failover drill names what the templates create: the secrets, tables, health check
and API output it runs its aws CLI commands against."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from infra.cdk import constants as c
from infra.cdk.config import SECRET_NAMES
from infra_synth import Synth

DR_MD = Path(__file__).resolve().parents[2] / "infra" / "cdk" / "DR.md"


@pytest.fixture(scope="module")
def drill() -> str:
    text = DR_MD.read_text()
    section = text.split("## The failover drill, as commands", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1)


def test_the_drill_runs_every_step_as_a_command(drill: str) -> None:
    for command in (
        "aws dynamodb describe-table",
        "ReplicationLatency",
        "aws secretsmanager describe-secret",
        "aws route53 update-health-check --health-check-id $HC --inverted",
        "cdk deploy $STACK-Standby -c standby=true -c region=$DR",
        "-c standbySecretArns=",
        "aws route53 test-dns-answer",
        "aws secretsmanager stop-replication-to-replica",
        "--no-inverted",
    ):
        assert command in drill, command
    assert f"PRIMARY={c.DEFAULT_PRIMARY_REGION} DR={c.DR_REGION}" in drill


def test_the_drill_names_the_replicated_secrets_and_tables(drill: str, dr_synth: Synth) -> None:
    for name in SECRET_NAMES.values():
        assert drill.count(name) >= 3, name  # checked, read for the standby, promoted
    names = {
        s["Properties"]["Name"] for s in dr_synth.resources("AWS::SecretsManager::Secret").values()
    }
    assert names == {f"portfoliowise/{name}" for name in SECRET_NAMES.values()}
    tables = {
        t["Properties"]["TableName"]
        for t in dr_synth.resources("AWS::DynamoDB::GlobalTable").values()
    }
    roles = re.search(r"for t in ([a-z ]+); do", drill)
    assert roles is not None
    assert {f"portfoliowise-{role}" for role in roles.group(1).split()} == tables


def test_the_drill_finds_the_health_check_and_the_api_url(dr_synth: Synth) -> None:
    assert len(dr_synth.resources("AWS::Route53::HealthCheck")) == 1
    outputs = dr_synth.templates[dr_synth.stack_name].get("Outputs", {})
    assert any("Endpoint" in key for key in outputs)
