"""Fixtures of the auth integration tests: a fake Google and the auth resolver wired from
configuration (see `auth_harness`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from auth_harness import NOW, AuthApp, BuildApp
from fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.memory import InMemorySessionStore
from portfoliowise.handlers.auth_wiring import build_auth_app, build_auth_service
from portfoliowise.handlers.settings import DEFAULT_CORS_ORIGINS, AuthSettings


@pytest.fixture
def google() -> FakeGoogle:
    return FakeGoogle()


@pytest.fixture
def base_config(tmp_path: Path) -> dict[str, str]:
    return {
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "PORTFOLIOWISE_DATA_DIR": str(tmp_path / "data"),
        "TRUSTED_IP_HEADER": "CloudFront-Viewer-Address",
    }


@pytest.fixture
def build_app(google: FakeGoogle, base_config: dict[str, str]) -> BuildApp:
    def build(
        config: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
    ) -> AuthApp:
        merged = {**base_config, **(config or {})}
        # `environ` is where the process runs (Lambda or not); key files stay local here.
        where = AuthSettings.from_env({**merged, **(environ or {})})
        settings = replace(AuthSettings.from_env(merged), dev_login=where.dev_login)
        clock = FixedClock(NOW)
        sessions = InMemorySessionStore()
        service = build_auth_service(
            settings, sessions, clock, http=google.client(), origins=DEFAULT_CORS_ORIGINS
        )
        app = build_auth_app(service, settings)
        return AuthApp(app, service, google, sessions, clock)

    return build


@pytest.fixture
def auth_app(build_app: BuildApp) -> AuthApp:
    return build_app()
