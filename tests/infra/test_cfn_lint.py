"""cfn-lint on every synthesized template: no errors (warnings are allowed; CDK's known ones
such as hard-coded AZs are deliberate here, the seed fixes the AZs)."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import lint
from infra_synth import Synth


def _errors(text: str, region: str) -> list[str]:
    return [str(match) for match in lint(text, regions=[region]) if match.rule.id.startswith("E")]


def _region(synth: Synth, stack: str) -> str:
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    return manifest["artifacts"][stack]["environment"].rsplit("/", 1)[-1]


@pytest.mark.parametrize("fixture", ["default_synth", "dr_synth", "standby_synth"])
def test_app_templates_have_no_errors(request: pytest.FixtureRequest, fixture: str) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    assert synth.templates
    for stack, template in synth.templates.items():
        assert _errors(json.dumps(template), _region(synth, stack)) == [], stack


@pytest.mark.parametrize("fixture", ["per_az_synth", "no_nat_synth"])
def test_network_variants_have_no_errors(request: pytest.FixtureRequest, fixture: str) -> None:
    synth: Synth = request.getfixturevalue(fixture)
    assert _errors(json.dumps(synth.templates[synth.stack_name]), "ap-northeast-1") == []
