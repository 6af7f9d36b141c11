"""The one dependency-injector container: AWS adapters inside Lambda, the embedded ones
locally, chosen by `Settings.mode`; tests override providers.

Every adapter is imported by the factory that builds it, when it is first asked for, so a
runtime loads only what it uses: the portfolio function never imports the market sources,
httpx or S3; the auth function never imports the market chain. `handlers.bootstrap` builds
each runtime from this container.

Each outside-facing adapter (DynamoDB, S3, EventBridge, Lambda, SNS, CloudWatch Logs, the
market sources, OpenAI, Google, KMS) goes through `instrument`: inside Lambda (with
`Settings.tracing`) one X-Ray subsegment per call of its port's methods, annotated with
the table, bucket, source or model; elsewhere the adapter itself (`handlers/tracing.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from portfoliowise.adapters.clock import SystemClock, UuidGenerator
from portfoliowise.domain.measurements import Measurements, NoMeasurements
from portfoliowise.domain.ports import Clock
from portfoliowise.handlers.settings import AWS, LOCAL, Settings
from portfoliowise.handlers.tracing import Instrument, instrument_for

if TYPE_CHECKING:
    from portfoliowise.adapters.dynamodb import TableNames
    from portfoliowise.adapters.sqlite import SqliteStores
    from portfoliowise.application.analysis import AnalysisPorts
    from portfoliowise.application.audit_trail import AuditTrail
    from portfoliowise.application.auth import AuthService, SessionAuthenticator
    from portfoliowise.application.client_logs import ClientLogs, ClientLogSink
    from portfoliowise.application.ledger_commands import LedgerFile, LedgerPorts, LedgerReader
    from portfoliowise.application.market_queries import MarketQueries
    from portfoliowise.application.market_service import MarketService
    from portfoliowise.application.performance_queries import PerformanceQueries
    from portfoliowise.application.portfolio_commands import PortfolioPorts
    from portfoliowise.application.portfolio_io import PortfolioFormats
    from portfoliowise.application.portfolio_queries import PortfolioQueries
    from portfoliowise.application.scheduled_jobs import CacheWarmer
    from portfoliowise.application.web_app_portfolio import WebAppDocuments
    from portfoliowise.domain.analysis_jobs import AnalysisJobs
    from portfoliowise.domain.ports import (
        Analyst,
        AttemptLimiter,
        AuditLog,
        BlobStore,
        EventPublisher,
        PortfolioRepository,
        QuoteCache,
        SessionStore,
    )
    from portfoliowise.domain.signals import Signals
    from portfoliowise.domain.users import UserRegistry

BACKUPS_DIR = "backups"  # the local mirror of the backups bucket, inside the data dir
CLIENT_LOG_FILE = "client.log"  # the web app's console entries, inside the data dir

__all__ = [
    "AWS",
    "BACKUPS_DIR",
    "LOCAL",
    "Container",
    "Settings",
    "container_for",
    "container_from_env",
    "local_container",
]


# -- AWS adapters ----------------------------------------------------------------------------


def _dynamodb() -> Any:
    from portfoliowise.adapters.dynamodb.client import dynamodb_client

    return dynamodb_client()


def _table_names(settings: Settings) -> TableNames:
    from portfoliowise.adapters.dynamodb.tables import TableNames

    t = settings.tables
    return TableNames(portfolio=t.portfolio, audit=t.audit, session=t.session, cache=t.cache)


def _dynamo_portfolios(
    client: Any, names: TableNames, clock: Clock, instrument: Instrument
) -> PortfolioRepository:
    from portfoliowise.adapters.dynamodb.portfolios import DynamoPortfolioRepository
    from portfoliowise.domain.ports import PortfolioRepository as Port

    repository = DynamoPortfolioRepository(client, names, clock)
    return instrument(repository, Port, table=names.portfolio)


def _dynamo_audit(client: Any, names: TableNames, clock: Clock, instrument: Instrument) -> AuditLog:
    from portfoliowise.adapters.dynamodb.audit import DynamoAuditLog
    from portfoliowise.domain.ports import AuditLog as Port

    return instrument(DynamoAuditLog(client, names, clock), Port, table=names.audit)


def _dynamo_sessions(client: Any, names: TableNames, instrument: Instrument) -> SessionStore:
    from portfoliowise.adapters.dynamodb.sessions import DynamoSessionStore
    from portfoliowise.domain.ports import SessionStore as Port

    return instrument(DynamoSessionStore(client, names), Port, table=names.session)


def _dynamo_quotes(
    client: Any, names: TableNames, clock: Clock, instrument: Instrument
) -> QuoteCache:
    from portfoliowise.adapters.dynamodb.quotes import DynamoQuoteCache
    from portfoliowise.domain.ports import QuoteCache as Port

    return instrument(DynamoQuoteCache(client, names, clock), Port, table=names.cache)


def _dynamo_limiter(
    settings: Settings, client: Any, names: TableNames, instrument: Instrument
) -> AttemptLimiter:
    from datetime import timedelta

    from portfoliowise.adapters.dynamodb.attempts import DynamoAttemptLimiter
    from portfoliowise.domain.ports import AttemptLimiter as Port

    window = timedelta(seconds=settings.auth.window_seconds)
    limiter = DynamoAttemptLimiter(client, names, settings.auth.max_failures, window)
    return instrument(limiter, Port, table=names.session)


def _s3_blobs(settings: Settings, instrument: Instrument) -> BlobStore:
    from portfoliowise.adapters.blobs.s3 import S3BlobStore, s3_client
    from portfoliowise.domain.ports import BlobStore as Port

    if not settings.backup_bucket:
        raise ValueError("BACKUP_BUCKET is not set")
    blobs = S3BlobStore(s3_client(), settings.backup_bucket)
    return instrument(blobs, Port, bucket=settings.backup_bucket)


def _eventbridge(settings: Settings, instrument: Instrument) -> EventPublisher:
    from portfoliowise.adapters.events.eventbridge import EventBridgePublisher, events_client
    from portfoliowise.domain.ports import EventPublisher as Port

    publisher = EventBridgePublisher(events_client(), settings.event_bus_name)
    return instrument(publisher, Port, bus=settings.event_bus_name)


def _invoked_warmer(settings: Settings, instrument: Instrument) -> CacheWarmer:
    from portfoliowise.adapters.functions.market_warmer import InvokedMarketWarmer, lambda_client
    from portfoliowise.application.scheduled_jobs import CacheWarmer as Port

    warmer = InvokedMarketWarmer(lambda_client(), settings.market_function_name)
    return instrument(warmer, Port, function=settings.market_function_name)


def _dynamo_analysis_jobs(
    client: Any, names: TableNames, clock: Clock, instrument: Instrument
) -> AnalysisJobs:
    from portfoliowise.adapters.dynamodb.analysis_jobs import DynamoAnalysisJobs
    from portfoliowise.domain.analysis_jobs import AnalysisJobs as Port

    return instrument(DynamoAnalysisJobs(client, names, clock), Port, table=names.cache)


# -- embedded adapters -----------------------------------------------------------------------


def _data_dir(settings: Settings) -> Path:
    if settings.data_dir is not None:
        return settings.data_dir
    from portfoliowise.adapters.sqlite.database import default_data_dir

    return default_data_dir()


def _sqlite(settings: Settings, clock: Clock) -> SqliteStores:
    from portfoliowise.adapters.sqlite.stores import open_sqlite_stores

    return open_sqlite_stores(_data_dir(settings), clock)


def _local_blobs(settings: Settings) -> BlobStore:
    from portfoliowise.adapters.blobs.local import LocalBlobStore

    return LocalBlobStore(_data_dir(settings) / BACKUPS_DIR)


def _in_process_bus() -> EventPublisher:
    from portfoliowise.adapters.events.inprocess import InProcessBus

    return InProcessBus()


def _local_limiter(settings: Settings) -> AttemptLimiter:
    from datetime import timedelta

    from portfoliowise.application.auth import InMemoryAttemptLimiter

    window = timedelta(seconds=settings.auth.window_seconds)
    return InMemoryAttemptLimiter(max_failures=settings.auth.max_failures, window=window)


def _service_warmer(market: MarketService) -> CacheWarmer:
    from portfoliowise.application.scheduled_jobs import ServiceWarmer

    return ServiceWarmer(market)


# -- market, sign-in, files ------------------------------------------------------------------


def _market_service(
    settings: Settings, cache: QuoteCache, clock: Clock, instrument: Instrument
) -> MarketService:
    """The live chain (Yahoo → … as configured) over the quote cache; each source traced
    with its name (`source`)."""
    from portfoliowise.adapters.market.calendars import calendar_for
    from portfoliowise.adapters.market.chain import (
        build_fx_sources,
        build_history_sources,
        build_quote_sources,
        live_registries,
    )
    from portfoliowise.application.market_service import MarketService
    from portfoliowise.domain.ports import FxSource, HistorySource, QuoteSource

    config = settings.market
    registries = live_registries(config, clock)
    return MarketService(
        cache,
        [
            instrument(s, QuoteSource, source=s.name)
            for s in build_quote_sources(config, registries.quotes, clock)
        ],
        [
            instrument(s, FxSource, source=s.name)
            for s in build_fx_sources(config, registries.fx, clock)
        ],
        [
            instrument(s, HistorySource, source=s.name)
            for s in build_history_sources(config, registries.history, clock)
        ],
        clock,
        calendar_for,
    )


def _cached_market(cache: QuoteCache, clock: Clock) -> MarketService:
    """Prices from the quote cache only (fresh as `cached`, older as `stale` with their
    `asOf`, else `unavailable`): no outbound call and no market SDK."""
    from portfoliowise.adapters.market.calendars import calendar_for
    from portfoliowise.application.market_service import MarketService

    return MarketService(cache, [], [], [], clock, calendar_for)


def analyst_for(settings: Settings) -> Analyst | None:
    """The OpenAI analyst when a key is configured (a secret in AWS, the key locally);
    None otherwise: the rule-based report answers, saying `no_key`."""
    if not settings.openai_key_secret and not settings.openai_key:
        return None
    from portfoliowise.adapters.openai import OpenAIAnalyst, secret_api_key

    if settings.openai_key_secret:
        import boto3

        key = secret_api_key(lambda: boto3.client("secretsmanager"), settings.openai_key_secret)
    else:
        direct = settings.openai_key

        def key() -> str | None:
            return direct

    from portfoliowise.domain.ports import Analyst as Port

    analyst = OpenAIAnalyst(api_key=key, model=settings.openai_model)
    return instrument_for(settings)(analyst, Port, model=settings.openai_model)


def _formats() -> PortfolioFormats:
    from portfoliowise.adapters.portfolio_formats import PortfolioFiles

    return PortfolioFiles()


def _read_ledger(data: bytes, **options: Any) -> LedgerFile:
    """`adapters.ledger_files.read_ledger`, imported on the first import of a file."""
    from portfoliowise.adapters.ledger_files import read_ledger

    return read_ledger(data, **options)


def _ledger_reader() -> LedgerReader:
    return _read_ledger


def _web_app_documents() -> WebAppDocuments:
    from portfoliowise.adapters.web_app_document import WebAppDocuments as Documents

    return Documents()


def _authenticator(
    settings: Settings, sessions: SessionStore, clock: Clock
) -> SessionAuthenticator:
    from portfoliowise.handlers.auth_wiring import build_session_authenticator

    authenticator = build_session_authenticator(
        settings.auth, sessions, clock, origins=settings.cors_origins
    )
    if not settings.tracing:
        return authenticator
    from portfoliowise.handlers.tracing import UserAnnotating

    # the `user` annotation (a hash of the id) once a request is authenticated
    return UserAnnotating(authenticator)  # type: ignore[return-value]


def _auth_service(
    settings: Settings,
    sessions: SessionStore,
    clock: Clock,
    limiter: AttemptLimiter,
    users: UserRegistry,
    signals: Signals,
    measurements: Measurements,
) -> AuthService:
    from portfoliowise.handlers.auth_wiring import build_auth_service

    return build_auth_service(
        settings.auth,
        sessions,
        clock,
        limiter=limiter,
        users=users,
        signals=signals,
        measurements=measurements,
        origins=settings.cors_origins,
        instrument=instrument_for(settings),
    )


def _dynamo_users(
    client: Any, names: TableNames, clock: Clock, instrument: Instrument
) -> UserRegistry:
    from portfoliowise.adapters.dynamodb.users import DynamoUserRegistry
    from portfoliowise.domain.users import UserRegistry as Port

    return instrument(DynamoUserRegistry(client, names, clock), Port, table=names.session)


def _mode(settings: Settings) -> str:
    return settings.mode


# -- signals -----------------------------------------------------------------------------------

_SNS = "sns"
_LOG = "log"


def _signal_target(settings: Settings) -> str:
    """Where signals go: the info topic when `INFO_TOPIC_ARN` is set, else log lines."""
    return _SNS if settings.info_topic_arn else _LOG


def _sns_signals(settings: Settings, instrument: Instrument) -> Signals:
    from portfoliowise.adapters.notify.sns import SnsSignals, sns_client
    from portfoliowise.domain.signals import Signals as Port

    signals = SnsSignals(sns_client, settings.info_topic_arn)  # the client: on the first publish
    return instrument(signals, Port, topic=settings.info_topic_arn.rpartition(":")[2])


def _logged_signals() -> Signals:
    import logging

    from portfoliowise.adapters.notify.logged import LoggedSignals

    return LoggedSignals(logging.getLogger("portfoliowise.signals"))


# -- the web app's console logs ------------------------------------------------------------


def _cloudwatch_client_logs(settings: Settings, instrument: Instrument) -> ClientLogSink:
    import boto3

    from portfoliowise.adapters.client_logs.cloudwatch import CloudWatchClientLogSink
    from portfoliowise.application.client_logs import ClientLogSink as Port

    sink = CloudWatchClientLogSink(boto3.client("logs"), settings.client_log_group)
    return instrument(sink, Port, log_group=settings.client_log_group)


def _file_client_logs(settings: Settings) -> ClientLogSink:
    from portfoliowise.adapters.client_logs.file import FileClientLogSink

    return FileClientLogSink(_data_dir(settings) / CLIENT_LOG_FILE)


# -- use cases, imported when first built (a function loads only the ones it serves) --------


def _portfolio_ports(**ports: Any) -> PortfolioPorts:
    from portfoliowise.application.portfolio_commands import PortfolioPorts

    return PortfolioPorts(**ports)


def _portfolio_queries(**ports: Any) -> PortfolioQueries:
    from portfoliowise.application.portfolio_queries import PortfolioQueries

    return PortfolioQueries(**ports)


def _ledger_ports(**ports: Any) -> LedgerPorts:
    from portfoliowise.application.ledger_commands import LedgerPorts

    return LedgerPorts(**ports)


def _performance_queries(**ports: Any) -> PerformanceQueries:
    from portfoliowise.application.performance_queries import PerformanceQueries

    return PerformanceQueries(**ports)


def _audit_trail(**ports: Any) -> AuditTrail:
    from portfoliowise.application.audit_trail import AuditTrail

    return AuditTrail(**ports)


def _market_queries(**ports: Any) -> MarketQueries:
    from portfoliowise.application.market_queries import MarketQueries

    return MarketQueries(**ports)


def _client_logs(**ports: Any) -> ClientLogs:
    from portfoliowise.application.client_logs import ClientLogs

    return ClientLogs(**ports)


def _analysis_ports(**ports: Any) -> AnalysisPorts:
    from portfoliowise.application.analysis import AnalysisPorts

    return AnalysisPorts(**ports)


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings.from_env)
    mode = providers.Callable(_mode, settings)
    # X-Ray subsegments around the outside-facing adapters, or none (`Settings.tracing`)
    instrument = providers.Callable(instrument_for, settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidGenerator)

    # -- AWS -------------------------------------------------------------------------
    table_names = providers.Singleton(_table_names, settings)
    dynamodb = providers.Singleton(_dynamodb)

    # -- local -----------------------------------------------------------------------
    sqlite = providers.Singleton(_sqlite, settings, clock)

    # -- the ports, by mode ----------------------------------------------------------
    portfolios = providers.Selector(
        mode,
        aws=providers.Singleton(_dynamo_portfolios, dynamodb, table_names, clock, instrument),
        local=providers.Singleton(lambda stores: stores.portfolios, sqlite),
    )
    audit_log = providers.Selector(
        mode,
        aws=providers.Singleton(_dynamo_audit, dynamodb, table_names, clock, instrument),
        local=providers.Singleton(lambda stores: stores.audit, sqlite),
    )
    sessions = providers.Selector(
        mode,
        aws=providers.Singleton(_dynamo_sessions, dynamodb, table_names, instrument),
        local=providers.Singleton(lambda stores: stores.sessions, sqlite),
    )
    quote_cache = providers.Selector(
        mode,
        aws=providers.Singleton(_dynamo_quotes, dynamodb, table_names, clock, instrument),
        local=providers.Singleton(lambda stores: stores.quotes, sqlite),
    )
    backups = providers.Selector(
        mode,
        aws=providers.Singleton(_s3_blobs, settings, instrument),
        local=providers.Singleton(_local_blobs, settings),
    )
    events = providers.Selector(
        mode,
        aws=providers.Singleton(_eventbridge, settings, instrument),
        local=providers.Singleton(_in_process_bus),
    )

    # -- market ------------------------------------------------------------------------
    # `market` is the live chain; the portfolio function overrides it with `cached_market`.
    market = providers.Singleton(_market_service, settings, quote_cache, clock, instrument)
    cached_market = providers.Singleton(_cached_market, quote_cache, clock)
    # Refreshes the cache: the market function invoked (AWS), the service itself (local).
    warmer = providers.Selector(
        mode,
        aws=providers.Singleton(_invoked_warmer, settings, instrument),
        local=providers.Singleton(_service_warmer, market),
    )

    # -- signals (domain/signals.py) ---------------------------------------------------
    # The info topic (INFO_TOPIC_ARN) or a log line; the auth and portfolio functions
    # override it with `telemetry.MetricSignals` over this one, to count each signal too.
    signals = providers.Selector(
        providers.Callable(_signal_target, settings),
        sns=providers.Singleton(_sns_signals, settings, instrument),
        log=providers.Singleton(_logged_signals),
    )

    # -- measurements (domain/measurements.py) -----------------------------------------
    # Kept nowhere by default; each Lambda function overrides it with
    # `telemetry.EmfMeasurements` over its metrics.
    measurements = providers.Singleton(NoMeasurements)

    # -- use cases -------------------------------------------------------------------
    portfolio_ports = providers.Factory(
        _portfolio_ports,
        repository=portfolios,
        events=events,
        clock=clock,
        ids=ids,
        signals=signals,
        audit_log=audit_log,
    )
    portfolio_queries = providers.Factory(
        _portfolio_queries,
        repository=portfolios,
        market=market,
        clock=clock,
        signals=signals,
        measurements=measurements,
    )
    portfolio_formats = providers.Singleton(_formats)
    # Activities live beside their portfolio: every portfolio store is also the ledger.
    ledger_ports = providers.Factory(
        _ledger_ports,
        portfolio=portfolio_ports,
        ledger=portfolios,
        reader=providers.Callable(_ledger_reader),
    )
    # Daily closes from `market`: the live chain (the market function serves the report).
    performance_queries = providers.Factory(
        _performance_queries, repository=portfolios, ledger=portfolios, history=market, clock=clock
    )
    web_app_documents = providers.Singleton(_web_app_documents)
    audit_trail = providers.Factory(_audit_trail, log=audit_log, portfolios=portfolios, clock=clock)
    market_queries = providers.Factory(_market_queries, market=market, clock=clock)

    # -- sign-in -----------------------------------------------------------------------
    # What every route but the public ones authenticates with (`SessionAuthenticator`).
    authenticator = providers.Singleton(_authenticator, settings, sessions, clock)
    # Failed sign-ins per client IP: shared by every Lambda instance in the Session table;
    # in process memory locally (one server).
    attempt_limiter = providers.Selector(
        mode,
        aws=providers.Singleton(_dynamo_limiter, settings, dynamodb, table_names, instrument),
        local=providers.Singleton(_local_limiter, settings),
    )
    # First sign-ins (sign-ups): a user item in the Session table; a table of the SQLite file.
    user_registry = providers.Selector(
        mode,
        aws=providers.Singleton(_dynamo_users, dynamodb, table_names, clock, instrument),
        local=providers.Singleton(lambda stores: stores.users, sqlite),
    )
    auth_service = providers.Singleton(
        _auth_service,
        settings,
        sessions,
        clock,
        attempt_limiter,
        user_registry,
        signals,
        measurements,
    )

    # -- analysis ----------------------------------------------------------------------
    analysis_jobs = providers.Selector(
        mode,
        aws=providers.Singleton(_dynamo_analysis_jobs, dynamodb, table_names, clock, instrument),
        local=providers.Singleton(lambda stores: stores.analysis_jobs, sqlite),
    )
    # The OpenAI analyst when a key is configured, else None (the rules answer alone).
    client_log_sink = providers.Selector(
        mode,
        aws=providers.Singleton(_cloudwatch_client_logs, settings, instrument),
        local=providers.Singleton(_file_client_logs, settings),
    )
    client_logs = providers.Singleton(_client_logs, sink=client_log_sink, clock=clock)
    analyst = providers.Singleton(analyst_for, settings)
    analysis_ports = providers.Factory(
        _analysis_ports,
        jobs=analysis_jobs,
        portfolios=portfolios,
        events=events,
        audit=audit_log,
        market=market,
        clock=clock,
        ids=ids,
        history=market,
        analyst=analyst,
    )


def container_for(settings: Settings) -> Container:
    container = Container()
    container.settings.override(providers.Object(settings))
    return container


def container_from_env(environ: Mapping[str, str]) -> Container:
    """A container configured from `environ` (tests; runtimes read the process's)."""
    return container_for(Settings.from_env(environ))


def local_container(data_dir: Path, settings: Settings | None = None) -> Container:
    """A container on the embedded store of `data_dir` (SQLite, local blobs, in-process
    bus), configured by `settings` otherwise (default: from the process environment)."""
    base = settings if settings is not None else Settings.from_env()
    return container_for(base.local(data_dir))
