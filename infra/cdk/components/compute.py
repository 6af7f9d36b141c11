"""Compute: the five Lambda functions of the seed's section 3 (market, auth, portfolio,
analysis, scheduled), one least-privilege role each.

Every function runs Python 3.12 on arm64 with X-Ray active tracing, its own log group (30 days)
and the memory, timeout and reserved concurrency of the seed. Code comes from the assets that
`python -m infra.cdk.build_assets` builds (no Docker); synthesis fails with a clear message
when they were not built.

Roles (seed section 3, narrowed to what the code does; no wildcard action anywhere):
- market: Cache table read/write (+ its key); outbound HTTPS to the quote sources; the
  Session table read and the session-signing key, to authenticate its signed-in routes
  (the existing web app's `GET /api/price-history` and `GET /portfolios/{id}/performance`:
  a session cookie, or an access token signed with that key); the Portfolio table read
  (GetItem, Query) for the performance report.
- auth: Session table read/write, the session-token KMS key (envelope encryption of Google's
  tokens), the Google client secret and the session-signing key.
- portfolio: Portfolio + Audit tables read/write (one transaction), Cache table read
  (valuation reads cached quotes), backups bucket write, `PutEvents` on the bus.
- analysis (seed: "DynamoDB: Read All / Secrets: Read AI Keys / S3: Read Models"): every
  table and index read-only (GetItem, BatchGetItem, Query); writes only its own job items in
  the Cache table (PutItem/UpdateItem where the partition key matches `*#ANALYSIS`) and its
  audit entry (PutItem on the Audit table); the OpenAI key and the session-signing key (it
  authenticates API requests and checks CSRF tokens like portfolio); the models bucket read;
  `PutEvents` on the bus for `portfoliowise.analysis` events only (API Gateway stops at
  29 s: a request is a job and an `AnalysisRequested` event, which this function consumes).
- scheduled: "DynamoDB: Admin / S3: Admin / Lambda: Invoke" narrowed to what the three jobs
  do: read every table and delete expired items (cleanup), read the portfolios and write/read
  the backups bucket (backup), invoke the market function (cache warm); `PutEvents` on the
  bus for its `portfoliowise.jobs` events only (`JobCompleted`, one per run).
- signals (seed: "SNS: Publish" for portfolio): the auth and portfolio functions publish the
  signals of src/portfoliowise/domain/signals.py (sign-ups; large portfolio changes, unusual
  activity) to the info topic of monitoring.py, named by INFO_TOPIC_ARN: `sns:Publish` on
  that topic only, and `kms:GenerateDataKey`/`kms:Decrypt` on the topics' key (SNS encrypts
  the message with it as the publisher). Monitoring is built after compute, so the stack
  calls `publish_signals` once the topic exists; no other function may publish to it.

Network: functions run in the private subnets with the Lambda security group. When the
private subnets have no route to the internet (NAT mode "none"), the functions that must reach
the internet run outside the VPC instead: market (quote sources), auth (Google's token
endpoint and keys) and analysis (the OpenAI API); portfolio and scheduled stay inside and
reach DynamoDB and S3 through the gateway endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.cdk import constants as C
from infra.cdk.build_assets import DEFAULT_OUT as DEFAULT_ASSET_ROOT
from infra.cdk.components.refs import (
    ComputeRefs,
    DataRefs,
    EventRefs,
    NetworkRefs,
    SecretRefs,
    StorageRefs,
)
from infra.cdk.config import Settings

ASSET_ROOT_CONTEXT_KEY = "assetRoot"
"""CDK context key (`cdk synth -c assetRoot=DIR`) of the directory holding the built assets;
default `infra/cdk/build/assets`, where `python -m infra.cdk.build_assets` writes them."""


class AssetsNotBuilt(RuntimeError):
    """A function's code asset is missing: the build step did not run."""


# -- IAM action sets (explicit actions only) ----------------------------------------------------

DDB_READ = ("dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query")
DDB_READ_ITEMS = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query")
DDB_PUT = ("dynamodb:PutItem",)
DDB_PUT_UPDATE = ("dynamodb:PutItem", "dynamodb:UpdateItem")
DDB_WRITE = (
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
DDB_SCAN = ("dynamodb:Scan",)
DDB_DELETE = ("dynamodb:BatchWriteItem", "dynamodb:DeleteItem")
# Using a table encrypted with a customer-managed key (DynamoDB calls KMS with the caller's
# permissions when its cached table key expires).
KMS_TABLE_USE = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")
KMS_ENVELOPE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
KMS_DECRYPT = ("kms:Decrypt",)
KMS_S3_WRITE = ("kms:Encrypt", "kms:GenerateDataKey")
KMS_S3_READ_WRITE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
SECRET_READ = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
SECRET_GET = ("secretsmanager:GetSecretValue",)
S3_PUT = ("s3:PutObject",)
S3_GET = ("s3:GetObject",)
S3_LIST = ("s3:ListBucket",)
EVENTS_PUT = ("events:PutEvents",)
# What Lambda does with the function's role to attach it to the VPC (the actions of AWS's
# AWSLambdaVPCAccessExecutionRole). CDK adds that managed policy only to a role it creates
# itself; these roles are ours, so the statement is added here, on Resource "*" as in AWS's
# policy (the Describe actions support no resource-level permissions, and Lambda creates and
# deletes the interfaces as the service, in subnets and groups it picks from the VpcConfig).
EC2_VPC_ACCESS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
)
LAMBDA_INVOKE = ("lambda:InvokeFunction",)
SNS_PUBLISH = ("sns:Publish",)
# Publishing to a KMS-encrypted topic (SNS's documented publisher permissions, with the exact
# action: GenerateDataKey is what SNS calls, and no wildcard action is granted anywhere).
KMS_SNS_PUBLISH = ("kms:Decrypt", "kms:GenerateDataKey")
# The functions whose use cases emit signals (handlers/lambdas/{auth,portfolio}.py).
SIGNAL_PUBLISHERS = ("auth", "portfolio")


@dataclass(frozen=True)
class _TableRef:
    table: dynamodb.ITableV2
    kind: str  # constants.TABLE_*

    def resources(self) -> list[str]:
        """The table and each of its indexes by name: no `index/*` wildcard."""
        arn = self.table.table_arn
        return [arn, *(f"{arn}/index/{index[0]}" for index in C.TABLE_INDEXES[self.kind])]


class Compute(Construct):
    """The functions; `.refs.functions` maps each name to its function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        network: NetworkRefs,
        data: DataRefs,
        storage: StorageRefs,
        secrets: SecretRefs,
        events: EventRefs,
    ) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self._network = network
        self._asset_root = self._resolve_asset_root()
        tables = {
            "portfolio": _TableRef(data.portfolio_table, C.TABLE_PORTFOLIO),
            "audit": _TableRef(data.audit_table, C.TABLE_AUDIT),
            "session": _TableRef(data.session_table, C.TABLE_SESSION),
            "cache": _TableRef(data.cache_table, C.TABLE_CACHE),
        }
        common_env = {
            "PORTFOLIO_TABLE": data.portfolio_table.table_name,
            "AUDIT_TABLE": data.audit_table.table_name,
            "SESSION_TABLE": data.session_table.table_name,
            "CACHE_TABLE": data.cache_table.table_name,
            "EVENT_BUS_NAME": events.bus.event_bus_name,
            "STAGE": settings.stage,
            "CORS_ORIGINS": ",".join(settings.allowed_origins),
            "PORTFOLIOWISE_MODE": "aws",
            "POWERTOOLS_METRICS_NAMESPACE": C.METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            # Responses carry portfolios and tokens: never copy them into traces.
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            "POWERTOOLS_TRACER_CAPTURE_ERROR": "true",
        }
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}

        market = self._function(
            "market",
            common_env
            | {
                "YFINANCE_CACHE_DIR": "/tmp/portfoliowise-yfinance",
                # authenticates its signed-in route (the web app's price history)
                "SESSION_SIGNING_SECRET_ARN": secrets.session_signing_key.secret_arn,
            },
        )
        self._tables(market, [tables["cache"]], DDB_READ + DDB_WRITE, data.data_key)
        self._tables(market, [tables["session"]], DDB_READ_ITEMS, data.data_key)
        # the performance report: the portfolio and its activities (its own partition)
        self._tables(market, [tables["portfolio"]], DDB_READ_ITEMS, data.data_key)
        self._secrets(market, [secrets.session_signing_key], secrets.secrets_key)

        auth = self._function(
            "auth",
            common_env
            | {
                "GOOGLE_CLIENT_SECRET_ARN": secrets.google_client_secret.secret_arn,
                "SESSION_SIGNING_SECRET_ARN": secrets.session_signing_key.secret_arn,
                "SESSION_TOKEN_KEY_ARN": secrets.session_token_key.key_arn,
                # The viewer's address as CloudFront saw it (the API forwards this header):
                # the only trusted source of the client IP for sign-in rate limiting.
                "CLIENT_IP_HEADER": C.CLIENT_IP_HEADER,
            }
            | (
                {"GOOGLE_CLIENT_ID": settings.google_client_id} if settings.google_client_id else {}
            ),
        )
        self._tables(auth, [tables["session"]], DDB_READ + DDB_WRITE, data.data_key)
        self._key(auth, secrets.session_token_key, KMS_ENVELOPE)
        self._secrets(
            auth, [secrets.google_client_secret, secrets.session_signing_key], secrets.secrets_key
        )

        portfolio = self._function(
            "portfolio",
            common_env
            | {
                "BACKUP_BUCKET": storage.backups_bucket.bucket_name,
                # checks the CSRF token of every state-changing request (HMAC of the session)
                "SESSION_SIGNING_SECRET_ARN": secrets.session_signing_key.secret_arn,
            },
        )
        self._secrets(portfolio, [secrets.session_signing_key], secrets.secrets_key)
        self._tables(
            portfolio, [tables["portfolio"], tables["audit"]], DDB_READ + DDB_WRITE, data.data_key
        )
        self._tables(portfolio, [tables["cache"]], DDB_READ, data.data_key)
        # every signed-in request reads its session (GetItem on the Session table)
        self._tables(portfolio, [tables["session"]], DDB_READ_ITEMS, data.data_key)
        self._objects(
            portfolio, storage.backups_bucket, S3_PUT, C.BACKUP_PREFIXES_WRITTEN_BY_PORTFOLIO
        )
        self._key(portfolio, storage.storage_key, KMS_S3_WRITE)
        self._bus(portfolio, events)

        analysis = self._function(
            "analysis",
            common_env
            | {
                "OPENAI_API_KEY_SECRET": secrets.openai_api_key.secret_arn,
                "OPENAI_MODEL": C.OPENAI_MODEL,
                # authenticates API requests and checks CSRF tokens, like portfolio
                "SESSION_SIGNING_SECRET_ARN": secrets.session_signing_key.secret_arn,
                "MODELS_BUCKET": storage.models_bucket.bucket_name,
            },
        )
        # Seed: "DynamoDB: Read All". Items and queries only (no DescribeTable, no Scan).
        self._tables(analysis, list(tables.values()), DDB_READ_ITEMS, data.data_key)
        # Writes: its own job items in the Cache table, and nothing else there. Jobs are
        # items `cacheKey = "{jobId}#ANALYSIS"`, `timestamp = "job"`; the Cache table also
        # holds the quotes that every valuation reads, so a condition on the partition key
        # (dynamodb:LeadingKeys, which needs ForAllValues) keeps this function from writing
        # or overwriting a quote: only keys ending in `#ANALYSIS` are writable. PutItem
        # creates a job, UpdateItem claims and finishes it (both conditional writes); no
        # DeleteItem (the table's TTL expires jobs) and no BatchWriteItem/TransactWriteItems.
        self._allow(
            analysis,
            DDB_PUT_UPDATE,
            [tables["cache"].table.table_arn],
            conditions={
                "ForAllValues:StringLike": {
                    "dynamodb:LeadingKeys": [f"*{C.ANALYSIS_JOB_KEY_SUFFIX}"]
                }
            },
        )
        # The analysis audit entry: one PutItem on the Audit table (no update, no delete).
        self._allow(analysis, DDB_PUT, [tables["audit"].table.table_arn])
        self._allow(
            analysis,
            SECRET_GET,
            [secrets.openai_api_key.secret_arn, secrets.session_signing_key.secret_arn],
        )
        self._key(analysis, secrets.secrets_key, KMS_DECRYPT)
        self._bucket_list(analysis, storage.models_bucket)
        self._objects(analysis, storage.models_bucket, S3_GET, ("*",))
        self._key(analysis, storage.storage_key, KMS_DECRYPT)
        # Its own events only (AnalysisRequested, AnalysisCompleted, AnalysisFailed): it
        # cannot publish a portfolio event, which the backup consumer would act on.
        self._allow(
            analysis,
            EVENTS_PUT,
            [events.bus.event_bus_arn],
            conditions={
                "StringEquals": {
                    "events:source": [C.ANALYSIS_EVENT_SOURCE],
                    "events:detail-type": list(C.ANALYSIS_EVENT_TYPES),
                }
            },
        )

        scheduled = self._function(
            "scheduled",
            common_env
            | {
                "BACKUP_BUCKET": storage.backups_bucket.bucket_name,
                "MARKET_FUNCTION_NAME": market.function_name,
            },
        )
        self._tables(scheduled, list(tables.values()), DDB_READ + DDB_SCAN, data.data_key)
        self._tables(
            scheduled,
            [tables["session"], tables["cache"], tables["audit"]],
            DDB_DELETE,
            data.data_key,
        )
        self._bucket_list(scheduled, storage.backups_bucket)
        self._objects(
            scheduled,
            storage.backups_bucket,
            S3_PUT + S3_GET,
            C.BACKUP_PREFIXES_WRITTEN_BY_SCHEDULED,
        )
        self._key(scheduled, storage.storage_key, KMS_S3_READ_WRITE)
        self._allow(scheduled, LAMBDA_INVOKE, [market.function_arn])
        # Its own events only (JobCompleted): it cannot publish a portfolio event.
        self._allow(
            scheduled,
            EVENTS_PUT,
            [events.bus.event_bus_arn],
            conditions={
                "StringEquals": {
                    "events:source": [C.JOB_EVENT_SOURCE],
                    "events:detail-type": list(C.JOB_EVENT_TYPES),
                }
            },
        )

        self.refs = ComputeRefs(functions=dict(self.functions))

    def publish_signals(self, topic: sns.ITopic, key: kms.IKey) -> None:
        """Let the signal publishers (auth, portfolio) publish to `topic` (the info topic),
        encrypted with `key`, and tell them its ARN (`INFO_TOPIC_ARN`)."""
        for name in SIGNAL_PUBLISHERS:
            function = self.functions[name]
            function.add_environment("INFO_TOPIC_ARN", topic.topic_arn)
            self._allow(function, SNS_PUBLISH, [topic.topic_arn])
            self._key(function, key, KMS_SNS_PUBLISH)

    # -- construction ------------------------------------------------------------------------

    def _resolve_asset_root(self) -> Path:
        configured = self.node.try_get_context(ASSET_ROOT_CONTEXT_KEY)
        return Path(configured) if configured else DEFAULT_ASSET_ROOT

    def _asset(self, name: str) -> lambda_.Code:
        directory = self._asset_root / name
        if not (directory / "portfoliowise" / "__init__.py").is_file():
            raise AssetsNotBuilt(
                f"Lambda asset of the {name!r} function not built: {directory} is missing or "
                "has no portfoliowise package. Run `.venv/bin/python -m infra.cdk.build_assets` "
                f"(or pass `-c {ASSET_ROOT_CONTEXT_KEY}=DIR` to point at built assets)."
            )
        return lambda_.Code.from_asset(str(directory))

    def _in_vpc(self, name: str) -> bool:
        # NAT `none` without interface endpoints: every function outside the VPC (config.py).
        if not self._settings.functions_in_vpc:
            return False
        return self._network.private_subnets_have_internet or name not in C.LAMBDA_NEEDS_INTERNET

    def _function(self, name: str, environment: dict[str, str]) -> lambda_.Function:
        log_group = logs.LogGroup(
            self,
            f"{name.capitalize()}LogGroup",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            f"{name.capitalize()}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"PortfolioWise {name} function: least privilege (seed section 3)",
        )
        vpc_options: dict[str, Any] = {}
        if self._in_vpc(name):
            vpc_options = {
                "vpc": self._network.vpc,
                "vpc_subnets": ec2.SubnetSelection(subnet_group_name=C.PRIVATE_SUBNET_GROUP),
                "security_groups": [self._network.lambda_security_group],
            }
        function = lambda_.Function(
            self,
            f"{name.capitalize()}Function",
            description=C.LAMBDA_DESCRIPTIONS[name],
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"{C.LAMBDA_HANDLER_PACKAGE}.{name}.handler",
            code=self._asset(name),
            memory_size=C.LAMBDA_MEMORY_MB[name],
            timeout=cdk.Duration.seconds(C.LAMBDA_TIMEOUT_SECONDS[name]),
            reserved_concurrent_executions=C.LAMBDA_RESERVED_CONCURRENCY[name],
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            environment=environment | {"POWERTOOLS_SERVICE_NAME": f"portfoliowise-{name}"},
            **vpc_options,
        )
        # The role is not Lambda's default one, so its log permissions are granted here,
        # scoped to the function's own log group.
        self._allow(
            function, ("logs:CreateLogStream", "logs:PutLogEvents"), [log_group.log_group_arn]
        )
        if vpc_options:
            # Without them Lambda refuses to create the function in the VPC.
            self._allow(function, EC2_VPC_ACCESS, ["*"])
        wildcard_reason = (
            "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing, added by CDK)"
            + (
                " and the EC2 network-interface actions of a VPC function (those of AWS's "
                "AWSLambdaVPCAccessExecutionRole)"
                if vpc_options
                else ""
            )
            + " support no resource-level permissions: AWS documents Resource '*' for them; "
            "no other action is granted on '*'."
        )
        cdk.Validations.of(role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason=wildcard_reason
            )
        )
        cdk.Validations.of(function).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason="Python 3.12 is the design's runtime (DESIGN.md, issue 6) and the assets "
                "are built as cp312 wheels; moving to a newer runtime is a deliberate upgrade.",
            )
        )
        self.functions[name] = function
        self.roles[name] = role
        self.log_groups[name] = log_group
        return function

    # -- permissions -------------------------------------------------------------------------

    def _allow(
        self,
        function: lambda_.Function,
        actions: tuple[str, ...],
        resources: list[str],
        conditions: dict[str, Any] | None = None,
    ) -> None:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=sorted(set(actions)), resources=resources, conditions=conditions
            )
        )

    def _tables(
        self,
        function: lambda_.Function,
        tables: list[_TableRef],
        actions: tuple[str, ...],
        key: kms.IKey,
    ) -> None:
        resources = [arn for ref in tables for arn in ref.resources()]
        self._allow(function, actions, resources)
        self._key(function, key, KMS_TABLE_USE)

    def _key(self, function: lambda_.Function, key: kms.IKey, actions: tuple[str, ...]) -> None:
        self._allow(function, actions, [key.key_arn])

    def _secrets(
        self,
        function: lambda_.Function,
        secrets: list[secretsmanager.ISecret],
        key: kms.IKey,
    ) -> None:
        self._allow(function, SECRET_READ, [secret.secret_arn for secret in secrets])
        self._key(function, key, KMS_DECRYPT)

    def _bus(self, function: lambda_.Function, events: EventRefs) -> None:
        self._allow(function, EVENTS_PUT, [events.bus.event_bus_arn])

    def _bucket_list(self, function: lambda_.Function, bucket: s3.IBucket) -> None:
        self._allow(function, S3_LIST, [bucket.bucket_arn])

    def _objects(
        self,
        function: lambda_.Function,
        bucket: s3.IBucket,
        actions: tuple[str, ...],
        prefixes: tuple[str, ...],
    ) -> None:
        """Object actions under the given key prefixes; object keys are only known at run time,
        so each prefix ends in `*`: acknowledged for this role, for exactly these ARNs."""
        patterns = [f"{prefix}*" if prefix != "*" else "*" for prefix in prefixes]
        self._allow(function, actions, [bucket.arn_for_objects(p) for p in patterns])
        logical = _logical_arn(bucket)
        if logical is None:
            return
        role = function.role
        assert role is not None
        for pattern in patterns:
            cdk.Validations.of(role).acknowledge(
                cdk.Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{logical}/{pattern}]",
                    reason=f"{', '.join(actions)} on objects under '{pattern}' of this one "
                    "bucket: object keys (dates, user ids, job ids) are created at run time, so "
                    "the object ARN needs a key wildcard; the actions are explicit.",
                )
            )


def _logical_arn(bucket: s3.IBucket) -> str | None:
    """`<LogicalId.Arn>`, as cdk-nag names the bucket's ARN in its IAM5 findings."""
    child = bucket.node.default_child
    if not isinstance(child, cdk.CfnElement):
        return None
    return f"<{cdk.Stack.of(child).get_logical_id(child)}.Arn>"
