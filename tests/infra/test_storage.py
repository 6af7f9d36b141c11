"""Storage (seed §4): encryption, public access, TLS, lifecycles, access logs, replication."""

from __future__ import annotations

from typing import Any

import pytest
from infra.cdk import constants as c
from infra_synth import Synth

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def _bucket(synth: Synth, name: str) -> dict[str, Any]:
    (bucket,) = [
        resource
        for logical, resource in synth.resources("AWS::S3::Bucket").items()
        if f"Storage{name}Bucket" in logical
    ]
    return bucket["Properties"]


def _algorithm(props: dict[str, Any]) -> str:
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    return rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]


def test_four_buckets(default_synth: Synth) -> None:
    assert len(default_synth.resources("AWS::S3::Bucket")) == 4


@pytest.mark.parametrize("name", ["Static", "Backups", "Logs", "Models"])
def test_every_bucket_blocks_public_access_and_is_encrypted(
    default_synth: Synth, name: str
) -> None:
    props = _bucket(default_synth, name)
    assert props["PublicAccessBlockConfiguration"] == BLOCK_ALL
    assert _algorithm(props) in ("aws:kms", "AES256")


@pytest.mark.parametrize("name", ["Static", "Backups", "Logs", "Models"])
def test_every_bucket_refuses_plain_http(default_synth: Synth, name: str) -> None:
    (policy,) = [
        resource["Properties"]
        for logical, resource in default_synth.resources("AWS::S3::BucketPolicy").items()
        if f"Storage{name}Bucket" in logical
    ]
    assert {
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
    }.items() <= policy["PolicyDocument"]["Statement"][0].items()


@pytest.mark.parametrize("name", ["Backups", "Models"])
def test_user_data_buckets_use_the_customer_managed_storage_key(
    default_synth: Synth, name: str
) -> None:
    props = _bucket(default_synth, name)
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    assert "StorageKey" in key
    assert default_synth.resources("AWS::KMS::Key")[key]["Properties"]["EnableKeyRotation"]


@pytest.mark.parametrize("name", ["Static", "Backups", "Models"])
def test_server_access_logs_go_to_the_logs_bucket(default_synth: Synth, name: str) -> None:
    logging = _bucket(default_synth, name)["LoggingConfiguration"]
    assert "StorageLogsBucket" in logging["DestinationBucketName"]["Ref"]
    assert logging["LogFilePrefix"] == f"s3-access/{name.lower()}/"


def test_backups_lifecycle_daily_7_weekly_30_monthly_365(default_synth: Synth) -> None:
    rules = _bucket(default_synth, "Backups")["LifecycleConfiguration"]["Rules"]
    by_prefix = {rule["Prefix"]: rule["ExpirationInDays"] for rule in rules if "Prefix" in rule}
    assert by_prefix == {"daily/": 7, "weekly/": 30, "monthly/": 365}
    assert c.BACKUP_RETENTION_DAYS == {"daily/": 7, "weekly/": 30, "monthly/": 365}
    (versions,) = [rule for rule in rules if "NoncurrentVersionExpiration" in rule]
    assert versions["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": c.BACKUP_NONCURRENT_VERSION_DAYS
    }
    assert _bucket(default_synth, "Backups")["VersioningConfiguration"] == {"Status": "Enabled"}


def test_logs_lifecycle_standard_7_ia_30_glacier_90_delete_365(default_synth: Synth) -> None:
    (rule,) = _bucket(default_synth, "Logs")["LifecycleConfiguration"]["Rules"]
    assert rule["Transitions"] == [
        {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 7},
        {"StorageClass": "GLACIER", "TransitionInDays": 90},
    ]
    assert rule["ExpirationInDays"] == 365
    assert "Prefix" not in rule  # every prefix: cloudfront/, api-gateway/, lambda/, waf/
    # Intelligent-Tiering's own Infrequent Access tier starts after 30 days without access,
    # the seed's "IA: 30 days"; S3 refuses STANDARD_IA before day 30.
    assert c.LOGS_IA_AFTER_DAYS_WITHOUT_ACCESS == 30
    assert c.LOGS_INTELLIGENT_TIERING_DAYS < c.S3_MINIMUM_DAYS_BEFORE_STANDARD_IA
    assert c.LOG_PREFIXES == ("cloudfront/", "api-gateway/", "lambda/", "waf/")


def test_no_transition_breaks_s3s_30_day_standard_ia_minimum(default_synth: Synth) -> None:
    for props in (r["Properties"] for r in default_synth.resources("AWS::S3::Bucket").values()):
        for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
            for transition in rule.get("Transitions", []):
                if transition["StorageClass"] in ("STANDARD_IA", "ONEZONE_IA"):
                    assert transition["TransitionInDays"] >= 30


def test_logs_bucket_accepts_cloudfront_acl_logs_and_sse_s3(default_synth: Synth) -> None:
    props = _bucket(default_synth, "Logs")
    assert _algorithm(props) == "AES256"  # access-log targets cannot use SSE-KMS
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}


def test_static_bucket_is_read_by_cloudfront_only(default_synth: Synth) -> None:
    (policy,) = [
        resource["Properties"]["PolicyDocument"]["Statement"]
        for logical, resource in default_synth.resources("AWS::S3::BucketPolicy").items()
        if "StorageStaticBucket" in logical
    ]
    allows = [s for s in policy if s["Effect"] == "Allow"]
    assert allows, "the API construct grants its distribution read access"
    for statement in allows:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Action"] == "s3:GetObject"
        assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]


def test_no_replication_without_dr(default_synth: Synth) -> None:
    assert "ReplicationConfiguration" not in _bucket(default_synth, "Backups")


def test_dr_replicates_backups_to_us_east_1(dr_synth: Synth) -> None:
    config = _bucket(dr_synth, "Backups")["ReplicationConfiguration"]
    (rule,) = config["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["Filter"] == {"Prefix": ""}
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    destination = rule["Destination"]
    assert destination["Bucket"]["Fn::Join"][1][-1] == "-us-east-1"
    assert ":s3:::portfoliowise-backups-replica-" in destination["Bucket"]["Fn::Join"][1]
    key = destination["EncryptionConfiguration"]["ReplicaKmsKeyID"]["Fn::Join"][1]
    assert key[-1] == ":alias/portfoliowise-storage-replica"


def test_replication_role_is_scoped(dr_synth: Synth) -> None:
    (policy,) = [
        resource["Properties"]["PolicyDocument"]["Statement"]
        for logical, resource in dr_synth.resources("AWS::IAM::Policy").items()
        if "ReplicationRole" in logical
    ]
    actions = {
        a for s in policy for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not [a for a in actions if "*" in a]
    (encrypt,) = [s for s in policy if "kms:Encrypt" in s["Action"]]
    assert encrypt["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": "alias/portfoliowise-storage-replica"
    }


def test_backups_are_written_by_the_lambda_functions_only(default_synth: Synth) -> None:
    """Seed §4 "Bucket Policy: Lambda Write Only"."""
    (policy,) = [
        resource["Properties"]["PolicyDocument"]["Statement"]
        for logical, resource in default_synth.resources("AWS::S3::BucketPolicy").items()
        if "StorageBackupsBucket" in logical
    ]
    (deny,) = [s for s in policy if s.get("Sid") == "LambdaWriteOnly"]
    assert deny["Effect"] == "Deny"
    assert set(deny["Action"]) == {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    writers = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert sorted(w["Fn::GetAtt"][0] for w in writers) == sorted(
        name
        for name in default_synth.resources("AWS::IAM::Role")
        if name.startswith(("ComputePortfolioRole", "ComputeScheduledRole"))
    )
