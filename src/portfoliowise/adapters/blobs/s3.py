"""Blobs as S3 objects (AWS mode). Server-side encryption is the bucket's default (set by the
infrastructure), so requests carry no SSE parameters.

Errors: a missing key is `NotFoundError`; throttling, server faults and connections that fail
after botocore's own retries (standard mode, see `s3_client`) are `SourceUnavailable`;
anything else (denied access, a missing bucket: configuration bugs) is re-raised as is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as BotoConnectionError

from portfoliowise.adapters import aws_session
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_ATTEMPTS = 3
"""Attempts per request, the first one included, with botocore's jittered backoff."""
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 10.0

NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
UNAVAILABLE_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
    }
)


def s3_client(
    endpoint_url: str | None = None,
    region: str | None = None,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> S3Client:
    """A low-level S3 client with botocore's standard retry mode (build one per process and
    share it). `endpoint_url` points at a moto server or another S3-compatible store."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        tcp_keepalive=True,
    )
    with aws_session.lock:  # the process's one session (`adapters.aws_session`)
        return aws_session.session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Run S3 calls, raising domain errors for the failures that have one."""
    try:
        yield
    except ClientError as exc:
        code = _code(exc)
        if code in NOT_FOUND_CODES:
            raise NotFoundError(f"no object at {what}") from None
        if code in UNAVAILABLE_CODES or _status(exc) >= 500:
            raise SourceUnavailable(f"S3 is unavailable ({what}): {code}") from exc
        raise
    except (BotoConnectionError, HTTPClientError, IncompleteReadError) as exc:
        raise SourceUnavailable(f"S3 did not answer ({what}): {exc}") from exc


class S3BlobStore:
    """Implements `BlobStore` over one bucket."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        with translated(f"s3://{self.bucket}/{key}"):
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )

    def get(self, key: str) -> bytes:
        with translated(f"s3://{self.bucket}/{key}"):
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read()

    def list(self, prefix: str) -> list[str]:
        """Keys starting with `prefix`, sorted (one request per 1,000 keys)."""
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        with translated(f"s3://{self.bucket}/{prefix}*"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []) if "Key" in item)
        return sorted(keys)
