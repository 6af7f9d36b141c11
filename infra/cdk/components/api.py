"""API: the REST API of DESIGN.md's "HTTP API" table, CloudFront in front, AWS WAF.

- REST API (API Gateway, Lambda proxy integration), one resource per route of the code (the
  routes of `docs/openapi.json`, which is generated from the code; a test compares them),
  each to its function: auth routes and the existing web app's /config/client, /v1/subscription/*
  and /drive/* -> auth; /market/*, /api/market-data, /api/price-history and
  `GET /portfolios/{id}/performance` (it needs years of daily closes) -> market;
  `POST /portfolios/{id}/analysis`, `GET /analysis/{jobId}` -> analysis; the web app's
  /api/portfolio, the other /portfolios/** (activities, their import and the ledger
  settings included), /health and /openapi.json -> portfolio. Stage
  throttling (and a tighter throttle on starting an AI analysis), access logs (JSON) to a
  log group kept 7 days (seed 5), X-Ray tracing, CORS for the configured origins with
  credentials. Every media type is binary (`*/*`, see below): an activities file in any
  encoding (a broker's Shift-JIS CSV) reaches the function as sent (base64 in the event),
  never re-encoded as text.
- `POST /client-logs` (the web app's console entries) -> portfolio (it writes them to the
  `/custom/application` log group, see monitoring.py); never cached.
- CloudFront: the static bucket as default origin through origin access control; the API as
  second origin. Only the market-data paths are cached (public prices, keyed by the query
  string, never by cookie); every other API path is not cached and gets the viewer's
  cookies, headers (except Host) and query strings, plus CloudFront's viewer headers
  (`CloudFront-Viewer-Address`, the trusted client address for sign-in rate limiting).
- WAF: a REGIONAL WebACL (AWS managed common rule set + a rate-based rule) associated with the
  API stage. Why regional and not on CloudFront: a CLOUDFRONT-scope WebACL can only be created
  in us-east-1, so it would need a second stack in us-east-1 and a cross-region reference
  (SSM-backed custom resources) into this one; the regional ACL keeps one stack and one region
  and protects the only origin that costs money per request (static objects are served from
  CloudFront's cache, and Shield Standard covers CloudFront at layers 3/4). Limits, written
  down: the rate-based rule keys on the client address in `X-Forwarded-For` (CloudFront
  appends the viewer's address; API Gateway would otherwise see CloudFront's own addresses),
  and a client that forges that header's first entry can spread its requests over several
  keys; the managed rules still inspect every request. Moving the WebACL to CloudFront scope
  (us-east-1 stack) is the upgrade path.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.cdk import constants as C
from infra.cdk.components.refs import ApiRefs, ComputeRefs, StorageRefs
from infra.cdk.config import Settings

# (path, methods, function) for every route of the code.
ROUTES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("/auth/google", ("POST",), "auth"),
    ("/auth/google/login", ("POST",), "auth"),
    ("/auth/refresh", ("POST",), "auth"),
    ("/auth/session", ("GET",), "auth"),
    ("/auth/logout", ("POST",), "auth"),
    # the existing web app's configuration, plan and (unavailable) Google Drive
    ("/config/client", ("GET",), "auth"),
    ("/v1/subscription/status", ("GET",), "auth"),
    ("/v1/subscription/checkout", ("POST",), "auth"),
    ("/v1/subscription/portal", ("POST",), "auth"),
    ("/drive/files", ("GET",), "auth"),
    ("/drive/load", ("GET",), "auth"),
    ("/drive/save", ("POST",), "auth"),
    ("/auth/google/drive/initiate", ("GET",), "auth"),
    ("/market/quotes", ("GET",), "market"),
    ("/market/history", ("GET",), "market"),
    ("/api/market-data", ("GET",), "market"),
    ("/api/price-history", ("GET",), "market"),  # signed in: never cached
    ("/api/portfolio", ("GET", "PUT"), "portfolio"),  # the existing web app's sync
    ("/portfolios", ("GET", "POST"), "portfolio"),
    ("/portfolios/import", ("POST",), "portfolio"),
    ("/portfolios/{id}", ("GET", "PUT", "DELETE"), "portfolio"),
    ("/portfolios/{id}/valuation", ("GET",), "portfolio"),
    ("/portfolios/{id}/allocation", ("GET",), "portfolio"),
    ("/portfolios/{id}/simulate", ("POST",), "portfolio"),
    ("/portfolios/{id}/export", ("GET",), "portfolio"),
    ("/portfolios/{id}/audit", ("GET",), "portfolio"),
    ("/portfolios/{id}/activities", ("GET", "POST"), "portfolio"),
    ("/portfolios/{id}/activities/import", ("POST",), "portfolio"),
    ("/portfolios/{id}/activities/{activityId}", ("DELETE",), "portfolio"),
    ("/portfolios/{id}/ledger", ("PUT",), "portfolio"),
    ("/portfolios/{id}/performance", ("GET",), "market"),
    ("/portfolios/{id}/analysis", ("POST",), "analysis"),
    ("/analysis/{jobId}", ("GET",), "analysis"),
    ("/client-logs", ("POST",), "portfolio"),  # the web app's console entries
    ("/health", ("GET",), "portfolio"),
    ("/openapi.json", ("GET",), "portfolio"),
)

# CloudFront path patterns of the API: market data is cached, the rest is not.
CACHED_API_PATHS = ("/market/*", "/api/market-data")
UNCACHED_API_PATHS = (
    "/auth/*",
    "/config/client",  # tiny, fetched once a page load; its CORS answer varies by Origin
    "/v1/*",
    "/drive/*",
    "/api/price-history",
    "/api/portfolio",
    "/portfolios",
    "/portfolios/*",
    "/analysis/*",
    "/client-logs",
    "/health",
    "/openapi.json",
)
CORS_HEADERS = ("Authorization", "Content-Type", "If-Match", "X-CSRF-Token")
# The stage's method setting of starting an analysis (`<resource path>/<METHOD>`).
ANALYSIS_START_METHOD = "/portfolios/{id}/analysis/POST"


def web_acl_name(settings: Settings) -> str:
    """The WebACL's name (the monitoring dashboards read its metrics by this name)."""
    return settings.name("api")


class Api(Construct):
    """The REST API, its CloudFront distribution and its WebACL; `.refs` for monitoring."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        compute: ComputeRefs,
        storage: StorageRefs,
    ) -> None:
        super().__init__(scope, construct_id)
        origins_allowed = list(settings.allowed_origins)

        self.access_log_group = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_WEEK,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=settings.name("api"),
            description="PortfolioWise HTTP API (DESIGN.md)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Every type: API Gateway decides by the client's first Accept value whether a
            # base64 body from Lambda goes out as bytes, and browsers send several. That is
            # how gzip answers (`compress=True` routes, for portfolios of thousands of
            # holdings that would pass Lambda's 6 MB) and CP932 uploads pass; requests then
            # reach the functions base64-encoded, which the request guard decodes.
            binary_media_types=["*/*"],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.DESTROY,
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=origins_allowed or ["https://portfolio-wise.com"],
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=list(CORS_HEADERS),
                allow_credentials=True,
                max_age=cdk.Duration.hours(1),
            ),
            deploy_options=apigw.StageOptions(
                stage_name=C.API_STAGE_NAME,
                throttling_rate_limit=C.API_THROTTLE_RATE_PER_SECOND,
                throttling_burst_limit=C.API_THROTTLE_BURST,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies carry portfolios and tokens
                metrics_enabled=True,
                tracing_enabled=True,
                method_options={
                    # A method's own setting replaces the stage's for that method: the
                    # logging and metrics above are repeated so that only throttling differs.
                    ANALYSIS_START_METHOD: apigw.MethodDeploymentOptions(
                        throttling_rate_limit=C.API_ANALYSIS_THROTTLE_RATE_PER_SECOND,
                        throttling_burst_limit=C.API_ANALYSIS_THROTTLE_BURST,
                        logging_level=apigw.MethodLoggingLevel.ERROR,
                        data_trace_enabled=False,
                        metrics_enabled=True,
                    )
                },
            ),
        )
        self.rest_api.add_request_validator(
            "RequestValidator", validate_request_parameters=True, validate_request_body=True
        )
        integrations = {
            name: apigw.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
            for name, function in compute.functions.items()
        }
        for path, methods, function in ROUTES:
            resource = self.rest_api.root.resource_for_path(path)
            for method in methods:
                resource.add_method(method, integrations[function])

        self.web_acl = self._web_acl(settings)
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        self.distribution = self._distribution(storage)
        self._acknowledge()
        self.refs = ApiRefs(rest_api=self.rest_api, access_log_group=self.access_log_group)

    # -- WAF ---------------------------------------------------------------------------------

    def _web_acl(self, settings: Settings) -> wafv2.CfnWebACL:
        name = web_acl_name(settings)

        def visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=metric,
                sampled_requests_enabled=True,
            )

        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(name),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name=C.WAF_COMMON_RULE_NAME,
                    priority=0,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesCommonRuleSet"
                        )
                    ),
                    visibility_config=visibility(C.WAF_COMMON_RULE_NAME),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name=C.WAF_RATE_RULE_NAME,
                    priority=1,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=C.WAF_RATE_LIMIT_PER_5_MIN,
                            evaluation_window_sec=C.WAF_RATE_WINDOW_SECONDS,
                            aggregate_key_type="FORWARDED_IP",
                            forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                                header_name="X-Forwarded-For", fallback_behavior="MATCH"
                            ),
                        )
                    ),
                    visibility_config=visibility(C.WAF_RATE_RULE_NAME),
                ),
            ],
        )

    # -- CloudFront --------------------------------------------------------------------------

    def _distribution(self, storage: StorageRefs) -> cloudfront.Distribution:
        api_origin = origins.RestApiOrigin(self.rest_api)
        market_cache = cloudfront.CachePolicy(
            self,
            "MarketDataCache",
            comment="Market data: public prices, keyed by the query string only",
            default_ttl=cdk.Duration.seconds(C.MARKET_CACHE_DEFAULT_TTL_SECONDS),
            max_ttl=cdk.Duration.seconds(C.MARKET_CACHE_MAX_TTL_SECONDS),
            min_ttl=cdk.Duration.seconds(0),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        uncached = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            compress=True,
        )
        cached = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
            cache_policy=market_cache,
            compress=True,
        )
        behaviors = dict.fromkeys(CACHED_API_PATHS, cached)
        behaviors |= dict.fromkeys(UNCACHED_API_PATHS, uncached)
        return cloudfront.Distribution(
            self,
            "Distribution",
            comment="PortfolioWise: static site and API",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(storage.static_bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                compress=True,
            ),
            additional_behaviors=behaviors,
            default_root_object="index.html",
            price_class=cloudfront.PriceClass.PRICE_CLASS_200,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            enable_logging=True,
            log_bucket=storage.logs_bucket,
            log_file_prefix="cloudfront/",
        )

    # -- cdk-nag -----------------------------------------------------------------------------

    def _acknowledge(self) -> None:
        def ack(scope: Construct, rule: str, reason: str) -> None:
            cdk.Validations.of(scope).acknowledge(
                cdk.Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason)
            )

        for method in self._methods():
            ack(
                method,
                "AwsSolutions-APIG4",
                "Authorization is the application's session cookie (Google sign-in, hashed "
                "session id in the Session table, CSRF token or one of our origins) or its "
                "15-minute bearer access token bound to that session, checked by the "
                "functions; the public routes (sign-in, market data, health, OpenAPI) need "
                "none.",
            )
            ack(
                method,
                "AwsSolutions-COG4",
                "No Cognito user pool: users sign in with Google and get a server-side session "
                "(DESIGN.md); the functions validate the session cookie.",
            )
        role = self.rest_api.node.try_find_child("CloudWatchRole")
        if role is not None:
            ack(
                role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level API Gateway logging role needs AWS's managed policy for "
                "pushing execution logs; it is the role AWS documents for that setting.",
            )
        ack(
            self.distribution,
            "AwsSolutions-CFR1",
            "Investors in Japan and the US and abroad: no geographic restriction by design.",
        )
        ack(
            self.distribution,
            "AwsSolutions-CFR2",
            "WAF is attached to the API stage (REGIONAL WebACL): a CLOUDFRONT-scope WebACL "
            "must live in us-east-1 (see api.py's docstring for the trade-off).",
        )
        ack(
            self.distribution,
            "AwsSolutions-CFR4",
            "The distribution uses the default *.cloudfront.net certificate, whose minimum "
            "protocol CloudFront fixes; TLSv1.2_2021 applies once a custom domain and ACM "
            "certificate are configured.",
        )

    def _methods(self) -> list[apigw.Method]:
        """The routed methods (cdk-nag does not flag the CORS preflight OPTIONS methods)."""
        return [
            m
            for m in self.rest_api.methods
            if isinstance(m, apigw.Method) and m.http_method != "OPTIONS"
        ]
