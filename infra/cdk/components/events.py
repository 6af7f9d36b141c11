"""Events (seed §1 "EventBridge Schedulers", §3 "EventBridge Rules"; DESIGN.md "Events").

- `Events`: the custom bus `portfoliowise` (domain events: `source` = `portfoliowise.<context>`,
  `detail-type` = the event's class name), an archive of it for replay, and the dead-letter
  queue of every rule target.
- `add_schedules`: the seed's three cron rules (UTC) targeting the scheduled function with
  `{"job": <name>}`. EventBridge runs schedule rules on the account's default bus only, so
  they live there, not on the custom bus.
- `add_domain_event_routes`: rules on the custom bus routing domain events to their
  consumers (the event is delivered as is; consumers are idempotent on `detail.eventId`).
- `AnalysisConsumer`: the rule on the custom bus sending `AnalysisRequested` (source
  `portfoliowise.analysis`) to the analysis function, with a dead-letter queue of its own
  where a failed analysis is parked after two retries (see below).

EventBridge invokes a Lambda target asynchronously: the rule's retry policy and
dead-letter queue cover the *delivery* of the event to Lambda (throttled, function missing);
a run that fails (an error, a timeout) is retried by Lambda under the function's own
asynchronous-invocation settings. For the analysis function both are set alike
(ANALYSIS_RETRY_ATTEMPTS retries, ANALYSIS_MAX_EVENT_AGE_MINUTES), and both end in the
analysis dead-letter queue: the rule's DLQ for an event that could not be delivered, the
function's on-failure destination for a run that failed every attempt (its record carries
the event and the error). The other routes keep Lambda's defaults for failed runs.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.cdk import constants as c
from infra.cdk.components.refs import EventRefs
from infra.cdk.config import Settings


def to_eventbridge_cron(expression: str) -> str:
    """A five-field cron (minute hour day-of-month month day-of-week), as the seed writes it,
    to EventBridge's six-field `cron(...)`: EventBridge adds a year field and wants `?` in
    exactly one of day-of-month and day-of-week."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected five cron fields, got {expression!r}")
    minute, hour, day_of_month, month, day_of_week = fields
    if day_of_week == "*":
        day_of_week = "?"
    elif day_of_month == "*":
        day_of_month = "?"
    else:
        raise ValueError(f"EventBridge cannot combine day-of-month and day-of-week: {expression!r}")
    return f"cron({minute} {hour} {day_of_month} {month} {day_of_week} *)"


class Events(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=settings.prefix,
            description="PortfolioWise domain events (source portfoliowise.<context>)",
        )
        self.archive = self.bus.archive(
            "Archive",
            description="Replay of the domain events",
            event_pattern=events.EventPattern(source=events.Match.prefix(c.EVENT_SOURCE_PREFIX)),
            retention=cdk.Duration.days(c.EVENT_ARCHIVE_RETENTION_DAYS),
        )
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetterQueue",
            "This queue is itself the dead-letter queue of the event rule targets.",
        )
        self.refs = EventRefs(bus=self.bus)


def dead_letter_queue(scope: Construct, construct_id: str, why: str) -> sqs.Queue:
    """A dead-letter queue: SQS-managed encryption (EventBridge and Lambda can write to it
    without a key policy, and it costs no KMS key: the messages are events already kept in
    the archive), TLS only, kept DLQ_RETENTION_DAYS. `why` says whose dead letters it holds
    (cdk-nag asks every queue for a dead-letter queue of its own)."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(c.DLQ_RETENTION_DAYS),
    )
    cdk.Validations.of(queue).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions::AwsSolutions-SQS3", reason=why)
    )
    return queue


def _target(
    function: lambda_.IFunction,
    events_: Events,
    event: events.RuleTargetInput | None = None,
) -> targets.LambdaFunction:
    """A Lambda target with retries and the dead-letter queue; `event` replaces the input."""
    return targets.LambdaFunction(
        function,
        event=event,
        dead_letter_queue=events_.dead_letter_queue,
        retry_attempts=c.EVENT_TARGET_RETRY_ATTEMPTS,
        max_event_age=cdk.Duration.hours(c.EVENT_TARGET_MAX_AGE_HOURS),
    )


def add_schedules(
    scope: Construct, events_: Events, scheduled_fn: lambda_.IFunction
) -> dict[str, events.Rule]:
    """The seed's cron rules (on the default bus) invoking `scheduled_fn` with `{"job": name}`."""
    rules: dict[str, events.Rule] = {}
    for job, expression in c.SCHEDULES.items():
        rule = events.Rule(
            scope,
            f"Schedule{''.join(part.capitalize() for part in job.split('-'))}",
            description=f"{job}: {expression} (UTC, seed section 3)",
            schedule=events.Schedule.expression(to_eventbridge_cron(expression)),
        )
        rule.add_target(
            _target(
                scheduled_fn,
                events_,
                # the schedule event's id: the run's correlation id in the function's logs
                event=events.RuleTargetInput.from_object(
                    {"job": job, "id": events.EventField.event_id}
                ),
            )
        )
        rules[job] = rule
    return rules


def add_domain_event_routes(
    scope: Construct,
    events_: Events,
    consumers: Mapping[str, lambda_.IFunction],
) -> dict[str, events.Rule]:
    """One rule per route of `DOMAIN_EVENT_ROUTES` (route name -> detail-types) whose consumer
    is in `consumers` (route name -> function), on the custom bus."""
    unknown = set(consumers) - set(c.DOMAIN_EVENT_ROUTES)
    if unknown:
        raise ValueError(f"unknown domain event route(s): {', '.join(sorted(unknown))}")
    rules: dict[str, events.Rule] = {}
    for route, function in consumers.items():
        rule = events.Rule(
            scope,
            f"Route{''.join(part.capitalize() for part in route.split('-'))}",
            event_bus=events_.bus,
            description=f"Domain events {route} -> consumer",
            event_pattern=events.EventPattern(
                source=[c.PORTFOLIO_EVENT_SOURCE],
                detail_type=list(c.DOMAIN_EVENT_ROUTES[route]),
            ),
        )
        rule.add_target(_target(function, events_))
        rules[route] = rule
    return rules


class AnalysisConsumer(Construct):
    """`AnalysisRequested` on the custom bus -> the analysis function: retried
    ANALYSIS_RETRY_ATTEMPTS times, then parked in `.dead_letter_queue` (see the module
    docstring for the two kinds of retry)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, events_: Events, function: lambda_.Function
    ) -> None:
        super().__init__(scope, construct_id)
        max_age = cdk.Duration.minutes(c.ANALYSIS_MAX_EVENT_AGE_MINUTES)
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetterQueue",
            "This queue is itself the dead-letter queue of the analysis rule's target and the "
            "on-failure destination of the analysis function's asynchronous runs.",
        )
        self.rule = events.Rule(
            self,
            "Requested",
            event_bus=events_.bus,
            description=f"{c.ANALYSIS_REQUESTED} -> the analysis function",
            event_pattern=events.EventPattern(
                source=[c.ANALYSIS_EVENT_SOURCE], detail_type=[c.ANALYSIS_REQUESTED]
            ),
        )
        # Delivery of the event to Lambda.
        self.rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=c.ANALYSIS_RETRY_ATTEMPTS,
                max_event_age=max_age,
            )
        )
        # Runs that fail: Lambda's asynchronous retries, then the on-failure destination,
        # which Lambda writes with the function's role (SendMessage on this queue only).
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[self.dead_letter_queue.queue_arn]
            )
        )
        self.async_invoke = lambda_.CfnEventInvokeConfig(
            self,
            "AsyncInvoke",
            function_name=function.function_name,
            qualifier="$LATEST",
            maximum_retry_attempts=c.ANALYSIS_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=int(max_age.to_seconds()),
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                    destination=self.dead_letter_queue.queue_arn
                )
            ),
        )
        # Lambda checks that the role may send to the destination when the setting is made.
        role = function.role
        if role is not None:
            self.async_invoke.node.add_dependency(role)
