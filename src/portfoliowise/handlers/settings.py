"""Every setting of every runtime, read from the environment once (`Settings.from_env`).

Nothing else in the product reads `os.environ`: the composition root (`bootstrap`) reads
it here at start-up and hands each adapter the values it needs. The README's
"Configuration" table lists every variable below.

Decided here, once: the mode (`aws` inside Lambda, else `local`), whether the local
dev login exists (`DEV_LOGIN` on *and* not inside Lambda, whatever the flag says), and
whether X-Ray traces are recorded (Powertools Tracer's own rule: inside the Lambda runtime,
`LAMBDA_TASK_ROOT`, unless `POWERTOOLS_TRACE_DISABLED` or a local emulator says otherwise)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

AWS = "aws"
LOCAL = "local"
LAMBDA_MARKER = "AWS_LAMBDA_FUNCTION_NAME"
# Set by the Lambda runtime itself (not by the stack): where X-Ray's daemon listens.
LAMBDA_RUNTIME_MARKER = "LAMBDA_TASK_ROOT"
# Local Lambda emulators set these beside `LAMBDA_TASK_ROOT`: no daemon there.
EMULATOR_MARKERS = ("AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE")
DEFAULT_CORS_ORIGINS = (
    "https://portfolio-wise.com",
    "http://localhost:3000",
    "http://localhost:5173",
    "http://localhost:8000",
)
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_BUS_NAME = "portfoliowise"
DEFAULT_MAX_FAILURES = 5
DEFAULT_WINDOW_SECONDS = 15 * 60
DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_PORTFOLIO_TABLE = "portfoliowise-portfolio"
DEFAULT_AUDIT_TABLE = "portfoliowise-audit"
DEFAULT_SESSION_TABLE = "portfoliowise-session"
DEFAULT_CACHE_TABLE = "portfoliowise-cache"
# The market chain's settings, passed to `adapters.market.chain` as they are.
MARKET_VARIABLES = (
    "QUOTE_SOURCES",
    "FX_SOURCES",
    "HISTORY_SOURCES",
    "PAID_QUOTES_SECRET",
    "YFINANCE_CACHE_DIR",
)
_TRUE = frozenset({"1", "true", "yes", "on"})


class SettingsError(ValueError):
    """A variable with a value the product cannot use: the runtime does not start."""


def _get(environ: Mapping[str, str], *names: str) -> str:
    """The first non-blank value of `names` (a variable may have an older spelling)."""
    for name in names:
        value = (environ.get(name) or "").strip()
        if value:
            return value
    return ""


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = _get(environ, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _tracing(environ: Mapping[str, str]) -> bool:
    """X-Ray on: inside the Lambda runtime, not in an emulator, not turned off. The same
    rule as Powertools' `Tracer`, decided here so that the adapters' subsegments and the
    function's tracer agree (the CLI, `serve` and tests never trace: no daemon there)."""
    if _get(environ, "POWERTOOLS_TRACE_DISABLED").lower() in _TRUE:
        return False
    in_runtime = bool(_get(environ, LAMBDA_RUNTIME_MARKER))
    return in_runtime and not any(_get(environ, name) for name in EMULATOR_MARKERS)


def _list(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(p.strip().rstrip("/") for p in _get(environ, name).split(",") if p.strip())


@dataclass(frozen=True, slots=True)
class Tables:
    """The four DynamoDB tables of the design."""

    portfolio: str = DEFAULT_PORTFOLIO_TABLE
    audit: str = DEFAULT_AUDIT_TABLE
    session: str = DEFAULT_SESSION_TABLE
    cache: str = DEFAULT_CACHE_TABLE


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Sign-in and sessions (see `handlers/auth_wiring.py` for how each is used)."""

    google_client_id: str = ""
    google_client_secret_name: str = ""  # Secrets Manager (AWS)
    google_client_secret: str = ""  # the secret itself (local)
    google_redirect_uris: tuple[str, ...] = ()
    signing_secret_name: str = ""  # Secrets Manager (AWS)
    signing_key: str = ""  # the key itself (local)
    kms_key_id: str = ""
    trusted_ip_header: str = ""
    dev_login: bool = False
    max_failures: int = DEFAULT_MAX_FAILURES
    window_seconds: int = DEFAULT_WINDOW_SECONDS
    inside_lambda: bool = False
    data_dir: Path | None = None  # where local key files live (never inside Lambda)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AuthSettings:
        inside = bool(_get(environ, LAMBDA_MARKER))
        data_dir = _get(environ, "PORTFOLIOWISE_DATA_DIR", "DATA_DIR")
        return cls(
            google_client_id=_get(environ, "GOOGLE_CLIENT_ID"),
            google_client_secret_name=_get(
                environ, "GOOGLE_CLIENT_SECRET_NAME", "GOOGLE_CLIENT_SECRET_ARN"
            ),
            google_client_secret=_get(environ, "GOOGLE_CLIENT_SECRET"),
            google_redirect_uris=tuple(
                u.strip() for u in _get(environ, "GOOGLE_REDIRECT_URIS").split(",") if u.strip()
            ),
            signing_secret_name=_get(
                environ, "SESSION_SIGNING_SECRET_NAME", "SESSION_SIGNING_SECRET_ARN"
            ),
            signing_key=_get(environ, "SESSION_SIGNING_KEY"),
            kms_key_id=_get(environ, "SESSION_KMS_KEY_ID", "SESSION_TOKEN_KEY_ARN"),
            trusted_ip_header=_get(environ, "TRUSTED_IP_HEADER", "CLIENT_IP_HEADER"),
            dev_login=_get(environ, "DEV_LOGIN").lower() in _TRUE and not inside,
            max_failures=_int(environ, "SIGN_IN_MAX_FAILURES", DEFAULT_MAX_FAILURES),
            window_seconds=_int(environ, "SIGN_IN_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS),
            inside_lambda=inside,
            data_dir=Path(data_dir) if data_dir else None,
        )


@dataclass(frozen=True, slots=True)
class Settings:
    mode: str = LOCAL
    inside_lambda: bool = False
    data_dir: Path | None = None
    tables: Tables = field(default_factory=Tables)
    backup_bucket: str = ""
    event_bus_name: str = DEFAULT_BUS_NAME
    market_function_name: str = ""
    service_name: str = ""  # POWERTOOLS_SERVICE_NAME: the metrics' `service` dimension
    tracing: bool = False  # X-Ray subsegments per adapter call (handlers/tracing.py)
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    auth: AuthSettings = field(default_factory=AuthSettings)
    market: Mapping[str, str] = field(default_factory=dict)
    openai_key_secret: str = ""  # Secrets Manager secret of the OpenAI API key (AWS)
    openai_key: str = ""  # the key itself (local)
    openai_model: str = DEFAULT_OPENAI_MODEL
    info_topic_arn: str = ""  # the info SNS topic signals go to (none: log lines)
    client_log_group: str = "/custom/application"  # the web app's console logs (AWS)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        inside = bool(_get(env, LAMBDA_MARKER))
        mode = _get(env, "PORTFOLIOWISE_MODE").lower() or (AWS if inside else LOCAL)
        if mode not in (AWS, LOCAL):
            raise SettingsError(f"PORTFOLIOWISE_MODE must be {AWS!r} or {LOCAL!r}, got {mode!r}")
        data_dir = _get(env, "PORTFOLIOWISE_DATA_DIR", "DATA_DIR")
        return cls(
            mode=mode,
            inside_lambda=inside,
            data_dir=Path(data_dir) if data_dir else None,
            tables=Tables(
                portfolio=_get(env, "PORTFOLIO_TABLE") or DEFAULT_PORTFOLIO_TABLE,
                audit=_get(env, "AUDIT_TABLE") or DEFAULT_AUDIT_TABLE,
                session=_get(env, "SESSION_TABLE") or DEFAULT_SESSION_TABLE,
                cache=_get(env, "CACHE_TABLE") or DEFAULT_CACHE_TABLE,
            ),
            backup_bucket=_get(env, "BACKUP_BUCKET"),
            event_bus_name=_get(env, "EVENT_BUS_NAME") or DEFAULT_BUS_NAME,
            market_function_name=_get(env, "MARKET_FUNCTION_NAME"),
            service_name=_get(env, "POWERTOOLS_SERVICE_NAME"),
            tracing=_tracing(env),
            cors_origins=_list(env, "CORS_ORIGINS") or DEFAULT_CORS_ORIGINS,
            max_body_bytes=_int(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            auth=AuthSettings.from_env(env),
            market={name: _get(env, name) for name in MARKET_VARIABLES if _get(env, name)},
            openai_key_secret=_get(env, "OPENAI_API_KEY_SECRET"),
            openai_key=_get(env, "OPENAI_API_KEY"),
            openai_model=_get(env, "OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
            info_topic_arn=_get(env, "INFO_TOPIC_ARN"),
            client_log_group=_get(env, "CLIENT_LOG_GROUP") or "/custom/application",
        )

    def local(self, data_dir: Path) -> Settings:
        """These settings on the embedded store of `data_dir` (serve, the CLI, tests)."""
        auth = replace(self.auth, data_dir=data_dir)
        return replace(self, mode=LOCAL, data_dir=data_dir, auth=auth)
