"""Translation of DynamoDB (botocore) errors into domain errors.

- throttling and server faults, once botocore's retries are spent, and a connection that
  cannot be made -> `SourceUnavailable`;
- an item or transaction over DynamoDB's size limits -> `PayloadTooLarge`;
- a failed condition on a guarded write -> `ConflictError` (with the stored version, which
  the write asks back with `ReturnValuesOnConditionCheckFailure=ALL_OLD`) or `NotFoundError`
  when the guarded item is gone;
- anything else (a bug: bad request, missing table, denied access) is re-raised as is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn, cast

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from portfoliowise.domain.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLarge,
    SourceUnavailable,
)

UNAVAILABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalServerError",
        "InternalFailure",
        "TransactionInProgressException",
    }
)
"""Error codes that mean "DynamoDB cannot serve this now" (botocore retried them already)."""

_UNAVAILABLE_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
"""Transaction cancellation reasons with the same meaning."""

CONDITION_FAILED = "ConditionalCheckFailed"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


def translate(exc: ClientError, what: str) -> Exception:
    """The domain error for `exc`, or `exc` itself when it has none."""
    code = error_code(exc)
    if code in UNAVAILABLE_CODES:
        return SourceUnavailable(f"DynamoDB is unavailable ({what}): {code}")
    if code == "ValidationException" and _is_size_error(_message(exc)):
        return PayloadTooLarge(f"{what} is over DynamoDB's size limit: {_message(exc)}")
    if code == "TransactionCanceledException":
        reasons = {reason for reason, _ in cancellation_reasons(exc)}
        if reasons & _UNAVAILABLE_REASONS:
            return SourceUnavailable(f"DynamoDB is unavailable ({what}): throttled")
        if "TransactionConflict" in reasons:
            return ConflictError(f"{what} is being changed by another request; try again")
        if reasons & {"ValidationError", "ItemCollectionSizeLimitExceeded"} and _is_size_error(
            _message(exc)
        ):
            return PayloadTooLarge(f"{what} is over DynamoDB's size limit")
    return exc


def _is_size_error(message: str) -> bool:
    text = message.lower()
    return "size" in text and "exceed" in text


def cancellation_reasons(exc: ClientError) -> list[tuple[str, Mapping[str, Any] | None]]:
    """(code, old item) per item of a cancelled transaction, in request order; a failed
    single conditional write gives one reason."""
    code = error_code(exc)
    if code == "ConditionalCheckFailedException":
        return [(CONDITION_FAILED, cast("Mapping[str, Any] | None", exc.response.get("Item")))]
    if code != "TransactionCanceledException":
        return []
    raw = cast("list[dict[str, Any]]", exc.response.get("CancellationReasons") or [])
    return [(str(reason.get("Code") or "None"), reason.get("Item")) for reason in raw]


def guarded_write_error(exc: ClientError, what: str, *, expected_version: int | None) -> Exception:
    """The domain error for a failed write whose FIRST item is the guarded one: conditional
    on `version = expected_version`, or on absence when `expected_version` is None. Later
    items are audit entries conditional on their own absence."""
    reasons = cancellation_reasons(exc)
    if not reasons:
        return translate(exc, what)
    code, old = reasons[0]
    if code == CONDITION_FAILED:
        stored = stored_version(old)
        if stored is None:
            if expected_version is None:
                return ConflictError(f"{what} was changed concurrently; try again")
            return NotFoundError(f"{what} not found")
        if expected_version is None:
            return ConflictError(f"{what} already exists", stored)
        return ConflictError(f"{what} is at version {stored}, not {expected_version}", stored)
    if any(reason == CONDITION_FAILED for reason, _ in reasons[1:]):
        # Another entry has the same `timestamp#userId` (a write of the same user in the
        # same microsecond): nothing was written, the caller reads again and retries.
        return ConflictError(f"an audit entry of {what} collided with another; try again")
    return translate(exc, what)


def stored_version(item: Mapping[str, Any] | None) -> int | None:
    """The `version` of an item in wire format (as returned with ALL_OLD)."""
    if not item or "version" not in item:
        return None
    return int(item["version"]["N"])


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Run DynamoDB calls, raising domain errors for the failures that have one."""
    try:
        yield
    except ClientError as exc:
        error = translate(exc, what)
        if error is exc:
            raise
        raise error from exc
    except (BotoConnectionError, HTTPClientError) as exc:
        raise SourceUnavailable(f"DynamoDB did not answer ({what}): {exc}") from exc


def reraise(exc: ClientError, error: Exception) -> NoReturn:
    """Raise `error` chained to `exc` (or `exc` itself when nothing translated it)."""
    if error is exc:
        raise exc
    raise error from exc
