"""The composition root: what each runtime is made of, built once at its start from one
`Settings` (read from the environment once) and the container.

| runtime | routers | market prices | built by |
|---|---|---|---|
| auth function | auth, web_app (the web app's config, plan, Drive) | — | `auth_function` |
| portfolio function | portfolio, ledger, web_app_portfolio | Cache table | `portfolio_function` |
| market function | market | the live chain over the Cache table | `market_function` |
| analysis function | analysis (+ its events) | the Cache table only | `analysis_function` |
| scheduled function | — (jobs, change events) | the market function, invoked | `scheduled_jobs` |
| `serve` | all (+ dev login if asked) | the live chain over SQLite | `local_api`, jobs |
| CLI backup/restore | — | — | `local_container` |

The portfolio function also takes the web app's console logs (`client_logs`).

The market function's routes are public except the web app's price history, which the
container's authenticator checks like every signed-in route (the function reads the
Session table and the session-signing secret for it). Each imports only the adapters its
runtime uses (the container's factories import them on first use)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from portfoliowise.handlers.container import Container

if TYPE_CHECKING:
    from portfoliowise.handlers.api.app import ApiResolver
    from portfoliowise.handlers.jobs import Job


def build_app(container: Container, *, include: Iterable[str] | None = None) -> ApiResolver:
    """`api.app.build_app`, imported when an API is built (the scheduled function has none)."""
    from portfoliowise.handlers.api import app

    return app.build_app(container, include=app.ALL_ROUTERS if include is None else include)


def auth_function(container: Container) -> ApiResolver:
    return build_app(container, include=("auth", "web_app"))


def portfolio_function(container: Container) -> ApiResolver:
    """Valuations price from the Cache table (warmed by the scheduled job and the market
    function): this function makes no outbound market call and never loads yfinance. The
    performance report, which needs years of daily closes, is the market function's."""
    container.market.override(container.cached_market)
    return build_app(container, include=("portfolio", "ledger", "web_app_portfolio", "client_logs"))


def market_function(container: Container) -> ApiResolver:
    """Quotes and history from the live chain, and the performance report over them (it
    reads the portfolio and its activities from the Portfolio table)."""
    return build_app(container, include=("market", "performance"))


def analysis_function(container: Container) -> ApiResolver:
    """The analysis routes; valuations from the Cache table (its only outbound call is
    the AI analyst's)."""
    container.market.override(container.cached_market)
    return build_app(container, include=("analysis",))


def local_analysis(container: Container, *, background: bool = True) -> None:
    """Run the `AnalysisRequested` consumer on the in-process bus (serve, the CLI), in a
    worker thread so that the request that asked returns at once (or inline)."""
    from concurrent.futures import ThreadPoolExecutor

    from portfoliowise.adapters.events.inprocess import InProcessBus
    from portfoliowise.application.analysis import run_analysis
    from portfoliowise.domain.analysis_jobs import AnalysisRequested
    from portfoliowise.domain.events import DomainEvent

    bus = container.events()
    if not isinstance(bus, InProcessBus):
        raise TypeError("the local analysis consumer runs on the in-process bus")
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")

    def consume(event: DomainEvent) -> None:
        if not isinstance(event, AnalysisRequested):
            return
        job = event.job_id
        ports = container.analysis_ports()
        if background:
            worker.submit(run_analysis, ports, job_id=job, event_id=event.event_id)
        else:
            run_analysis(ports, job_id=job, event_id=event.event_id)

    bus.subscribe(AnalysisRequested.__name__, consume)


def local_api(container: Container) -> ApiResolver:
    """Every router, on the embedded store (`portfoliowise serve`)."""
    return build_app(container)


def scheduled_jobs(container: Container) -> dict[str, Job]:
    """The jobs of `SCHEDULES`: the same functions in Lambda and in the local scheduler,
    each run announced with a `JobCompleted` on the container's event publisher."""
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
            Purge("analysis jobs", stores.analysis_jobs.purge_expired),
        ]
    return build_jobs(
        repository=container.portfolios(),
        backups=container.backups(),
        reference=container.backups(),  # `reference/jpx/…`, as in the bucket
        warmer=container.warmer(),
        clock=container.clock(),
        purges=purges,
        events=container.events(),
    )
