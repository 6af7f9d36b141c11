"""One synthesized CDK app shared by the infra tests (see conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template
from infra.cdk.app import build_app

# A file in each stand-in asset naming its function: the assets differ (so each function's
# code is an asset of its own in the cloud assembly) and a template's `Code.S3Key` leads back
# to the function whose asset it is (`asset.<hash>/<marker>`).
STAND_IN_MARKER = "stand-in-for.txt"


@dataclass
class Synth:
    """One synthesized app: its templates by stack name and cdk-nag's outcome."""

    outdir: Path
    templates: dict[str, dict[str, Any]]
    stack_name: str
    dr_stack_name: str | None
    validation_error: str | None

    @property
    def template(self) -> Template:
        return Template.from_json(self.templates[self.stack_name])

    @property
    def dr_template(self) -> Template:
        assert self.dr_stack_name is not None
        return Template.from_json(self.templates[self.dr_stack_name])

    def resources(self, kind: str, stack: str | None = None) -> dict[str, dict[str, Any]]:
        template = self.templates[stack or self.stack_name]
        return {
            name: resource
            for name, resource in template["Resources"].items()
            if resource["Type"] == kind
        }

    def template_paths(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


def read_synth(
    app: cdk.App, outdir: Path, stack_name: str, dr_stack_name: str | None = None
) -> Synth:
    """Synthesize `app` (cdk-nag findings fail it; the templates are written all the same)."""
    error = None
    try:
        app.synth()
    except RuntimeError as exc:
        error = str(exc)
        report = outdir / "validation-report.json"
        if report.exists():
            error += "\n" + report.read_text()
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }
    return Synth(outdir, templates, stack_name, dr_stack_name, error)


def synthesize(outdir: Path, context: dict[str, Any], account: str | None = None) -> Synth:
    """The whole app (`build_app`) with `context`, cdk-nag on."""
    app, stack, dr_stack = build_app(context, outdir, account=account)
    return read_synth(app, outdir, stack.artifact_id, dr_stack.artifact_id if dr_stack else None)
