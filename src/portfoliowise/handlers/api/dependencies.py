"""What the routes depend on, as Powertools `Depends` providers. The routers are
module-level and never see the container: each runtime's composition root
(`handlers.bootstrap`, via `build_app`) points these at its use cases through the
resolver's `dependency_overrides`; tests override them the same way. A provider left
unwired fails loudly (500 with a log line), never silently.

The placeholders import no use case, so that a function imports only those of its own
routers (cold start). They never return (`NoReturn`): Powertools evaluates a provider's
annotations at run time, so they cannot name a type imported for the type checker only;
the routers' `Annotated[<type>, Depends(...)]` carry the types."""

from __future__ import annotations

from typing import NoReturn

from aws_lambda_powertools.event_handler.request import Request

from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import Unauthenticated
from portfoliowise.handlers.api.access import USER_KEY


class NotWired(RuntimeError):
    """A route's dependency that this runtime did not provide (a wiring bug)."""


def _missing(name: str) -> NotWired:
    return NotWired(f"{name} is not wired in this runtime (handlers.bootstrap)")


def portfolio_ports() -> NoReturn:
    """Stands for `application.portfolio_commands.PortfolioPorts`."""
    raise _missing("portfolio_ports")


def portfolio_queries() -> NoReturn:
    """Stands for `application.portfolio_queries.PortfolioQueries`."""
    raise _missing("portfolio_queries")


def portfolio_formats() -> NoReturn:
    """Stands for `application.portfolio_io.PortfolioFormats`."""
    raise _missing("portfolio_formats")


def ledger_ports() -> NoReturn:
    """The activities' use cases: `application.ledger_commands.LedgerPorts`."""
    raise _missing("ledger_ports")


def performance_queries() -> NoReturn:
    """Stands for `application.performance_queries.PerformanceQueries`."""
    raise _missing("performance_queries")


def web_app_documents() -> NoReturn:
    """The existing web app's portfolio document and the domain (`/api/portfolio`):
    `application.web_app_portfolio.WebAppDocuments`."""
    raise _missing("web_app_documents")


def audit_trail() -> NoReturn:
    """Stands for `application.audit_trail.AuditTrail`."""
    raise _missing("audit_trail")


def market_queries() -> NoReturn:
    """Stands for `application.market_queries.MarketQueries`."""
    raise _missing("market_queries")


def analysis_ports() -> NoReturn:
    """Stands for `application.analysis.AnalysisPorts`."""
    raise _missing("analysis_ports")


def auth_service() -> NoReturn:
    """Stands for `application.auth.AuthService`."""
    raise _missing("auth_service")


def client_logs() -> NoReturn:
    """The web app's console entries (`POST /client-logs`):
    `application.client_logs.ClientLogs`."""
    raise _missing("client_logs")


def client_config() -> NoReturn:
    """The deployment's public configuration (the existing web app's `/config/client`):
    `application.web_app.ClientConfig`."""
    raise _missing("client_config")


def trusted_ip_header() -> str:
    """The header holding the client IP (empty: API Gateway's `sourceIp`)."""
    return ""


def current_user(request: Request) -> str:
    """The signed-in user (the `RequestGuard` authenticated the request before the route)."""
    user = request.context.get(USER_KEY)
    if not isinstance(user, str) or not user:
        raise Unauthenticated("sign in first")
    return user


def request_context(request: Request) -> RequestContext:
    """Where the request came from, for the audit trail."""
    event = request.resolved_event
    identity = (event.raw_event.get("requestContext") or {}).get("identity") or {}
    agent = event.headers.get("User-Agent") or identity.get("userAgent")
    return RequestContext(ip=str(identity.get("sourceIp") or ""), user_agent=str(agent or ""))
