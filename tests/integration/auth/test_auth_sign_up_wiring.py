"""`build_auth_service` passes the user registry and the signals through: a first dev login
over the embedded store is a sign-up, remembered when the store is opened again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.memory import RecordedSignals
from portfoliowise.adapters.sqlite import open_sqlite_stores
from portfoliowise.domain.signals import SignalKind, subject_of
from portfoliowise.handlers.auth_wiring import build_auth_service
from portfoliowise.handlers.settings import AuthSettings

CLOCK = FixedClock(datetime(2026, 11, 29, 3, 0, tzinfo=UTC))


def _settings(data_dir: Path) -> AuthSettings:
    return AuthSettings.from_env({"PORTFOLIOWISE_DATA_DIR": str(data_dir), "DEV_LOGIN": "1"})


def test_a_first_dev_login_over_sqlite_is_a_sign_up_once(tmp_path: Path) -> None:
    settings, signals = _settings(tmp_path), RecordedSignals()
    stores = open_sqlite_stores(tmp_path, CLOCK)
    try:
        service = build_auth_service(
            settings, stores.sessions, CLOCK, users=stores.users, signals=signals
        )
        assert service.dev_login("hanako@example.com").new_user is True
        assert service.dev_login("hanako@example.com").new_user is False
    finally:
        stores.close()

    reopened = open_sqlite_stores(tmp_path, CLOCK)
    try:
        service = build_auth_service(
            settings, reopened.sessions, CLOCK, users=reopened.users, signals=signals
        )
        assert service.dev_login("hanako@example.com").new_user is False
    finally:
        reopened.close()

    [signal] = signals.emitted
    assert signal.kind is SignalKind.SIGN_UP
    assert signal.subject == subject_of("dev:hanako@example.com")
    assert signal.details == {"provider": "dev"}


def test_without_a_registry_the_service_signs_in_as_before(tmp_path: Path) -> None:
    stores = open_sqlite_stores(tmp_path, CLOCK)
    try:
        service = build_auth_service(_settings(tmp_path), stores.sessions, CLOCK)
        assert service.dev_login("hanako@example.com").new_user is False
    finally:
        stores.close()
