"""Events: the bus, the seed's cron rules and the domain-event routes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra.cdk import constants as c
from infra.cdk.components.events import to_eventbridge_cron
from infra_synth import Synth

from portfoliowise.application.scheduled_jobs import SCHEDULES as CODE_SCHEDULES
from portfoliowise.domain import events as domain_events

SEED_CRONS = {"cache-warm": "0 */6 * * *", "backup": "0 2 * * *", "cleanup": "0 3 * * SUN"}


def _rules(synth: Synth) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in synth.resources("AWS::Events::Rule").items()}


def _scheduled_function(synth: Synth) -> str:
    (name,) = [n for n in synth.resources("AWS::Lambda::Function") if "ScheduledFunction" in n]
    return name


def test_the_bus_is_portfoliowise(default_synth: Synth) -> None:
    (bus,) = default_synth.resources("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == "portfoliowise"
    (archive,) = default_synth.resources("AWS::Events::Archive").values()
    assert archive["Properties"]["EventPattern"] == {"source": [{"prefix": "portfoliowise."}]}
    assert archive["Properties"]["RetentionDays"] == c.EVENT_ARCHIVE_RETENTION_DAYS


def test_schedules_are_the_seeds_and_the_codes() -> None:
    assert c.SCHEDULES == SEED_CRONS
    assert c.SCHEDULES == CODE_SCHEDULES  # the local scheduler runs the same rules


@pytest.mark.parametrize(
    ("unix", "eventbridge"),
    [
        ("0 */6 * * *", "cron(0 */6 * * ? *)"),
        ("0 2 * * *", "cron(0 2 * * ? *)"),
        ("0 3 * * SUN", "cron(0 3 ? * SUN *)"),
        ("30 1 1 * *", "cron(30 1 1 * ? *)"),
    ],
)
def test_to_eventbridge_cron(unix: str, eventbridge: str) -> None:
    assert to_eventbridge_cron(unix) == eventbridge


@pytest.mark.parametrize("bad", ["0 2 * *", "0 2 1 * MON"])
def test_to_eventbridge_cron_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match=r"cron|day-of"):
        to_eventbridge_cron(bad)


def test_three_cron_rules_invoke_the_scheduled_function_with_the_job(default_synth: Synth) -> None:
    scheduled = _scheduled_function(default_synth)
    schedules = {
        props["ScheduleExpression"]: props
        for props in _rules(default_synth).values()
        if "ScheduleExpression" in props
    }
    assert set(schedules) == {
        "cron(0 */6 * * ? *)",
        "cron(0 2 * * ? *)",
        "cron(0 3 ? * SUN *)",
    }
    jobs = {}
    for expression, props in schedules.items():
        assert "EventBusName" not in props  # schedule rules live on the default bus
        (target,) = props["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [scheduled, "Arn"]}
        assert "DeadLetterQueue" in target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == c.EVENT_TARGET_RETRY_ATTEMPTS
        jobs[expression] = json.loads(target["Input"])
    assert jobs == {
        "cron(0 */6 * * ? *)": {"job": "cache-warm"},
        "cron(0 2 * * ? *)": {"job": "backup"},
        "cron(0 3 ? * SUN *)": {"job": "cleanup"},
    }


def test_domain_events_are_the_codes() -> None:
    classes = [
        cls
        for cls in vars(domain_events).values()
        if isinstance(cls, type)
        and issubclass(cls, domain_events.DomainEvent)
        and cls is not domain_events.DomainEvent
    ]
    assert {cls.__name__ for cls in classes} == set(c.PORTFOLIO_EVENT_TYPES)
    assert {f"portfoliowise.{cls.context}" for cls in classes} == {c.PORTFOLIO_EVENT_SOURCE}


def test_domain_events_route_to_the_scheduled_function(default_synth: Synth) -> None:
    scheduled = _scheduled_function(default_synth)
    routes = [p for p in _rules(default_synth).values() if "EventPattern" in p]
    (route,) = routes
    assert "EventsBus" in route["EventBusName"]["Ref"]
    assert route["EventPattern"] == {
        "source": ["portfoliowise.portfolio"],
        "detail-type": list(c.PORTFOLIO_EVENT_TYPES),
    }
    (target,) = route["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [scheduled, "Arn"]}
    assert "Input" not in target  # the event as published


def test_dead_letter_queue_is_encrypted_and_tls_only(default_synth: Synth) -> None:
    (queue,) = default_synth.resources("AWS::SQS::Queue").values()
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == c.DLQ_RETENTION_DAYS * 86400
    (policy,) = default_synth.resources("AWS::SQS::QueuePolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in statements)


def test_eventbridge_may_invoke_the_scheduled_function(default_synth: Synth) -> None:
    scheduled = _scheduled_function(default_synth)
    permissions = [
        p["Properties"]
        for p in default_synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
        and p["Properties"]["FunctionName"] == {"Fn::GetAtt": [scheduled, "Arn"]}
    ]
    assert len(permissions) == 4  # three schedules + one route
