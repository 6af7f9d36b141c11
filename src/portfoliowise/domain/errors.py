"""Typed domain errors. Adapters translate SDK errors into these; handlers map them to
HTTP statuses or CLI exit codes by type, never by message text."""

from __future__ import annotations

PREVIEW_LENGTH = 40
"""How much of a user's input an error message quotes: enough to recognise it, never a
100 KB name echoed back."""


def preview(value: object, length: int = PREVIEW_LENGTH) -> str:
    """`repr(value)`, cut to `length` characters (and saying how long the whole is)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= length:
        return repr(text) if isinstance(value, str) else text
    shown = repr(text[:length]) if isinstance(value, str) else text[:length]
    return f"{shown}... ({len(text):,} characters)"


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "domain_error"


class ValidationError(DomainError, ValueError):
    """Input that breaks a rule: a bad budget, a bad quantity, targets not summing to 100."""

    code = "validation_error"


class UnknownCurrencyError(ValidationError):
    code = "unknown_currency"

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown currency code: {preview(code)}")
        self.currency = code[:PREVIEW_LENGTH]


class CurrencyMismatchError(ValidationError):
    """Arithmetic or comparison between amounts of two currencies."""

    code = "currency_mismatch"


class UnknownSymbolError(ValidationError):
    """A symbol that is malformed or names no instrument we know."""

    code = "unknown_symbol"

    def __init__(self, symbol: str, reason: str = "not a Tokyo, US, fund or FX symbol") -> None:
        super().__init__(f"unknown symbol {preview(symbol)}: {reason}")
        self.symbol = symbol[:PREVIEW_LENGTH]


class OutOfRange(ValidationError):
    """A number, a text or a count outside the limits of `domain.limits`: too large, too
    small, too precise, too long or too many. `field` names what was refused (`quantity`,
    `costBasis`, `name`, `holdings`, `budget`...), `limit` the rule it broke. The message
    quotes the value refused, cut short (`preview`)."""

    code = "out_of_range"

    def __init__(
        self,
        field: str,
        limit: str,
        *,
        value: object = None,
        label: str | None = None,
        message: str | None = None,
    ) -> None:
        if message is None:
            got = "" if value is None else f", got {preview(value)}"
            message = f"{label or field} is out of range ({limit}){got}"
        super().__init__(message)
        self.field = field
        self.limit = limit

    def located(self, where: str) -> OutOfRange:
        """The same error, its message prefixed with where it was found in a document
        (`holdings[3]`, a file name): same class, code, field and limit."""
        return OutOfRange(self.field, self.limit, message=f"{where}: {self}")


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
