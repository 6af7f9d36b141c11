"""API: the design's routes to the right functions, throttling, access logs, CloudFront, WAF."""

from __future__ import annotations

from typing import Any

from compute_harness import Synth, function_logical_ids, synth
from infra.cdk import constants as C
from infra.cdk.components.api import (
    ANALYSIS_START_METHOD,
    CACHED_API_PATHS,
    ROUTES,
    UNCACHED_API_PATHS,
)


def _paths(result: Synth) -> dict[str, str]:
    """logical id of each AWS::ApiGateway::Resource -> its full path."""
    resources = result.resources("AWS::ApiGateway::Resource")
    root_refs: dict[str, str] = {}

    def path(logical: str) -> str:
        if logical in root_refs:
            return root_refs[logical]
        props = resources[logical]["Properties"]
        parent = props["ParentId"]
        prefix = path(parent["Ref"]) if "Ref" in parent else ""
        root_refs[logical] = f"{prefix}/{props['PathPart']}"
        return root_refs[logical]

    return {logical: path(logical) for logical in resources}


def _methods(result: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    paths = _paths(result)
    methods: dict[tuple[str, str], dict[str, Any]] = {}
    for method in result.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        methods[(path, props["HttpMethod"])] = props
    return methods


def test_every_route_of_the_design_goes_to_its_function() -> None:
    result = synth()
    methods = _methods(result)
    ids = function_logical_ids(result)
    expected = {
        ("/auth/google", "POST"): "auth",
        ("/market/quotes", "GET"): "market",
        ("/api/market-data", "GET"): "market",
        ("/portfolios", "GET"): "portfolio",
        ("/portfolios/{id}", "PUT"): "portfolio",
        ("/portfolios/{id}/valuation", "GET"): "portfolio",
        ("/health", "GET"): "portfolio",
        ("/openapi.json", "GET"): "portfolio",
        ("/portfolios/{id}/analysis", "POST"): "analysis",
        ("/analysis/{jobId}", "GET"): "analysis",
    }
    for path, verbs, function in ROUTES:
        for verb in verbs:
            expected.setdefault((path, verb), function)
    for (path, verb), function in expected.items():
        props = methods[(path, verb)]
        integration = props["Integration"]
        assert integration["Type"] == "AWS_PROXY", (path, verb)
        assert ids[function] in repr(integration["Uri"]), (path, verb, function)
    routed = {key for key in methods if key[1] != "OPTIONS"}
    assert routed == set(expected)


def test_client_logs_go_to_the_portfolio_function_uncached() -> None:
    result = synth()
    methods = _methods(result)
    props = methods[("/client-logs", "POST")]
    assert function_logical_ids(result)["portfolio"] in repr(props["Integration"]["Uri"])
    assert {key for key in methods if key[0] == "/client-logs" and key[1] != "OPTIONS"} == {
        ("/client-logs", "POST")
    }
    (distribution,) = result.resources("AWS::CloudFront::Distribution").values()
    behaviors = {
        b["PathPattern"]: b
        for b in distribution["Properties"]["DistributionConfig"]["CacheBehaviors"]
    }
    uncached = behaviors["/client-logs"]
    assert uncached["CachePolicyId"] == behaviors["/health"]["CachePolicyId"]
    assert "/client-logs" in UNCACHED_API_PATHS
    assert "/client-logs" not in CACHED_API_PATHS


def test_the_analysis_routes_go_to_the_analysis_function_only() -> None:
    result = synth()
    methods = _methods(result)
    analysis = function_logical_ids(result)["analysis"]
    routed = {
        key
        for key, props in methods.items()
        if key[1] != "OPTIONS" and analysis in repr(props["Integration"]["Uri"])
    }
    assert routed == {("/portfolios/{id}/analysis", "POST"), ("/analysis/{jobId}", "GET")}
    # GET of a job is not a second way to start one, and nothing else on /analysis
    assert {key for key in methods if key[0].startswith("/analysis") and key[1] != "OPTIONS"} == {
        ("/analysis/{jobId}", "GET")
    }


def test_stage_throttling_tracing_and_access_logs_kept_7_days() -> None:
    result = synth()
    (stage,) = result.resources("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == C.API_STAGE_NAME
    assert props["TracingEnabled"] is True
    settings = {(s.get("ResourcePath"), s.get("HttpMethod")): s for s in props["MethodSettings"]}
    default = settings[("/*", "*")]
    assert default["ThrottlingRateLimit"] == C.API_THROTTLE_RATE_PER_SECOND == 100
    assert default["ThrottlingBurstLimit"] == C.API_THROTTLE_BURST == 200
    assert default["DataTraceEnabled"] is False
    # one per-method setting: a tighter throttle on starting an AI analysis (reserved
    # concurrency 10 at up to 60 s per run), logging and metrics as the stage's
    start = ("/~1portfolios~1{id}~1analysis", "POST")
    assert ANALYSIS_START_METHOD == "/portfolios/{id}/analysis/POST"
    assert set(settings) == {("/*", "*"), start}
    assert settings[start]["ThrottlingRateLimit"] == C.API_ANALYSIS_THROTTLE_RATE_PER_SECOND == 2
    assert settings[start]["ThrottlingBurstLimit"] == C.API_ANALYSIS_THROTTLE_BURST == 10
    assert settings[start]["DataTraceEnabled"] is False
    assert settings[start]["LoggingLevel"] == default["LoggingLevel"] == "ERROR"
    assert settings[start]["MetricsEnabled"] is default["MetricsEnabled"] is True
    # the resource path of the setting is a deployed route
    assert ("/portfolios/{id}/analysis", "POST") in _methods(result)
    log_group = props["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    retention = result.raw["Resources"][log_group]["Properties"]["RetentionInDays"]
    assert retention == C.API_ACCESS_LOG_RETENTION_DAYS == 7


def test_cors_allows_the_configured_origins_with_credentials() -> None:
    methods = _methods(synth())
    options = methods[("/portfolios", "OPTIONS")]
    headers = options["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Credentials"] == "'true'"
    template = repr(options)
    assert "https://portfolio-wise.com" in template
    assert "http://localhost:5173" in template


def test_waf_has_the_common_rule_set_and_a_rate_rule_on_the_api_stage() -> None:
    result = synth()
    (acl,) = result.resources("AWS::WAFv2::WebACL").values()
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL"
    rules = {rule["Name"]: rule for rule in props["Rules"]}
    common = rules[C.WAF_COMMON_RULE_NAME]["Statement"]["ManagedRuleGroupStatement"]
    assert common == {"Name": "AWSManagedRulesCommonRuleSet", "VendorName": "AWS"}
    rate = rules[C.WAF_RATE_RULE_NAME]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == C.WAF_RATE_LIMIT_PER_5_MIN
    (association,) = result.resources("AWS::WAFv2::WebACLAssociation").values()
    assert "Stage" in repr(association["Properties"]["ResourceArn"])


def test_cloudfront_caches_market_data_only() -> None:
    result = synth()
    (distribution,) = result.resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    caching_disabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed CachingDisabled
    all_viewer_except_host = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    for path in ("/market/*", "/api/market-data"):
        assert behaviors[path]["CachePolicyId"] != caching_disabled
        assert "OriginRequestPolicyId" not in behaviors[path]
    for path in (
        "/auth/*",
        "/portfolios",
        "/portfolios/*",
        "/analysis/*",
        "/health",
        "/openapi.json",
    ):
        assert behaviors[path]["CachePolicyId"] == caching_disabled, path
        assert behaviors[path]["OriginRequestPolicyId"] == all_viewer_except_host, path
    (policy,) = result.resources("AWS::CloudFront::CachePolicy").values()
    cache = policy["Properties"]["CachePolicyConfig"]
    assert cache["DefaultTTL"] == C.MARKET_CACHE_DEFAULT_TTL_SECONDS
    assert cache["MaxTTL"] == C.MARKET_CACHE_MAX_TTL_SECONDS == 3600  # seed: cache TTL 1 hr
    params = cache["ParametersInCacheKeyAndForwardedToOrigin"]
    assert params["CookiesConfig"]["CookieBehavior"] == "none"
    assert params["QueryStringsConfig"]["QueryStringBehavior"] == "all"


def test_static_origin_uses_origin_access_control() -> None:
    result = synth()
    result.template.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    (distribution,) = result.resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    s3_origins = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert len(s3_origins) == 1
    assert "OriginAccessControlId" in s3_origins[0]
    assert config["Logging"]["Prefix"] == "cloudfront/"


def test_no_unacknowledged_cdk_nag_finding_in_the_api() -> None:
    findings = [v for v in synth().our_violations() if "/Api/" in v[1]]
    assert findings == []
