"""The API Gateway REST resolver: the module-level routers a runtime includes, their
dependencies pointed at that runtime's use cases, the `RequestGuard` (session, then body
checks) ahead of request validation, CORS for the configured origins with credentials and
`Vary: Origin`, `GET /health`, `GET /openapi.json` and the error mapping.

The resolver is safe to call from several threads at once (the local server serves
requests concurrently): Powertools keeps the current event, Lambda context and request
context on the resolver (and its routers); here they live in thread-local storage."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from portfoliowise.adapters.json_text import load_json
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.access import (
    CSRF_HEADER,
    USER_KEY,
    Authenticator,
    RequestGuard,
    public,
)
from portfoliowise.handlers.api.errors import register_error_handlers
from portfoliowise.handlers.api.schemas.common import Health, ok

if TYPE_CHECKING:
    from portfoliowise.application.web_app import ClientConfig
    from portfoliowise.handlers.container import Container

TITLE: Final = "PortfolioWise API"
API_VERSION: Final = "1.0.0"
ROUTER_PACKAGE: Final = "portfoliowise.handlers.api.routers"
ALL_ROUTERS: Final = (
    "auth",
    "portfolio",
    "ledger",
    "market",
    "performance",
    "analysis",
    "web_app",
    "web_app_portfolio",
    "client_logs",
)
"""The routers, each the `router` of the module of that name in `ROUTER_PACKAGE`: imported
only when a resolver includes it, so that a function loads its own routes (and their use
cases and schemas) and no other's (cold start)."""


def router_module(name: str) -> Any:
    """The module of the router `name` (one of `ALL_ROUTERS`), imported on first use."""
    if name not in ALL_ROUTERS:
        raise KeyError(f"no router {name!r}: one of {', '.join(ALL_ROUTERS)}")
    return importlib.import_module(f"{ROUTER_PACKAGE}.{name}")


def router(name: str) -> Router:
    """The router `name` (one of `ALL_ROUTERS`)."""
    found: Router = router_module(name).router
    return found


meta = Router()  # type: ignore[no-untyped-call]


@meta.get("/health", summary="Liveness", tags=["meta"], responses={200: ok(Health)})
@public
def health() -> dict[str, str]:
    return {"status": "ok"}


def cors_config(origins: Sequence[str]) -> CORSConfig:
    """CORS for `origins` only (never `*`: the API uses cookies), with credentials."""
    first, *others = origins
    return CORSConfig(
        allow_origin=first,
        extra_origins=list(others),
        allow_headers=["Authorization", "Content-Type", CSRF_HEADER, "If-Match"],
        expose_headers=["ETag", "Location", "Retry-After", "Content-Disposition"],
        max_age=600,
        allow_credentials=True,
    )


_state = threading.local()


class ApiResolver(APIGatewayRestResolver):
    """Thread-safe request state, the guard, and `Vary: Origin` on every answer."""

    def __init__(
        self,
        *,
        max_body_bytes: int,
        origins: Sequence[str],
        authenticator: Callable[[], Authenticator],
        **kwargs: Any,
    ) -> None:
        super().__init__(
            cors=cors_config(origins),
            enable_validation=True,
            json_body_deserializer=load_json,
            **kwargs,
        )
        # First in every route's chain: the session, then the body, then validation.
        self._request_validation_middleware = RequestGuard(  # type: ignore[assignment]
            authenticator, max_body_bytes, getattr(self, "_request_validation_middleware", None)
        )

    # Powertools' per-request state, per thread (shared by every resolver of the process,
    # as Powertools shares it through `BaseRouter` and module-level routers).
    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEvent:
        event: APIGatewayProxyEvent = _state.event
        return event

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEvent) -> None:
        _state.event = value

    @property
    def lambda_context(self) -> LambdaContext:
        context: LambdaContext = _state.lambda_context
        return context

    @lambda_context.setter
    def lambda_context(self, value: LambdaContext) -> None:
        _state.lambda_context = value

    @property
    def context(self) -> dict[str, Any]:
        found: dict[str, Any] | None = getattr(_state, "context", None)
        if found is None:
            found = _state.context = {}
        return found

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        _state.context = value

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        self.current_event = cast(APIGatewayProxyEvent, self._to_proxy_event(dict(event)))
        self.lambda_context = context
        _state.caller = None
        try:
            response = self._build_response(self._resolve())
        finally:
            _state.caller = self.context.get(USER_KEY)
            self.clear_context()  # type: ignore[no-untyped-call]
        return _vary_on_origin(response)

    @property
    def caller(self) -> str | None:
        """The user the last request resolved on this thread was authenticated as (None:
        a public route, or refused before a session was found): for the usage metrics."""
        found: str | None = getattr(_state, "caller", None)
        return found


def _vary_on_origin(response: dict[str, Any]) -> dict[str, Any]:
    """The answer depends on `Origin` (CORS): caches must key on it."""
    multi = response.get("multiValueHeaders")
    if isinstance(multi, dict):
        vary = [v for k, vs in multi.items() if k.lower() == "vary" for v in vs]
        if not any("origin" in v.lower() for v in vary):
            multi.setdefault("Vary", []).append("Origin")
    else:
        headers = response.setdefault("headers", {})
        if "origin" not in str(headers.get("Vary", "")).lower():
            headers["Vary"] = ", ".join(p for p in (headers.get("Vary"), "Origin") if p)
    return response


def openapi_document(app: APIGatewayRestResolver) -> str:
    """The generated document. Powertools documents its own 422, which the error handlers
    turn into a 400 in our error shape; the import route's body is the file itself."""
    doc = json.loads(app.get_openapi_json_schema(title=TITLE, version=API_VERSION))
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.pop("ResponseValidationError", None)
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "422" in responses:
                responses.pop("422")
            if "204" in responses:
                responses["204"].pop("content", None)  # no body
            generated = responses.get("200")
            if generated is not None and not generated.get("content", {}).get(
                "application/json", {}
            ).get("schema"):
                responses.pop("200")  # the route documents its real answer itself
    importing = doc.get("paths", {}).get("/portfolios/import", {}).get("post")
    if importing is not None:
        importing["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    activities = doc.get("paths", {}).get("/portfolios/{portfolio_id}/activities/import", {})
    if "post" in activities:  # the file itself: UTF-8, or Shift-JIS as octet-stream
        activities["post"]["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    return json.dumps(doc, ensure_ascii=False)


def build_app(
    container: Container,
    *,
    include: Iterable[str] = ALL_ROUTERS,
) -> ApiResolver:
    """The resolver over the routers named in `include` (`auth`, `portfolio`, `ledger`,
    `market`, `analysis`, `web_app`), their dependencies pointed at `container`'s use cases. The dev
    login route is included where the settings allow it (never inside Lambda)."""
    settings = container.settings()
    app = ApiResolver(
        max_body_bytes=settings.max_body_bytes,
        origins=settings.cors_origins,
        authenticator=lambda: container.authenticator(),
    )
    register_error_handlers(app)
    config: list[ClientConfig] = []  # made when first asked (only the web app's router does)

    def client_config() -> ClientConfig:
        if not config:
            from portfoliowise.application.web_app import client_config as made

            config.append(
                made(
                    api_version=API_VERSION,
                    google_client_id=settings.auth.google_client_id,
                    max_request_body_bytes=settings.max_body_bytes,
                )
            )
        return config[0]

    app.dependency_overrides.update(
        {
            deps.portfolio_ports: lambda: container.portfolio_ports(),
            deps.portfolio_queries: lambda: container.portfolio_queries(),
            deps.portfolio_formats: lambda: container.portfolio_formats(),
            deps.ledger_ports: lambda: container.ledger_ports(),
            deps.performance_queries: lambda: container.performance_queries(),
            deps.web_app_documents: lambda: container.web_app_documents(),
            deps.audit_trail: lambda: container.audit_trail(),
            deps.market_queries: lambda: container.market_queries(),
            deps.auth_service: lambda: container.auth_service(),
            deps.analysis_ports: lambda: container.analysis_ports(),
            deps.trusted_ip_header: lambda: settings.auth.trusted_ip_header,
            deps.client_config: client_config,
            deps.client_logs: lambda: container.client_logs(),
        }
    )

    document: list[str] = []  # generated on the first request, then reused

    @app.get("/openapi.json", include_in_schema=False)
    @public
    def openapi() -> Response[str]:
        if not document:
            document.append(openapi_document(app))
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=document[0],
        )

    app.include_router(meta)
    names = list(include)
    for name in names:
        app.include_router(router(name))
    if "auth" in names and settings.auth.dev_login:
        app.include_router(router_module("auth").dev_login_router)
    return app


def openapi_json(app: APIGatewayRestResolver) -> str:
    """The OpenAPI document as committed in `docs/openapi.json` (stable key order)."""
    return json.dumps(json.loads(openapi_document(app)), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m portfoliowise.handlers.api.app [PATH]`: write the OpenAPI document of
    every router (default `docs/openapi.json`)."""
    import sys
    from pathlib import Path

    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0] if args else "docs/openapi.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document_of_every_route(), encoding="utf-8")
    return 0


def document_of_every_route() -> str:
    """The document of the app with every router (the dev login excluded: it exists only
    on a local server that asks for it). No adapter is built to make it."""
    from portfoliowise.handlers.container import Container

    return openapi_json(build_app(Container()))


if __name__ == "__main__":
    raise SystemExit(main())
