"""Fuzz: hypothesis builds requests from the committed OpenAPI document (its paths,
methods, parameters and bodies, with random values) and sends them to the resolver as
proxy events. Whatever comes in: no 5xx, and every 4xx has the error shape."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from api_harness import NOW, assert_error_shape, call, fake_container, load_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.handlers.api.app import build_app

DOC = json.loads(
    (Path(__file__).resolve().parents[3] / "docs" / "openapi.json").read_text(encoding="utf-8")
)
OPERATIONS = sorted(
    (path, method, operation)
    for path, operations in DOC["paths"].items()
    for method, operation in operations.items()
    if not isinstance(operation, str)
)
PID = "p-0001"
_CREATE = json.loads(load_event("create_portfolio.json")["body"])
EXAMPLES: dict[str, dict[str, Any]] = {
    "PortfolioIn": _CREATE,
    "PortfolioReplace": {**_CREATE, "version": 1},
    "SimulateIn": {"budget": {"amount": "100000", "currency": "JPY"}, "mode": "rebalance"},
}

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["100", "-1", "1e400", "1e30", "NaN", "0.0001", "JPY", "USD", "7203", "AAPL"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "JPY", "usd", "json", "csv", "AAPL,7203", "1y", "us-stock", "holding"]),
)
path_ids = st.one_of(
    st.just(PID), st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1)
)


def _body_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A body shaped like the schema's properties (random values), or any JSON at all."""
    ref = schema.get("$ref", "")
    target = DOC["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else schema
    props = list(target.get("properties", {}))
    shaped = st.fixed_dictionaries({}, optional=dict.fromkeys(props, json_values))
    example = EXAMPLES.get(ref.rsplit("/", 1)[-1])
    if example is None:
        return st.one_of(shaped, json_values)
    return st.one_of(st.just(example), _mutated(example), shaped, json_values)


def _mutated(example: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid example with one field replaced by a random value, or dropped."""
    keys = st.sampled_from(sorted(example))
    replaced = st.builds(lambda k, v: {**example, k: v}, keys, json_values)
    dropped = st.builds(lambda k: {x: y for x, y in example.items() if x != k}, keys)
    return st.one_of(replaced, dropped)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    path, method, operation = draw(st.sampled_from(OPERATIONS))
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", draw(path_ids))
    query = {
        p["name"]: draw(texts)
        for p in operation.get("parameters", [])
        if p["in"] == "query" and (p.get("required") or draw(st.booleans()))
    }
    body: Any = ...
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = draw(_body_for(content["application/json"]["schema"]))
    elif method in ("post", "put"):
        body = draw(json_values)
    headers = {"If-Match": draw(st.sampled_from(['"1"', 'W/"2"', "x", '"99"']))}
    return {
        "method": method.upper(),
        "path": path,
        "query": query,
        "body": body,
        "user": draw(st.sampled_from(["userA", "userB", None])),
        "headers": headers,
    }


APP = None
STATUSES: dict[int, int] = {}


def _app() -> Any:
    global APP
    if APP is None:
        APP = build_app(fake_container(FixedClock(NOW)))
        status, _, _ = call(APP, "create_portfolio.json")
        assert status == 201
    return APP


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_no_5xx_and_every_4xx_has_the_error_shape(request: dict[str, Any]) -> None:
    event = "create_portfolio.json" if request["method"] in ("POST", "PUT") else "health.json"
    status, _, body = call(_app(), event, **request)
    STATUSES[status] = STATUSES.get(status, 0) + 1
    assert status < 500, (request, body)
    if status >= 400:
        assert_error_shape(status, body)
