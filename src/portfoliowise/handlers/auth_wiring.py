"""Builders for sign-in and sessions, from `AuthSettings` (read once from the environment
by `handlers.settings`; the README's configuration table lists the variables).

- Google sign-in needs `google_client_id` and a client secret: from Secrets Manager when
  `google_client_secret_name` is set (AWS; a plain string or JSON with `client_secret`),
  else `google_client_secret` (local). Without a client id, `POST /auth/google` answers 401.
- The session-signing (CSRF) key: from Secrets Manager (`signing_secret_name`; its
  `AWSPREVIOUS` version is accepted too, so that a rotation does not break open pages),
  else `signing_key` (32+ characters), else a key file `session-signing.key` in the data
  dir (created on first use, mode 0600; refused inside Lambda, where the key must be
  shared by every instance and function).
- The provider tokens' envelope encryption: KMS (`kms_key_id`), else a key file
  `session-token.key` in the data dir (not in Lambda).

Which adapters are built follows from the settings only (a secret name present → Secrets
Manager; a KMS key id present → KMS), never from a test flag."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from portfoliowise.adapters.crypto import KmsTokenCipher, LocalTokenCipher, load_or_create_key
from portfoliowise.adapters.crypto.envelope import LOCAL_KEY_FILE
from portfoliowise.application.access_tokens import AccessTokens
from portfoliowise.application.auth import (
    AuthService,
    CsrfTokens,
    InMemoryAttemptLimiter,
    SessionAuthenticator,
    SigningKeys,
    TrustedOrigins,
)
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.measurements import Measurements
from portfoliowise.domain.ports import (
    AttemptLimiter,
    Clock,
    IdentityProvider,
    SessionStore,
    TokenCipher,
)
from portfoliowise.domain.signals import Signals
from portfoliowise.domain.users import UserRegistry
from portfoliowise.handlers.api.app import ApiResolver
from portfoliowise.handlers.api.errors import register_error_handlers
from portfoliowise.handlers.settings import AuthSettings
from portfoliowise.handlers.tracing import Instrument, untraced

if TYPE_CHECKING:
    import httpx
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

SIGNING_KEY_FILE = "session-signing.key"
SIGNING_KEY_BYTES = 64
MIN_SIGNING_KEY_CHARS = 32


def _local_key_file(settings: AuthSettings, name: str, what: str) -> Path:
    """A key file in the data dir, refused inside Lambda: there a missing secret or KMS key
    is a deployment error, and a per-instance key would sign everybody out at random."""
    if settings.inside_lambda:
        raise ValueError(f"inside Lambda the {what} must be configured (see auth_wiring)")
    if settings.data_dir is not None:
        return settings.data_dir / name
    from portfoliowise.adapters.sqlite.database import default_data_dir

    return default_data_dir() / name


def _secrets_client(client: SecretsManagerClient | None) -> SecretsManagerClient:
    if client is not None:
        return client
    import boto3

    return boto3.client("secretsmanager")


def _secret_string(
    client: SecretsManagerClient, secret_id: str, stage: str = "AWSCURRENT"
) -> str | None:
    """A secret's string at `stage`; None when that stage does not exist (AWSPREVIOUS
    before the first rotation). Other failures → `SourceUnavailable`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.get_secret_value(SecretId=secret_id, VersionStage=stage)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if stage != "AWSCURRENT" and code == "ResourceNotFoundException":
            return None
        raise SourceUnavailable(f"Secrets Manager ({code}) reading {secret_id}") from exc
    except BotoCoreError as exc:
        raise SourceUnavailable(f"Secrets Manager unreachable reading {secret_id}") from exc
    value = response.get("SecretString")
    return value if isinstance(value, str) and value else None


def session_signing_keys(
    settings: AuthSettings, *, secrets_client: SecretsManagerClient | None = None
) -> list[bytes]:
    """The session-signing keys, current first (see the module docstring for the sources)."""
    secret_id = settings.signing_secret_name
    if secret_id:
        client = _secrets_client(secrets_client)
        current = _secret_string(client, secret_id)
        if current is None or len(current) < MIN_SIGNING_KEY_CHARS:
            raise ValueError(f"the session-signing secret {secret_id} is empty or too short")
        keys = [current.encode("utf-8")]
        previous = _secret_string(client, secret_id, "AWSPREVIOUS")
        if previous and len(previous) >= MIN_SIGNING_KEY_CHARS and previous != current:
            keys.append(previous.encode("utf-8"))
        return keys
    if settings.signing_key:
        if len(settings.signing_key) < MIN_SIGNING_KEY_CHARS:
            raise ValueError(f"SESSION_SIGNING_KEY needs {MIN_SIGNING_KEY_CHARS}+ characters")
        return [settings.signing_key.encode("utf-8")]
    path = _local_key_file(settings, SIGNING_KEY_FILE, "session-signing secret")
    return [load_or_create_key(path, SIGNING_KEY_BYTES)]


def csrf_tokens(
    settings: AuthSettings, *, secrets_client: SecretsManagerClient | None = None
) -> CsrfTokens:
    """CSRF tokens over the session-signing keys; keys from Secrets Manager are reloaded
    (every 5 minutes, and early when a token does not verify) to follow the rotation."""
    keys = session_signing_keys(settings, secrets_client=secrets_client)
    if not settings.signing_secret_name:
        return CsrfTokens(keys)
    client = _secrets_client(secrets_client)
    first_load = iter([keys])

    def load() -> list[bytes]:
        return next(first_load, None) or session_signing_keys(settings, secrets_client=client)

    return CsrfTokens(SigningKeys(load))


def google_client_secret(
    settings: AuthSettings, *, secrets_client: SecretsManagerClient | None = None
) -> str | None:
    """From Secrets Manager when a secret name is configured (a plain string, or JSON with a
    `client_secret` field), else `GOOGLE_CLIENT_SECRET`; None when neither is set."""
    secret_id = settings.google_client_secret_name
    if secret_id:
        value = _secret_string(_secrets_client(secrets_client), secret_id)
        if value is None:
            raise ValueError(f"the Google client secret {secret_id} is empty")
        if value.lstrip().startswith("{"):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                return value
            field = parsed.get("client_secret") if isinstance(parsed, dict) else None
            if isinstance(field, str) and field:
                return field
            raise ValueError(f"the Google client secret {secret_id} has no client_secret field")
        return value
    return settings.google_client_secret or None


def build_identity_provider(
    settings: AuthSettings,
    *,
    http: httpx.Client | None = None,
    secrets_client: SecretsManagerClient | None = None,
) -> IdentityProvider | None:
    """Google sign-in, or None when no Google client id is configured (then
    `POST /auth/google` answers 401)."""
    if not settings.google_client_id:
        return None
    secret = google_client_secret(settings, secrets_client=secrets_client)
    if not secret:
        raise ValueError("GOOGLE_CLIENT_ID is set but no Google client secret is configured")
    import httpx

    from portfoliowise.adapters.google import GoogleIdentityProvider

    return GoogleIdentityProvider(
        http if http is not None else httpx.Client(),
        client_id=settings.google_client_id,
        client_secret=secret,
        allowed_redirect_uris=list(settings.google_redirect_uris) or None,
    )


def build_token_cipher(
    settings: AuthSettings, *, kms_client: KMSClient | None = None
) -> TokenCipher:
    """KMS envelope encryption when a KMS key is configured, else the local key file."""
    if settings.kms_key_id:
        if kms_client is None:
            import boto3

            kms_client = boto3.client("kms")
        return KmsTokenCipher(kms_client, settings.kms_key_id)
    path = _local_key_file(settings, LOCAL_KEY_FILE, "KMS key (SESSION_KMS_KEY_ID)")
    return LocalTokenCipher(load_or_create_key(path))


def access_tokens(csrf: CsrfTokens) -> AccessTokens:
    """Access tokens (JWT) over the same session-signing keys as the CSRF tokens."""
    from portfoliowise.adapters.crypto.jwt_codec import JwtAccessTokenCodec

    return AccessTokens(JwtAccessTokenCodec(), csrf.ring)


def build_session_authenticator(
    settings: AuthSettings,
    sessions: SessionStore,
    clock: Clock,
    *,
    secrets_client: SecretsManagerClient | None = None,
    origins: Sequence[str] = (),
) -> SessionAuthenticator:
    """What the API authenticates every route but the public ones with: a bearer access
    token, or the session cookie (writes: the CSRF token or one of `origins`)."""
    csrf = csrf_tokens(settings, secrets_client=secrets_client)
    return SessionAuthenticator(
        sessions, clock, csrf, tokens=access_tokens(csrf), origins=TrustedOrigins(tuple(origins))
    )


def build_auth_service(
    settings: AuthSettings,
    sessions: SessionStore,
    clock: Clock,
    *,
    http: httpx.Client | None = None,
    secrets_client: SecretsManagerClient | None = None,
    kms_client: KMSClient | None = None,
    limiter: AttemptLimiter | None = None,
    users: UserRegistry | None = None,
    signals: Signals | None = None,
    measurements: Measurements | None = None,
    origins: Sequence[str] = (),
    instrument: Instrument = untraced,
) -> AuthService:
    """The sign-in use cases, wired from `settings`. With `users`, a user's first sign-in
    is told apart (a sign-up), and with `signals` too it emits a `SignUps` signal.
    `instrument` wraps Google's sign-in and the token cipher (KMS) for X-Ray."""
    if limiter is None:
        window = timedelta(seconds=settings.window_seconds)
        limiter = InMemoryAttemptLimiter(max_failures=settings.max_failures, window=window)
    csrf = csrf_tokens(settings, secrets_client=secrets_client)
    identity = build_identity_provider(settings, http=http, secrets_client=secrets_client)
    if identity is not None:
        identity = instrument(identity, IdentityProvider, source="google")
    cipher = build_token_cipher(settings, kms_client=kms_client)
    return AuthService(
        sessions=sessions,
        identity=identity,
        cipher=instrument(cipher, TokenCipher, key=settings.kms_key_id),
        limiter=limiter,
        clock=clock,
        csrf=csrf,
        tokens=access_tokens(csrf),
        origins=TrustedOrigins(tuple(origins)),
        dev_login_enabled=settings.dev_login,
        users=users,
        signals=signals,
        measurements=measurements,
    )


def build_auth_app(auth: AuthService, settings: AuthSettings) -> ApiResolver:
    """A resolver with the auth routes only (and the dev login when the settings allow it),
    over `auth`: for tests of sign-in without the other routers."""
    from portfoliowise.handlers.api import dependencies as deps
    from portfoliowise.handlers.api.routers import auth as auth_routes
    from portfoliowise.handlers.settings import DEFAULT_CORS_ORIGINS, DEFAULT_MAX_BODY_BYTES

    app = ApiResolver(
        max_body_bytes=DEFAULT_MAX_BODY_BYTES,
        origins=DEFAULT_CORS_ORIGINS,
        authenticator=lambda: auth.authenticator,
    )
    register_error_handlers(app)
    app.dependency_overrides[deps.auth_service] = lambda: auth
    app.dependency_overrides[deps.trusted_ip_header] = lambda: settings.trusted_ip_header
    app.include_router(auth_routes.router)
    if settings.dev_login:
        app.include_router(auth_routes.dev_login_router)
    return app
