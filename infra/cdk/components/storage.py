"""Storage (seed §4): the static, backups, logs and models buckets.

Every bucket blocks public access, refuses plain HTTP (`enforce_ssl`) and is encrypted:
- backups and models (user data, model files): SSE-KMS with the customer-managed storage key;
- logs: SSE-S3, because S3 server access logging (which the other buckets deliver here)
  does not support a target bucket whose default encryption is SSE-KMS;
- static: SSE-S3. Its objects are the public single-page app, served through CloudFront
  origin access control only; SSE-KMS would need the key policy opened to CloudFront and a
  KMS request on every cache miss for no confidentiality gain.

Lifecycles: backups by prefix (daily 7 d, weekly 30 d, monthly 365 d); logs Standard for 7 d,
then Intelligent-Tiering (its Infrequent Access tier after 30 d without access), Glacier at
90 d, deleted at 365 d — see constants.py for why not STANDARD_IA at day 7 (S3 refuses it
before day 30). With DR on, the backups bucket replicates to a bucket in us-east-1 (created
by the DR stack, see dr.py), encrypted there with the DR region's key.

In the standby deployment (`standby`, DR region) the backups bucket is the replica bucket and
the storage key the DR stack's (looked up by alias), both imported; the static, logs and
models buckets are created as in the primary region.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk import constants as c
from infra.cdk.components.refs import StorageRefs
from infra.cdk.config import Settings


def restrict_backup_writers(bucket: s3.IBucket, writers: Sequence[iam.IRole]) -> None:
    """Seed section 4, backups "Bucket Policy: Lambda Write Only": deny object writes and
    deletions to every principal but the writer functions' roles (lifecycle expiry and
    replication are S3's own and are not affected)."""
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="LambdaWriteOnly",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            resources=[bucket.arn_for_objects("*")],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": [role.role_arn for role in writers]}},
        )
    )


def replica_bucket_name(settings: Settings) -> str:
    """The backups replica's name in the DR region (deterministic: the primary stack refers to
    it before it can know anything the DR stack outputs)."""
    return f"{settings.name('backups-replica')}-{cdk.Aws.ACCOUNT_ID}-{c.DR_REGION}"


def replica_key_alias(settings: Settings, purpose: str) -> str:
    """Alias of a DR-region key created by the DR stack (`purpose`: data or storage)."""
    return f"alias/{settings.name(purpose)}-replica"


def replica_key_alias_arn(settings: Settings, purpose: str) -> str:
    return (
        f"arn:{cdk.Aws.PARTITION}:kms:{c.DR_REGION}:{cdk.Aws.ACCOUNT_ID}:"
        f"{replica_key_alias(settings, purpose)}"
    )


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        if settings.standby:
            self.storage_key: kms.IKey = kms.Key.from_lookup(
                self, "StorageKey", alias_name=replica_key_alias(settings, "storage")
            )
        else:
            self.storage_key = kms.Key(
                self,
                "StorageKey",
                description="PortfolioWise backups and models buckets",
                enable_key_rotation=True,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )

        self.logs_bucket = s3.Bucket(
            self,
            "LogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # CloudFront standard logs are written with an ACL (BucketOwnerEnforced refuses it).
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="logs-tiering-and-expiry",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                            transition_after=cdk.Duration.days(c.LOGS_INTELLIGENT_TIERING_DAYS),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER,
                            transition_after=cdk.Duration.days(c.LOGS_GLACIER_DAYS),
                        ),
                    ],
                    expiration=cdk.Duration.days(c.LOGS_EXPIRATION_DAYS),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(
                        c.ABORT_INCOMPLETE_UPLOAD_DAYS
                    ),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        self.static_bucket = s3.Bucket(
            self,
            "StaticBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix=f"{c.S3_ACCESS_LOGS_PREFIX}static/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        if settings.standby:
            self.backups_bucket: s3.IBucket = s3.Bucket.from_bucket_attributes(
                self,
                "BackupsBucket",
                bucket_name=replica_bucket_name(settings),
                region=c.DR_REGION,
                encryption_key=self.storage_key,
            )
        else:
            self.backups_bucket = self._backups_bucket(settings)

        self.models_bucket = s3.Bucket(
            self,
            "ModelsBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.storage_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix=f"{c.S3_ACCESS_LOGS_PREFIX}models/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

        self.refs = StorageRefs(
            static_bucket=self.static_bucket,
            backups_bucket=self.backups_bucket,
            logs_bucket=self.logs_bucket,
            models_bucket=self.models_bucket,
            storage_key=self.storage_key,
        )

    def _backups_bucket(self, settings: Settings) -> s3.Bucket:
        backup_rules = [
            s3.LifecycleRule(
                id=f"{prefix.rstrip('/')}-{days}d",
                prefix=prefix,
                expiration=cdk.Duration.days(days),
            )
            for prefix, days in c.BACKUP_RETENTION_DAYS.items()
        ]
        backup_rules.append(
            s3.LifecycleRule(
                id="noncurrent-versions-and-uploads",
                noncurrent_version_expiration=cdk.Duration.days(c.BACKUP_NONCURRENT_VERSION_DAYS),
                expired_object_delete_marker=True,
                abort_incomplete_multipart_upload_after=cdk.Duration.days(
                    c.ABORT_INCOMPLETE_UPLOAD_DAYS
                ),
            )
        )
        bucket = s3.Bucket(
            self,
            "BackupsBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.storage_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=backup_rules,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix=f"{c.S3_ACCESS_LOGS_PREFIX}backups/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if settings.dr:
            self._replicate_backups(settings, bucket)
        return bucket

    def _replicate_backups(self, settings: Settings, bucket: s3.Bucket) -> None:
        """Cross-region replication of every backup object to the DR region's replica bucket,
        re-encrypted there with the DR region's storage key (referred to by alias ARN)."""
        destination_arn = f"arn:{cdk.Aws.PARTITION}:s3:::{replica_bucket_name(settings)}"
        replica_key = replica_key_alias_arn(settings, "storage")
        role = iam.Role(
            self,
            "ReplicationRole",
            assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
            description="S3 replication of the backups bucket to the DR region",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
                resources=[bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                resources=[bucket.arn_for_objects("*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                resources=[f"{destination_arn}/*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[self.storage_key.key_arn],
                conditions={"StringLike": {"kms:ViaService": f"s3.{cdk.Aws.REGION}.amazonaws.com"}},
            )
        )
        # The DR key is known by its alias only: allow the keys of this account in the DR
        # region that carry exactly that alias.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=[f"arn:{cdk.Aws.PARTITION}:kms:{c.DR_REGION}:{cdk.Aws.ACCOUNT_ID}:key/*"],
                conditions={
                    "ForAnyValue:StringEquals": {
                        "kms:ResourceAliases": replica_key_alias(settings, "storage")
                    },
                    "StringLike": {"kms:ViaService": f"s3.{c.DR_REGION}.amazonaws.com"},
                },
            )
        )
        cfn_bucket = bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
            role=role.role_arn,
            rules=[
                s3.CfnBucket.ReplicationRuleProperty(
                    id="backups-to-dr-region",
                    status="Enabled",
                    priority=1,
                    filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=""),
                    delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(
                        status="Enabled"
                    ),
                    source_selection_criteria=s3.CfnBucket.SourceSelectionCriteriaProperty(
                        sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(
                            status="Enabled"
                        )
                    ),
                    destination=s3.CfnBucket.ReplicationDestinationProperty(
                        bucket=destination_arn,
                        encryption_configuration=s3.CfnBucket.EncryptionConfigurationProperty(
                            replica_kms_key_id=replica_key
                        ),
                    ),
                )
            ],
        )
        cdk.Validations.of(role).acknowledge(
            cdk.Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{_logical(bucket)}.Arn>/*]",
                reason="Replication reads every object version of the backups bucket.",
            ),
            cdk.Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{replica_name_for_nag(settings)}/*]",
                reason="Replication writes every object of the DR replica bucket.",
            ),
            cdk.Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:{c.DR_REGION}:<AWS::AccountId>:key/*]",
                reason="The DR region's storage key is created by the DR stack and known here by "
                "alias only; the statement is limited to the key carrying that alias "
                "(kms:ResourceAliases) used through S3 in the DR region.",
            ),
        )


def _logical(bucket: s3.IBucket) -> str:
    child = bucket.node.default_child
    assert isinstance(child, cdk.CfnElement)
    stack = cdk.Stack.of(bucket)
    return str(stack.resolve(stack.get_logical_id(child)))


def replica_name_for_nag(settings: Settings) -> str:
    """The replica bucket's name as cdk-nag renders it in IAM5 finding ids."""
    return f"{settings.name('backups-replica')}-<AWS::AccountId>-{c.DR_REGION}"
