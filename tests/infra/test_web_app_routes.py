"""The existing web app's routes in the infrastructure: configuration, plan and Drive on the
auth function, price history on the market function (which may then read sessions and the
session-signing key to authenticate it), none of them cached by CloudFront."""

from __future__ import annotations

import json
from typing import Any

from compute_harness import Synth, function_logical_ids, synth
from infra.cdk.components.api import CACHED_API_PATHS, ROUTES, UNCACHED_API_PATHS

WEB_APP_ROUTES = {
    ("/config/client", "GET"): "auth",
    ("/v1/subscription/status", "GET"): "auth",
    ("/v1/subscription/checkout", "POST"): "auth",
    ("/v1/subscription/portal", "POST"): "auth",
    ("/drive/files", "GET"): "auth",
    ("/drive/load", "GET"): "auth",
    ("/drive/save", "POST"): "auth",
    ("/auth/google/drive/initiate", "GET"): "auth",
    ("/api/price-history", "GET"): "market",
}


def _function(result: Synth, name: str) -> dict[str, Any]:
    props: dict[str, Any] = result.raw["Resources"][function_logical_ids(result)[name]][
        "Properties"
    ]
    return props


def _statements(result: Synth, name: str) -> list[dict[str, Any]]:
    role = _function(result, name)["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in result.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _resources_of(result: Synth, name: str, action: str) -> str:
    found = []
    for statement in _statements(result, name):
        actions = statement["Action"]
        if action in ([actions] if isinstance(actions, str) else actions):
            found.append(statement["Resource"])
    return json.dumps(found)


def test_each_web_app_route_goes_to_its_function() -> None:
    routed = {(path, verb): fn for path, verbs, fn in ROUTES for verb in verbs}
    for route, function in WEB_APP_ROUTES.items():
        assert routed[route] == function, route


def test_the_web_app_routes_are_not_cached() -> None:
    for path in ("/config/client", "/v1/*", "/drive/*", "/api/price-history", "/auth/*"):
        assert path in UNCACHED_API_PATHS, path
    assert "/api/price-history" not in CACHED_API_PATHS
    result = synth()
    (distribution,) = result.resources("AWS::CloudFront::Distribution").values()
    behaviors = distribution["Properties"]["DistributionConfig"]["CacheBehaviors"]
    caching_disabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    by_path = {b["PathPattern"]: b for b in behaviors}
    for path in ("/config/client", "/v1/*", "/drive/*", "/api/price-history"):
        assert by_path[path]["CachePolicyId"] == caching_disabled, path


def test_the_market_function_can_authenticate_its_signed_in_route() -> None:
    result = synth()
    env = _function(result, "market")["Environment"]["Variables"]
    assert "SigningSecret" in json.dumps(env["SESSION_SIGNING_SECRET_ARN"])
    assert "SessionTable" in json.dumps(env["SESSION_TABLE"])
    assert "SessionTable" in _resources_of(result, "market", "dynamodb:GetItem")
    assert "SessionTable" not in _resources_of(result, "market", "dynamodb:PutItem")
    secrets = _resources_of(result, "market", "secretsmanager:GetSecretValue")
    assert "SigningSecret" in secrets
    assert "Google" not in secrets
    assert "OpenAi" not in secrets
