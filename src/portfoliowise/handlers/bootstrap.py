"""The composition root: what each runtime is made of, built once at its start from one
`Settings` (read from the environment once) and the container.

| runtime | routers | market prices | built by |
|---|---|---|---|
| auth function | auth | — | `auth_function` |
| portfolio function | portfolio | the Cache table only (no outbound call) | `portfolio_function` |
| market function | market | the live chain over the Cache table | `market_function` |
| scheduled function | — (jobs, change events) | the market function, invoked | `scheduled_jobs` |
| `serve` | all (+ dev login if asked) | the live chain over SQLite | `local_api`, jobs |
| CLI backup/restore | — | — | `local_container` |

Each imports only the adapters its runtime uses (the container's factories import them on
first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portfoliowise.handlers.api.app import ApiResolver, build_app
from portfoliowise.handlers.container import Container

if TYPE_CHECKING:
    from portfoliowise.handlers.jobs import Job


def auth_function(container: Container) -> ApiResolver:
    return build_app(container, include=("auth",))


def portfolio_function(container: Container) -> ApiResolver:
    """Valuations price from the Cache table (warmed by the scheduled job and the market
    function): this function makes no outbound market call and never loads yfinance."""
    container.market.override(container.cached_market)
    return build_app(container, include=("portfolio",))


def market_function(container: Container) -> ApiResolver:
    return build_app(container, include=("market",))


def local_api(container: Container) -> ApiResolver:
    """Every router, on the embedded store (`portfoliowise serve`)."""
    return build_app(container)


def scheduled_jobs(container: Container) -> dict[str, Job]:
    """The jobs of `SCHEDULES`: the same functions in Lambda and in the local scheduler."""
    from portfoliowise.application.scheduled_jobs import Purge
    from portfoliowise.handlers.jobs import build_jobs

    purges: list[Purge] = []
    if container.settings().mode != "aws":  # DynamoDB expires items by TTL on its own
        stores = container.sqlite()
        clock = container.clock()
        purges = [
            Purge("sessions", lambda: stores.sessions.purge_expired(clock.now())),
            Purge("cache", stores.quotes.purge_expired),
            Purge("audit", stores.audit.purge_expired),
        ]
    return build_jobs(
        repository=container.portfolios(),
        backups=container.backups(),
        reference=container.backups(),  # `reference/jpx/…`, as in the bucket
        warmer=container.warmer(),
        clock=container.clock(),
        purges=purges,
    )
