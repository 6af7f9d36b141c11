"""The auth routes: `POST /auth/google`, `GET /auth/session`, `POST /auth/logout` and, only
for the local server, `POST /auth/dev-login`.

Thin: parse (pydantic), call one use case of `AuthService`, shape the answer and the
`__Host-session` cookie. Errors are domain errors (`Unauthenticated`, `Forbidden`,
`RateLimited`, `ValidationError`, `SourceUnavailable`); the API's exception handlers turn
them into statuses.

The client IP for sign-in rate limiting comes from the header the configuration names
(`CloudFront-Viewer-Address`: its address without the port; `X-Forwarded-For`: its *last*
entry only, the one our own proxy appended), else from API Gateway's
`requestContext.identity.sourceIp`; never from the first `X-Forwarded-For` entry, which the
client writes."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Protocol

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from pydantic import BaseModel, ConfigDict, Field

from portfoliowise.application.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    AuthService,
    SessionInfo,
    SignedIn,
)
from portfoliowise.domain.sessions import SESSION_TTL

LAMBDA_MARKER = "AWS_LAMBDA_FUNCTION_NAME"
UNKNOWN_CLIENT = "unknown"
_SESSION_MAX_AGE = int(SESSION_TTL.total_seconds())


class _CamelModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", str_strip_whitespace=True)


class GoogleSignInRequest(_CamelModel):
    code: str = Field(min_length=1, max_length=2048, description="Google authorization code")
    code_verifier: str = Field(
        alias="codeVerifier",
        min_length=43,
        max_length=128,
        pattern=r"^[A-Za-z0-9\-._~]+$",
        description="The PKCE code verifier (RFC 7636)",
    )
    redirect_uri: str = Field(
        alias="redirectUri", min_length=1, max_length=2048, pattern=r"^https?://"
    )


class DevLoginRequest(_CamelModel):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SignInResponse(_CamelModel):
    user_id: str = Field(alias="userId")
    email: str
    csrf_token: str = Field(alias="csrfToken")
    expires_at: datetime = Field(alias="expiresAt")


class SessionResponse(_CamelModel):
    user_id: str = Field(alias="userId")
    email: str | None = None
    expires_at: datetime = Field(alias="expiresAt")
    csrf_token: str = Field(alias="csrfToken")


def session_cookie(value: str, max_age: int = _SESSION_MAX_AGE) -> Cookie:
    """`__Host-session=<id>; Path=/; Max-Age=…; HttpOnly; Secure; SameSite=Lax` (`__Host-`:
    no Domain, Path=/, Secure, so no subdomain can set or read it)."""
    return Cookie(
        name=SESSION_COOKIE,
        value=value,
        path="/",
        secure=True,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.LAX_MODE,
    )


def cleared_session_cookie() -> Cookie:
    return session_cookie("", max_age=0)


def header(event_headers: Mapping[str, Any] | None, name: str) -> str | None:
    """A request header, case-insensitively (API Gateway keeps the client's spelling)."""
    if not event_headers:
        return None
    wanted = name.lower()
    for key, value in event_headers.items():
        if key.lower() == wanted and isinstance(value, str):
            return value
    return None


def cookie_header(event: Mapping[str, Any]) -> str | None:
    """The `Cookie` header; several `Cookie` headers (multiValueHeaders) are joined."""
    multi = event.get("multiValueHeaders") or {}
    values = [
        v
        for key, vs in multi.items()
        if key.lower() == "cookie" and isinstance(vs, list)
        for v in vs
        if isinstance(v, str)
    ]
    if values:
        return "; ".join(values)
    return header(event.get("headers"), "cookie")


def client_ip(event: Mapping[str, Any], trusted_header: str | None) -> str:
    """The client's IP for rate limiting (see the module docstring)."""
    if trusted_header:
        multi = event.get("multiValueHeaders") or {}
        raw = [
            v
            for key, vs in multi.items()
            if key.lower() == trusted_header.lower() and isinstance(vs, list)
            for v in vs
            if isinstance(v, str)
        ]
        single = header(event.get("headers"), trusted_header)
        if not raw and single is not None:
            raw = [single]
        if raw:
            if trusted_header.lower() == "x-forwarded-for":
                candidate = raw[-1].split(",")[-1]
            else:
                candidate = raw[-1]
            parsed = _address(candidate)
            if parsed is not None:
                return parsed
    context = event.get("requestContext") or {}
    identity = context.get("identity") or {} if isinstance(context, Mapping) else {}
    source = identity.get("sourceIp") if isinstance(identity, Mapping) else None
    if isinstance(source, str):
        parsed = _address(source)
        if parsed is not None:
            return parsed
    return UNKNOWN_CLIENT


def _address(value: str) -> str | None:
    """An IP address from `ip`, `ip:port`, `[ipv6]:port` or `ipv6:port` (CloudFront's
    `CloudFront-Viewer-Address` is `address:port`), normalized; None when not an address."""
    text = value.strip()
    candidates = [text]
    if text.startswith("[") and "]" in text:
        candidates.insert(0, text[1 : text.index("]")])
    elif ":" in text:
        candidates.append(text.rsplit(":", 1)[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def trusted_ip_header(config: Mapping[str, str]) -> str | None:
    """The configured client-IP header: `TRUSTED_IP_HEADER`, or `CLIENT_IP_HEADER` as the
    CDK stack names it; None for API Gateway's `sourceIp`."""
    for key in ("TRUSTED_IP_HEADER", "CLIENT_IP_HEADER"):
        value = (config.get(key) or "").strip()
        if value:
            return value
    return None


class AuthContainer(Protocol):
    """What `build_router` needs from the dependency-injector container."""

    @property
    def auth_service(self) -> Callable[[], AuthService]: ...

    @property
    def environ(self) -> Callable[[], Mapping[str, str]]: ...


def build_router(container: AuthContainer) -> Router:
    """The routers' convention (`build_router(container)`): the auth routes over the
    container's `auth_service`, configured from its `environ`."""
    environ = container.environ()
    return build_auth_router(container.auth_service(), trusted_ip_header=trusted_ip_header(environ))


def dev_login_route_allowed(auth: AuthService, environ: Mapping[str, str]) -> bool:
    """Dev login is served only when enabled in the service *and* not inside Lambda."""
    return auth.dev_login_enabled and not environ.get(LAMBDA_MARKER)


def build_auth_router(
    auth: AuthService,
    *,
    trusted_ip_header: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Router:
    """The auth routes over `auth`. `POST /auth/dev-login` is registered only when
    `dev_login_route_allowed` (checked against `environ`, default `os.environ`)."""
    env = os.environ if environ is None else environ
    router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

    @router.post(
        "/auth/google",
        summary="Sign in with a Google authorization code (PKCE)",
        tags=["auth"],
    )
    def google_sign_in(body: GoogleSignInRequest) -> Response[SignInResponse]:
        signed_in = auth.sign_in(
            code=body.code,
            code_verifier=body.code_verifier,
            redirect_uri=body.redirect_uri,
            client_ip=client_ip(router.current_event.raw_event, trusted_ip_header),
        )
        return _signed_in_response(signed_in)

    @router.get("/auth/session", summary="Who is signed in", tags=["auth"])
    def current_session() -> Response[SessionResponse]:
        info = auth.session_info(cookie_header(router.current_event.raw_event))
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=_session_body(info),
            headers={"Cache-Control": "no-store"},
        )

    @router.post("/auth/logout", summary="End the session", tags=["auth"])
    def logout() -> Response[None]:
        event = router.current_event.raw_event
        auth.logout(cookie_header(event), header(event.get("headers"), CSRF_HEADER))
        return Response(
            status_code=204,
            cookies=[cleared_session_cookie()],
            headers={"Cache-Control": "no-store"},
        )

    if dev_login_route_allowed(auth, env):

        @router.post(
            "/auth/dev-login",
            summary="Local development only: sign in as any email",
            tags=["auth"],
        )
        def dev_login(body: Annotated[DevLoginRequest, Body()]) -> Response[SignInResponse]:
            return _signed_in_response(auth.dev_login(str(body.email)))

    return router


def _signed_in_response(signed_in: SignedIn) -> Response[SignInResponse]:
    body = SignInResponse(
        userId=signed_in.user_id,
        email=signed_in.email,
        csrfToken=signed_in.csrf_token,
        expiresAt=signed_in.expires_at,
    )
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        cookies=[session_cookie(signed_in.session_id)],
        headers={"Cache-Control": "no-store"},
    )


def _session_body(info: SessionInfo) -> SessionResponse:
    return SessionResponse(
        userId=info.user_id,
        email=info.email,
        expiresAt=info.expires_at,
        csrfToken=info.csrf_token,
    )
