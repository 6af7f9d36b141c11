"""Secrets and configuration (seed §1 "Secrets Manager: Auto-rotation", "KMS", "Parameter
Store: Config").

- Secrets Manager, encrypted with the customer-managed secrets key: the Google OAuth client
  secret and the OpenAI API key (issued by those providers: created with a placeholder, the
  team puts the real value; rotated by re-issuing at the provider) and the session-signing
  key, generated here and rotated automatically every 30 days by a small inline function.
  Hosted rotation only knows database credentials, so the function implements the four
  Secrets Manager rotation steps for a random key (createSecret makes a new AWSPENDING random
  key, setSecret and testSecret have nothing external to update or test, finishSecret moves
  AWSCURRENT). A reader of the key should accept AWSPREVIOUS as well during the change-over.
- The session-token key: the envelope key of the provider tokens kept in the Session table.
- With `dr`: a replica of each secret in us-east-1 (Secrets Manager `ReplicaRegions`),
  encrypted with the DR region's secrets key; the standby (`standbySecretArns`) imports the
  replicas instead of creating secrets of its own (DR.md).
- SSM parameters (`/portfoliowise/<stage>/...`) for the non-secret configuration: table and
  bucket names, the bus name and the allowed origins (`ConfigParameters`).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.cdk import constants as c
from infra.cdk.components.refs import DataRefs, EventRefs, SecretRefs, StorageRefs
from infra.cdk.components.storage import replica_key_alias, replica_key_alias_arn
from infra.cdk.config import SECRET_NAMES, Settings

# The DR region's key of the secret replicas: `alias/<prefix>-secrets-replica` (DrRegionStack).
SECRETS_KEY_PURPOSE = "secrets"

ROTATION_HANDLER = """\
import base64
import os
import secrets

import boto3

KEY_BYTES = int(os.environ["KEY_BYTES"])
client = boto3.client("secretsmanager")


def handler(event, _context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError("rotation is not enabled")
    stages = metadata["VersionIdsToStages"].get(token)
    if stages is None:
        raise ValueError("the version to rotate is not a version of the secret")
    if "AWSCURRENT" in stages:
        return  # this version is already current: nothing to do
    if "AWSPENDING" not in stages:
        raise ValueError("the version to rotate is not pending")
    if step == "createSecret":
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except client.exceptions.ResourceNotFoundException:
            key = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()
            client.put_secret_value(
                SecretId=arn,
                ClientRequestToken=token,
                SecretString=key,
                VersionStages=["AWSPENDING"],
            )
    elif step == "setSecret":
        return  # the key lives in the secret only: no other system to update
    elif step == "testSecret":
        value = client.get_secret_value(
            SecretId=arn, VersionId=token, VersionStage="AWSPENDING"
        )["SecretString"]
        if len(base64.urlsafe_b64decode(value)) != KEY_BYTES:
            raise ValueError("the pending key has the wrong length")
    elif step == "finishSecret":
        current = next(
            version
            for version, names in metadata["VersionIdsToStages"].items()
            if "AWSCURRENT" in names
        )
        client.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current,
        )
    else:
        raise ValueError(f"unknown step {step}")
"""


class Secrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.session_token_key = kms.Key(
            self,
            "SessionTokenKey",
            description="PortfolioWise envelope key of the provider tokens in the Session table",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.rotation_function: lambda_.Function | None = None
        if settings.standby and settings.standby_secret_arns:
            self._import_replicas(settings)
            return

        self.secrets_key: kms.IKey = kms.Key(
            self,
            "SecretsKey",
            description="PortfolioWise Secrets Manager secrets",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # With DR every secret has a replica in the DR region under the same name, encrypted
        # with the DR region's secrets key (created by DrRegionStack, named here by alias):
        # Secrets Manager keeps it in sync, rotations included (DR.md, "Secrets").
        self._replica_regions = (
            [
                secretsmanager.ReplicaRegion(
                    region=c.DR_REGION,
                    encryption_key=kms.Key.from_key_arn(
                        self,
                        "SecretsReplicaKey",
                        replica_key_alias_arn(settings, SECRETS_KEY_PURPOSE),
                    ),
                )
            ]
            if settings.dr
            else None
        )
        self.google_client_secret: secretsmanager.ISecret = self._secret(
            settings,
            "GoogleClientSecret",
            SECRET_NAMES["google_client_secret"],
            "Google OAuth client secret (set the value issued by Google Cloud Console)",
        )
        self.openai_api_key: secretsmanager.ISecret = self._secret(
            settings,
            "OpenAiApiKey",
            SECRET_NAMES["openai_api_key"],
            "OpenAI API key (set the value issued by OpenAI)",
        )
        for secret, provider in (
            (self.google_client_secret, "Google Cloud Console"),
            (self.openai_api_key, "the OpenAI dashboard"),
        ):
            cdk.Validations.of(secret).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions::AwsSolutions-SMG4",
                    reason="A credential issued by a third party, which Secrets Manager "
                    f"cannot mint: it is rotated by issuing a new one in {provider} and "
                    "putting it in this secret.",
                )
            )
        session_signing_key = secretsmanager.Secret(
            self,
            "SessionSigningKey",
            secret_name=f"{settings.prefix}/{SECRET_NAMES['session_signing_key']}",
            description="Session cookie signing key (random, rotated automatically)",
            encryption_key=self.secrets_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=c.SESSION_KEY_BYTES, exclude_punctuation=True
            ),
            replica_regions=self._replica_regions,
        )
        self.session_signing_key: secretsmanager.ISecret = session_signing_key
        self.rotation_function = self._rotation_function(session_signing_key)
        session_signing_key.add_rotation_schedule(
            "Rotation",
            rotation_lambda=self.rotation_function,
            automatically_after=cdk.Duration.days(c.SESSION_KEY_ROTATION_DAYS),
        )
        self.refs = self._refs()

    def _refs(self) -> SecretRefs:
        return SecretRefs(
            google_client_secret=self.google_client_secret,
            openai_api_key=self.openai_api_key,
            session_signing_key=self.session_signing_key,
            session_token_key=self.session_token_key,
            secrets_key=self.secrets_key,
        )

    def _import_replicas(self, settings: Settings) -> None:
        """The standby over the primary's replica secrets (their complete ARNs, from the
        `standbySecretArns` setting) and the DR region's secrets key (looked up by alias).
        The replicas are rotated by the primary; the standby has no rotation function."""
        arns = dict(settings.standby_secret_arns)
        self.secrets_key = kms.Key.from_lookup(
            self, "SecretsKey", alias_name=replica_key_alias(settings, SECRETS_KEY_PURPOSE)
        )
        imported = {
            attribute: secretsmanager.Secret.from_secret_attributes(
                self,
                attribute.title().replace("_", ""),
                secret_complete_arn=arns[name],
                encryption_key=self.secrets_key,
            )
            for attribute, name in SECRET_NAMES.items()
        }
        self.google_client_secret = imported["google_client_secret"]
        self.openai_api_key = imported["openai_api_key"]
        self.session_signing_key = imported["session_signing_key"]
        self.refs = self._refs()

    def _secret(
        self, settings: Settings, construct_id: str, name: str, description: str
    ) -> secretsmanager.Secret:
        return secretsmanager.Secret(
            self,
            construct_id,
            secret_name=f"{settings.prefix}/{name}",
            description=description,
            encryption_key=self.secrets_key,
            replica_regions=self._replica_regions,
        )

    def _rotation_function(self, secret: secretsmanager.Secret) -> lambda_.Function:
        log_group = logs.LogGroup(
            self,
            "RotationLogs",
            retention=logs.RetentionDays.ONE_MONTH,  # ROTATION_LOG_RETENTION_DAYS (a test checks)
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            "RotationRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Rotates the session-signing key",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                resources=[secret.secret_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.secrets_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"secretsmanager.{cdk.Aws.REGION}.amazonaws.com"
                    }
                },
            )
        )
        function = lambda_.Function(
            self,
            "RotationFunction",
            description="Secrets Manager rotation of the session-signing key (random key)",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_inline(ROTATION_HANDLER),
            memory_size=c.ROTATION_FUNCTION_MEMORY_MB,
            timeout=cdk.Duration.seconds(c.ROTATION_FUNCTION_TIMEOUT_SECONDS),
            environment={"KEY_BYTES": str(c.SESSION_KEY_BYTES)},
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
        )
        cdk.Validations.of(role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray PutTraceSegments/PutTelemetryRecords (added by active tracing) "
                "support no resource-level permission.",
            ),
        )
        cdk.Validations.of(function).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason="Every function of the app runs Python 3.12, the runtime the code and "
                "its tests are pinned to (DESIGN.md: Python 3.12 replaces Node 18).",
            )
        )
        return function


class ConfigParameters(Construct):
    """Non-secret configuration in SSM Parameter Store, one String parameter per value."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        data: DataRefs,
        storage: StorageRefs,
        events: EventRefs,
    ) -> None:
        super().__init__(scope, construct_id)
        values: Mapping[str, str] = {
            "tables/portfolio": data.portfolio_table.table_name,
            "tables/audit": data.audit_table.table_name,
            "tables/session": data.session_table.table_name,
            "tables/cache": data.cache_table.table_name,
            "buckets/static": storage.static_bucket.bucket_name,
            "buckets/backups": storage.backups_bucket.bucket_name,
            "buckets/logs": storage.logs_bucket.bucket_name,
            "buckets/models": storage.models_bucket.bucket_name,
            "events/bus-name": events.bus.event_bus_name,
            # SSM refuses an empty String parameter: "-" stands for "no origin allowed".
            "cors/allowed-origins": ",".join(settings.allowed_origins) or "-",
        }
        self.parameters: dict[str, ssm.StringParameter] = {}
        for key, value in values.items():
            construct = "".join(part.capitalize() for part in key.replace("-", "/").split("/"))
            self.parameters[key] = ssm.StringParameter(
                self,
                construct,
                parameter_name=f"{settings.ssm_root}/{key}",
                string_value=value,
                description=f"PortfolioWise {settings.stage}: {key}",
            )
