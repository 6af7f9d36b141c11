"""The fixed monthly cost of a deployment, per NAT mode, next to the seed's $25/month.

    python -m infra.cdk.cost [--region REGION] [--dr] [--no-free-tier]

"Fixed" means what the deployment costs with no user at all: hourly resources (NAT gateways,
their public IPv4 addresses, interface endpoints), monthly resources (WAF WebACL and rules,
KMS keys, secrets, dashboards, alarms, custom metrics, a Route 53 health check with DR), plus
two stated traffic assumptions that are hard to avoid (NAT data processing for the market
function's calls, WAF requests at the seed's ~1M requests/month). Usage-priced services
(Lambda, API Gateway, DynamoDB on demand, S3, CloudFront, logs) are what the seed's $25
budget is for (seed §7: Lambda $5, DynamoDB $8, S3 $3, network $5, other $4) and are not
repeated here.

Unit prices: AWS list prices in USD for the deployed region (`cdk.json`'s context `region`,
us-west-2 as the seed draws it; `--region` prices another one of REGION_PRICES), as published
on the AWS pricing pages in 2025 (PRICES_YEAR); they were not re-checked on the day of a
deployment. The columns: `per-az`, `single`, `none` as deployed by default (with `none` no
function runs in the VPC and no interface endpoint is created, config.py), and
`none+endpoints` (`-c natMode=none -c interfaceEndpoints=true`: the in-VPC functions reach the
AWS APIs through the interface endpoints). CloudWatch's always-free tier (3 dashboards, 10
alarm metrics, 10 custom metrics) is applied unless `--no-free-tier`.

Custom metrics are counted from the code's catalog (handlers/metric_names.py CATALOG): one
metric per name, function and value of its run-time dimensions (route, tier, source, job,
analyst and outcome; the cardinalities below, the derivation is printed under the table).
CloudWatch prorates custom metrics by the hour they receive data, so rarely used routes,
sources or outcomes cost less than the full figure: the estimate is the upper bound.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.cdk import constants as C
from portfoliowise.adapters.market.chain import (
    DEFAULT_FX_SOURCES,
    DEFAULT_HISTORY_SOURCES,
    DEFAULT_QUOTE_SOURCES,
)
from portfoliowise.application.web_app import FREE_PLAN
from portfoliowise.domain.analysis import OPENAI_ANALYST, RULES_ANALYST, FallbackReason
from portfoliowise.handlers import metric_names as M

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"
API_MODULE = Path(__file__).resolve().parent / "components" / "api.py"

PRICES_YEAR = "2025"
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class RegionPrices:
    """The unit prices that differ by region (USD)."""

    region: str
    nat_gateway_per_hour: float
    nat_gateway_per_gb: float
    interface_endpoint_per_az_hour: float
    interface_endpoint_per_gb: float = 0.01


# AWS list prices per region (2025). US West (Oregon) and US East (N. Virginia) share them.
REGION_PRICES: dict[str, RegionPrices] = {
    "us-west-2": RegionPrices("us-west-2", 0.045, 0.045, 0.010),
    "us-east-1": RegionPrices("us-east-1", 0.045, 0.045, 0.010),
    "ap-northeast-1": RegionPrices("ap-northeast-1", 0.062, 0.062, 0.014),
}

# -- unit prices the same in these regions --------------------------------------------------
PUBLIC_IPV4_PER_HOUR = 0.005  # every public IPv4 address, including a NAT gateway's EIP
WAF_WEB_ACL_PER_MONTH = 5.00
WAF_RULE_PER_MONTH = 1.00  # a managed rule group counts as one rule
WAF_PER_MILLION_REQUESTS = 0.60
CLOUDWATCH_DASHBOARD_PER_MONTH = 3.00
CLOUDWATCH_ALARM_METRIC_PER_MONTH = 0.10  # standard resolution, per metric in the alarm
CLOUDWATCH_CUSTOM_METRIC_PER_MONTH = 0.30  # first 10,000 metrics
KMS_KEY_PER_MONTH = 1.00  # customer-managed key (rotation included for symmetric keys)
SECRET_PER_MONTH = 0.40  # a replica secret is billed as a secret
ROUTE53_HEALTH_CHECK_AWS_ENDPOINT = 0.50
ROUTE53_HEALTH_CHECK_OPTIONAL_FEATURE = 1.00  # HTTPS is one optional feature
FREE_DASHBOARDS = 3
FREE_ALARM_METRICS = 10
FREE_CUSTOM_METRICS = 10

# -- what the deployment has (counts; see the components) -----------------------------------
SEED_MONTHLY_BUDGET = 25.00  # seed §7 "Total: $25/month"
SEED_REQUESTS_PER_MONTH = 1_000_000  # seed §7 "Lambda ~1M requests"
# Assumption: the market function's outbound calls (quotes, history, FX; cache TTL 1 h and
# batching keep them small) through NAT: 5 GB/month.
NAT_DATA_GB_PER_MONTH = 5.0
NAT_GATEWAYS = {C.NAT_MODE_PER_AZ: C.AZ_COUNT, C.NAT_MODE_SINGLE: 1, C.NAT_MODE_NONE: 0}
WAF_RULES = 2  # AWS managed common rule set + rate-based rule (api.py)
DASHBOARDS = 3  # operations, business, security (monitoring.py)
# Alarm metrics (monitoring.py): per function error rate (2 metrics) + duration (1) + memory
# (1); API 5xx (1), latency (1); cache miss rate (2); dead-letter queues, events and analysis
# (2); info: sign-up, large change, unusual (3).
ALARM_METRICS = len(C.LAMBDA_FUNCTION_NAMES) * (2 + 1 + 1) + 1 + 1 + 2 + 2 + 3


def api_routes(source: Path = API_MODULE) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """api.py's ROUTES, (path, methods, function), read from its source: importing api.py
    imports aws_cdk, which starts a Node.js process for seconds (tests/infra/test_cost.py
    checks that this is api.ROUTES)."""
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        if value is not None and any(isinstance(t, ast.Name) and t.id == "ROUTES" for t in targets):
            return tuple(ast.literal_eval(value))
    raise LookupError(f"no ROUTES in {source}")


# Custom metrics: CATALOG's (metric, function, dimension names), each counted once per value
# of its run-time dimensions (a metric is a name + a set of dimension values in CloudWatch):
# route: the API Gateway methods routed to the function (api.py ROUTES);
ROUTES_PER_FUNCTION: dict[str, int] = dict(
    Counter(function for _, methods, function in api_routes() for _ in methods)
)
# tier: the caller's plan (every user is on the free plan) or anonymous;
TIERS = (FREE_PLAN, M.ANONYMOUS_TIER)
# source: the market function's sources, the default chains (no *_SOURCES setting deployed);
MARKET_SOURCES = tuple(
    sorted({*DEFAULT_QUOTE_SOURCES, *DEFAULT_FX_SOURCES, *DEFAULT_HISTORY_SOURCES})
)
# job: the scheduled jobs and the domain-event consumer (handlers/lambdas/scheduled.py
# DOMAIN_EVENT_JOB);
DOMAIN_EVENT_JOB = "portfolio-event"
JOBS = (*C.SCHEDULES, DOMAIN_EVENT_JOB)
# analyst x outcome, as telemetry.analysis records them: the AI analyst answered, the rules
# stood in for one of the fallback reasons, or the run failed (analyst `none`).
ANSWERED, FAILED, NO_ANALYST = "answered", "failed", "none"
ANALYSIS_OUTCOMES = (
    (OPENAI_ANALYST, ANSWERED),
    *((RULES_ANALYST, reason.value) for reason in FallbackReason),
    (NO_ANALYST, FAILED),
)


def metric_count(metric: M.EmittedMetric) -> int:
    """How many CloudWatch metrics one CATALOG entry is (its run-time dimension values)."""
    extra = metric.dimensions[1:]  # the first is `service`: one value per function
    if not extra:
        return 1
    if extra == (M.ROUTE,):
        return ROUTES_PER_FUNCTION[metric.function]
    if extra == (M.TIER,):
        return len(TIERS)
    if extra == (M.SOURCE,):
        return len(MARKET_SOURCES)
    if extra == (M.JOB,):
        return len(JOBS)
    if extra == (M.ANALYST, M.OUTCOME):
        return len(ANALYSIS_OUTCOMES)
    raise ValueError(f"{metric.name} ({metric.function}): no count for the dimensions {extra}")


def custom_metrics_derivation() -> list[str]:
    """The custom metric count, by dimension set: `<metrics> x <values> = <count>` lines."""
    groups: dict[tuple[str, ...], list[M.EmittedMetric]] = {}
    for metric in M.CATALOG:
        groups.setdefault(metric.dimensions[1:], []).append(metric)
    lines = []
    for extra, metrics in groups.items():
        total = sum(metric_count(m) for m in metrics)
        if not extra:
            what = "service only"
            basis = f"{len(metrics)} (metric, function)"
        elif extra == (M.ROUTE,):
            what = "per route"
            names = sorted({m.name for m in metrics})
            per_function = Counter(m.function for m in metrics)
            basis = (
                " + ".join(
                    f"{per_function[f]} x {ROUTES_PER_FUNCTION[f]} {f}"
                    for f in sorted(per_function)
                )
                + f" routes ({', '.join(names)})"
            )
        else:
            what = "per " + " x ".join(extra)
            basis = f"{len(metrics)} (metric, function) x {metric_count(metrics[0])}"
        lines.append(f"{what}: {basis} = {total}")
    return lines


CUSTOM_METRICS = sum(metric_count(metric) for metric in M.CATALOG)
# KMS keys: tables, buckets, secrets, session tokens (foundation), alert topics (monitoring);
# with DR: the DR region's table, bucket and secrets-replica keys.
KMS_KEYS = 5
KMS_KEYS_DR = 3
SECRETS = 3  # Google client secret, OpenAI key, session-signing key (each replicated with DR)
INTERFACE_ENDPOINTS = len(C.INTERFACE_ENDPOINT_SERVICES)
INTERFACE_ENDPOINT_DATA_GB_PER_MONTH = 1.0  # assumption: API calls to KMS/Secrets/SNS/events


@dataclass(frozen=True)
class LineItem:
    name: str
    usd: float
    basis: str


@dataclass(frozen=True)
class Estimate:
    region: str
    nat_mode: str
    interface_endpoints: bool
    dr: bool
    items: tuple[LineItem, ...]

    @property
    def total(self) -> float:
        return round(sum(item.usd for item in self.items), 2)

    @property
    def label(self) -> str:
        return self.nat_mode + ("+endpoints" if self.interface_endpoints else "")


def _billable(count: int, free: int, free_tier: bool) -> int:
    return max(0, count - free) if free_tier else count


def estimate(
    nat_mode: str,
    *,
    region: str = C.DEFAULT_PRIMARY_REGION,
    interface_endpoints: bool = False,
    dr: bool = False,
    free_tier: bool = True,
) -> Estimate:
    """The fixed monthly cost of one configuration, item by item (USD, rounded to cents)."""
    if nat_mode not in NAT_GATEWAYS:
        raise ValueError(f"unknown NAT mode {nat_mode!r}")
    if region not in REGION_PRICES:
        raise ValueError(f"no prices for region {region!r}: one of {', '.join(REGION_PRICES)}")
    prices = REGION_PRICES[region]
    secrets = SECRETS * (2 if dr else 1)
    nats = NAT_GATEWAYS[nat_mode]
    dashboards = _billable(DASHBOARDS, FREE_DASHBOARDS, free_tier)
    alarms = _billable(ALARM_METRICS, FREE_ALARM_METRICS, free_tier)
    metrics = _billable(CUSTOM_METRICS, FREE_CUSTOM_METRICS, free_tier)
    endpoints = INTERFACE_ENDPOINTS if interface_endpoints else 0
    keys = KMS_KEYS + (KMS_KEYS_DR if dr else 0)
    items = [
        LineItem(
            "NAT gateways (hours)",
            nats * prices.nat_gateway_per_hour * HOURS_PER_MONTH,
            f"{nats} x {prices.nat_gateway_per_hour}/h x {HOURS_PER_MONTH} h",
        ),
        LineItem(
            "NAT public IPv4",
            nats * PUBLIC_IPV4_PER_HOUR * HOURS_PER_MONTH,
            f"{nats} x {PUBLIC_IPV4_PER_HOUR}/h",
        ),
        LineItem(
            "NAT data (assumed)",
            (NAT_DATA_GB_PER_MONTH * prices.nat_gateway_per_gb) if nats else 0.0,
            f"{NAT_DATA_GB_PER_MONTH} GB x {prices.nat_gateway_per_gb}/GB",
        ),
        LineItem(
            "Interface endpoints",
            endpoints * C.AZ_COUNT * prices.interface_endpoint_per_az_hour * HOURS_PER_MONTH
            + (
                INTERFACE_ENDPOINT_DATA_GB_PER_MONTH * prices.interface_endpoint_per_gb
                if endpoints
                else 0
            ),
            f"{endpoints} x {C.AZ_COUNT} AZ x {prices.interface_endpoint_per_az_hour}/h",
        ),
        LineItem("Gateway endpoints (DynamoDB, S3)", 0.0, "free"),
        LineItem(
            "WAF WebACL + rules",
            WAF_WEB_ACL_PER_MONTH + WAF_RULES * WAF_RULE_PER_MONTH,
            f"1 x {WAF_WEB_ACL_PER_MONTH} + {WAF_RULES} x {WAF_RULE_PER_MONTH}",
        ),
        LineItem(
            "WAF requests (seed ~1M/month)",
            SEED_REQUESTS_PER_MONTH / 1_000_000 * WAF_PER_MILLION_REQUESTS,
            f"{SEED_REQUESTS_PER_MONTH:,} x {WAF_PER_MILLION_REQUESTS}/M",
        ),
        LineItem(
            "CloudWatch dashboards",
            dashboards * CLOUDWATCH_DASHBOARD_PER_MONTH,
            f"{DASHBOARDS} ({dashboards} billable) x {CLOUDWATCH_DASHBOARD_PER_MONTH}",
        ),
        LineItem(
            "CloudWatch alarm metrics",
            alarms * CLOUDWATCH_ALARM_METRIC_PER_MONTH,
            f"{ALARM_METRICS} ({alarms} billable) x {CLOUDWATCH_ALARM_METRIC_PER_MONTH}",
        ),
        LineItem(
            "CloudWatch custom metrics",
            metrics * CLOUDWATCH_CUSTOM_METRIC_PER_MONTH,
            f"{CUSTOM_METRICS} ({metrics} billable) x {CLOUDWATCH_CUSTOM_METRIC_PER_MONTH}, "
            "upper bound (prorated by the hours a metric receives data)",
        ),
        LineItem("KMS keys", keys * KMS_KEY_PER_MONTH, f"{keys} x {KMS_KEY_PER_MONTH}"),
        LineItem(
            "Secrets Manager (+ DR replicas)",
            secrets * SECRET_PER_MONTH,
            f"{secrets} x {SECRET_PER_MONTH}",
        ),
        LineItem(
            "Route 53 health check (DR)",
            (ROUTE53_HEALTH_CHECK_AWS_ENDPOINT + ROUTE53_HEALTH_CHECK_OPTIONAL_FEATURE)
            if dr
            else 0.0,
            "HTTPS check of an AWS endpoint" if dr else "DR off",
        ),
    ]
    rounded = tuple(LineItem(i.name, round(i.usd, 2), i.basis) for i in items)
    return Estimate(region, nat_mode, interface_endpoints, dr, rounded)


def configurations(
    *, region: str = C.DEFAULT_PRIMARY_REGION, dr: bool = False, free_tier: bool = True
) -> list[Estimate]:
    """The three NAT modes as deployed by default (`none`: every function outside the VPC, no
    interface endpoints), then `none` with the interface endpoints (`none+endpoints`)."""
    return [
        *(
            estimate(mode, region=region, dr=dr, free_tier=free_tier)
            for mode in (C.NAT_MODE_PER_AZ, C.NAT_MODE_SINGLE, C.NAT_MODE_NONE)
        ),
        estimate(
            C.NAT_MODE_NONE, region=region, interface_endpoints=True, dr=dr, free_tier=free_tier
        ),
    ]


def deployed_region(cdk_json: Path = CDK_JSON) -> str:
    """The region `cdk synth`/`cdk deploy` deploys to: `cdk.json`'s context `region`, else the
    app's default (config.Settings)."""
    try:
        context = json.loads(cdk_json.read_text()).get("context", {})
    except FileNotFoundError:
        return C.DEFAULT_PRIMARY_REGION
    region = context.get("region") or C.DEFAULT_PRIMARY_REGION
    return str(region)


def table(estimates: Sequence[Estimate]) -> str:
    width = 34
    header = f"{'fixed monthly cost (USD)':<{width}}" + "".join(f"{e.label:>16}" for e in estimates)
    region = estimates[0].region
    lines = [
        f"Unit prices: {PRICES_YEAR} (AWS list prices, {region}, USD)",
        header,
        "-" * len(header),
    ]
    for index, item in enumerate(estimates[0].items):
        lines.append(
            f"{item.name:<{width}}" + "".join(f"{e.items[index].usd:>16.2f}" for e in estimates)
        )
    lines.append("-" * len(header))
    lines.append(f"{'total fixed':<{width}}" + "".join(f"{e.total:>16.2f}" for e in estimates))
    lines.append(
        f"{'seed budget, usage included':<{width}}"
        + "".join(f"{SEED_MONTHLY_BUDGET:>16.2f}" for _ in estimates)
    )
    lines.append(
        f"{'fixed cost / seed budget':<{width}}"
        + "".join(f"{e.total / SEED_MONTHLY_BUDGET:>15.1f}x" for e in estimates)
    )
    return "\n".join(lines)


def notes(estimates: Sequence[Estimate]) -> str:
    """Each row's basis (per column where the columns differ), and the custom metrics'
    derivation."""
    lines = ["Basis of each row:"]
    for index, item in enumerate(estimates[0].items):
        bases = [e.items[index].basis for e in estimates]
        if len(set(bases)) == 1:
            lines.append(f"  {item.name}: {bases[0]}")
        else:
            per_column = "; ".join(f"{e.label} {b}" for e, b in zip(estimates, bases, strict=True))
            lines.append(f"  {item.name}: {per_column}")
        if item.name == "CloudWatch custom metrics":
            lines.extend(f"    {line}" for line in custom_metrics_derivation())
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.cdk.cost", description=__doc__)
    parser.add_argument(
        "--region",
        choices=sorted(REGION_PRICES),
        help="price this region (default: the deployed one, cdk.json's context `region`)",
    )
    parser.add_argument("--dr", action="store_true", help="with the DR options (context dr)")
    parser.add_argument("--no-free-tier", action="store_true", help="ignore CloudWatch's free tier")
    args = parser.parse_args(argv)
    region = args.region or deployed_region()
    estimates = configurations(region=region, dr=args.dr, free_tier=not args.no_free_tier)
    print(table(estimates))  # noqa: T201
    print()  # noqa: T201
    print(notes(estimates))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
