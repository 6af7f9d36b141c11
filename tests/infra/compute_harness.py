"""A small stack of our own for the compute, API and monitoring tests.

The foundation (network, data, storage, secrets, events, the two dead-letter queues) is made
of real CDK resources built here, so these tests do not depend on the foundation constructs.
Code assets are real directories built by `build_assets.build_function` with no
dependencies (the product's build step, minus the wheels) and handed to Compute through the
product's own `assetRoot` context.
Each (NAT mode) stack is synthesized once per test session, with cdk-nag's AwsSolutions checks.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from infra.cdk import constants as C
from infra.cdk.build_assets import FUNCTIONS, build_function
from infra.cdk.components.api import Api
from infra.cdk.components.compute import ASSET_ROOT_CONTEXT_KEY, Compute
from infra.cdk.components.monitoring import Monitoring
from infra.cdk.components.refs import (
    DataRefs,
    DeadLetterQueueRefs,
    EventRefs,
    NetworkRefs,
    SecretRefs,
    StorageRefs,
)
from infra.cdk.config import Settings

STACK = "Harness"
OURS = (f"{STACK}/Compute/", f"{STACK}/Api/", f"{STACK}/Monitoring/")
ENV = cdk.Environment(account="123456789012", region="ap-northeast-1")


def _scratch(prefix: str) -> Path:
    """A temporary directory removed when the test session's process exits."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.cache
def asset_root() -> Path:
    """Five real asset directories (the source package, no wheels), built once."""
    root = _scratch("pw-assets-")
    for name in FUNCTIONS:
        build_function(name, [], root)
    return root


def foundation(stack: cdk.Stack, *, nat: bool) -> dict[str, Any]:
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=1 if nat else 0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name=C.PUBLIC_SUBNET_GROUP, subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(
                name=C.PRIVATE_SUBNET_GROUP,
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                if nat
                else ec2.SubnetType.PRIVATE_ISOLATED,
            ),
            ec2.SubnetConfiguration(
                name=C.DATA_SUBNET_GROUP, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
            ),
        ],
    )
    sg = ec2.SecurityGroup(stack, "LambdaSg", vpc=vpc, allow_all_outbound=False)
    data_key = kms.Key(stack, "DataKey", enable_key_rotation=True)
    storage_key = kms.Key(stack, "StorageKey", enable_key_rotation=True)
    secrets_key = kms.Key(stack, "SecretsKey", enable_key_rotation=True)
    token_key = kms.Key(stack, "TokenKey", enable_key_rotation=True)

    def table(name: str, sort: bool) -> dynamodb.TableV2:
        return dynamodb.TableV2(
            stack,
            name,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING)
            if sort
            else None,
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(data_key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        )

    def bucket(name: str, **kwargs: Any) -> s3.Bucket:
        return s3.Bucket(
            stack,
            name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            **kwargs,
        )

    logs_bucket = bucket(
        "LogsBucket",
        encryption=s3.BucketEncryption.S3_MANAGED,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    )

    def secret(name: str) -> secretsmanager.Secret:
        return secretsmanager.Secret(stack, name, encryption_key=secrets_key)

    return {
        "network": NetworkRefs(
            vpc=vpc, lambda_security_group=sg, private_subnets_have_internet=nat
        ),
        "data": DataRefs(
            portfolio_table=table("PortfolioTable", True),
            audit_table=table("AuditTable", True),
            session_table=table("SessionTable", False),
            cache_table=table("CacheTable", True),
            data_key=data_key,
        ),
        "storage": StorageRefs(
            static_bucket=bucket("StaticBucket", encryption=s3.BucketEncryption.S3_MANAGED),
            backups_bucket=bucket(
                "BackupsBucket", encryption=s3.BucketEncryption.KMS, encryption_key=storage_key
            ),
            logs_bucket=logs_bucket,
            models_bucket=bucket(
                "ModelsBucket", encryption=s3.BucketEncryption.KMS, encryption_key=storage_key
            ),
            storage_key=storage_key,
        ),
        "secrets": SecretRefs(
            google_client_secret=secret("GoogleSecret"),
            openai_api_key=secret("OpenAiSecret"),
            session_signing_key=secret("SigningSecret"),
            session_token_key=token_key,
            secrets_key=secrets_key,
        ),
        "events": EventRefs(bus=events.EventBus(stack, "Bus", event_bus_name="portfoliowise")),
    }


def dead_letter_queues(stack: cdk.Stack) -> DeadLetterQueueRefs:
    """Stand-ins for the event rules' and the analysis consumer's dead-letter queues."""

    def queue(name: str) -> sqs.Queue:
        return sqs.Queue(stack, name, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)

    return DeadLetterQueueRefs(
        events=queue("EventsDeadLetterQueue"), analysis=queue("AnalysisDeadLetterQueue")
    )


@dataclass(frozen=True)
class Synth:
    template: Template
    raw: dict[str, Any]
    violations: list[tuple[str, str]]  # (rule, construct path)
    outdir: Path
    compute: Compute
    api: Api
    monitoring: Monitoring
    dead_letter_queues: DeadLetterQueueRefs

    def our_violations(self) -> list[tuple[str, str]]:
        return [(rule, path) for rule, path in self.violations if path.startswith(OURS)]

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {
            key: value for key, value in self.raw["Resources"].items() if value["Type"] == type_
        }


@functools.cache
def synth(
    nat_mode: str = C.NAT_MODE_SINGLE,
    alarm_email: str | None = "ops@example.com",
    interface_endpoints: bool = False,
) -> Synth:
    outdir = _scratch("pw-cdk-")
    app = cdk.App(outdir=str(outdir), context={ASSET_ROOT_CONTEXT_KEY: str(asset_root())})
    stack = cdk.Stack(app, STACK, env=ENV)
    settings = Settings(
        nat_mode=nat_mode,
        interface_endpoints=interface_endpoints,
        alarm_email=alarm_email,
        allowed_origins=("https://portfolio-wise.com", "http://localhost:5173"),
    )
    refs = foundation(stack, nat=nat_mode != C.NAT_MODE_NONE)
    compute = Compute(stack, "Compute", settings=settings, **refs)
    api = Api(stack, "Api", settings=settings, compute=compute.refs, storage=refs["storage"])
    queues = dead_letter_queues(stack)
    monitoring = Monitoring(
        stack,
        "Monitoring",
        settings=settings,
        compute=compute.refs,
        api=api.refs,
        data=refs["data"],
        dead_letter_queues=queues,
    )
    compute.publish_signals(monitoring.topics.info, monitoring.topic_key)  # as the stack does
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
    raw = json.loads((outdir / f"{STACK}.template.json").read_text())
    report = outdir / "validation-report.json"
    violations: list[tuple[str, str]] = []
    if report.exists():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            for violation in plugin.get("violations", []):
                for construct in violation.get("violatingConstructs", []):
                    violations.append((violation["ruleName"], construct["constructPath"]))
    return Synth(Template.from_json(raw), raw, violations, outdir, compute, api, monitoring, queues)


def function_logical_ids(result: Synth) -> dict[str, str]:
    """function name -> logical id of its AWS::Lambda::Function."""
    stack = cdk.Stack.of(result.compute)
    return {
        name: stack.resolve(function.node.default_child.logical_id)  # type: ignore[union-attr]
        for name, function in result.compute.functions.items()
    }
