"""The API Gateway REST resolver: the routers of each concern, request validation
(pydantic), the OpenAPI document at `GET /openapi.json`, CORS for the configured origins
with credentials, a request body limit, `GET /health` and the error mapping."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from portfoliowise.domain.errors import PayloadTooLarge
from portfoliowise.handlers.api.current_user import CSRF_HEADER
from portfoliowise.handlers.api.errors import register_error_handlers
from portfoliowise.handlers.api.routers import auth, market, portfolio

if TYPE_CHECKING:
    from portfoliowise.handlers.container import Container

TITLE: Final = "PortfolioWise API"
API_VERSION: Final = "1.0.0"
ROUTERS: Final[dict[str, Callable[[Container], Router]]] = {
    "auth": auth.build_router,
    "portfolio": portfolio.build_router,
    "market": market.build_router,
}
ALL_ROUTERS: Final = ("auth", "portfolio", "market")


def cors_config(origins: Sequence[str]) -> CORSConfig:
    """CORS for `origins` only (never `*`: the API uses cookies), with credentials."""
    first, *others = origins
    return CORSConfig(
        allow_origin=first,
        extra_origins=list(others),
        allow_headers=["Content-Type", CSRF_HEADER, "If-Match"],
        expose_headers=["ETag", "Location", "Retry-After", "Content-Disposition"],
        max_age=600,
        allow_credentials=True,
    )


def decimal_json(text: str) -> Any:
    """JSON numbers in request bodies become `Decimal`s (exact), never floats."""
    return json.loads(text, parse_float=Decimal)


def body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if not isinstance(body, str):
        return 0
    return len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())


class ApiResolver(APIGatewayRestResolver):
    """The resolver with a request body limit, checked before anything parses the body
    (Powertools runs request validation ahead of every middleware)."""

    def __init__(self, *, max_body_bytes: int, origins: Sequence[str], **kwargs: Any) -> None:
        super().__init__(cors=cors_config(origins), **kwargs)
        self.max_body_bytes = max_body_bytes
        self.origins = frozenset(origins)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        if body_size(event) > self.max_body_bytes:
            return self._too_large(event)
        return super().resolve(event, context)

    def _too_large(self, event: Mapping[str, Any]) -> dict[str, Any]:
        error = PayloadTooLarge(f"the request body is over {self.max_body_bytes} bytes")
        body = {"error": {"code": error.code, "message": str(error)}}
        headers = {"Content-Type": content_types.APPLICATION_JSON}
        sent = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
        origin = sent.get("origin")
        if isinstance(origin, str) and origin in self.origins:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Allow-Credentials"] = "true"
        return {
            "statusCode": 413,
            "headers": headers,
            "multiValueHeaders": {},
            "body": json.dumps(body),
            "isBase64Encoded": False,
        }


ERROR_SCHEMA: Final = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}
ERROR_STATUSES: Final = {
    "400": "Invalid request (validation_error and the domain's rule codes)",
    "401": "No valid session",
    "403": "Refused (CSRF token missing or wrong)",
    "404": "No such resource (or another user's)",
    "409": "Stale version: details.currentVersion",
    "413": "Request body too large",
    "429": "Rate limited: see Retry-After",
    "503": "A data source is unavailable",
    "500": "Unexpected error: details.requestId",
}
SUCCESS_STATUS: Final = {("post", "/portfolios"): "201", ("post", "/portfolios/import"): "201"}


def openapi_document(app: APIGatewayRestResolver) -> str:
    """The generated document, with the error shape and statuses this API answers
    (Powertools documents its own 422, which the error handlers turn into a 400)."""
    doc = json.loads(app.get_openapi_json_schema(title=TITLE, version=API_VERSION))
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            ok = responses.pop("200", None) or {"description": "Successful Response"}
            ok["content"] = {"application/json": {"schema": {"type": "object"}}}
            if method == "delete":
                responses["204"] = {"description": "Deleted"}
            elif path.endswith("/export"):
                ok["content"]["text/csv"] = {"schema": {"type": "string"}}
                responses["200"] = ok
            else:
                responses[SUCCESS_STATUS.get((method, path), "200")] = ok
            for status, description in ERROR_STATUSES.items():
                responses[status] = {"description": description, "content": error_content}
    importing = doc.get("paths", {}).get("/portfolios/import", {}).get("post")
    if importing is not None:
        importing["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    return json.dumps(doc, ensure_ascii=False)


def build_app(
    container: Container,
    *,
    include: Iterable[str] = ALL_ROUTERS,
    extra_routers: Iterable[Router] = (),
) -> ApiResolver:
    """The resolver over the routers named in `include` (`portfolio`, `market`) and any
    `extra_routers` (the auth router), wired to `container`."""
    settings = container.settings()
    app = ApiResolver(
        max_body_bytes=settings.max_body_bytes,
        origins=settings.cors_origins,
        enable_validation=True,
        json_body_deserializer=decimal_json,
    )
    register_error_handlers(app)

    @app.get("/health", summary="Liveness", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=openapi_document(app),
        )

    for name in include:
        app.include_router(ROUTERS[name](container))
    for router in extra_routers:
        app.include_router(router)
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
    """The document of the app with every router, built over a throw-away local data dir
    (the auth router's local keys are made there, not in the user's data dir)."""
    import tempfile
    from pathlib import Path

    from portfoliowise.handlers.container import local_container

    with tempfile.TemporaryDirectory() as data_dir:
        container = local_container(Path(data_dir))
        try:
            return openapi_json(build_app(container))
        finally:
            container.sqlite().close()


if __name__ == "__main__":
    raise SystemExit(main())
