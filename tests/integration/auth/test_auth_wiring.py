"""Auth wiring from configuration: secrets from Secrets Manager (moto) or the environment,
the session-signing key's rotation, KMS or local token keys, the dev-login decision."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.crypto import KmsTokenCipher, LocalTokenCipher
from portfoliowise.adapters.crypto.jwt_codec import JwtAccessTokenCodec
from portfoliowise.adapters.memory import InMemorySessionStore
from portfoliowise.application.access_tokens import AccessTokens
from portfoliowise.application.auth import AuthService, CsrfTokens, InMemoryAttemptLimiter
from portfoliowise.domain.errors import Forbidden, SourceUnavailable
from portfoliowise.handlers.auth_wiring import (
    SIGNING_KEY_FILE,
    build_session_authenticator,
    build_token_cipher,
    csrf_tokens,
    google_client_secret,
    session_signing_keys,
)
from portfoliowise.handlers.settings import AuthSettings


def access_tokens_for(csrf: CsrfTokens) -> AccessTokens:
    return AccessTokens(JwtAccessTokenCodec(), csrf.ring)


def S(config: dict[str, str], data_dir: Path | None = None) -> AuthSettings:
    """The auth settings of an environment (optionally with a data dir)."""
    env = dict(config)
    if data_dir is not None:
        env["PORTFOLIOWISE_DATA_DIR"] = str(data_dir)
    return AuthSettings.from_env(env)


CLOCK = FixedClock(datetime(2026, 11, 29, 3, 0, tzinfo=UTC))


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="ap-northeast-1")


def test_google_client_secret_from_secrets_manager_by_name_or_arn(secrets: Any) -> None:
    arn = secrets.create_secret(Name="pw/google", SecretString="from-secrets-manager")["ARN"]

    by_name = {"GOOGLE_CLIENT_SECRET_NAME": "pw/google", "GOOGLE_CLIENT_SECRET": "env"}
    assert google_client_secret(S(by_name), secrets_client=secrets) == "from-secrets-manager"
    by_arn = {"GOOGLE_CLIENT_SECRET_ARN": arn}
    assert google_client_secret(S(by_arn), secrets_client=secrets) == "from-secrets-manager"


def test_google_client_secret_as_json(secrets: Any) -> None:
    secrets.create_secret(Name="pw/google", SecretString='{"client_secret": "in-json"}')

    config = {"GOOGLE_CLIENT_SECRET_NAME": "pw/google"}
    assert google_client_secret(S(config), secrets_client=secrets) == "in-json"


def test_google_client_secret_from_the_environment_locally() -> None:
    assert google_client_secret(S({"GOOGLE_CLIENT_SECRET": "local"})) == "local"
    assert google_client_secret(S({})) is None


def test_a_missing_secret_is_source_unavailable(secrets: Any) -> None:
    with pytest.raises(SourceUnavailable):
        google_client_secret(S({"GOOGLE_CLIENT_SECRET_NAME": "nope"}), secrets_client=secrets)


def test_signing_keys_current_then_previous_after_a_rotation(secrets: Any) -> None:
    secrets.create_secret(Name="pw/signing", SecretString="a" * 64)
    config = {"SESSION_SIGNING_SECRET_NAME": "pw/signing"}
    assert session_signing_keys(S(config), secrets_client=secrets) == [b"a" * 64]

    secrets.put_secret_value(SecretId="pw/signing", SecretString="b" * 64)

    assert session_signing_keys(S(config), secrets_client=secrets) == [b"b" * 64, b"a" * 64]


def test_a_csrf_token_issued_before_a_rotation_is_still_accepted(secrets: Any) -> None:
    secrets.create_secret(Name="pw/signing", SecretString="a" * 64)
    config = {"SESSION_SIGNING_SECRET_NAME": "pw/signing"}
    before = CsrfTokens(session_signing_keys(S(config), secrets_client=secrets))
    token = before.issue("session-id")

    secrets.put_secret_value(SecretId="pw/signing", SecretString="b" * 64)
    after = CsrfTokens(session_signing_keys(S(config), secrets_client=secrets))

    assert after.valid("session-id", token)
    assert after.issue("session-id") != token


def test_csrf_tokens_from_secrets_manager_accept_the_previous_key(secrets: Any) -> None:
    secrets.create_secret(Name="pw/signing", SecretString="a" * 64)
    config = {"SESSION_SIGNING_SECRET_NAME": "pw/signing"}
    token = csrf_tokens(S(config), secrets_client=secrets).issue("sid")
    secrets.put_secret_value(SecretId="pw/signing", SecretString="b" * 64)

    rotated = csrf_tokens(S(config), secrets_client=secrets)

    assert rotated.valid("sid", token)
    assert rotated.issue("sid") != token


def test_signing_key_from_the_environment_must_be_long_enough() -> None:
    assert session_signing_keys(S({"SESSION_SIGNING_KEY": "k" * 32})) == [b"k" * 32]
    with pytest.raises(ValueError, match="32"):
        session_signing_keys(S({"SESSION_SIGNING_KEY": "short"}))


def test_signing_key_file_in_the_data_dir_is_created_once(tmp_path: Path) -> None:
    config = {"PORTFOLIOWISE_DATA_DIR": str(tmp_path)}

    first = session_signing_keys(S(config))
    again = session_signing_keys(S(config))

    assert first == again
    assert len(first[0]) == 64
    if os.name == "posix":
        mode = stat.S_IMODE((tmp_path / SIGNING_KEY_FILE).stat().st_mode)
        assert mode == 0o600


def test_token_cipher_is_kms_with_a_key_id_else_local(tmp_path: Path) -> None:
    with mock_aws():
        kms = boto3.client("kms", region_name="ap-northeast-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        cipher = build_token_cipher(S({"SESSION_KMS_KEY_ID": key}), kms_client=kms)
        assert isinstance(cipher, KmsTokenCipher)
        assert cipher.decrypt(cipher.encrypt(b"t", context="c"), context="c") == b"t"

    local = build_token_cipher(S({}, tmp_path))
    assert isinstance(local, LocalTokenCipher)


def test_inside_lambda_local_key_files_are_refused(tmp_path: Path) -> None:
    config = {"AWS_LAMBDA_FUNCTION_NAME": "portfoliowise-portfolio"}

    with pytest.raises(ValueError, match="session-signing"):
        session_signing_keys(S(config, tmp_path))
    with pytest.raises(ValueError, match="KMS"):
        build_token_cipher(S(config, tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("environ", "allowed"),
    [
        ({"DEV_LOGIN": "1"}, True),
        ({"DEV_LOGIN": "true"}, True),
        ({"DEV_LOGIN": "0"}, False),
        ({}, False),
        ({"DEV_LOGIN": "1", "AWS_LAMBDA_FUNCTION_NAME": "portfoliowise-auth"}, False),
    ],
)
def test_dev_login_needs_the_flag_and_no_lambda(environ: dict[str, str], allowed: bool) -> None:
    assert AuthSettings.from_env(environ).dev_login is allowed


def test_trusted_ip_header_by_either_name() -> None:
    assert S({"TRUSTED_IP_HEADER": "X-Forwarded-For"}).trusted_ip_header == "X-Forwarded-For"
    assert S({"CLIENT_IP_HEADER": "CloudFront-Viewer-Address"}).trusted_ip_header == (
        "CloudFront-Viewer-Address"
    )
    assert S({}).trusted_ip_header == ""


def test_the_session_authenticator_reads_sessions_the_auth_service_opened(
    tmp_path: Path,
) -> None:
    config = {"PORTFOLIOWISE_DATA_DIR": str(tmp_path)}
    sessions = InMemorySessionStore()
    service = AuthService(
        sessions=sessions,
        identity=None,
        cipher=LocalTokenCipher.from_data_dir(tmp_path),
        limiter=InMemoryAttemptLimiter(),
        clock=CLOCK,
        csrf=CsrfTokens(session_signing_keys(S(config))),
        tokens=access_tokens_for(CsrfTokens(session_signing_keys(S(config)))),
        dev_login_enabled=True,
    )
    signed_in = service.dev_login("hanako@example.com")
    cookie = f"__Host-session={signed_in.session_id}"

    authenticator = build_session_authenticator(S(config), sessions, CLOCK)

    assert authenticator.authenticate(cookie, signed_in.csrf_token, state_changing=True) == (
        "dev:hanako@example.com"
    )
    with pytest.raises(Forbidden):
        authenticator.authenticate(cookie, "nope", state_changing=True)


def test_the_auth_app_serves_the_auth_routes_and_the_dev_login_only_when_allowed(
    tmp_path: Path,
) -> None:
    from portfoliowise.handlers.auth_wiring import build_auth_app, build_auth_service

    def paths(env: dict[str, str]) -> set[str]:
        settings = S(env, tmp_path)
        service = build_auth_service(settings, InMemorySessionStore(), CLOCK)
        app = build_auth_app(service, settings)
        return {route.rule.pattern for route in app._static_routes + app._dynamic_routes}

    assert {"^/auth/google/*$", "^/auth/session/*$", "^/auth/logout/*$"} <= paths({})
    assert "^/auth/dev-login/*$" in paths({"DEV_LOGIN": "1"})
    assert "^/auth/dev-login/*$" not in paths({})
    inside = {"DEV_LOGIN": "1", "AWS_LAMBDA_FUNCTION_NAME": "portfoliowise-auth"}
    settings = S(inside, tmp_path)
    assert not settings.dev_login
