"""Secrets and configuration: the three secrets, the session-signing key's rotation (the
inline function is run here against a fake Secrets Manager), KMS keys, SSM parameters."""

from __future__ import annotations

import base64
import sys
import types
from typing import Any

import pytest
from infra.cdk import constants as c
from infra.cdk.components.secrets import ROTATION_HANDLER
from infra_synth import Synth


def _secrets(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["Name"]: resource["Properties"]
        for resource in synth.resources("AWS::SecretsManager::Secret").values()
    }


def test_three_secrets_encrypted_with_the_secrets_key(default_synth: Synth) -> None:
    secrets = _secrets(default_synth)
    assert set(secrets) == {
        "portfoliowise/google-client-secret",
        "portfoliowise/openai-api-key",
        "portfoliowise/session-signing-key",
    }
    keys = default_synth.resources("AWS::KMS::Key")
    for props in secrets.values():
        key = props["KmsKeyId"]["Fn::GetAtt"][0]
        assert "SecretsKey" in key
        assert keys[key]["Properties"]["EnableKeyRotation"] is True


def test_every_kms_key_rotates(default_synth: Synth, dr_synth: Synth) -> None:
    for synth in (default_synth, dr_synth):
        for stack in synth.templates:
            for name, key in synth.resources("AWS::KMS::Key", stack).items():
                assert key["Properties"]["EnableKeyRotation"] is True, name


def test_session_token_key_exists(default_synth: Synth) -> None:
    assert [name for name in default_synth.resources("AWS::KMS::Key") if "SessionTokenKey" in name]


def test_session_signing_key_rotates_every_30_days(default_synth: Synth) -> None:
    (schedule,) = default_synth.resources("AWS::SecretsManager::RotationSchedule").values()
    props = schedule["Properties"]
    assert props["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    assert "SessionSigningKey" in props["SecretId"]["Ref"]
    function = default_synth.resources("AWS::Lambda::Function")[
        props["RotationLambdaARN"]["Fn::GetAtt"][0]
    ]["Properties"]
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert function["Code"] == {"ZipFile": ROTATION_HANDLER}
    assert function["Environment"]["Variables"] == {"KEY_BYTES": str(c.SESSION_KEY_BYTES)}


def test_rotation_role_touches_only_its_secret(default_synth: Synth) -> None:
    (policy,) = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for name, r in default_synth.resources("AWS::IAM::Policy").items()
        if "SecretsRotationRole" in name
    ]
    (secret_statement,) = [s for s in policy if "secretsmanager:PutSecretValue" in s["Action"]]
    assert "SessionSigningKey" in secret_statement["Resource"]["Ref"]
    assert default_synth.resources("AWS::Lambda::Permission")  # Secrets Manager may invoke


class FakeSecretsManager:
    """Just enough of Secrets Manager for the four rotation steps."""

    class exceptions:
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self) -> None:
        self.versions: dict[str, dict[str, Any]] = {
            "v1": {"value": "old", "stages": ["AWSCURRENT"]}
        }

    def describe_secret(self, SecretId: str) -> dict[str, Any]:
        return {
            "RotationEnabled": True,
            "VersionIdsToStages": {v: d["stages"] for v, d in self.versions.items()},
        }

    def get_secret_value(self, SecretId: str, VersionId: str, VersionStage: str) -> dict[str, Any]:
        version = self.versions.get(VersionId)
        if version is None or "value" not in version or VersionStage not in version["stages"]:
            raise self.exceptions.ResourceNotFoundException()
        return {"SecretString": version["value"]}

    def put_secret_value(
        self, SecretId: str, ClientRequestToken: str, SecretString: str, VersionStages: list[str]
    ) -> None:
        self.versions[ClientRequestToken] = {"value": SecretString, "stages": VersionStages}

    def update_secret_version_stage(
        self, SecretId: str, VersionStage: str, MoveToVersionId: str, RemoveFromVersionId: str
    ) -> None:
        self.versions[RemoveFromVersionId]["stages"].remove(VersionStage)
        self.versions[RemoveFromVersionId]["stages"].append("AWSPREVIOUS")
        self.versions[MoveToVersionId]["stages"].remove("AWSPENDING")
        self.versions[MoveToVersionId]["stages"].append(VersionStage)


@pytest.fixture
def rotation(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, FakeSecretsManager]:
    fake = FakeSecretsManager()
    boto3 = types.ModuleType("boto3")
    boto3.client = lambda service: fake  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "boto3", boto3)
    monkeypatch.setenv("KEY_BYTES", str(c.SESSION_KEY_BYTES))
    namespace: dict[str, Any] = {}
    exec(compile(ROTATION_HANDLER, "index.py", "exec"), namespace)
    return namespace["handler"], fake


def test_rotation_function_makes_a_new_random_key(rotation: tuple[Any, FakeSecretsManager]) -> None:
    handler, fake = rotation
    # Secrets Manager marks the new version AWSPENDING (without a value) before createSecret
    fake.versions["v2"] = {"stages": ["AWSPENDING"]}
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        handler({"SecretId": "arn", "ClientRequestToken": "v2", "Step": step}, None)
    assert fake.versions["v2"]["stages"] == ["AWSCURRENT"]
    assert fake.versions["v1"]["stages"] == ["AWSPREVIOUS"]
    key = base64.urlsafe_b64decode(fake.versions["v2"]["value"])
    assert len(key) == c.SESSION_KEY_BYTES
    # a retried createSecret keeps the pending key it already made
    fake.versions["v3"] = {"stages": ["AWSPENDING"]}
    handler({"SecretId": "arn", "ClientRequestToken": "v3", "Step": "createSecret"}, None)
    first = fake.versions["v3"]["value"]
    handler({"SecretId": "arn", "ClientRequestToken": "v3", "Step": "createSecret"}, None)
    assert fake.versions["v3"]["value"] == first
    assert first != fake.versions["v2"]["value"]


def test_rotation_function_refuses_unknown_versions(
    rotation: tuple[Any, FakeSecretsManager],
) -> None:
    handler, _ = rotation
    with pytest.raises(ValueError, match="not a version"):
        handler({"SecretId": "arn", "ClientRequestToken": "nope", "Step": "createSecret"}, None)


def test_ssm_parameters_hold_the_non_secret_configuration(dr_synth: Synth) -> None:
    parameters = {
        r["Properties"]["Name"]: r["Properties"]
        for r in dr_synth.resources("AWS::SSM::Parameter").values()
    }
    root = "/portfoliowise/prod/"
    assert {name for name in parameters if name.startswith(root)} >= {
        f"{root}tables/portfolio",
        f"{root}tables/audit",
        f"{root}tables/session",
        f"{root}tables/cache",
        f"{root}buckets/static",
        f"{root}buckets/backups",
        f"{root}buckets/logs",
        f"{root}buckets/models",
        f"{root}events/bus-name",
        f"{root}cors/allowed-origins",
    }
    assert (
        parameters[f"{root}cors/allowed-origins"]["Value"] == "https://portfolio-wise.example.com"
    )
    assert all(p["Type"] == "String" for p in parameters.values())


def test_no_origin_is_stored_as_a_dash(default_synth: Synth) -> None:
    (parameter,) = [
        r["Properties"]
        for r in default_synth.resources("AWS::SSM::Parameter").values()
        if r["Properties"]["Name"].endswith("cors/allowed-origins")
    ]
    assert parameter["Value"] == "-"


def test_rotation_logs_are_kept_30_days(default_synth: Synth) -> None:
    (log_group,) = [
        r["Properties"]
        for name, r in default_synth.resources("AWS::Logs::LogGroup").items()
        if "SecretsRotationLogs" in name
    ]
    assert log_group["RetentionInDays"] == c.ROTATION_LOG_RETENTION_DAYS == 30
