"""The DynamoDB client: botocore's standard retry mode and short timeouts, sized for the
10 s portfolio and auth Lambda functions (no retry loops of our own)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_ATTEMPTS = 3
"""Attempts per request, the first one included (botocore `total_max_attempts`), with
botocore's jittered exponential backoff between them."""
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0


_session: boto3.session.Session | None = None
_session_lock = threading.Lock()


def _shared_session() -> boto3.session.Session:
    """One boto3 session per process (it caches the service models); clients are made
    under a lock because session methods are not thread-safe."""
    global _session
    if _session is None:
        _session = boto3.session.Session()
    return _session


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
    with _session_lock:
        return _shared_session().client(
            "dynamodb",
            endpoint_url=endpoint_url,
            region_name=region,
            config=client_config(
                max_attempts=max_attempts,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            ),
        )
