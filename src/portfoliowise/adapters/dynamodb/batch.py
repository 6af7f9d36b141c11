"""BatchGetItem and BatchWriteItem in chunks of the API's limits, resending what DynamoDB
leaves unprocessed (which it does under throttling, without an error) with capped
exponential backoff and a bounded number of attempts.

This is the only retry loop of the adapters: botocore's retry mode covers failed requests,
not partial successes.

The requests of a BatchGetItem of more than 100 keys are sent concurrently, from a small
thread pool shared by the process (botocore clients are thread-safe): 250 quotes are 3
requests in flight at once, one round trip of latency rather than 3. Each chunk resends
its own unprocessed keys."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from portfoliowise.adapters.dynamodb.codec import Item
from portfoliowise.adapters.dynamodb.errors import translated
from portfoliowise.domain.errors import SourceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeysAndAttributesTypeDef, WriteRequestTypeDef

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
BATCH_GET_THREADS = 8
"""BatchGetItem requests in flight at once (under botocore's 10 pooled connections)."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Resends of unprocessed keys or items: at most `attempts` requests per chunk, waiting
    a random time up to `base * 2**n` seconds (capped at `cap`) before the n-th resend."""

    attempts: int = 6
    base: float = 0.05
    cap: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def wait(self, resend: int) -> None:
        self.sleep(random.uniform(0, min(self.cap, self.base * 2**resend)))


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def packed(items: Sequence[T], size: Callable[[T], int], limit: int) -> list[list[T]]:
    """`items` in order, in groups whose `size`s add up to at most `limit` (an item larger
    than `limit` stands alone): what fits one item of the table, or one transaction."""
    groups: list[list[T]] = []
    total = 0
    for item in items:
        length = size(item)
        if groups and total + length <= limit:
            groups[-1].append(item)
            total += length
        else:
            groups.append([item])
            total = length
    return groups


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _batch_get_pool() -> ThreadPoolExecutor:
    """The process's pool for concurrent BatchGetItem requests, made on first use (a warm
    Lambda container keeps its threads)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(BATCH_GET_THREADS, thread_name_prefix="dynamodb-get")
        return _pool


def batch_get(
    client: DynamoDBClient,
    table: str,
    keys: Sequence[Item],
    backoff: Backoff,
    *,
    consistent: bool = False,
) -> list[Item]:
    """The items found for `keys` (in no particular order): one request per 100 keys when
    nothing comes back unprocessed, sent concurrently when there are several."""
    requests = [list(chunk) for chunk in chunks(keys, BATCH_GET_LIMIT)]
    if len(requests) <= 1:
        return [i for r in requests for i in _get_chunk(client, table, r, backoff, consistent)]
    pool = _batch_get_pool()
    futures = [
        pool.submit(_get_chunk, client, table, chunk, backoff, consistent) for chunk in requests
    ]
    return [item for future in futures for item in future.result()]


def _get_chunk(
    client: DynamoDBClient,
    table: str,
    chunk: list[Item],
    backoff: Backoff,
    consistent: bool,
) -> list[Item]:
    """Up to 100 keys: one request, and one more per resend of what DynamoDB left
    unprocessed, with backoff, at most `backoff.attempts` in all."""
    found: list[Item] = []

    def send(request: Mapping[str, KeysAndAttributesTypeDef]) -> Mapping[str, Any]:
        with translated(f"reading {table}"):
            response = client.batch_get_item(RequestItems=request)
        found.extend(response.get("Responses", {}).get(table, []))
        unprocessed = response.get("UnprocessedKeys") or {}
        return {name: rest for name, rest in unprocessed.items() if rest.get("Keys")}

    first = {table: {"Keys": chunk, "ConsistentRead": consistent}}
    _until_processed(first, send, backoff, f"keys of {table}")
    return found


def _until_processed(
    first: Mapping[str, Any],
    send: Callable[[Any], Mapping[str, Any]],
    backoff: Backoff,
    what: str,
) -> None:
    """Send `first`, then what each answer left unprocessed (what DynamoDB returns
    unprocessed is what to send again), with backoff: at most `backoff.attempts` requests."""
    pending, sent = first, 0
    while pending:
        if sent:
            if sent >= backoff.attempts:
                raise SourceUnavailable(f"DynamoDB left {what} unprocessed after {sent} requests")
            backoff.wait(sent)
        pending = send(pending)
        sent += 1


def batch_write(
    client: DynamoDBClient,
    table: str,
    requests: Sequence[WriteRequestTypeDef],
    backoff: Backoff,
) -> None:
    """Put or delete items, 25 a request; not atomic across chunks."""

    def send(request: Mapping[str, Sequence[WriteRequestTypeDef]]) -> Mapping[str, Any]:
        with translated(f"writing {table}"):
            response = client.batch_write_item(RequestItems=request)
        unprocessed = response.get("UnprocessedItems") or {}
        return {name: rest for name, rest in unprocessed.items() if rest}

    for chunk in chunks(requests, BATCH_WRITE_LIMIT):
        _until_processed({table: list(chunk)}, send, backoff, f"writes to {table}")
