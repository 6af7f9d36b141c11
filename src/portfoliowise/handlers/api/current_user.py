"""The seam between the routes and the session: who is signed in.

`Authenticator` is implemented by the auth use cases (`SessionAuthenticator`); the
portfolio router runs `require_user` before every route, so a route reads the signed-in
user with `user_id(router)` and never parses a cookie itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, BaseRouter, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import Unauthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
USER_KEY = "user_id"


class Authenticator(Protocol):
    def authenticate(
        self, cookie_header: str | None, csrf_header: str | None, *, state_changing: bool
    ) -> str:
        """user id of the session in the Cookie header; raises Unauthenticated (no/expired
        session) or Forbidden (state-changing request without the session's CSRF token)."""
        ...


def authentication(
    authenticator: Callable[[], Authenticator],
) -> Callable[[ApiGatewayResolver, NextMiddleware], Response[object]]:
    """A router middleware: authenticates the request from its raw `Cookie` and
    `X-CSRF-Token` headers, then puts the user id in the resolver's context."""

    def require_user(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[object]:
        event = app.current_event
        user = authenticator().authenticate(
            event.headers.get("Cookie"),
            event.headers.get(CSRF_HEADER),
            state_changing=event.http_method.upper() not in SAFE_METHODS,
        )
        app.context[USER_KEY] = user
        return next_middleware(app)

    return require_user


def user_id(router: BaseRouter) -> str:
    """The signed-in user of the current request (set by the `authentication` middleware)."""
    user = router.context.get(USER_KEY)
    if not isinstance(user, str) or not user:
        raise Unauthenticated("sign in first")
    return user


def request_context(router: BaseRouter) -> RequestContext:
    """Where the request came from, for the audit trail."""
    event = router.current_event
    identity = (event.raw_event.get("requestContext") or {}).get("identity") or {}
    agent = event.headers.get("User-Agent") or identity.get("userAgent")
    return RequestContext(ip=str(identity.get("sourceIp") or ""), user_agent=str(agent or ""))
