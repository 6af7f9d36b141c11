"""Typed domain errors. Adapters translate SDK errors into these; handlers map them to
HTTP statuses or CLI exit codes by type, never by message text."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "domain_error"


class ValidationError(DomainError, ValueError):
    """Input that breaks a rule: a bad budget, a bad quantity, targets not summing to 100."""

    code = "validation_error"


class UnknownCurrencyError(ValidationError):
    code = "unknown_currency"

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown currency code: {code!r}")
        self.currency = code


class CurrencyMismatchError(ValidationError):
    """Arithmetic or comparison between amounts of two currencies."""

    code = "currency_mismatch"


class UnknownSymbolError(ValidationError):
    """A symbol that is malformed or names no instrument we know."""

    code = "unknown_symbol"

    def __init__(self, symbol: str, reason: str = "not a Tokyo, US, fund or FX symbol") -> None:
        super().__init__(f"unknown symbol {symbol!r}: {reason}")
        self.symbol = symbol


class MissingRateError(DomainError):
    """No FX rate (direct, inverse or through a pivot) between two currencies.

    A value is never left unconverted: callers either fail or report the holding unpriced."""

    code = "missing_fx_rate"

    def __init__(self, base: str, quote: str) -> None:
        super().__init__(f"no FX rate for {base}->{quote} (direct, inverse or cross)")
        self.base = base
        self.quote = quote


class InvariantViolation(ValidationError):
    """A change that would leave the portfolio aggregate inconsistent."""

    code = "invariant_violation"


class UnpricedTargetError(ValidationError):
    """A simulation cannot plan toward a target it has no price (or rate) for."""

    code = "unpriced_target"

    def __init__(self, symbols: list[str]) -> None:
        super().__init__("no usable price for target(s): " + ", ".join(symbols))
        self.symbols = symbols


class NotFoundError(DomainError):
    code = "not_found"


class ConflictError(DomainError):
    """Optimistic-lock failure: the stored version is not the one the change was based on."""

    code = "conflict"

    def __init__(self, message: str, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class SourceUnavailable(DomainError):
    """An outside source (market data, storage) failed or is throttled after retries."""

    code = "source_unavailable"


class PayloadTooLarge(ValidationError):
    """A document or event is over the size its destination accepts."""

    code = "payload_too_large"


class BackupCorrupt(DomainError):
    """A backup is missing objects or an object does not match its manifest checksum."""

    code = "backup_corrupt"


class Unauthenticated(DomainError):
    """No valid session (or sign-in proof): the caller must sign in."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """Signed in, but the request is refused (a missing or wrong CSRF token, a route that
    this mode does not allow)."""

    code = "forbidden"


class RateLimited(DomainError):
    """Too many attempts: try again after `retry_after_seconds`."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
