"""Events: the bus, the seed's cron rules and the domain-event routes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra.cdk import constants as c
from infra.cdk.components.events import to_eventbridge_cron
from infra_synth import Synth

from portfoliowise.application.scheduled_jobs import SCHEDULES as CODE_SCHEDULES
from portfoliowise.domain import analysis_jobs
from portfoliowise.domain import events as domain_events

SEED_CRONS = {"cache-warm": "0 */6 * * *", "backup": "0 2 * * *", "cleanup": "0 3 * * SUN"}


def _rules(synth: Synth) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in synth.resources("AWS::Events::Rule").items()}


def _function(synth: Synth, name: str) -> str:
    (found,) = [n for n in synth.resources("AWS::Lambda::Function") if f"{name}Function" in n]
    return found


def _scheduled_function(synth: Synth) -> str:
    return _function(synth, "Scheduled")


def _analysis_rule(synth: Synth) -> dict[str, Any]:
    (rule,) = [
        p
        for p in _rules(synth).values()
        if p.get("EventPattern", {}).get("source") == [c.ANALYSIS_EVENT_SOURCE]
    ]
    return rule


def _analysis_queue(synth: Synth) -> str:
    (queue,) = [n for n in synth.resources("AWS::SQS::Queue") if n.startswith("AnalysisConsumer")]
    return queue


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
        transformer = target["InputTransformer"]
        # the schedule event's id rides along: the run's correlation id in the logs
        assert transformer["InputPathsMap"] == {"id": "$.id"}
        jobs[expression] = json.loads(transformer["InputTemplate"].replace("<id>", '"<id>"'))
    assert jobs == {
        "cron(0 */6 * * ? *)": {"job": "cache-warm", "id": "<id>"},
        "cron(0 2 * * ? *)": {"job": "backup", "id": "<id>"},
        "cron(0 3 ? * SUN *)": {"job": "cleanup", "id": "<id>"},
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
    routes = [
        p
        for p in _rules(default_synth).values()
        if p.get("EventPattern", {}).get("source") == [c.PORTFOLIO_EVENT_SOURCE]
    ]
    (route,) = routes
    assert "EventsBus" in route["EventBusName"]["Ref"]
    assert route["EventPattern"] == {
        "source": ["portfoliowise.portfolio"],
        "detail-type": list(c.PORTFOLIO_EVENT_TYPES),
    }
    (target,) = route["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [scheduled, "Arn"]}
    assert "Input" not in target  # the event as published


def test_dead_letter_queues_are_encrypted_and_tls_only(default_synth: Synth) -> None:
    queues = default_synth.resources("AWS::SQS::Queue")
    # the rule targets' queue and the analysis queue
    assert len(queues) == 2
    assert _analysis_queue(default_synth) in queues
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["Properties"]["MessageRetentionPeriod"] == c.DLQ_RETENTION_DAYS * 86400
    policies = default_synth.resources("AWS::SQS::QueuePolicy").values()
    assert sorted(p["Properties"]["Queues"][0]["Ref"] for p in policies) == sorted(queues)
    for policy in policies:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )
        assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in statements)


# -- the analysis consumer ----------------------------------------------------------------------


def test_analysis_events_are_the_codes() -> None:
    classes = [
        cls
        for cls in vars(analysis_jobs).values()
        if isinstance(cls, type)
        and issubclass(cls, domain_events.DomainEvent)
        and cls not in (domain_events.DomainEvent, analysis_jobs.AnalysisEvent)  # bases
    ]
    assert {cls.__name__ for cls in classes} == set(c.ANALYSIS_EVENT_TYPES)
    assert {f"portfoliowise.{cls.context}" for cls in classes} == {c.ANALYSIS_EVENT_SOURCE}
    assert analysis_jobs.AnalysisRequested.__name__ == c.ANALYSIS_REQUESTED


@pytest.mark.parametrize("fixture", ["default_synth", "dr_synth", "standby_synth"])
def test_analysis_requested_goes_to_the_analysis_function(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    rule = _analysis_rule(synth)
    assert "EventsBus" in rule["EventBusName"]["Ref"]  # the custom bus
    assert rule["EventPattern"] == {
        "source": ["portfoliowise.analysis"],
        "detail-type": ["AnalysisRequested"],
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [_function(synth, "Analysis"), "Arn"]}
    assert "Input" not in target  # the event as published: the handler parses it
    # delivery: retried twice within the hour, then the analysis dead-letter queue
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": c.ANALYSIS_RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": c.ANALYSIS_MAX_EVENT_AGE_MINUTES * 60,
    }
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [_analysis_queue(synth), "Arn"]}}
    # no other rule sends anything to the analysis function
    others = [
        p
        for p in _rules(synth).values()
        if p is not rule and any(t["Arn"] == target["Arn"] for t in p.get("Targets", []))
    ]
    assert others == []


def test_a_failed_analysis_is_retried_twice_then_parked(default_synth: Synth) -> None:
    """EventBridge invokes Lambda asynchronously: a run that fails is retried by Lambda under
    the function's own settings, which end in the same queue."""
    assert 1 <= c.ANALYSIS_RETRY_ATTEMPTS <= 2
    (config,) = default_synth.resources("AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["FunctionName"] == {"Ref": _function(default_synth, "Analysis")}
    assert props["Qualifier"] == "$LATEST"
    assert props["MaximumRetryAttempts"] == c.ANALYSIS_RETRY_ATTEMPTS == 2
    assert props["MaximumEventAgeInSeconds"] == c.ANALYSIS_MAX_EVENT_AGE_MINUTES * 60 == 3600
    queue = _analysis_queue(default_synth)
    assert props["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}
    }
    # Lambda writes the destination with the function's role: the policy exists first
    role_policy = [d for d in config["DependsOn"] if "ComputeAnalysisRoleDefaultPolicy" in d]
    assert role_policy


def test_the_analysis_role_may_send_to_its_queue_only(default_synth: Synth) -> None:
    function = default_synth.resources("AWS::Lambda::Function")[
        _function(default_synth, "Analysis")
    ]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    sends = [
        s
        for policy in default_synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            str(a).startswith("sqs:")
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
    ]
    assert sends == [
        {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [_analysis_queue(default_synth), "Arn"]},
        }
    ]
    # and the analysis queue takes EventBridge's messages from the analysis rule only
    (policy,) = [
        p
        for p in default_synth.resources("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": _analysis_queue(default_synth)}]
    ]
    (events_statement,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert "AnalysisConsumerRequested" in json.dumps(events_statement["Condition"])


def test_eventbridge_may_invoke_the_analysis_function_from_its_rule(
    default_synth: Synth,
) -> None:
    analysis = _function(default_synth, "Analysis")
    permissions = [
        p["Properties"]
        for p in default_synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
        and p["Properties"]["FunctionName"] == {"Fn::GetAtt": [analysis, "Arn"]}
    ]
    (permission,) = permissions
    assert "AnalysisConsumerRequested" in json.dumps(permission["SourceArn"])


def test_eventbridge_may_invoke_the_scheduled_function(default_synth: Synth) -> None:
    scheduled = _scheduled_function(default_synth)
    permissions = [
        p["Properties"]
        for p in default_synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
        and p["Properties"]["FunctionName"] == {"Fn::GetAtt": [scheduled, "Arn"]}
    ]
    assert len(permissions) == 4  # three schedules + one route


# -- alarms on the dead-letter queues -----------------------------------------------------------


def _rules_queue(synth: Synth) -> str:
    (queue,) = [n for n in synth.resources("AWS::SQS::Queue") if n.startswith("FoundationEvents")]
    return queue


@pytest.mark.parametrize("fixture", ["default_synth", "dr_synth", "standby_synth"])
def test_each_dead_letter_queue_has_a_warning_alarm(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    (warning_topic,) = [
        name
        for name, topic in synth.resources("AWS::SNS::Topic").items()
        if topic["Properties"]["TopicName"].endswith("warning-alerts")
    ]
    queues = {"event rules": _rules_queue(synth), "analysis consumer": _analysis_queue(synth)}
    assert sorted(queues.values()) == sorted(synth.resources("AWS::SQS::Queue"))
    alarms = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    ]
    assert len(alarms) == len(queues)
    for owner, queue in queues.items():
        (alarm,) = [
            a
            for a in alarms
            if a["Dimensions"]
            == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
        ]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 300)
        assert alarm["Threshold"] == c.ALARM_DLQ_VISIBLE_MESSAGES == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": warning_topic}]
        assert alarm["AlarmDescription"].startswith(f"[warning] dead-letter queue of the {owner}")
        assert "redrive" in alarm["AlarmDescription"]
