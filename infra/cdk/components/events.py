"""Events (seed §1 "EventBridge Schedulers", §3 "EventBridge Rules"; DESIGN.md "Events").

- `Events`: the custom bus `portfoliowise` (domain events: `source` = `portfoliowise.<context>`,
  `detail-type` = the event's class name), an archive of it for replay, and the dead-letter
  queue of every rule target.
- `add_schedules`: the seed's three cron rules (UTC) targeting the scheduled function with
  `{"job": <name>}`. EventBridge runs schedule rules on the account's default bus only, so
  they live there, not on the custom bus.
- `add_domain_event_routes`: rules on the custom bus routing domain events to their
  consumers (the event is delivered as is; consumers are idempotent on `detail.eventId`).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
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
        # SQS-managed encryption: EventBridge can write to it without a key policy, and it
        # costs no KMS key (the messages are events already kept in the archive).
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(c.DLQ_RETENTION_DAYS),
        )
        cdk.Validations.of(self.dead_letter_queue).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason="This queue is itself the dead-letter queue of the event rule targets.",
            )
        )
        self.refs = EventRefs(bus=self.bus)


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
            _target(scheduled_fn, events_, event=events.RuleTargetInput.from_object({"job": job}))
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
