"""The DynamoDB client: botocore's standard retry mode and short timeouts, sized for the
10 s portfolio and auth Lambda functions (no retry loops of our own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.config import Config

from portfoliowise.adapters import aws_session

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_ATTEMPTS = 3
"""Attempts per request, the first one included (botocore `total_max_attempts`), with
botocore's jittered exponential backoff between them."""
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0


def client_config(
    *,
    max_attempts: int = MAX_ATTEMPTS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        tcp_keepalive=True,
    )


def dynamodb_client(
    endpoint_url: str | None = None,
    region: str | None = None,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> DynamoDBClient:
    """A low-level client (thread-safe; build one per process and share it). `endpoint_url`
    points at DynamoDB Local or a moto server; `region` defaults to the environment's."""
    with aws_session.lock:  # the process's one session (`adapters.aws_session`)
        return aws_session.session().client(
            "dynamodb",
            endpoint_url=endpoint_url,
            region_name=region,
            config=client_config(
                max_attempts=max_attempts,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            ),
        )
