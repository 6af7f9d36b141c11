"""Builders for sign-in and sessions, from configuration (environment variables).

- `GOOGLE_CLIENT_ID`: our OAuth client id (the ID token's audience); without it there is no
  Google sign-in (`POST /auth/google` answers 401).
- `GOOGLE_CLIENT_SECRET_NAME` (or `GOOGLE_CLIENT_SECRET_ARN`): the Secrets Manager secret
  holding the client secret (AWS); else `GOOGLE_CLIENT_SECRET`, the secret itself (local).
- `GOOGLE_REDIRECT_URIS`: optional, comma-separated: the only redirect URIs accepted.
- `SESSION_SIGNING_SECRET_NAME` (or `SESSION_SIGNING_SECRET_ARN`): the Secrets Manager secret
  of the session-signing (CSRF) key; its `AWSPREVIOUS` version is accepted too, so that a
  rotation does not break open pages. Else `SESSION_SIGNING_KEY` (32+ characters), else a
  key file `session-signing.key` in the data dir (created on first use, mode 0600; refused
  inside Lambda, where the key must be shared by every instance and function).
- `SESSION_KMS_KEY_ID` (or `SESSION_TOKEN_KEY_ARN`): the KMS key of the provider tokens'
  envelope encryption; else a key file `session-token.key` in the data dir (not in Lambda).
- `PORTFOLIOWISE_DATA_DIR` (or `DATA_DIR`): the data dir when the caller passes none
  (default: the embedded store's).
- `TRUSTED_IP_HEADER` (or `CLIENT_IP_HEADER`): the header holding the client IP
  (`CloudFront-Viewer-Address`; or `X-Forwarded-For`, last entry only); else API Gateway's
  `requestContext.identity.sourceIp`.
- `DEV_LOGIN` (`1`/`true`): serve `POST /auth/dev-login`; never inside Lambda
  (`AWS_LAMBDA_FUNCTION_NAME` set), whatever the flag says.
- `SIGN_IN_MAX_FAILURES`, `SIGN_IN_WINDOW_SECONDS`: failed sign-ins allowed per client IP in
  a sliding window (default 5 per 900 s).

The names in parentheses are the ones the CDK stack sets today; both spellings work.
Which adapters are built follows from the configuration only (a secret name present → AWS
Secrets Manager; a KMS key id present → KMS), never from a test flag."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from portfoliowise.adapters.crypto import KmsTokenCipher, LocalTokenCipher, load_or_create_key
from portfoliowise.adapters.crypto.envelope import LOCAL_KEY_FILE
from portfoliowise.application.auth import (
    AuthService,
    CsrfTokens,
    InMemoryAttemptLimiter,
    SessionAuthenticator,
    SigningKeys,
)
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.ports import (
    AttemptLimiter,
    Clock,
    IdentityProvider,
    SessionStore,
    TokenCipher,
)
from portfoliowise.handlers.api.errors import register_error_handlers
from portfoliowise.handlers.api.routers.auth import (
    LAMBDA_MARKER,
    build_auth_router,
    trusted_ip_header,
)

if TYPE_CHECKING:
    import httpx
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

SIGNING_KEY_FILE = "session-signing.key"
SIGNING_KEY_BYTES = 64
MIN_SIGNING_KEY_CHARS = 32
DEFAULT_MAX_FAILURES = 5
DEFAULT_WINDOW_SECONDS = 15 * 60
_TRUE = frozenset({"1", "true", "yes", "on"})


def _first(config: Mapping[str, str], *keys: str) -> str | None:
    for key in keys:
        value = (config.get(key) or "").strip()
        if value:
            return value
    return None


def _data_dir(config: Mapping[str, str], data_dir: Path | None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    configured = _first(config, "PORTFOLIOWISE_DATA_DIR", "DATA_DIR")
    if configured:
        return Path(configured)
    from portfoliowise.adapters.sqlite import default_data_dir

    return default_data_dir()


def _inside_lambda(config: Mapping[str, str]) -> bool:
    return bool(config.get(LAMBDA_MARKER) or os.environ.get(LAMBDA_MARKER))


def _local_key_file(config: Mapping[str, str], data_dir: Path | None, name: str, what: str) -> Path:
    """A key file in the data dir, refused inside Lambda: there a missing secret or KMS key
    is a deployment error, and a per-instance key would sign everybody out at random."""
    if _inside_lambda(config):
        raise ValueError(f"inside Lambda the {what} must be configured (see auth_wiring)")
    return _data_dir(config, data_dir) / name


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


def dev_login_allowed(config: Mapping[str, str], environ: Mapping[str, str] | None = None) -> bool:
    """`DEV_LOGIN` is on and the process is not inside Lambda."""
    env = os.environ if environ is None else environ
    enabled = (config.get("DEV_LOGIN") or "").strip().lower() in _TRUE
    return enabled and not env.get(LAMBDA_MARKER) and not config.get(LAMBDA_MARKER)


def session_signing_keys(
    config: Mapping[str, str],
    *,
    secrets_client: SecretsManagerClient | None = None,
    data_dir: Path | None = None,
) -> list[bytes]:
    """The session-signing keys, current first (see the module docstring for the sources)."""
    secret_id = _first(config, "SESSION_SIGNING_SECRET_NAME", "SESSION_SIGNING_SECRET_ARN")
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
    direct = _first(config, "SESSION_SIGNING_KEY")
    if direct:
        if len(direct) < MIN_SIGNING_KEY_CHARS:
            raise ValueError(f"SESSION_SIGNING_KEY needs {MIN_SIGNING_KEY_CHARS}+ characters")
        return [direct.encode("utf-8")]
    path = _local_key_file(config, data_dir, SIGNING_KEY_FILE, "session-signing secret")
    return [load_or_create_key(path, SIGNING_KEY_BYTES)]


def csrf_tokens(
    config: Mapping[str, str],
    *,
    secrets_client: SecretsManagerClient | None = None,
    data_dir: Path | None = None,
) -> CsrfTokens:
    """CSRF tokens over the session-signing keys; keys from Secrets Manager are reloaded
    (every 5 minutes, and early when a token does not verify) to follow the rotation."""
    keys = session_signing_keys(config, secrets_client=secrets_client, data_dir=data_dir)
    if not _first(config, "SESSION_SIGNING_SECRET_NAME", "SESSION_SIGNING_SECRET_ARN"):
        return CsrfTokens(keys)
    client = _secrets_client(secrets_client)
    first_load = iter([keys])

    def load() -> list[bytes]:
        return next(first_load, None) or session_signing_keys(config, secrets_client=client)

    return CsrfTokens(SigningKeys(load))


def google_client_secret(
    config: Mapping[str, str], *, secrets_client: SecretsManagerClient | None = None
) -> str | None:
    """From Secrets Manager when a secret name is configured (a plain string, or JSON with a
    `client_secret` field), else `GOOGLE_CLIENT_SECRET`; None when neither is set."""
    secret_id = _first(config, "GOOGLE_CLIENT_SECRET_NAME", "GOOGLE_CLIENT_SECRET_ARN")
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
    return _first(config, "GOOGLE_CLIENT_SECRET")


def build_identity_provider(
    config: Mapping[str, str],
    *,
    http: httpx.Client | None = None,
    secrets_client: SecretsManagerClient | None = None,
) -> IdentityProvider | None:
    """Google sign-in, or None when `GOOGLE_CLIENT_ID` is not configured (then
    `POST /auth/google` answers 401)."""
    client_id = _first(config, "GOOGLE_CLIENT_ID")
    if not client_id:
        return None
    secret = google_client_secret(config, secrets_client=secrets_client)
    if not secret:
        raise ValueError("GOOGLE_CLIENT_ID is set but no Google client secret is configured")
    import httpx

    from portfoliowise.adapters.google import GoogleIdentityProvider

    redirects = [u.strip() for u in (config.get("GOOGLE_REDIRECT_URIS") or "").split(",")]
    return GoogleIdentityProvider(
        http if http is not None else httpx.Client(),
        client_id=client_id,
        client_secret=secret,
        allowed_redirect_uris=[u for u in redirects if u] or None,
    )


def build_token_cipher(
    config: Mapping[str, str],
    *,
    kms_client: KMSClient | None = None,
    data_dir: Path | None = None,
) -> TokenCipher:
    """KMS envelope encryption when a KMS key is configured, else the local key file."""
    key_id = _first(config, "SESSION_KMS_KEY_ID", "SESSION_TOKEN_KEY_ARN")
    if key_id:
        if kms_client is None:
            import boto3

            kms_client = boto3.client("kms")
        return KmsTokenCipher(kms_client, key_id)
    path = _local_key_file(config, data_dir, LOCAL_KEY_FILE, "KMS key (SESSION_KMS_KEY_ID)")
    return LocalTokenCipher(load_or_create_key(path))


def limiter_settings(config: Mapping[str, str]) -> tuple[int, timedelta]:
    """`SIGN_IN_MAX_FAILURES` per `SIGN_IN_WINDOW_SECONDS` (default 5 per 900 s)."""
    max_failures = int(config.get("SIGN_IN_MAX_FAILURES") or DEFAULT_MAX_FAILURES)
    seconds = int(config.get("SIGN_IN_WINDOW_SECONDS") or DEFAULT_WINDOW_SECONDS)
    return max_failures, timedelta(seconds=seconds)


def build_attempt_limiter(config: Mapping[str, str]) -> AttemptLimiter:
    """The in-process limiter (one server); the container gives Lambda the shared one."""
    max_failures, window = limiter_settings(config)
    return InMemoryAttemptLimiter(max_failures=max_failures, window=window)


def build_session_authenticator(
    config: Mapping[str, str],
    sessions: SessionStore,
    clock: Clock,
    *,
    secrets_client: SecretsManagerClient | None = None,
    data_dir: Path | None = None,
) -> SessionAuthenticator:
    """What the portfolio API authenticates requests with (`Authenticator` of
    `handlers/api/current_user.py`)."""
    csrf = csrf_tokens(config, secrets_client=secrets_client, data_dir=data_dir)
    return SessionAuthenticator(sessions, clock, csrf)


def build_auth_service(
    config: Mapping[str, str],
    sessions: SessionStore,
    clock: Clock,
    *,
    http: httpx.Client | None = None,
    secrets_client: SecretsManagerClient | None = None,
    kms_client: KMSClient | None = None,
    limiter: AttemptLimiter | None = None,
    data_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> AuthService:
    """The sign-in use cases, wired from `config`."""
    return AuthService(
        sessions=sessions,
        identity=build_identity_provider(config, http=http, secrets_client=secrets_client),
        cipher=build_token_cipher(config, kms_client=kms_client, data_dir=data_dir),
        limiter=limiter if limiter is not None else build_attempt_limiter(config),
        clock=clock,
        csrf=csrf_tokens(config, secrets_client=secrets_client, data_dir=data_dir),
        dev_login_enabled=dev_login_allowed(config, environ),
    )


def auth_router(
    auth: AuthService,
    config: Mapping[str, str],
    *,
    environ: Mapping[str, str] | None = None,
) -> Router:
    """The auth routes over `auth`, with the client-IP header from `config`. Give it to
    `handlers.api.app.build_app(container, extra_routers=[...])`."""
    return build_auth_router(auth, trusted_ip_header=trusted_ip_header(config), environ=environ)


def build_auth_app(
    auth: AuthService,
    config: Mapping[str, str],
    *,
    environ: Mapping[str, str] | None = None,
) -> APIGatewayRestResolver:
    """A bare resolver with the auth routes and the API's error handlers (no CORS, health
    or OpenAPI route: the Lambda and the local server use `auth_router` with `build_app`)."""
    app = APIGatewayRestResolver(enable_validation=True)
    register_error_handlers(app)
    app.include_router(auth_router(auth, config, environ=environ))
    return app
