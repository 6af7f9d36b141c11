"""What one construct hands to the next: the stack builds the foundation (network, data,
storage, secrets, events), then compute, API and monitoring from these references."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs


@dataclass(frozen=True)
class NetworkRefs:
    vpc: ec2.IVpc
    lambda_security_group: ec2.ISecurityGroup
    # False with NAT mode "none": every function runs outside the VPC, or with the
    # `interfaceEndpoints` setting only those of LAMBDA_NEEDS_INTERNET (config.Settings).
    private_subnets_have_internet: bool


@dataclass(frozen=True)
class DataRefs:
    portfolio_table: dynamodb.ITableV2
    audit_table: dynamodb.ITableV2
    session_table: dynamodb.ITableV2
    cache_table: dynamodb.ITableV2
    data_key: kms.IKey  # customer-managed key of the four tables


@dataclass(frozen=True)
class StorageRefs:
    static_bucket: s3.IBucket
    backups_bucket: s3.IBucket
    logs_bucket: s3.IBucket
    models_bucket: s3.IBucket  # read by the analysis function (seed: "S3: Read Models")
    storage_key: kms.IKey


@dataclass(frozen=True)
class SecretRefs:
    google_client_secret: secretsmanager.ISecret
    openai_api_key: secretsmanager.ISecret
    session_signing_key: secretsmanager.ISecret  # rotated automatically
    session_token_key: kms.IKey  # envelope key of the sessions' provider tokens
    secrets_key: kms.IKey


@dataclass(frozen=True)
class EventRefs:
    bus: events.IEventBus


@dataclass(frozen=True)
class DeadLetterQueueRefs:
    """The dead-letter queues of events.py, for their alarms."""

    events: sqs.IQueue  # the rule targets' (the schedules and the domain-event routes)
    analysis: sqs.IQueue  # the analysis consumer's (rule target and on-failure destination)


@dataclass(frozen=True)
class ComputeRefs:
    # keys: constants.LAMBDA_FUNCTION_NAMES ("market", "auth", "portfolio", "analysis",
    # "scheduled")
    functions: dict[str, lambda_.IFunction]


@dataclass(frozen=True)
class ApiRefs:
    rest_api: apigw.RestApi
    access_log_group: logs.ILogGroup


@dataclass(frozen=True)
class AlertTopics:
    critical: sns.ITopic
    warning: sns.ITopic
    info: sns.ITopic
