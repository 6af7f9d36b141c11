"""Which DynamoDB tables the adapters use: their names come from configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_PORTFOLIO_TABLE = "portfoliowise-portfolio"
DEFAULT_AUDIT_TABLE = "portfoliowise-audit"
DEFAULT_SESSION_TABLE = "portfoliowise-session"
DEFAULT_CACHE_TABLE = "portfoliowise-cache"


@dataclass(frozen=True, slots=True)
class TableNames:
    """The four tables of the design: Portfolio, Audit, Session and Cache."""

    portfolio: str = DEFAULT_PORTFOLIO_TABLE
    audit: str = DEFAULT_AUDIT_TABLE
    session: str = DEFAULT_SESSION_TABLE
    cache: str = DEFAULT_CACHE_TABLE

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TableNames:
        """From `PORTFOLIO_TABLE`, `AUDIT_TABLE`, `SESSION_TABLE` and `CACHE_TABLE` (set by
        the CDK stack on each Lambda function), each falling back to its default name.
        The runtimes get theirs from `handlers.settings`; this is for tools and tests."""
        env = environ
        return cls(
            portfolio=env.get("PORTFOLIO_TABLE") or DEFAULT_PORTFOLIO_TABLE,
            audit=env.get("AUDIT_TABLE") or DEFAULT_AUDIT_TABLE,
            session=env.get("SESSION_TABLE") or DEFAULT_SESSION_TABLE,
            cache=env.get("CACHE_TABLE") or DEFAULT_CACHE_TABLE,
        )

    def all(self) -> tuple[str, str, str, str]:
        return (self.portfolio, self.audit, self.session, self.cache)
