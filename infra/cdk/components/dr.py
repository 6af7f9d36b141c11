"""Disaster recovery (seed §6): standby region us-east-1, RTO 1 h, RPO 5 min. See DR.md.

- `DrRegionStack` (deployed to us-east-1 before the primary stack, only with `dr`): the DR
  region's KMS keys for the table replicas, the backups replica and the secret replicas
  (known to the primary stack by alias), the backups replica bucket (versioned, the
  replication target) and its access-log bucket.
- `Failover` (in the primary stack, with `dr` and `domainName`): a Route 53 HTTPS health
  check on the API's `/health` route and failover records `api.<domainName>`: PRIMARY to the
  primary API (health-checked), SECONDARY to the standby API when its host is configured.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk import constants as c
from infra.cdk.components.storage import replica_bucket_name, replica_key_alias
from infra.cdk.config import Settings


class DrRegionStack(cdk.Stack):
    """What must exist in us-east-1 before the primary stack can replicate into it."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.data_key = self._replica_key(
            settings, "DataReplicaKey", "data", "PortfolioWise DynamoDB replicas (DR region)"
        )
        self.storage_key = self._replica_key(
            settings, "StorageReplicaKey", "storage", "PortfolioWise backups replica (DR region)"
        )
        # The replica secrets' key (secrets.py names it by alias in the primary's
        # `ReplicaRegions`, the standby looks it up by the same alias).
        self.secrets_key = self._replica_key(
            settings,
            "SecretsReplicaKey",
            "secrets",
            "PortfolioWise Secrets Manager replica secrets (DR region)",
        )
        self.logs_bucket = s3.Bucket(
            self,
            "ReplicaLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,  # access-log targets cannot use SSE-KMS
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="logs-expiry", expiration=cdk.Duration.days(c.LOGS_EXPIRATION_DAYS)
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.backups_replica = s3.Bucket(
            self,
            "BackupsReplicaBucket",
            bucket_name=replica_bucket_name(settings),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.storage_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            # The replica keeps the primary's lifecycle: the same prefixes expire alike.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id=f"{prefix.rstrip('/')}-{days}d",
                    prefix=prefix,
                    expiration=cdk.Duration.days(days),
                )
                for prefix, days in c.BACKUP_RETENTION_DAYS.items()
            ]
            + [
                s3.LifecycleRule(
                    id="noncurrent-versions",
                    noncurrent_version_expiration=cdk.Duration.days(
                        c.BACKUP_NONCURRENT_VERSION_DAYS
                    ),
                    expired_object_delete_marker=True,
                )
            ],
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix=c.S3_ACCESS_LOGS_PREFIX,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _replica_key(
        self, settings: Settings, construct_id: str, what: str, description: str
    ) -> kms.Key:
        """A rotating key for one kind of replica, kept when the stack goes."""
        return kms.Key(
            self,
            construct_id,
            description=description,
            alias=replica_key_alias(settings, what),
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )


class Failover(Construct):
    """Health check and failover records of `api.<domainName>`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        rest_api: apigw.RestApi,
    ) -> None:
        super().__init__(scope, construct_id)
        if settings.domain_name is None or settings.hosted_zone_id is None:
            raise ValueError("Failover needs domainName and hostedZoneId")
        stack = cdk.Stack.of(self)
        self.primary_host = f"{rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        self.health_check = route53.HealthCheck(
            self,
            "ApiHealthCheck",
            type=route53.HealthCheckType.HTTPS,
            fqdn=self.primary_host,
            port=c.HTTPS_PORT,
            resource_path=f"/{rest_api.deployment_stage.stage_name}{c.HEALTH_CHECK_PATH}",
            request_interval=cdk.Duration.seconds(c.HEALTH_CHECK_INTERVAL_SECONDS),
            failure_threshold=c.HEALTH_CHECK_FAILURE_THRESHOLD,
            enable_sni=True,
        )
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self,
            "Zone",
            hosted_zone_id=settings.hosted_zone_id,
            zone_name=settings.domain_name,
        )
        record_name = f"{c.API_RECORD_NAME}.{settings.domain_name}"
        self.primary_record = route53.CnameRecord(
            self,
            "PrimaryRecord",
            zone=zone,
            record_name=record_name,
            domain_name=self.primary_host,
            failover=route53.Failover.PRIMARY,
            health_check=self.health_check,
            set_identifier=f"{settings.prefix}-primary-{stack.region}",
            ttl=cdk.Duration.seconds(c.FAILOVER_RECORD_TTL_SECONDS),
        )
        self.secondary_record: route53.CnameRecord | None = None
        if settings.dr_standby_api_host is not None:
            self.secondary_record = route53.CnameRecord(
                self,
                "SecondaryRecord",
                zone=zone,
                record_name=record_name,
                domain_name=settings.dr_standby_api_host,
                failover=route53.Failover.SECONDARY,
                set_identifier=f"{settings.prefix}-secondary-{c.DR_REGION}",
                ttl=cdk.Duration.seconds(c.FAILOVER_RECORD_TTL_SECONDS),
            )
