"""cdk-nag AwsSolutionsChecks on the whole app: no unacknowledged finding, and every
acknowledgement carries a specific reason and sits on the construct it concerns.

cdk-nag 3 reports through CDK's policy-validation plugins: a finding fails synthesis and is
written to `validation-report.json`; acknowledged ones are listed as suppressed there."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from infra_synth import Synth


def _report(synth: Synth) -> dict[str, Any]:
    return json.loads((synth.outdir / "validation-report.json").read_text())


def _nag(synth: Synth) -> dict[str, Any]:
    (report,) = [r for r in _report(synth)["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    return report


@pytest.mark.parametrize(
    "fixture", ["default_synth", "dr_synth", "standby_synth", "per_az_synth", "no_nat_synth"]
)
def test_no_unacknowledged_findings(request: pytest.FixtureRequest, fixture: str) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    assert synth.validation_error is None, synth.validation_error
    report = _nag(synth)
    findings = [
        (violation["ruleName"], construct["constructPath"])
        for violation in report["violations"]
        for construct in violation["violatingConstructs"]
    ]
    assert findings == []
    assert report["conclusion"] == "success"


@pytest.mark.parametrize(
    "fixture", ["default_synth", "dr_synth", "standby_synth", "per_az_synth", "no_nat_synth"]
)
def test_acknowledgements_are_specific(request: pytest.FixtureRequest, fixture: str) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    stacks = set(synth.templates)
    for suppressed in _nag(synth)["suppressedViolations"]:
        assert len(suppressed["reason"]) >= 40, suppressed["ruleName"]
        # on a construct inside a stack, never on a whole stack or the app
        assert suppressed["acknowledgedAt"] not in stacks, suppressed
        assert "/" in suppressed["acknowledgedAt"], suppressed
        for construct in suppressed["violatingConstructs"]:
            assert construct["constructPath"].startswith(suppressed["acknowledgedAt"] + "/")


def test_the_analysis_resources_acknowledge_only_what_they_must(default_synth: Synth) -> None:
    """The analysis function and its consumer add four acknowledged findings, each on its own
    construct: the '*' of X-Ray and the VPC network interfaces, the key wildcard of the models
    bucket's objects, the runtime pin, and the dead-letter queue having no queue of its own."""
    found = {
        (
            suppressed["ruleName"].split("[")[0],
            suppressed["acknowledgedAt"],
            construct["constructPath"],
        )
        for suppressed in _nag(default_synth)["suppressedViolations"]
        for construct in suppressed["violatingConstructs"]
        if "/Compute/Analysis" in construct["constructPath"]
        or "/AnalysisConsumer/" in construct["constructPath"]
    }
    role, policy = "PortfolioWise/Compute/AnalysisRole", "AnalysisRole/DefaultPolicy/Resource"
    assert found == {
        ("AwsSolutions-IAM5", role, f"PortfolioWise/Compute/{policy}"),
        (
            "AwsSolutions-L1",
            "PortfolioWise/Compute/AnalysisFunction",
            "PortfolioWise/Compute/AnalysisFunction/Resource",
        ),
        (
            "AwsSolutions-SQS3",
            "PortfolioWise/AnalysisConsumer/DeadLetterQueue",
            "PortfolioWise/AnalysisConsumer/DeadLetterQueue/Resource",
        ),
    }
    wildcards = sorted(
        suppressed["ruleName"]
        for suppressed in _nag(default_synth)["suppressedViolations"]
        if suppressed["acknowledgedAt"] == role
    )
    assert wildcards[0] == "AwsSolutions-IAM5[Resource::*]"
    assert re.fullmatch(
        r"AwsSolutions-IAM5\[Resource::<FoundationStorageModelsBucket[0-9A-F]{8}\.Arn>/\*\]",
        wildcards[1],
    )
    assert len(wildcards) == 2
