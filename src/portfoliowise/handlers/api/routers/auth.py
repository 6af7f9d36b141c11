"""The auth routes: `POST /auth/google` (code with PKCE), `POST /auth/google/login` (the
existing web app's sign-in: a Google ID token `credential`, or a code without PKCE for a
configured redirect URI), `GET /auth/session`, `POST /auth/refresh`, `POST /auth/logout`
and, only for the local server, `POST /auth/dev-login`.

Thin: parse (pydantic), call one use case of `AuthService`, shape the answer and the
`__Host-session` / `__Host-refresh` cookies. Every sign-in answers in one shape: ours
(`userId`, `email`, `csrfToken`, `expiresAt`) and the web app's (`success`, `data:
{isAuthenticated, user, accessToken, hasDriveAccess}`). Errors are domain errors
(`Unauthenticated`, `Forbidden`, `RateLimited`, `ValidationError`, `SourceUnavailable`); the
API's exception handlers turn them into statuses.

The client IP for sign-in rate limiting comes from the header the configuration names
(`CloudFront-Viewer-Address`: its address without the port; `X-Forwarded-For`: its *last*
entry only, the one our own proxy appended), else from API Gateway's
`requestContext.identity.sourceIp`; never from the first `X-Forwarded-For` entry, which the
client writes."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from pydantic import BaseModel, ConfigDict, Field

from portfoliowise.application.access_tokens import IssuedToken, Profile
from portfoliowise.application.auth import (
    CSRF_HEADER,
    REFRESH_COOKIE,
    SESSION_COOKIE,
    AuthService,
    RefreshTokenReused,
    SessionInfo,
    SignedIn,
    WriteProof,
)
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.sessions import SESSION_TTL
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.access import public
from portfoliowise.handlers.api.errors import error_body
from portfoliowise.handlers.api.schemas.common import errors, no_content, ok

UNKNOWN_CLIENT = "unknown"
_SESSION_MAX_AGE = int(SESSION_TTL.total_seconds())


class _Hidden:
    """What a model of this router shows for each value when printed."""

    def __repr__(self) -> str:
        return "'***'"


_HIDDEN = _Hidden()


class _CamelModel(BaseModel):
    """Sign-in bodies and answers carry codes, tokens and e-mail addresses: their `repr` (and
    `str`) names the fields only, so that no log line prints them (Powertools' resolver logs
    the validated body at DEBUG)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", str_strip_whitespace=True)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, _ in super().__repr_args__():
            yield name, _HIDDEN


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


class WebAppSignInRequest(_CamelModel):
    """The existing web app's sign-in: `{credential}` (Google Sign-In's ID token) or
    `{code, redirectUri}` (no PKCE verifier: only configured redirect URIs are accepted)."""

    credential: str | None = Field(default=None, min_length=1, max_length=4096)
    code: str | None = Field(default=None, min_length=1, max_length=2048)
    redirect_uri: str | None = Field(
        default=None, alias="redirectUri", min_length=1, max_length=2048, pattern=r"^https?://"
    )
    code_verifier: str | None = Field(
        default=None,
        alias="codeVerifier",
        min_length=43,
        max_length=128,
        pattern=r"^[A-Za-z0-9\-._~]+$",
    )


class WebUser(_CamelModel):
    id: str
    email: str
    name: str
    picture: str


class SignInData(_CamelModel):
    is_authenticated: bool = Field(alias="isAuthenticated")
    user: WebUser
    access_token: str = Field(alias="accessToken")
    access_token_expires_at: datetime = Field(alias="accessTokenExpiresAt")
    has_drive_access: bool = Field(alias="hasDriveAccess")
    csrf_token: str = Field(alias="csrfToken")


class SignInResponse(_CamelModel):
    success: bool
    data: SignInData
    user_id: str = Field(alias="userId")
    email: str
    csrf_token: str = Field(alias="csrfToken")
    expires_at: datetime = Field(alias="expiresAt")
    new_user: bool = Field(alias="newUser")


class SessionResponse(_CamelModel):
    success: bool
    is_authenticated: bool = Field(alias="isAuthenticated")
    user: WebUser
    has_drive_access: bool = Field(alias="hasDriveAccess")
    access_token: str = Field(alias="accessToken")
    user_id: str = Field(alias="userId")
    email: str | None = None
    expires_at: datetime = Field(alias="expiresAt")
    csrf_token: str = Field(alias="csrfToken")


class RefreshData(_CamelModel):
    access_token: str = Field(alias="accessToken")
    expires_at: datetime = Field(alias="expiresAt")
    user: WebUser


class RefreshResponse(_CamelModel):
    success: bool
    data: RefreshData


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


def refresh_cookie(value: str, max_age: int = _SESSION_MAX_AGE) -> Cookie:
    """`__Host-refresh=<token>; Path=/; HttpOnly; Secure; SameSite=Strict`: only our own
    pages ever send it (to `POST /auth/refresh`)."""
    return Cookie(
        name=REFRESH_COOKIE,
        value=value,
        path="/",
        secure=True,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.STRICT_MODE,
    )


def cleared_session_cookie() -> Cookie:
    return session_cookie("", max_age=0)


def cleared_cookies() -> list[Cookie]:
    return [session_cookie("", max_age=0), refresh_cookie("", max_age=0)]


def write_proof(event: Mapping[str, Any]) -> WriteProof:
    headers = event.get("headers")
    return WriteProof(
        csrf_token=header(headers, CSRF_HEADER),
        origin=header(headers, "Origin"),
        referer=header(headers, "Referer"),
    )


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


router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
# Only the local server includes this one, when `Settings.auth.dev_login` (never in Lambda).
dev_login_router = Router()  # type: ignore[no-untyped-call]

Auth = Annotated[AuthService, Depends(deps.auth_service)]
IpHeader = Annotated[str, Depends(deps.trusted_ip_header)]
_NO_STORE = {"Cache-Control": "no-store"}


@router.post(
    "/auth/google",
    summary="Sign in with a Google authorization code (PKCE)",
    tags=["auth"],
    responses={200: ok(SignInResponse), **errors(401, 413, 415, 429, 503)},
)
@public
def google_sign_in(
    body: GoogleSignInRequest, request: Request, auth: Auth, ip_header: IpHeader
) -> Response[SignInResponse]:
    signed_in = auth.sign_in(
        code=body.code,
        code_verifier=body.code_verifier,
        redirect_uri=body.redirect_uri,
        client_ip=client_ip(request.resolved_event.raw_event, ip_header or None),
    )
    return _signed_in_response(signed_in)


@router.post(
    "/auth/google/login",
    summary="Sign in as the existing web app does (Google ID token, or a code without PKCE)",
    tags=["auth"],
    responses={200: ok(SignInResponse), **errors(401, 413, 415, 429, 503)},
)
@public
def web_app_sign_in(
    body: WebAppSignInRequest, request: Request, auth: Auth, ip_header: IpHeader
) -> Response[SignInResponse]:
    ip = client_ip(request.resolved_event.raw_event, ip_header or None)
    if body.credential is not None and body.code is None:
        return _signed_in_response(
            auth.sign_in_with_id_token(id_token=body.credential, client_ip=ip)
        )
    if body.code is not None and body.credential is None and body.redirect_uri is not None:
        signed_in = auth.sign_in(
            code=body.code,
            code_verifier=body.code_verifier,
            redirect_uri=body.redirect_uri,
            client_ip=ip,
        )
        return _signed_in_response(signed_in)
    raise ValidationError("send either credential, or code with redirectUri")


@router.get(
    "/auth/session",
    summary="Who is signed in",
    tags=["auth"],
    responses={200: ok(SessionResponse), **errors(401)},
)
@public
def current_session(request: Request, auth: Auth) -> Response[SessionResponse]:
    info = auth.session_info(cookie_header(request.resolved_event.raw_event))
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=_session_body(info),
        headers=_NO_STORE,
    )


@router.post(
    "/auth/logout",
    summary="End the session (and clear its cookie)",
    tags=["auth"],
    responses={204: no_content("Signed out"), **errors(401, 403)},
)
@public
def logout(request: Request, auth: Auth) -> Response[None]:
    event = request.resolved_event.raw_event
    auth.logout(cookie_header(event), write_proof(event))
    return Response(status_code=204, cookies=cleared_cookies(), headers=_NO_STORE)


@router.post(
    "/auth/refresh",
    summary="A new access token for the refresh-token cookie (rotated on every use)",
    tags=["auth"],
    responses={200: ok(RefreshResponse), **errors(401, 403)},
)
@public
def refresh(request: Request, auth: Auth) -> Response[RefreshResponse | str]:
    event = request.resolved_event.raw_event
    try:
        refreshed = auth.refresh(cookie_header(event), write_proof(event))
    except RefreshTokenReused as exc:
        return Response(
            status_code=401,
            content_type=content_types.APPLICATION_JSON,
            body=error_body(exc.code, str(exc)),
            cookies=cleared_cookies(),
            headers=_NO_STORE,
        )
    body = RefreshResponse(
        success=True,
        data=RefreshData(
            accessToken=refreshed.access.token,
            expiresAt=refreshed.access.expires_at,
            user=_web_user(refreshed.user_id, refreshed.profile),
        ),
    )
    cookies = [] if refreshed.refresh_token is None else [refresh_cookie(refreshed.refresh_token)]
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        cookies=cookies,
        headers=_NO_STORE,
    )


@dev_login_router.post(
    "/auth/dev-login",
    summary="Local development only: sign in as any email",
    tags=["auth"],
    responses={200: ok(SignInResponse), **errors(413, 415, 429)},
)
@public
def dev_login(body: Annotated[DevLoginRequest, Body()], auth: Auth) -> Response[SignInResponse]:
    return _signed_in_response(auth.dev_login(str(body.email)))


def _web_user(user_id: str, profile: Profile) -> WebUser:
    return WebUser(id=user_id, email=profile.email, name=profile.name, picture=profile.picture)


def _signed_in_response(signed_in: SignedIn) -> Response[SignInResponse]:
    access: IssuedToken = signed_in.access
    body = SignInResponse(
        success=True,
        data=SignInData(
            isAuthenticated=True,
            user=_web_user(signed_in.user_id, signed_in.profile),
            accessToken=access.token,
            accessTokenExpiresAt=access.expires_at,
            hasDriveAccess=False,
            csrfToken=signed_in.csrf_token,
        ),
        userId=signed_in.user_id,
        email=signed_in.email,
        csrfToken=signed_in.csrf_token,
        expiresAt=signed_in.expires_at,
        newUser=signed_in.new_user,
    )
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        cookies=[session_cookie(signed_in.session_id), refresh_cookie(signed_in.refresh_token)],
        headers=_NO_STORE,
    )


def _session_body(info: SessionInfo) -> SessionResponse:
    return SessionResponse(
        success=True,
        isAuthenticated=True,
        user=_web_user(info.user_id, info.profile),
        hasDriveAccess=False,
        accessToken=info.access.token,
        userId=info.user_id,
        email=info.email,
        expiresAt=info.expires_at,
        csrfToken=info.csrf_token,
    )
