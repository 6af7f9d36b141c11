"""Disaster recovery (seed §6): the DR-region stack, failover records, RTO/RPO targets."""

from __future__ import annotations

import json
from pathlib import Path

from infra.cdk import constants as c
from infra_synth import Synth


def test_seed_targets() -> None:
    assert (c.DR_REGION, c.RTO_MINUTES, c.RPO_MINUTES) == ("us-east-1", 60, 5)
    # a failover is detected well inside the RTO
    detection = c.HEALTH_CHECK_INTERVAL_SECONDS * c.HEALTH_CHECK_FAILURE_THRESHOLD
    assert detection + c.FAILOVER_RECORD_TTL_SECONDS < c.RTO_MINUTES * 60


def test_no_dr_stack_and_no_failover_without_dr(default_synth: Synth) -> None:
    assert list(default_synth.templates) == ["PortfolioWise"]
    assert not default_synth.resources("AWS::Route53::HealthCheck")
    assert not default_synth.resources("AWS::Route53::RecordSet")


def test_dr_region_stack_is_in_us_east_1_and_deployed_first(dr_synth: Synth) -> None:
    manifest = json.loads((dr_synth.outdir / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    assert artifacts["PortfolioWise-DrRegion"]["environment"].endswith("/us-east-1")
    assert artifacts["PortfolioWise"]["environment"].endswith("/us-west-2")  # seed §1
    assert "PortfolioWise-DrRegion" in artifacts["PortfolioWise"]["dependencies"]


def test_dr_region_keys_carry_the_aliases_the_primary_uses(dr_synth: Synth) -> None:
    aliases = {
        r["Properties"]["AliasName"]
        for r in dr_synth.resources("AWS::KMS::Alias", "PortfolioWise-DrRegion").values()
    }
    assert aliases == {
        "alias/portfoliowise-data-replica",
        "alias/portfoliowise-storage-replica",
        "alias/portfoliowise-secrets-replica",
    }
    for key in dr_synth.resources("AWS::KMS::Key", "PortfolioWise-DrRegion").values():
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["DeletionPolicy"] == "Retain"


def test_backups_replica_bucket(dr_synth: Synth) -> None:
    (replica,) = [
        r["Properties"]
        for name, r in dr_synth.resources("AWS::S3::Bucket", "PortfolioWise-DrRegion").items()
        if "BackupsReplica" in name
    ]
    assert replica["BucketName"]["Fn::Join"][1][0] == "portfoliowise-backups-replica-"
    assert replica["BucketName"]["Fn::Join"][1][-1] == "-us-east-1"
    assert replica["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = replica["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    expiry = {
        r["Prefix"]: r["ExpirationInDays"]
        for r in replica["LifecycleConfiguration"]["Rules"]
        if "Prefix" in r
    }
    assert expiry == c.BACKUP_RETENTION_DAYS


def test_health_check_on_the_api(dr_synth: Synth) -> None:
    (check,) = dr_synth.resources("AWS::Route53::HealthCheck").values()
    config = check["Properties"]["HealthCheckConfig"]
    assert config["Type"] == "HTTPS"
    assert config["Port"] == 443
    assert config["RequestInterval"] == c.HEALTH_CHECK_INTERVAL_SECONDS
    assert config["FailureThreshold"] == c.HEALTH_CHECK_FAILURE_THRESHOLD
    assert config["ResourcePath"]["Fn::Join"][1][-1] == "/health"
    host = config["FullyQualifiedDomainName"]["Fn::Join"][1]
    assert "RestApi" in host[0]["Ref"]
    assert host[1] == ".execute-api.us-west-2."


def test_failover_records(dr_synth: Synth) -> None:
    records = {
        r["Properties"]["Failover"]: r["Properties"]
        for r in dr_synth.resources("AWS::Route53::RecordSet").values()
    }
    assert set(records) == {"PRIMARY", "SECONDARY"}
    for record in records.values():
        assert record["Name"] == "api.portfolio-wise.example.com."
        assert record["Type"] == "CNAME"
        assert record["HostedZoneId"] == "Z0123456789ABCDEFGHIJ"
        assert record["TTL"] == str(c.FAILOVER_RECORD_TTL_SECONDS)
    assert "HealthCheck" in records["PRIMARY"]["HealthCheckId"]["Ref"]
    assert records["SECONDARY"]["ResourceRecords"] == ["api-standby.portfolio-wise.example.com"]


def test_dr_document_states_the_targets() -> None:
    text = (Path(__file__).resolve().parents[2] / "infra" / "cdk" / "DR.md").read_text()
    for phrase in ("RTO", "RPO", "1 hour", "5 minutes", "Not covered"):
        assert phrase in text


def test_standby_imports_the_replicas_instead_of_creating_them(standby_synth: Synth) -> None:
    assert list(standby_synth.templates) == ["PortfolioWise-Standby"]
    manifest = json.loads((standby_synth.outdir / "manifest.json").read_text())
    artifact = manifest["artifacts"]["PortfolioWise-Standby"]
    assert artifact["environment"] == "aws://123456789012/us-east-1"
    assert not standby_synth.resources("AWS::DynamoDB::GlobalTable")
    assert not standby_synth.resources("AWS::DynamoDB::Table")
    assert not standby_synth.resources("AWS::Route53::RecordSet")
    buckets = standby_synth.resources("AWS::S3::Bucket")
    assert not [name for name in buckets if "Backups" in name]
    # the DR keys are looked up by alias (resolved by the CLI against the account)
    lookups = [
        entry["props"]["aliasName"]
        for entry in manifest.get("missing", [])
        if entry["provider"] == "key-provider"
    ]
    assert sorted(lookups) == [
        "alias/portfoliowise-data-replica",
        "alias/portfoliowise-storage-replica",
    ]


def test_standby_functions_use_the_replica_tables(standby_synth: Synth) -> None:
    environments = [
        f["Properties"]["Environment"]["Variables"]
        for f in standby_synth.resources("AWS::Lambda::Function").values()
        if "PORTFOLIO_TABLE" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert environments
    for variables in environments:
        assert variables["PORTFOLIO_TABLE"] == "portfoliowise-portfolio"
        assert variables["AUDIT_TABLE"] == "portfoliowise-audit"


def test_standby_passes_nag(standby_synth: Synth) -> None:
    assert standby_synth.validation_error is None, standby_synth.validation_error
