"""What the routes depend on, as Powertools `Depends` providers. The routers are
module-level and never see the container: each runtime's composition root
(`handlers.bootstrap`, via `build_app`) points these at its use cases through the
resolver's `dependency_overrides`; tests override them the same way. A provider left
unwired fails loudly (500 with a log line), never silently."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.request import Request

from portfoliowise.application.analysis import AnalysisPorts
from portfoliowise.application.audit_trail import AuditTrail
from portfoliowise.application.auth import AuthService
from portfoliowise.application.client_logs import ClientLogs
from portfoliowise.application.ledger_commands import LedgerPorts
from portfoliowise.application.market_queries import MarketQueries
from portfoliowise.application.performance_queries import PerformanceQueries
from portfoliowise.application.portfolio_commands import PortfolioPorts
from portfoliowise.application.portfolio_io import PortfolioFormats
from portfoliowise.application.portfolio_queries import PortfolioQueries
from portfoliowise.application.web_app import ClientConfig
from portfoliowise.application.web_app_portfolio import WebAppDocuments
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import Unauthenticated
from portfoliowise.handlers.api.access import USER_KEY


class NotWired(RuntimeError):
    """A route's dependency that this runtime did not provide (a wiring bug)."""


def _missing(name: str) -> NotWired:
    return NotWired(f"{name} is not wired in this runtime (handlers.bootstrap)")


def portfolio_ports() -> PortfolioPorts:
    raise _missing("portfolio_ports")


def portfolio_queries() -> PortfolioQueries:
    raise _missing("portfolio_queries")


def portfolio_formats() -> PortfolioFormats:
    raise _missing("portfolio_formats")


def ledger_ports() -> LedgerPorts:
    """The activities' use cases (`application.ledger_commands`)."""
    raise _missing("ledger_ports")


def performance_queries() -> PerformanceQueries:
    raise _missing("performance_queries")


def web_app_documents() -> WebAppDocuments:
    """The existing web app's portfolio document and the domain (`/api/portfolio`)."""
    raise _missing("web_app_documents")


def audit_trail() -> AuditTrail:
    raise _missing("audit_trail")


def market_queries() -> MarketQueries:
    raise _missing("market_queries")


def analysis_ports() -> AnalysisPorts:
    raise _missing("analysis_ports")


def auth_service() -> AuthService:
    raise _missing("auth_service")


def client_logs() -> ClientLogs:
    """The web app's console entries (`POST /client-logs`)."""
    raise _missing("client_logs")


def client_config() -> ClientConfig:
    """The deployment's public configuration (the existing web app's `/config/client`)."""
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
