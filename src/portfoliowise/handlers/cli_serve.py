"""`portfoliowise serve`: the API on 127.0.0.1, on the embedded defaults (SQLite, local
blobs, in-process bus and scheduler), through the same resolver the Lambda functions run;
with `--web DIR`, the existing app's build too, on the same origin (`static_site`)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from portfoliowise.adapters.market.chain import (
    DEFAULT_FX_SOURCES,
    DEFAULT_QUOTE_SOURCES,
    FX_SOURCES,
    QUOTE_SOURCES,
)
from portfoliowise.adapters.market.sample import examples_dir
from portfoliowise.adapters.portfolio_files import load_portfolio
from portfoliowise.adapters.sqlite import default_data_dir
from portfoliowise.application.portfolio_commands import create_portfolio
from portfoliowise.application.scheduled_jobs import SCHEDULES
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import ValidationError
from portfoliowise.handlers import bootstrap, local_logging
from portfoliowise.handlers.container import Container, local_container
from portfoliowise.handlers.local_metrics import RequestMetrics, resolver_routes
from portfoliowise.handlers.local_scheduler import Scheduler
from portfoliowise.handlers.local_server import LocalServer
from portfoliowise.handlers.settings import Settings
from portfoliowise.handlers.static_site import API_PROXY, SiteError, StaticSite, WebApp

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

DEFAULT_PORT = 8000
DEMO_EMAIL = "demo@portfoliowise.local"
DEMO_USER = f"dev:{DEMO_EMAIL}"


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    serve = commands.add_parser("serve", help="serve the API locally on 127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="default: 8000")
    serve.add_argument(
        "--data-dir", type=Path, help=f"where the store lives (default: {default_data_dir()})"
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="a demo user with an example portfolio, and sample prices last in the chain",
    )
    serve.add_argument(
        "--dev-login",
        action="store_true",
        help="allow POST /auth/dev-login {email} without Google (never inside Lambda)",
    )
    serve.add_argument(
        "--no-scheduler",
        action="store_true",
        help="do not run the scheduled jobs (cache warm, backup, cleanup) in the background",
    )
    serve.add_argument(
        "--web",
        type=Path,
        metavar="DIR",
        help=f"also serve the app built in DIR, with the API under {API_PROXY}/ (same origin)",
    )
    serve.set_defaults(handler=cmd_serve)


def local_settings(
    base: Settings, data_dir: Path, *, demo: bool, dev_login: bool, port: int | None = None
) -> Settings:
    """The local server's settings: the dev login when asked (never inside Lambda), with
    `--demo` the sample prices after the configured sources, and the server's own origins
    (`http://localhost:PORT`, `http://127.0.0.1:PORT`) trusted beside the configured ones:
    the web app it serves writes from there."""
    market = dict(base.market)
    if demo:
        for setting, default in (
            (QUOTE_SOURCES, DEFAULT_QUOTE_SOURCES),
            (FX_SOURCES, DEFAULT_FX_SOURCES),
        ):
            names = [n.strip() for n in (market.get(setting) or ",".join(default)).split(",")]
            market[setting] = ",".join([n for n in names if n and n != "sample"] + ["sample"])
    auth = replace(base.auth, dev_login=dev_login and not base.inside_lambda)
    origins = base.cors_origins
    if port is not None:
        own = (f"http://localhost:{port}", f"http://127.0.0.1:{port}")
        origins = (*origins, *(o for o in own if o not in origins))
    return replace(base, auth=auth, market=market, cors_origins=origins).local(data_dir)


def api_paths(app: APIGatewayRestResolver) -> Callable[[str], bool]:
    """Whether a path is one of the resolver's routes (any method), the way the resolver
    matches it. Powertools keeps its routes in these two lists; a test checks they are
    still there."""
    rules = [route.rule for route in (*app._static_routes, *app._dynamic_routes)]
    return lambda path: any(rule.match(path) for rule in rules)


def ensure_demo_portfolio(container: Container) -> bool:
    """Create the demo user's example portfolio unless it exists; whether it was made."""
    ports = container.portfolio_ports()
    if ports.repository.list_for_user(DEMO_USER):
        return False
    loaded = load_portfolio(examples_dir() / "portfolio.json", at=ports.clock.now())
    example = loaded.portfolio
    create_portfolio(
        ports,
        user_id=DEMO_USER,
        name=example.name,
        base_currency=example.base_currency,
        holdings=example.holdings,
        targets=example.targets,
        allow_fractional=example.allow_fractional,
        context=RequestContext(user_agent="portfoliowise serve --demo"),
    )
    return True


def cmd_serve(args: argparse.Namespace) -> int:
    local_logging.configure(sys.stderr)  # JSON lines, or readable on a terminal
    site = None
    if args.web is not None:
        try:
            site = StaticSite.open(args.web)  # before anything starts
        except SiteError as exc:
            raise ValidationError(str(exc)) from None
    data_dir: Path = args.data_dir or default_data_dir()
    settings = local_settings(
        Settings.from_env(), data_dir, demo=args.demo, dev_login=args.dev_login, port=args.port
    )
    container = local_container(data_dir, settings)
    stores = container.sqlite()
    app = bootstrap.local_api(container)  # every router (with the dev login when asked)
    bootstrap.local_analysis(container)  # AnalysisRequested, consumed in a worker thread
    if args.demo and ensure_demo_portfolio(container):
        print(f"demo: created the example portfolio of {DEMO_USER}", flush=True)

    web = None if site is None else WebApp(site, api_paths(app))
    server = LocalServer(
        app.resolve,
        args.port,
        web=web,
        metrics=RequestMetrics(),  # GET /metrics: local only
        route_of=resolver_routes(app),
    )
    # Requests run concurrently (the resolver is thread-safe); jobs one at a time.
    scheduler = Scheduler(SCHEDULES, bootstrap.scheduled_jobs(container), threading.Lock())
    if not args.no_scheduler:
        scheduler.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"PortfolioWise on {server.url} (data: {data_dir})", flush=True)
    print(f"metrics: GET {server.url}/metrics", flush=True)
    if site is not None:
        print(f"web app: {server.url}/ from {site.root}, API also under {API_PROXY}/", flush=True)
    if settings.auth.dev_login:
        print(
            f'dev login: POST {server.url}/auth/dev-login {{"email": "{DEMO_EMAIL}"}}', flush=True
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()
        server.close()
        stores.close()
        print("stopped", file=sys.stderr, flush=True)
    return 0
