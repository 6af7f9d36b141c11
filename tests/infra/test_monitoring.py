"""Monitoring: the seed's section 5 alarms, topics, dashboards and log groups."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from compute_harness import Synth, function_logical_ids, synth
from infra.cdk import constants as C

# The deployed functions: the seed's five.
SEED_TIMEOUTS = {"market": 30, "auth": 10, "portfolio": 10, "analysis": 60, "scheduled": 300}
SEED_MEMORY = {"market": 256, "auth": 128, "portfolio": 256, "analysis": 512, "scheduled": 128}


def _alarms(result: Synth) -> dict[str, dict[str, Any]]:
    """Alarms by their construct id (the part of the logical id after `Monitoring`)."""
    return {
        props["Properties"]["AlarmDescription"]: props["Properties"]
        for props in result.resources("AWS::CloudWatch::Alarm").values()
    }


def _topic_of(result: Synth, alarm: dict[str, Any]) -> str:
    (action,) = alarm["AlarmActions"]
    topic = result.raw["Resources"][action["Ref"]]["Properties"]["TopicName"]
    return topic


def _by_prefix(result: Synth, prefix: str) -> list[dict[str, Any]]:
    return [props for text, props in _alarms(result).items() if text.startswith(prefix)]


def test_three_kms_encrypted_topics_with_email_subscription() -> None:
    result = synth()
    topics = result.resources("AWS::SNS::Topic")
    names = sorted(t["Properties"]["TopicName"] for t in topics.values())
    assert names == [
        "portfoliowise-critical-alerts",
        "portfoliowise-info-notifications",
        "portfoliowise-warning-alerts",
    ]
    for topic in topics.values():
        assert "KmsMasterKeyId" in topic["Properties"]
    subscriptions = result.resources("AWS::SNS::Subscription")
    assert len(subscriptions) == 3
    assert {s["Properties"]["Endpoint"] for s in subscriptions.values()} == {"ops@example.com"}


def test_critical_error_rate_above_1_percent_per_function() -> None:
    result = synth()
    alarms = [a for a in _by_prefix(result, "[critical]") if "error rate" in a["AlarmDescription"]]
    assert len(alarms) == len(SEED_TIMEOUTS)
    for alarm in alarms:
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        expression = next(m for m in alarm["Metrics"] if "Expression" in m)
        assert "100 * errors / invocations" in expression["Expression"]
        assert _topic_of(result, alarm) == "portfoliowise-critical-alerts"


def test_critical_duration_above_half_of_each_timeout() -> None:
    alarms = {
        a["AlarmDescription"].split(":")[0].removeprefix("[critical] "): a
        for a in _by_prefix(synth(), "[critical]")
        if "duration above" in a["AlarmDescription"]
    }
    assert set(alarms) == set(SEED_TIMEOUTS)
    for name, timeout in SEED_TIMEOUTS.items():
        assert alarms[name]["Threshold"] == timeout * 1000 * 0.5
        assert alarms[name]["MetricName"] == "Duration"
        assert alarms[name]["Statistic"] == "Maximum"


def test_critical_api_5xx_above_10_per_minute() -> None:
    result = synth()
    (alarm,) = [a for a in _by_prefix(result, "[critical]") if "5xx" in a["AlarmDescription"]]
    assert alarm["MetricName"] == "5XXError"
    assert alarm["Period"] == 60
    assert alarm["Threshold"] == 10
    assert alarm["Statistic"] == "Sum"


def test_warning_latency_cache_miss_and_memory() -> None:
    result = synth()
    warnings = _by_prefix(result, "[warning]")
    (latency,) = [a for a in warnings if "latency" in a["AlarmDescription"]]
    assert latency["Threshold"] == 2000
    assert latency["MetricName"] == "Latency"
    (cache,) = [a for a in warnings if "cache miss" in a["AlarmDescription"]]
    assert cache["Threshold"] == 50
    metric_names = {
        m["MetricStat"]["Metric"]["MetricName"] for m in cache["Metrics"] if "MetricStat" in m
    }
    assert metric_names == {C.METRIC_CACHE_HITS, C.METRIC_CACHE_MISSES}
    memory = {
        a["Dimensions"][0]["Value"]: a for a in warnings if "memory used" in a["AlarmDescription"]
    }
    for name, size in SEED_MEMORY.items():
        alarm = memory[f"portfoliowise-{name}"]
        assert alarm["MetricName"] == "MemoryUsedPercent"  # emitted by the code itself
        assert alarm["Statistic"] == "Maximum"
        assert alarm["Threshold"] == 80
        assert f"{size} MB" in alarm["AlarmDescription"]
    for alarm in warnings:
        assert _topic_of(result, alarm) == "portfoliowise-warning-alerts"


def test_no_log_metric_filter_memory_comes_from_the_code() -> None:
    assert synth().resources("AWS::Logs::MetricFilter") == {}


def test_info_alarms_on_the_emf_counters() -> None:
    result = synth()
    infos = _by_prefix(result, "[info]")
    assert {a["MetricName"] for a in infos} == {
        "SignUps",
        "LargePortfolioChanges",
        "UnusualActivity",
    }
    for alarm in infos:
        assert alarm["Namespace"] == "PortfolioWise"
        assert alarm["Threshold"] == 0
        assert "OKActions" not in alarm
        assert _topic_of(result, alarm) == "portfoliowise-info-notifications"


def test_three_dashboards() -> None:
    result = synth()
    dashboards = result.resources("AWS::CloudWatch::Dashboard")
    names = sorted(d["Properties"]["DashboardName"] for d in dashboards.values())
    assert names == ["portfoliowise-business", "portfoliowise-operations", "portfoliowise-security"]


def test_custom_application_log_group_kept_14_days() -> None:
    result = synth()
    (group,) = [
        g
        for g in result.resources("AWS::Logs::LogGroup").values()
        if g["Properties"].get("LogGroupName") == "/custom/application"
    ]
    assert group["Properties"]["RetentionInDays"] == C.CUSTOM_LOG_RETENTION_DAYS == 14


def test_only_the_portfolio_function_writes_the_custom_log_group() -> None:
    result = synth()
    (logical,) = [
        name
        for name, g in result.resources("AWS::Logs::LogGroup").items()
        if g["Properties"].get("LogGroupName") == "/custom/application"
    ]
    writers = []
    for policy in result.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if logical in json.dumps(statement.get("Resource")):
                actions = statement["Action"]
                assert set([actions] if isinstance(actions, str) else actions) == {
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                }
                writers.append(json.dumps(policy["Properties"]["Roles"]))
    assert len(writers) == 1
    portfolio = function_logical_ids(result)["portfolio"]
    functions = result.resources("AWS::Lambda::Function")
    role = functions[portfolio]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert role in writers[0]
    for name, function in functions.items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if name == portfolio:
            assert variables["CLIENT_LOG_GROUP"] == {"Ref": logical}
        else:
            assert "CLIENT_LOG_GROUP" not in variables


def test_the_analysis_function_is_watched_like_the_others() -> None:
    alarms = {text: props for text, props in _alarms(synth()).items() if "analysis:" in text}
    by_kind = {
        kind: [a for text, a in alarms.items() if kind in text]
        for kind in ("error rate", "duration above", "memory used")
    }
    assert {kind: len(found) for kind, found in by_kind.items()} == {
        "error rate": 1,
        "duration above": 1,
        "memory used": 1,
    }
    assert by_kind["duration above"][0]["Threshold"] == 30_000  # 50 % of 60 s
    assert by_kind["memory used"][0]["Threshold"] == 80  # percent of its 512 MB
    assert by_kind["memory used"][0]["MetricName"] == "MemoryUsedPercent"
    assert "512 MB" in by_kind["memory used"][0]["AlarmDescription"]


def test_dashboards_show_the_analysis_function() -> None:
    result = synth()
    dashboards = {
        d["Properties"]["DashboardName"]: json.dumps(d["Properties"]["DashboardBody"])
        for d in result.resources("AWS::CloudWatch::Dashboard").values()
    }
    analysis = function_logical_ids(result)["analysis"]
    operations = dashboards["portfoliowise-operations"]
    assert analysis in operations  # invocations, errors, throttles, duration, concurrency
    assert "MemoryUsedPercent" in operations
    assert "portfoliowise-analysis" in operations
    # API usage per function: the analysis routes count requests like the others
    assert "portfoliowise-analysis" in dashboards["portfoliowise-business"]


def test_no_unacknowledged_cdk_nag_finding_in_monitoring() -> None:
    findings = [v for v in synth().our_violations() if "/Monitoring/" in v[1]]
    assert findings == []


def _queue_logical_ids(result: Synth) -> dict[str, str]:
    """dead-letter queue name (events, analysis) -> logical id of its AWS::SQS::Queue."""
    stack = cdk.Stack.of(result.monitoring)
    queues = result.dead_letter_queues
    return {
        name: stack.resolve(queue.node.default_child.logical_id)  # type: ignore[union-attr]
        for name, queue in (("events", queues.events), ("analysis", queues.analysis))
    }


def test_warning_alarm_per_dead_letter_queue_on_any_visible_message() -> None:
    result = synth()
    queues = _queue_logical_ids(result)
    alarms = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: a
        for a in _by_prefix(result, "[warning]")
        if a.get("Namespace") == "AWS/SQS"
    }
    assert set(alarms) == set(queues.values())
    for name, queue in queues.items():
        alarm = alarms[queue]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Dimensions"] == [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        ]
        assert alarm["Statistic"] == "Maximum"
        assert alarm["Period"] == 300
        assert alarm["Threshold"] == C.ALARM_DLQ_VISIBLE_MESSAGES == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert _topic_of(result, alarm) == "portfoliowise-warning-alerts"
        assert alarm["OKActions"] == alarm["AlarmActions"]
        description = alarm["AlarmDescription"]
        owner = {"events": "the event rules", "analysis": "the analysis consumer"}[name]
        assert description.startswith(f"[warning] dead-letter queue of {owner}")
        assert "Inspect" in description
        assert "redrive" in description


def test_operations_dashboard_shows_the_dead_letter_queues() -> None:
    result = synth()
    (operations,) = [
        json.dumps(d["Properties"]["DashboardBody"])
        for d in result.resources("AWS::CloudWatch::Dashboard").values()
        if d["Properties"]["DashboardName"] == "portfoliowise-operations"
    ]
    for queue in _queue_logical_ids(result).values():
        assert queue in operations
    assert "ApproximateNumberOfMessagesVisible" in operations
    assert "ApproximateAgeOfOldestMessage" in operations
    for alarm in result.resources("AWS::CloudWatch::Alarm"):
        if "DeadLetterQueue" in alarm:
            assert alarm in operations  # in the alarm status widget
