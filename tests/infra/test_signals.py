"""Signals (src/portfoliowise/domain/signals.py) in the infrastructure: the auth and portfolio
functions publish to the info topic (INFO_TOPIC_ARN, `sns:Publish` on that topic alone, the
topics' key to encrypt), no other function can; the info alarms watch the metrics the code
counts (the `SignalKind` values) and describe the code's thresholds."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from compute_harness import Synth, function_logical_ids, synth
from infra.cdk import constants as C
from infra.cdk.components.compute import SIGNAL_PUBLISHERS
from infra.cdk.components.monitoring import service
from infra_synth import Synth as AppSynth

from portfoliowise.domain.signals import (
    LARGE_CHANGE_PERCENT,
    UNUSUAL_WRITES_PER_HOUR,
    SignalKind,
)
from portfoliowise.handlers.settings import Settings as CodeSettings

INFO_TOPIC = "portfoliowise-info-notifications"


def _logical_of_topic(resources: dict[str, Any], name: str) -> str:
    (logical,) = [
        key
        for key, value in resources.items()
        if value["Type"] == "AWS::SNS::Topic" and value["Properties"]["TopicName"] == name
    ]
    return logical


def _topic_key(resources: dict[str, Any], topic: str) -> str:
    key = resources[topic]["Properties"]["KmsMasterKeyId"]
    return str(key["Fn::GetAtt"][0])


def _statements_of_role(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for resource in resources.values():
        if (
            resource["Type"] == "AWS::IAM::Policy"
            and {"Ref": role} in resource["Properties"]["Roles"]
        ):
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def _functions(result: Synth) -> dict[str, dict[str, Any]]:
    return {
        name: result.raw["Resources"][logical]["Properties"]
        for name, logical in function_logical_ids(result).items()
    }


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_the_publishers_are_the_auth_and_portfolio_functions() -> None:
    assert set(SIGNAL_PUBLISHERS) == {"auth", "portfolio"}


def test_auth_and_portfolio_know_the_info_topic_and_no_other_function_does() -> None:
    result = synth()
    topic = _logical_of_topic(result.raw["Resources"], INFO_TOPIC)
    for name, props in _functions(result).items():
        env = props["Environment"]["Variables"]
        if name in SIGNAL_PUBLISHERS:
            assert env["INFO_TOPIC_ARN"] == {"Ref": topic}, name
        else:
            assert "INFO_TOPIC_ARN" not in env, name


def test_only_auth_and_portfolio_may_publish_and_only_to_the_info_topic() -> None:
    result = synth()
    resources = result.raw["Resources"]
    topic = _logical_of_topic(resources, INFO_TOPIC)
    key = _topic_key(resources, topic)
    for name, props in _functions(result).items():
        statements = _statements_of_role(resources, props["Role"]["Fn::GetAtt"][0])
        sns = [s for s in statements if any(a.startswith("sns:") for a in _actions(s))]
        on_key = [s for s in statements if key in json.dumps(s["Resource"])]
        if name not in SIGNAL_PUBLISHERS:
            assert sns == [], name
            assert on_key == [], name
            continue
        (publish,) = sns
        assert _actions(publish) == {"sns:Publish"}
        assert publish["Resource"] == {"Ref": topic}
        assert "Condition" not in publish
        (use_key,) = on_key
        assert _actions(use_key) == {"kms:Decrypt", "kms:GenerateDataKey"}
        assert use_key["Resource"] == {"Fn::GetAtt": [key, "Arn"]}


def test_no_role_of_the_harness_publishes_to_the_alert_topics() -> None:
    """The critical and warning topics are CloudWatch's alone."""
    result = synth()
    resources = result.raw["Resources"]
    others = [
        _logical_of_topic(resources, f"portfoliowise-{name}")
        for name in C.ALERT_TOPIC_NAMES
        if name != "info-notifications"
    ]
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy":
            text = json.dumps(resource["Properties"]["PolicyDocument"])
            for topic in others:
                assert topic not in text


def test_the_stack_gives_the_publishers_the_info_topic(default_synth: AppSynth) -> None:
    """The whole app (stack.py wires it after building monitoring)."""
    template = default_synth.templates[default_synth.stack_name]
    resources = template["Resources"]
    topic = _logical_of_topic(resources, INFO_TOPIC)
    functions = default_synth.resources("AWS::Lambda::Function")
    publishers = {
        props["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for props in functions.values()
        if props["Properties"]["Environment"]["Variables"].get("INFO_TOPIC_ARN") == {"Ref": topic}
    }
    assert publishers == {service(name) for name in SIGNAL_PUBLISHERS}
    granted = {
        policy_name
        for policy_name, policy in resources.items()
        if policy["Type"] == "AWS::IAM::Policy"
        and any(
            "sns:Publish" in _actions(s)
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    }
    assert len(granted) == len(SIGNAL_PUBLISHERS)


def test_the_variable_is_the_one_the_code_reads() -> None:
    settings = CodeSettings.from_env({"INFO_TOPIC_ARN": "arn:aws:sns:ap-northeast-1:1:info"})
    assert settings.info_topic_arn == "arn:aws:sns:ap-northeast-1:1:info"


# -- the info alarms and the code's signals ---------------------------------------------------


def test_the_info_metric_names_are_the_signal_kinds_the_code_emits() -> None:
    assert SignalKind.SIGN_UP.value == C.METRIC_SIGN_UPS
    assert SignalKind.LARGE_PORTFOLIO_CHANGE.value == C.METRIC_LARGE_PORTFOLIO_CHANGES
    assert SignalKind.UNUSUAL_ACTIVITY.value == C.METRIC_UNUSUAL_ACTIVITY


def _info_alarms(result: Synth) -> dict[str, dict[str, Any]]:
    return {
        props["Properties"]["MetricName"]: props["Properties"]
        for props in result.resources("AWS::CloudWatch::Alarm").values()
        if props["Properties"]["AlarmDescription"].startswith("[info]")
    }


def test_the_info_alarms_watch_each_signal_where_it_is_counted() -> None:
    alarms = _info_alarms(synth())
    assert set(alarms) == {kind.value for kind in SignalKind}
    counted_by = {
        SignalKind.SIGN_UP: "auth",
        SignalKind.LARGE_PORTFOLIO_CHANGE: "portfolio",
        SignalKind.UNUSUAL_ACTIVITY: "portfolio",
    }
    for kind, function in counted_by.items():
        alarm = alarms[kind.value]
        assert function in SIGNAL_PUBLISHERS
        assert alarm["Dimensions"] == [
            {"Name": C.EMF_SERVICE_DIMENSION, "Value": service(function)}
        ]
        assert alarm["Namespace"] == C.METRICS_NAMESPACE


def test_the_info_thresholds_are_the_codes() -> None:
    assert Decimal(C.INFO_LARGE_PORTFOLIO_CHANGE_PERCENT) == LARGE_CHANGE_PERCENT
    assert C.INFO_UNUSUAL_ACTIVITY_WRITES_PER_HOUR == UNUSUAL_WRITES_PER_HOUR


@pytest.mark.parametrize(
    ("metric", "description"),
    [
        (C.METRIC_SIGN_UPS, "[info] a new user signed up"),
        (
            C.METRIC_LARGE_PORTFOLIO_CHANGES,
            "[info] a portfolio's value moved by more than 10 % between two valuations",
        ),
        (
            C.METRIC_UNUSUAL_ACTIVITY,
            "[info] unusual activity (more than 100 portfolio writes by one user in an hour)",
        ),
    ],
)
def test_the_info_alarm_descriptions(metric: str, description: str) -> None:
    text = _info_alarms(synth())[metric]["AlarmDescription"]
    assert text == description
    assert "JPY" not in text
    assert "5 minutes" not in text
