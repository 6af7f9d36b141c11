"""The CDK app.

Run it one of two ways:

    # from the repository root, no CDK CLI needed (writes infra/cdk/cdk.out):
    .venv/bin/python -m infra.cdk.build_assets      # the Lambda code assets (no Docker)
    .venv/bin/python -m infra.cdk.app

    # with the CDK CLI, from infra/cdk (cdk.json runs
    # `PYTHONPATH=../.. ../../.venv/bin/python -m infra.cdk.app` and passes its context):
    cd infra/cdk && npx cdk synth [-c natMode=per-az] [-c dr=true ...]

Settings come from CDK context (see config.py; the CLI passes `cdk.json`'s context and every
`-c key=value` in `CDK_CONTEXT_JSON`).

Stacks: `PortfolioWise[-<stage>]` in the primary region (default us-west-2, the seed's) and, with
`-c dr=true`, `PortfolioWise[-<stage>]-DrRegion` in us-east-1 (deployed first: it holds the
keys and the bucket the primary stack replicates into; see DR.md). With
`-c standby=true -c region=us-east-1`: `PortfolioWise[-<stage>]-Standby`, the standby
deployment in the DR region over the replicas. cdk-nag's
AwsSolutionsChecks validates every stack at synthesis: a finding fails the synth and is
written to `validation-report.json` in the cloud assembly. The account comes from
`CDK_DEFAULT_ACCOUNT` (the CLI sets it from the credentials) and may stay unresolved for an
offline synth.

The cloud assembly goes to `$CDK_OUTDIR` (the CLI sets it to its `--output`) or else
`infra/cdk/cdk.out`.
"""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.cdk import constants as c
from infra.cdk.components.dr import DrRegionStack
from infra.cdk.config import Settings, SettingsError
from infra.cdk.stack import PortfolioWiseStack

DEFAULT_OUTDIR = Path(__file__).resolve().parent / "cdk.out"

# CDK feature flags the app relies on (the CLI's `cdk.json` context could hold them too; they
# are set here so that `python -m infra.cdk.app` and the tests synthesize the same templates).
FEATURE_FLAGS: dict[str, object] = {
    # Server access logs are allowed in by a bucket policy for logging.s3.amazonaws.com, not
    # by the legacy LogDeliveryWrite ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def stack_name(settings: Settings) -> str:
    name = "PortfolioWise"
    if settings.stage != c.DEFAULT_STAGE:
        name = f"{name}-{settings.stage}"
    return f"{name}-Standby" if settings.standby else name


def build_app(
    context: dict[str, object] | None = None,
    outdir: str | os.PathLike[str] | None = None,
    *,
    nag: bool = True,
    account: str | None = None,
) -> tuple[cdk.App, PortfolioWiseStack, DrRegionStack | None]:
    """The app, its primary stack and (with DR) its DR-region stack; not yet synthesized.
    `account` defaults to `CDK_DEFAULT_ACCOUNT`; the standby needs it (its key lookups)."""
    app = cdk.App(
        outdir=str(outdir or os.environ.get("CDK_OUTDIR") or DEFAULT_OUTDIR),
        context={**FEATURE_FLAGS, **(context or {})},
    )
    settings = Settings.from_context(app.node)
    account = account or os.environ.get("CDK_DEFAULT_ACCOUNT") or None
    if settings.standby and not account:
        raise SettingsError(
            "standby: the account must be known (CDK_DEFAULT_ACCOUNT, set by the CDK CLI from "
            "the credentials) to look up the DR region's keys by alias"
        )
    name = stack_name(settings)
    dr_stack = None
    if settings.dr:
        dr_stack = DrRegionStack(
            app,
            f"{name}-DrRegion",
            settings=settings,
            env=cdk.Environment(account=account, region=c.DR_REGION),
            description="PortfolioWise DR region: replica keys and backups replica bucket",
        )
    stack = PortfolioWiseStack(
        app,
        name,
        settings=settings,
        env=cdk.Environment(account=account, region=settings.region),
        description="PortfolioWise backend (seed-infrastructure-design.md)",
    )
    if dr_stack is not None:
        stack.add_stack_dependency(dr_stack, "replicas and replication target the DR region")
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack, dr_stack


def main() -> None:
    app, _, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
