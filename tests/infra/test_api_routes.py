"""Infra and code agree on the HTTP API: every API Gateway method of the synthesized app is a
route of the code, as documented in `docs/openapi.json` (generated from the code; a test in
tests/integration/api keeps it current), and goes to the function whose routers serve it.

Paths are compared by shape: API Gateway names a placeholder `{id}` where the code names it
`{portfolio_id}`; placeholders match any placeholder."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from infra.cdk import constants as C
from infra_synth import Synth

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
SYNTHS = ("default_synth", "dr_synth", "standby_synth")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")

# Routes of the code the document leaves out: the document's own route (registered with
# `include_in_schema=False` in handlers/api/app.py; tests/integration/api/test_openapi.py
# checks that the API serves it).
UNDOCUMENTED_CODE_ROUTES = frozenset({("GET", "/openapi.json")})
# Documented routes that no API Gateway method serves, on purpose (none today: the local-only
# `POST /auth/dev-login` is not in the document, which is generated without it).
UNDEPLOYED_DOCUMENTED_ROUTES: frozenset[tuple[str, str]] = frozenset()
# The document's tags -> the function whose routers carry them (handlers/lambdas/*.py);
# "meta" (/health) is served by every API function.
FUNCTION_OF_TAG = {
    "auth": "auth",
    "market": "market",
    "portfolios": "portfolio",
    "analysis": "analysis",
}
EVERY_API_FUNCTION = "meta"


def shape(path: str) -> str:
    """`/portfolios/{portfolio_id}/valuation` -> `/portfolios/{}/valuation`."""
    return re.sub(r"\{[^}/]+\}", "{}", path)


def documented() -> dict[tuple[str, str], list[str]]:
    """(METHOD, path shape) -> the operation's tags, for every operation of the document."""
    paths = json.loads(OPENAPI.read_text(encoding="utf-8"))["paths"]
    return {
        (method.upper(), shape(path)): list(operation.get("tags", []))
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method.upper() in HTTP_METHODS
    }


def _resource_paths(template: dict[str, Any]) -> dict[str, str]:
    resources = {
        name: r["Properties"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::ApiGateway::Resource"
    }
    found: dict[str, str] = {}

    def path(logical: str) -> str:
        if logical not in found:
            parent = resources[logical]["ParentId"]
            prefix = path(parent["Ref"]) if "Ref" in parent else ""
            found[logical] = f"{prefix}/{resources[logical]['PathPart']}"
        return found[logical]

    return {logical: path(logical) for logical in resources}


def deployed(synth: Synth) -> dict[tuple[str, str, str], str]:
    """(stack, METHOD, path) -> the function's name (from its handler), for every API
    Gateway method of every stack except the CORS preflights (OPTIONS)."""
    methods: dict[tuple[str, str, str], str] = {}
    for stack, template in synth.templates.items():
        resources = template["Resources"]
        paths = _resource_paths(template)
        handlers = {
            name: r["Properties"]["Handler"]
            for name, r in resources.items()
            if r["Type"] == "AWS::Lambda::Function"
        }
        for resource in resources.values():
            if resource["Type"] != "AWS::ApiGateway::Method":
                continue
            props = resource["Properties"]
            if props["HttpMethod"] == "OPTIONS":
                continue
            target = props["ResourceId"]
            path = paths[target["Ref"]] if "Ref" in target else "/"
            uri = json.dumps(props["Integration"]["Uri"])
            (function,) = [name for name in handlers if f'"{name}"' in uri]
            name = handlers[function].removeprefix(f"{C.LAMBDA_HANDLER_PACKAGE}.")
            methods[(stack, props["HttpMethod"], path)] = name.removesuffix(".handler")
    return methods


@pytest.mark.parametrize("fixture", SYNTHS)
def test_every_api_gateway_method_is_a_route_of_the_code(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    methods = deployed(synth)
    assert methods
    routes = set(documented()) | {(m, shape(p)) for m, p in UNDOCUMENTED_CODE_ROUTES}
    unknown = sorted(
        f"{stack}: {method} {path}"
        for stack, method, path in methods
        if (method, shape(path)) not in routes
    )
    assert unknown == [], "API Gateway methods with no route in the code (docs/openapi.json)"


@pytest.mark.parametrize("fixture", SYNTHS)
def test_every_documented_route_is_deployed(request: pytest.FixtureRequest, fixture: str) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    served: dict[str, set[tuple[str, str]]] = {}
    for stack, method, path in deployed(synth):
        served.setdefault(stack, set()).add((method, shape(path)))
    expected_missing = {(m, shape(p)) for m, p in UNDEPLOYED_DOCUMENTED_ROUTES}
    for stack, routes in served.items():
        assert set(documented()) - routes == expected_missing, stack


@pytest.mark.parametrize("fixture", SYNTHS)
def test_each_method_goes_to_the_function_that_serves_it(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    tags = documented()
    wrong = []
    for (stack, method, path), function in deployed(synth).items():
        operation = tags.get((method, shape(path)))
        if operation is None:  # the document's own route: every API function serves it
            assert function in C.LAMBDA_API_FUNCTION_NAMES
            continue
        (tag,) = operation
        expected = (
            set(C.LAMBDA_API_FUNCTION_NAMES)
            if tag == EVERY_API_FUNCTION
            else {FUNCTION_OF_TAG[tag]}
        )
        if function not in expected:
            wrong.append(f"{stack}: {method} {path} -> {function}, served by {sorted(expected)}")
    assert wrong == []


def test_the_document_and_the_exceptions_agree() -> None:
    routes = documented()
    for method, path in UNDOCUMENTED_CODE_ROUTES:
        assert (method, shape(path)) not in routes, "documented now: drop the exception"
    assert {tag for found in routes.values() for tag in found} <= {
        *FUNCTION_OF_TAG,
        EVERY_API_FUNCTION,
    }
    assert shape("/portfolios/{portfolio_id}/valuation") == shape("/portfolios/{id}/valuation")
    assert shape("/analysis/{jobId}") != shape("/portfolios/{id}")
