"""The container picks the AWS adapters inside Lambda and the embedded ones locally, from
configuration; the API runs end to end on the embedded SQLite store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_harness import NOW, FakeAuthenticator, call, market_service
from dependency_injector import providers

from portfoliowise.adapters.blobs import LocalBlobStore, S3BlobStore
from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.dynamodb import (
    DynamoAttemptLimiter,
    DynamoAuditLog,
    DynamoPortfolioRepository,
)
from portfoliowise.adapters.events import EventBridgePublisher, InProcessBus
from portfoliowise.adapters.sqlite import SqlitePortfolioRepository
from portfoliowise.application.auth import InMemoryAttemptLimiter, SessionAuthenticator
from portfoliowise.domain.errors import Unauthenticated
from portfoliowise.handlers.api.app import build_app
from portfoliowise.handlers.container import container_from_env
from portfoliowise.handlers.settings import AWS, DEFAULT_CORS_ORIGINS, LOCAL, Settings


def test_settings_default_to_local_and_to_aws_inside_lambda() -> None:
    assert Settings.from_env({}).mode == LOCAL
    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "portfolio"}).mode == AWS
    assert Settings.from_env({"PORTFOLIOWISE_MODE": "AWS"}).mode == AWS
    with pytest.raises(ValueError, match="PORTFOLIOWISE_MODE"):
        Settings.from_env({"PORTFOLIOWISE_MODE": "cloud"})


def test_cors_origins_and_body_limit_from_the_environment() -> None:
    assert Settings.from_env({}).cors_origins == DEFAULT_CORS_ORIGINS
    settings = Settings.from_env(
        {"CORS_ORIGINS": "https://a.example/, https://b.example", "MAX_BODY_BYTES": "10"}
    )
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.max_body_bytes == 10


def test_aws_mode_wires_dynamodb_s3_and_eventbridge() -> None:
    container = container_from_env(
        {
            "PORTFOLIOWISE_MODE": "aws",
            "PORTFOLIO_TABLE": "pw-portfolio",
            "BACKUP_BUCKET": "pw-backups",
            "EVENT_BUS_NAME": "pw-bus",
        }
    )
    assert isinstance(container.portfolios(), DynamoPortfolioRepository)
    assert isinstance(container.audit_log(), DynamoAuditLog)
    assert container.table_names().portfolio == "pw-portfolio"
    assert isinstance(container.backups(), S3BlobStore)
    events = container.events()
    assert isinstance(events, EventBridgePublisher)
    assert events.bus_name == "pw-bus"
    # failed sign-ins are counted where every Lambda instance sees them
    assert isinstance(container.attempt_limiter(), DynamoAttemptLimiter)


def test_aws_mode_without_a_backup_bucket_is_a_configuration_error() -> None:
    container = container_from_env({"PORTFOLIOWISE_MODE": "aws"})
    with pytest.raises(ValueError, match="BACKUP_BUCKET"):
        container.backups()


def test_local_mode_wires_sqlite_local_blobs_and_the_in_process_bus(tmp_path: Path) -> None:
    container = container_from_env({"PORTFOLIOWISE_DATA_DIR": str(tmp_path)})
    try:
        assert isinstance(container.portfolios(), SqlitePortfolioRepository)
        assert isinstance(container.backups(), LocalBlobStore)
        assert isinstance(container.events(), InProcessBus)
        assert isinstance(container.attempt_limiter(), InMemoryAttemptLimiter)
        assert (tmp_path / "portfoliowise.db").exists()
    finally:
        container.sqlite().close()


def test_the_authenticator_is_the_session_authenticator(tmp_path: Path) -> None:
    container = container_from_env(
        {"PORTFOLIOWISE_DATA_DIR": str(tmp_path), "SESSION_SIGNING_KEY": "k" * 40}
    )
    try:
        authenticator = container.authenticator()
        assert isinstance(authenticator, SessionAuthenticator)
        with pytest.raises(Unauthenticated):
            authenticator.authenticate(None, None, state_changing=False)
    finally:
        container.sqlite().close()


def test_the_api_end_to_end_on_sqlite(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    container = container_from_env({"PORTFOLIOWISE_DATA_DIR": str(tmp_path)})
    container.clock.override(providers.Object(clock))
    container.market.override(providers.Object(market_service(clock)))
    container.authenticator.override(providers.Object(FakeAuthenticator()))
    app: Any = build_app(container)
    try:
        status, _, created = call(app, "create_portfolio.json")
        assert status == 201
        path = f"/portfolios/{created['portfolioId']}"
        created["name"] = "changed"
        clock.advance(timedelta(seconds=1))
        status, _, _ = call(app, "put_portfolio.json", path=path, body=created)
        assert status == 200
        status, _, stale = call(app, "put_portfolio.json", path=path, body=created)
        assert status == 409
        assert stale["error"]["details"] == {"currentVersion": 2}
        status, _, audit = call(app, "get_portfolio.json", path=f"{path}/audit")
        assert status == 200
        assert len(audit["entries"]) >= 2
        assert call(app, "get_portfolio.json", path=path, user="userB")[0] == 404
    finally:
        container.sqlite().close()
