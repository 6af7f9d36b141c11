"""Who may call a route and what it may be sent, checked before anything reads the body.

Every route needs a session unless it is marked `@public`: deny by default. The
`RequestGuard` runs first in every route's middleware chain (ahead of Powertools' request
validation), so that without a session the answer is 401 whatever was sent. Then the body:
over the size limit → 413; a media type the route does not take (`@accepts`, default
`application/json`) → 415; not UTF-8, or JSON nested deeper than 32 levels → 400, except on
a route that takes a file as bytes (`@accepts(..., raw=True)`: a Shift-JIS CSV is not
UTF-8), whose reader decodes and checks it."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import Any, Final, Protocol, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware

from portfoliowise.adapters.json_text import MAX_JSON_DEPTH, json_depth_ok
from portfoliowise.domain.errors import DomainError, PayloadTooLarge, ValidationError

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER: Final = "X-CSRF-Token"
USER_KEY: Final = "user_id"
JSON: Final = "application/json"
_PUBLIC: Final = "__portfoliowise_public__"
_ACCEPTS: Final = "__portfoliowise_accepts__"
_RAW: Final = "__portfoliowise_raw_body__"

F = TypeVar("F", bound=Callable[..., Any])


class Authenticator(Protocol):
    def authenticate(
        self,
        cookie_header: str | None,
        csrf_header: str | None,
        *,
        state_changing: bool,
        authorization: str | None = None,
        origin: str | None = None,
        referer: str | None = None,
    ) -> str:
        """The caller's user id, from a bearer access token or the session cookie; raises
        Unauthenticated (none valid) or Forbidden (a cookie-authenticated state-changing
        request with neither the CSRF token nor one of our origins)."""
        ...


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"


def public(func: F) -> F:
    """Mark a route as callable without a session (sign-in, health, market data)."""
    setattr(func, _PUBLIC, True)
    return func


def accepts(*media_types: str, raw: bool = False) -> Callable[[F], F]:
    """The media types a route's body may have (default: `application/json` only). With
    `raw`, the body is a file the route reads as bytes (`body_bytes`) in any encoding: the
    guard checks its size and media type only, the route's reader decodes and checks the
    rest (an activities import: UTF-8 or Shift-JIS, JSON depth included)."""

    def mark(func: F) -> F:
        setattr(func, _ACCEPTS, frozenset(m.lower() for m in media_types))
        setattr(func, _RAW, raw)
        return func

    return mark


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def body_bytes(event: Any) -> bytes:
    """The body as sent (base64 decoded when API Gateway encoded it)."""
    body = event.body
    if not body:
        return b""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("the body is not valid base64") from None
    try:
        return str(body).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("the body is not valid UTF-8 text") from None


def check_body(
    event: Any,
    accepted: Iterable[str],
    max_bytes: int,
    *,
    has_body: bool = True,
    decode: bool = True,
) -> None:
    raw = body_bytes(event)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"the request body is over {max_bytes} bytes")
    if not raw or not has_body:
        return
    kind = media_type(event.headers.get("Content-Type"))
    allowed = frozenset(accepted)
    if kind not in allowed:
        raise UnsupportedMediaType(
            f"send the body as {' or '.join(sorted(allowed))}, not {kind[:60] or 'untyped'}"
        )
    if not decode:
        return  # a file the route reads as bytes (`accepts(..., raw=True)`)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("the body is not valid UTF-8 text") from None
    if kind == JSON and not json_depth_ok(text):
        raise ValidationError(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")


def _unmatched(func: object) -> bool:
    """Powertools runs requests that match no route through a made-up route (its 404 and
    CORS preflight handler) with the same middleware chain."""
    return "_handle_not_found" in str(getattr(func, "__qualname__", ""))


class RequestGuard(BaseMiddlewareHandler):  # type: ignore[type-arg]
    """The first middleware of every route (see the module docstring)."""

    def __init__(
        self,
        authenticator: Callable[[], Authenticator],
        max_body_bytes: int,
        validation: Callable[..., Any] | None,
    ) -> None:
        super().__init__()
        self._authenticator = authenticator
        self._max_body_bytes = max_body_bytes
        self._validation = validation

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response[Any]:
        route = app.context.get("_route")
        func = getattr(route, "func", None)
        if _unmatched(func):  # 404, and CORS preflights: nothing to guard, no body read
            return next_middleware(app)
        event = app.current_event
        method = event.http_method.upper()
        if not getattr(func, _PUBLIC, False):
            headers = event.headers
            user = self._authenticator().authenticate(
                headers.get("Cookie"),
                headers.get(CSRF_HEADER),
                state_changing=method not in SAFE_METHODS,
                authorization=headers.get("Authorization"),
                origin=headers.get("Origin"),
                referer=headers.get("Referer"),
            )
            app.context[USER_KEY] = user
        accepted = getattr(func, _ACCEPTS, frozenset({JSON}))
        check_body(
            event,
            accepted,
            self._max_body_bytes,
            has_body=method in ("POST", "PUT", "PATCH"),
            decode=not getattr(func, _RAW, False),
        )
        if self._validation is not None:
            result: Response[Any] = self._validation(app, next_middleware)
            return result
        return next_middleware(app)
