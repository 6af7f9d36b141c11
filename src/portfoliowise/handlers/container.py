"""The one dependency-injector container: AWS adapters inside Lambda, the embedded ones
locally, chosen from configuration (environment variables); tests override providers.

Configuration (`Settings.from_env`):
- `PORTFOLIOWISE_MODE` = `aws` | `local` (default: `aws` inside Lambda, else `local`)
- AWS: `PORTFOLIO_TABLE`, `AUDIT_TABLE`, `SESSION_TABLE`, `CACHE_TABLE` (`TableNames`),
  `BACKUP_BUCKET`, `EVENT_BUS_NAME`
- local: `PORTFOLIOWISE_DATA_DIR` (default: the user's data directory)
- `CORS_ORIGINS` (comma-separated; default: https://portfolio-wise.com and localhost dev
  ports), `MAX_BODY_BYTES` (default 1 MB)
- market chains: `QUOTE_SOURCES`, `FX_SOURCES`, `HISTORY_SOURCES`, `PAID_QUOTES_SECRET`

Nothing is built before it is first asked for: the portfolio function never builds the
market sources' clients unless a route values a portfolio, and yfinance is imported by the
Yahoo adapter on its first call only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from portfoliowise.adapters.blobs import LocalBlobStore, S3BlobStore, s3_client
from portfoliowise.adapters.clock import SystemClock, UuidGenerator
from portfoliowise.adapters.dynamodb import (
    DynamoAttemptLimiter,
    DynamoAuditLog,
    DynamoPortfolioRepository,
    DynamoQuoteCache,
    DynamoSessionStore,
    TableNames,
    dynamodb_client,
)
from portfoliowise.adapters.events import EventBridgePublisher, InProcessBus
from portfoliowise.adapters.events.eventbridge import BUS_NAME, events_client
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.market.chain import (
    build_fx_sources,
    build_history_sources,
    build_quote_sources,
    live_registries,
)
from portfoliowise.adapters.sqlite import SqliteStores, default_data_dir, open_sqlite_stores
from portfoliowise.application.auth import AuthService
from portfoliowise.application.market_service import MarketService
from portfoliowise.application.portfolio_commands import PortfolioPorts
from portfoliowise.domain.ports import AttemptLimiter, Clock, QuoteCache, SessionStore
from portfoliowise.handlers.api.current_user import Authenticator

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

AWS = "aws"
LOCAL = "local"
LAMBDA_MARKER = "AWS_LAMBDA_FUNCTION_NAME"
DEFAULT_CORS_ORIGINS = (
    "https://portfolio-wise.com",
    "http://localhost:3000",
    "http://localhost:5173",
    "http://localhost:8000",
)
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
BACKUPS_DIR = "backups"  # the local mirror of the backups bucket, inside the data dir


@dataclass(frozen=True, slots=True)
class Settings:
    mode: str = LOCAL
    data_dir: Path | None = None
    backup_bucket: str = ""
    event_bus_name: str = BUS_NAME
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        mode = (environ.get("PORTFOLIOWISE_MODE") or "").strip().lower()
        if not mode:
            mode = AWS if environ.get(LAMBDA_MARKER) else LOCAL
        if mode not in (AWS, LOCAL):
            raise ValueError(f"PORTFOLIOWISE_MODE must be {AWS!r} or {LOCAL!r}, got {mode!r}")
        origins = tuple(
            o.strip().rstrip("/") for o in environ.get("CORS_ORIGINS", "").split(",") if o.strip()
        )
        data_dir = environ.get("PORTFOLIOWISE_DATA_DIR", "").strip()
        max_body = environ.get("MAX_BODY_BYTES", "").strip()
        return cls(
            mode=mode,
            data_dir=Path(data_dir) if data_dir else None,
            backup_bucket=environ.get("BACKUP_BUCKET", "").strip(),
            event_bus_name=environ.get("EVENT_BUS_NAME", "").strip() or BUS_NAME,
            cors_origins=origins or DEFAULT_CORS_ORIGINS,
            max_body_bytes=int(max_body) if max_body else DEFAULT_MAX_BODY_BYTES,
        )

    @property
    def local_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else default_data_dir()


def _mode(settings: Settings) -> str:
    return settings.mode


def _sqlite(settings: Settings, clock: Clock) -> SqliteStores:
    return open_sqlite_stores(settings.local_dir, clock)


def _local_blobs(settings: Settings) -> LocalBlobStore:
    return LocalBlobStore(settings.local_dir / BACKUPS_DIR)


def _s3_blobs(settings: Settings) -> S3BlobStore:
    if not settings.backup_bucket:
        raise ValueError("BACKUP_BUCKET is not set")
    return S3BlobStore(s3_client(), settings.backup_bucket)


def _eventbridge(settings: Settings) -> EventBridgePublisher:
    return EventBridgePublisher(events_client(), settings.event_bus_name)


def _market_service(environ: Mapping[str, str], cache: QuoteCache, clock: Clock) -> MarketService:
    registries = live_registries(environ, clock)
    return MarketService(
        cache,
        build_quote_sources(environ, registries.quotes, clock),
        build_fx_sources(environ, registries.fx, clock),
        build_history_sources(environ, registries.history, clock),
        clock,
        calendar_for,
    )


def _cached_market(cache: QuoteCache, clock: Clock) -> MarketService:
    """Prices from the quote cache only (fresh as `cached`, older as `stale` with their
    `asOf`, else `unavailable`): no outbound call and no market SDK."""
    return MarketService(cache, [], [], [], clock, calendar_for)


def _session_authenticator(
    environ: Mapping[str, str], sessions: SessionStore, clock: Clock, settings: Settings
) -> Authenticator:
    from portfoliowise.handlers.auth_wiring import build_session_authenticator

    return build_session_authenticator(environ, sessions, clock, data_dir=settings.data_dir)


def _auth_service(
    environ: Mapping[str, str],
    sessions: SessionStore,
    clock: Clock,
    settings: Settings,
    limiter: AttemptLimiter,
) -> AuthService:
    from portfoliowise.handlers.auth_wiring import build_auth_service

    return build_auth_service(
        environ, sessions, clock, data_dir=settings.data_dir, environ=environ, limiter=limiter
    )


def _dynamo_limiter(
    environ: Mapping[str, str], client: DynamoDBClient, names: TableNames
) -> DynamoAttemptLimiter:
    from portfoliowise.handlers.auth_wiring import limiter_settings

    max_failures, window = limiter_settings(environ)
    return DynamoAttemptLimiter(client, names, max_failures, window)


def _local_limiter(environ: Mapping[str, str]) -> AttemptLimiter:
    from portfoliowise.handlers.auth_wiring import build_attempt_limiter

    return build_attempt_limiter(environ)


class Container(containers.DeclarativeContainer):
    environ = providers.Object(os.environ)
    settings = providers.Singleton(Settings.from_env, environ)
    mode = providers.Callable(_mode, settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidGenerator)

    # -- AWS -------------------------------------------------------------------------
    table_names = providers.Singleton(TableNames.from_env, environ)
    dynamodb = providers.Singleton(dynamodb_client)

    # -- local -----------------------------------------------------------------------
    sqlite = providers.Singleton(_sqlite, settings, clock)

    # -- the ports, by mode ----------------------------------------------------------
    portfolios = providers.Selector(
        mode,
        aws=providers.Singleton(DynamoPortfolioRepository, dynamodb, table_names, clock),
        local=providers.Singleton(lambda stores: stores.portfolios, sqlite),
    )
    audit_log = providers.Selector(
        mode,
        aws=providers.Singleton(DynamoAuditLog, dynamodb, table_names, clock),
        local=providers.Singleton(lambda stores: stores.audit, sqlite),
    )
    sessions = providers.Selector(
        mode,
        aws=providers.Singleton(DynamoSessionStore, dynamodb, table_names),
        local=providers.Singleton(lambda stores: stores.sessions, sqlite),
    )
    quote_cache = providers.Selector(
        mode,
        aws=providers.Singleton(DynamoQuoteCache, dynamodb, table_names, clock),
        local=providers.Singleton(lambda stores: stores.quotes, sqlite),
    )
    backups = providers.Selector(
        mode,
        aws=providers.Singleton(_s3_blobs, settings),
        local=providers.Singleton(_local_blobs, settings),
    )
    events = providers.Selector(
        mode,
        aws=providers.Singleton(_eventbridge, settings),
        local=providers.Singleton(InProcessBus),
    )

    # -- use cases -------------------------------------------------------------------
    portfolio_ports = providers.Factory(
        PortfolioPorts, repository=portfolios, events=events, clock=clock, ids=ids
    )
    market = providers.Singleton(_market_service, environ, quote_cache, clock)
    cached_market = providers.Singleton(_cached_market, quote_cache, clock)

    # -- sign-in -----------------------------------------------------------------------
    # The `Authenticator` of handlers/api/current_user.py: `SessionAuthenticator` over the
    # session store, with the CSRF keys from configuration (handlers/auth_wiring.py).
    authenticator = providers.Singleton(_session_authenticator, environ, sessions, clock, settings)
    # Failed sign-ins per client IP: shared by every Lambda instance in the Session table;
    # in process memory locally (one server).
    attempt_limiter = providers.Selector(
        mode,
        aws=providers.Singleton(_dynamo_limiter, environ, dynamodb, table_names),
        local=providers.Singleton(_local_limiter, environ),
    )
    # The sign-in use cases (Google, dev login when enabled outside Lambda, sessions).
    auth_service = providers.Singleton(
        _auth_service, environ, sessions, clock, settings, attempt_limiter
    )


def container_from_env(environ: Mapping[str, str] | None = None) -> Container:
    """A container configured from `environ` (default: the process environment)."""
    container = Container()
    if environ is not None:
        container.environ.override(providers.Object(environ))
    return container


def local_container(data_dir: Path, environ: Mapping[str, str] | None = None) -> Container:
    """A container on the embedded store of `data_dir` (SQLite, local blobs, in-process
    bus), configured by `environ` otherwise (default: the process environment)."""
    base = os.environ if environ is None else environ
    return container_from_env(
        {**base, "PORTFOLIOWISE_MODE": LOCAL, "PORTFOLIOWISE_DATA_DIR": str(data_dir)}
    )
