"""Monitoring (seed section 5): alert topics, the seed's alarms, three dashboards, custom logs.

Topics `critical-alerts`, `warning-alerts`, `info-notifications` (KMS-encrypted, TLS-only
publishing, e-mail subscription from `alarmEmail`).

Alarms and their thresholds (constants.py, "Monitoring"):
- critical: per function, error rate > 1 % (100 * Errors / Invocations over 5 minutes) and
  duration > 50 % of the function's timeout (Maximum over 5 minutes); API 5xx > 10 per minute.
- warning: API latency > 2 s (p95 over 5 minutes); cache miss > 50 % (CacheMisses /
  (CacheHits + CacheMisses), EMF metrics of the market function); per function, memory > 80 %
  of its size (`MemoryUsedPercent`: each invocation reports its process's peak RSS against
  the function's memory size, what Lambda's REPORT line calls `Max Memory Used`);
  per dead-letter queue of events.py (the event rules' and the analysis consumer's), any
  message visible (ApproximateNumberOfMessagesVisible > 0, Maximum over 5 minutes): an event
  that was not handled waits there for someone to inspect and redrive it.
- info: new sign-up, large portfolio change (a valuation more than 10 % away from the
  previous one), unusual activity (more than 100 writes by one user in an hour): any
  occurrence of the EMF counters `SignUps`, `LargePortfolioChanges`, `UnusualActivity`
  within 5 minutes. They are the `SignalKind` values of src/portfoliowise/domain/signals.py:
  the auth and portfolio functions count each signal they emit (and publish it to the info
  topic themselves, see compute.py `publish_signals`).

The application emits these metrics in Embedded Metric Format (Powertools Metrics) in the
namespace `PortfolioWise` with the dimension `service` = its POWERTOOLS_SERVICE_NAME
(`portfoliowise-<function>`); their names, dimensions and emitting functions are named once in
`portfoliowise.handlers.metric_names`, read here (tests/infra/test_metric_wiring.py checks
that every metric read here is emitted and every metric emitted is on a dashboard).

Metrics with a dimension whose values are known only at run time (per route, tier, market
source, job, analyst and outcome) are read by SEARCH expressions (`search`).

Dashboards: operations (functions, API, alarms, dead-letter queues, routes, sources, jobs),
business (users,
portfolios, API usage, cache hit rate), security (auth failures, unusual activity, WAF
blocks, API 4xx).
Log group `/custom/application` (14 days, seed 5) holds the single-page app's console logs:
the portfolio function serves `POST /client-logs` and writes each entry there itself with
`PutLogEvents` (one JSON line, the user's hashed id, no secrets) on a stream of its own
instance. Why not a subscription or a metric filter on the function's log group: those copy
or count lines that are already in CloudWatch, they cannot move them into another group, and
the entries would also sit in the function's own group (30 days) mixed with its logs. The
function gets `logs:CreateLogStream` and `logs:PutLogEvents` on this group only
(`grant_write`) and its name as `CLIENT_LOG_GROUP`.

Alarms and widgets follow the deployed functions (`compute.functions`, the analysis
function included: error rate, duration > 50 % of its 60 s timeout, memory > 80 % of 512 MB).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.cdk import constants as C
from infra.cdk.components.api import web_acl_name
from infra.cdk.components.refs import (
    AlertTopics,
    ApiRefs,
    ComputeRefs,
    DataRefs,
    DeadLetterQueueRefs,
)
from infra.cdk.config import Settings
from portfoliowise.handlers import metric_names

FIVE_MINUTES = cdk.Duration.minutes(5)
ONE_MINUTE = cdk.Duration.seconds(C.ALARM_PERIOD_SECONDS)


def service(function: str) -> str:
    """The EMF `service` dimension of a function (its POWERTOOLS_SERVICE_NAME)."""
    return metric_names.service(function)


def search(
    metric_name: str, dimensions: tuple[str, ...], statistic: str, function: str | None = None
) -> str:
    """A CloudWatch SEARCH over our namespace: every series of `metric_name` whose dimension
    set is `service` plus `dimensions` (a route, a source, a job: values known only at run
    time), of `function`'s service when given."""
    schema = ",".join([C.METRICS_NAMESPACE, *sorted((C.EMF_SERVICE_DIMENSION, *dimensions))])
    where = f'MetricName="{metric_name}"'
    if function is not None:
        where += f' {C.EMF_SERVICE_DIMENSION}="{service(function)}"'
    period = int(FIVE_MINUTES.to_seconds())
    return f"SEARCH('{{{schema}}} {where}', '{statistic}', {period})"


class Monitoring(Construct):
    """Topics, alarms, dashboards; `.topics` for whoever needs to notify."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        compute: ComputeRefs,
        api: ApiRefs,
        data: DataRefs,
        dead_letter_queues: DeadLetterQueueRefs,
    ) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self._functions = compute.functions
        self._api = api.rest_api
        self._data = data
        self._dead_letter_queues = dead_letter_queues

        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description="PortfolioWise alert topics",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # CloudWatch alarms publish to encrypted topics only if they may use the key.
        self.topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            )
        )
        critical, warning, info = (self._topic(name) for name in C.ALERT_TOPIC_NAMES)
        self.topics = AlertTopics(critical=critical, warning=warning, info=info)

        self.custom_log_group = logs.LogGroup(
            self,
            "ApplicationLogs",
            log_group_name=C.CUSTOM_LOG_GROUP_NAME
            if settings.stage == C.DEFAULT_STAGE
            else f"{C.CUSTOM_LOG_GROUP_NAME}-{settings.stage}",
            retention=logs.RetentionDays.TWO_WEEKS,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        portfolio = compute.functions["portfolio"]
        self.custom_log_group.grant_write(portfolio)
        if isinstance(portfolio, lambda_.Function):
            portfolio.add_environment("CLIENT_LOG_GROUP", self.custom_log_group.log_group_name)

        self.alarms: dict[str, list[cloudwatch.Alarm]] = {"critical": [], "warning": [], "info": []}
        self._critical_alarms()
        self._warning_alarms()
        self._info_alarms()
        self.dashboards = [self._operations(), self._business(), self._security()]

    # -- topics ------------------------------------------------------------------------------

    def _topic(self, name: str) -> sns.Topic:
        topic = sns.Topic(
            self,
            "".join(part.capitalize() for part in name.split("-")),
            topic_name=self._settings.name(name),
            display_name=f"PortfolioWise {name}",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        if self._settings.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self._settings.alarm_email))
        return topic

    def _alarm(
        self,
        level: str,
        construct_id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"[{level}] {description}",
        )
        topic = {"critical": self.topics.critical, "warning": self.topics.warning}.get(
            level, self.topics.info
        )
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
        if level != "info":  # info alarms notify occurrences; recoveries are noise
            alarm.add_ok_action(cw_actions.SnsAction(topic))
        self.alarms[level].append(alarm)
        return alarm

    # -- alarms ------------------------------------------------------------------------------

    def _critical_alarms(self) -> None:
        for name, function in self._functions.items():
            label = name.capitalize()
            error_rate = cloudwatch.MathExpression(
                expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                using_metrics={
                    "errors": function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                    "invocations": function.metric_invocations(
                        period=FIVE_MINUTES, statistic="Sum"
                    ),
                },
                period=FIVE_MINUTES,
                label=f"{name} error rate (%)",
            )
            self._alarm(
                "critical",
                f"{label}ErrorRate",
                error_rate,
                C.ALARM_ERROR_RATE_PERCENT,
                f"{name}: error rate above {C.ALARM_ERROR_RATE_PERCENT} % over 5 minutes",
            )
            timeout_ms = C.LAMBDA_TIMEOUT_SECONDS[name] * 1000
            self._alarm(
                "critical",
                f"{label}Duration",
                function.metric_duration(period=FIVE_MINUTES, statistic="Maximum"),
                timeout_ms * C.ALARM_DURATION_FRACTION_OF_TIMEOUT,
                f"{name}: duration above "
                f"{C.ALARM_DURATION_FRACTION_OF_TIMEOUT:.0%} of its {timeout_ms // 1000} s timeout",
            )
        self._alarm(
            "critical",
            "Api5xx",
            self._api.metric_server_error(period=ONE_MINUTE, statistic="Sum"),
            C.ALARM_API_5XX_PER_MINUTE,
            f"API: more than {C.ALARM_API_5XX_PER_MINUTE} 5xx responses in a minute",
        )

    def _warning_alarms(self) -> None:
        self._alarm(
            "warning",
            "ApiLatency",
            self._api.metric_latency(period=FIVE_MINUTES, statistic="p95"),
            C.ALARM_LATENCY_MS,
            f"API: p95 latency above {C.ALARM_LATENCY_MS} ms over 5 minutes",
        )
        self._alarm(
            "warning",
            "CacheMissRate",
            self._cache_miss_rate(),
            C.ALARM_CACHE_MISS_PERCENT,
            f"market: quote cache miss rate above {C.ALARM_CACHE_MISS_PERCENT} % over 5 minutes",
        )
        for name in self._functions:
            memory = C.LAMBDA_MEMORY_MB[name]
            self._alarm(
                "warning",
                f"{name.capitalize()}Memory",
                self._app_metric(metric_names.MEMORY_USED_PERCENT, name, "Maximum"),
                C.ALARM_MEMORY_PERCENT,
                f"{name}: memory used above {C.ALARM_MEMORY_PERCENT} % of {memory} MB "
                "(peak RSS the function reports with each invocation)",
            )
        for construct_id, queue, description in self._dead_letter_queue_alarms():
            self._alarm(
                "warning",
                construct_id,
                _messages_visible(queue),
                C.ALARM_DLQ_VISIBLE_MESSAGES,
                description,
            )

    def _dead_letter_queue_alarms(self) -> list[tuple[str, sqs.IQueue, str]]:
        """(construct id, queue, description) of the dead-letter queue alarms."""
        queues = self._dead_letter_queues
        retention = f"Messages are kept {C.DLQ_RETENTION_DAYS} days."
        return [
            (
                "EventsDeadLetterQueue",
                queues.events,
                f"dead-letter queue of the event rules ({queues.events.node.path}): "
                "a message is visible. EventBridge could not deliver an event to the scheduled "
                f"function after {C.EVENT_TARGET_RETRY_ATTEMPTS} retries over "
                f"{C.EVENT_TARGET_MAX_AGE_HOURS} hours: a scheduled job "
                f"({', '.join(C.SCHEDULES)}) did not run, or a changed portfolio's quotes were "
                "not refreshed in the cache. Inspect the messages (the body is the event, the "
                "attributes ERROR_CODE and ERROR_MESSAGE say why), fix the cause, then redrive: "
                "put the event back on its bus (or invoke the scheduled function with "
                '{"job": <name>}) and delete the message. ' + retention,
            ),
            (
                "AnalysisDeadLetterQueue",
                queues.analysis,
                f"dead-letter queue of the analysis consumer ({queues.analysis.node.path}): "
                f"a message is visible. An {C.ANALYSIS_REQUESTED} was parked after "
                f"{C.ANALYSIS_RETRY_ATTEMPTS} retries: the analysis failed every run (the "
                "message is Lambda's failure record: requestPayload is the event, "
                "responsePayload the error) or could not be delivered (the body is the event); "
                "its job stays unanswered. Inspect the messages and the analysis function's "
                "logs, fix the cause, then redrive: put the event back on the bus (the job "
                "claim makes a rerun safe) and delete the message. " + retention,
            ),
        ]

    def _info_alarms(self) -> None:
        for construct_id, metric_name, function, what in (
            ("NewSignUp", C.METRIC_SIGN_UPS, "auth", "a new user signed up"),
            (
                "LargePortfolioChange",
                C.METRIC_LARGE_PORTFOLIO_CHANGES,
                "portfolio",
                "a portfolio's value moved by more than "
                f"{C.INFO_LARGE_PORTFOLIO_CHANGE_PERCENT} % between two valuations",
            ),
            (
                "UnusualActivity",
                C.METRIC_UNUSUAL_ACTIVITY,
                "portfolio",
                "unusual activity (more than "
                f"{C.INFO_UNUSUAL_ACTIVITY_WRITES_PER_HOUR} portfolio writes by one user "
                "in an hour)",
            ),
        ):
            self._alarm(
                "info",
                construct_id,
                self._app_metric(metric_name, function, "Sum"),
                0,
                what,
            )

    def _app_metric(
        self,
        metric_name: str,
        function: str,
        statistic: str,
        period: cdk.Duration = FIVE_MINUTES,
        label: str | None = None,
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=C.METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={C.EMF_SERVICE_DIMENSION: service(function)},
            statistic=statistic,
            period=period,
            label=label,
        )

    @staticmethod
    def _search(
        metric_name: str,
        dimensions: tuple[str, ...],
        statistic: str,
        function: str | None = None,
    ) -> cloudwatch.MathExpression:
        """Every series of a metric with a run-time dimension (see `search`)."""
        return cloudwatch.MathExpression(
            expression=search(metric_name, dimensions, statistic, function),
            using_metrics={},
            period=FIVE_MINUTES,
        )

    def _cache_miss_rate(self) -> cloudwatch.MathExpression:
        return cloudwatch.MathExpression(
            expression="IF((hits + misses) > 0, 100 * misses / (hits + misses), 0)",
            using_metrics={
                "hits": self._app_metric(C.METRIC_CACHE_HITS, "market", "Sum"),
                "misses": self._app_metric(C.METRIC_CACHE_MISSES, "market", "Sum"),
            },
            period=FIVE_MINUTES,
            label="Quote cache miss rate (%)",
        )

    # -- dashboards --------------------------------------------------------------------------

    def _dashboard(
        self, suffix: str, widgets: list[list[cloudwatch.IWidget]]
    ) -> cloudwatch.Dashboard:
        return cloudwatch.Dashboard(
            self,
            f"{suffix.capitalize()}Dashboard",
            dashboard_name=self._settings.name(suffix),
            default_interval=cdk.Duration.hours(24),
            widgets=widgets,
        )

    def _per_function(self, title: str, metric: str, statistic: str) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title,
            width=8,
            left=[
                function.metric(metric, statistic=statistic, period=FIVE_MINUTES, label=name)
                for name, function in self._functions.items()
            ],
        )

    def _tables(self) -> list[tuple[str, dynamodb.ITableV2]]:
        return [
            ("portfolio", self._data.portfolio_table),
            ("audit", self._data.audit_table),
            ("session", self._data.session_table),
            ("cache", self._data.cache_table),
        ]

    def _operations(self) -> cloudwatch.Dashboard:
        api = self._api
        return self._dashboard(
            "operations",
            [
                [
                    cloudwatch.AlarmStatusWidget(
                        title="System health: alarms",
                        width=24,
                        alarms=[a for level in self.alarms.values() for a in level],
                    )
                ],
                [
                    self._per_function("Invocations", "Invocations", "Sum"),
                    self._per_function("Errors", "Errors", "Sum"),
                    self._per_function("Throttles", "Throttles", "Sum"),
                ],
                [
                    self._per_function("Duration p95 (ms)", "Duration", "p95"),
                    self._per_function("Concurrent executions", "ConcurrentExecutions", "Maximum"),
                    cloudwatch.GraphWidget(
                        title="Memory used (% of the function's size, peak)",
                        width=8,
                        left=[
                            self._app_metric(
                                metric_names.MEMORY_USED_PERCENT, name, "Maximum", label=name
                            )
                            for name in self._functions
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="API requests and errors",
                        width=12,
                        left=[
                            api.metric_count(period=FIVE_MINUTES),
                            api.metric_client_error(period=FIVE_MINUTES),
                            api.metric_server_error(period=FIVE_MINUTES),
                        ],
                    ),
                    cloudwatch.GraphWidget(
                        title="API latency (ms)",
                        width=12,
                        left=[
                            api.metric_latency(period=FIVE_MINUTES, statistic="p50"),
                            api.metric_latency(period=FIVE_MINUTES, statistic="p95"),
                            api.metric_integration_latency(period=FIVE_MINUTES, statistic="p95"),
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="DynamoDB consumed capacity (on-demand: what we pay for)",
                        width=12,
                        left=[
                            table.metric_consumed_read_capacity_units(
                                period=FIVE_MINUTES, label=f"{name} read"
                            )
                            for name, table in self._tables()
                        ],
                        right=[
                            table.metric_consumed_write_capacity_units(
                                period=FIVE_MINUTES, label=f"{name} write"
                            )
                            for name, table in self._tables()
                        ],
                    ),
                    cloudwatch.GraphWidget(
                        title="Quote cache miss rate (%)",
                        width=12,
                        left=[self._cache_miss_rate()],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="API latency per route, p95 (ms)",
                        width=12,
                        left=[self._search(metric_names.API_LATENCY, (metric_names.ROUTE,), "p95")],
                    ),
                    cloudwatch.GraphWidget(
                        title="API 5xx answers per route",
                        width=12,
                        left=[self._search(metric_names.API_ERRORS, (metric_names.ROUTE,), "Sum")],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Market sources: calls and failures (left), mean latency ms (right)",
                        width=12,
                        left=[
                            self._search(
                                metric_names.SOURCE_CALLS, (metric_names.SOURCE,), "Sum", "market"
                            ),
                            self._search(
                                metric_names.SOURCE_FAILURES,
                                (metric_names.SOURCE,),
                                "Sum",
                                "market",
                            ),
                        ],
                        right=[
                            self._search(
                                metric_names.SOURCE_LATENCY,
                                (metric_names.SOURCE,),
                                "Average",
                                "market",
                            )
                        ],
                    ),
                    cloudwatch.GraphWidget(
                        title="Quotes answered stale or without a price",
                        width=12,
                        left=[
                            self._app_metric(metric, function, "Sum", label=f"{function} {metric}")
                            for metric in (
                                metric_names.QUOTES_STALE,
                                metric_names.QUOTES_UNAVAILABLE,
                            )
                            for function in ("market", "portfolio")
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Scheduled jobs: runs and failures (left), duration ms (right)",
                        width=24,
                        left=[
                            self._search(
                                metric_names.JOB_RUNS, (metric_names.JOB,), "Sum", "scheduled"
                            ),
                            self._search(
                                metric_names.JOB_FAILURES, (metric_names.JOB,), "Sum", "scheduled"
                            ),
                        ],
                        right=[
                            self._search(
                                metric_names.JOB_DURATION,
                                (metric_names.JOB,),
                                "Maximum",
                                "scheduled",
                            )
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Dead-letter queues: messages waiting (any is an alarm)",
                        width=12,
                        left=[
                            _messages_visible(queue, label=f"{name} dead letters")
                            for name, queue in self._named_dead_letter_queues()
                        ],
                    ),
                    cloudwatch.GraphWidget(
                        title="Dead-letter queues: age of the oldest message (s)",
                        width=12,
                        left=[
                            queue.metric_approximate_age_of_oldest_message(
                                period=FIVE_MINUTES, statistic="Maximum", label=name
                            )
                            for name, queue in self._named_dead_letter_queues()
                        ],
                    ),
                ],
            ],
        )

    def _named_dead_letter_queues(self) -> list[tuple[str, sqs.IQueue]]:
        queues = self._dead_letter_queues
        return [("events", queues.events), ("analysis", queues.analysis)]

    def _business(self) -> cloudwatch.Dashboard:
        return self._dashboard(
            "business",
            [
                [
                    cloudwatch.GraphWidget(
                        title="User metrics: sign-ups and sign-ins (active users)",
                        width=12,
                        left=[
                            self._app_metric(C.METRIC_SIGN_UPS, "auth", "Sum"),
                            self._app_metric(C.METRIC_SIGN_INS, "auth", "Sum"),
                        ],
                    ),
                    cloudwatch.GraphWidget(
                        title="Portfolio value (JPY)",
                        width=12,
                        left=[
                            self._app_metric(C.METRIC_PORTFOLIO_VALUE_JPY, "portfolio", "Average"),
                            self._app_metric(C.METRIC_PORTFOLIO_VALUE_JPY, "portfolio", "Maximum"),
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Usage patterns: API requests per function",
                        width=12,
                        left=[
                            self._app_metric(C.METRIC_API_REQUESTS, name, "Sum")
                            for name in metric_names.API_FUNCTIONS
                        ],
                    ),
                    cloudwatch.GraphWidget(
                        title="Growth: portfolio writes and large changes",
                        width=12,
                        left=[
                            self._app_metric(C.METRIC_PORTFOLIO_WRITES, "portfolio", "Sum"),
                            self._app_metric(C.METRIC_LARGE_PORTFOLIO_CHANGES, "portfolio", "Sum"),
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="API usage per tier (requests)",
                        width=12,
                        left=[self._search(metric_names.API_REQUESTS, (metric_names.TIER,), "Sum")],
                    ),
                    cloudwatch.GraphWidget(
                        title="Analyses by analyst and outcome (answered or fallback reason)",
                        width=12,
                        left=[
                            self._search(
                                metric_names.ANALYSIS_RUNS,
                                (metric_names.ANALYST, metric_names.OUTCOME),
                                "Sum",
                                "analysis",
                            )
                        ],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Market data: cache hits, misses, source failures",
                        width=24,
                        left=[
                            self._app_metric(C.METRIC_CACHE_HITS, "market", "Sum"),
                            self._app_metric(C.METRIC_CACHE_MISSES, "market", "Sum"),
                        ],
                        right=[self._app_metric(C.METRIC_SOURCE_FAILURES, "market", "Sum")],
                    )
                ],
            ],
        )

    def _security(self) -> cloudwatch.Dashboard:
        region = cdk.Stack.of(self).region
        acl = web_acl_name(self._settings)

        def waf(metric_name: str, rule: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/WAFV2",
                metric_name=metric_name,
                dimensions_map={"WebACL": acl, "Rule": rule, "Region": region},
                statistic="Sum",
                period=FIVE_MINUTES,
                label=f"{rule} {metric_name}",
            )

        return self._dashboard(
            "security",
            [
                [
                    cloudwatch.GraphWidget(
                        title="Auth failures",
                        width=12,
                        left=[self._app_metric(C.METRIC_AUTH_FAILURES, "auth", "Sum")],
                    ),
                    cloudwatch.GraphWidget(
                        title="Suspicious activity",
                        width=12,
                        left=[self._app_metric(C.METRIC_UNUSUAL_ACTIVITY, "portfolio", "Sum")],
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="WAF blocks",
                        width=12,
                        left=[
                            waf("BlockedRequests", "ALL"),
                            waf("BlockedRequests", C.WAF_COMMON_RULE_NAME),
                            waf("BlockedRequests", C.WAF_RATE_RULE_NAME),
                        ],
                        right=[waf("AllowedRequests", "ALL")],
                    ),
                    cloudwatch.GraphWidget(
                        title="API 4xx (rejected requests)",
                        width=12,
                        left=[self._api.metric_client_error(period=FIVE_MINUTES)],
                    ),
                ],
            ],
        )


def _messages_visible(queue: sqs.IQueue, label: str | None = None) -> cloudwatch.Metric:
    """Messages waiting in `queue` (AWS/SQS ApproximateNumberOfMessagesVisible, Maximum over
    5 minutes)."""
    return queue.metric_approximate_number_of_messages_visible(
        period=FIVE_MINUTES, statistic="Maximum", label=label
    )
