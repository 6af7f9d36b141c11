"""The fixed monthly cost estimate: items add up, modes order, the prices are the deployed
region's, the output names its prices and shows the seed's $25/month beside each NAT mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compute_harness import synth
from infra.cdk import constants as C
from infra.cdk import cost

from portfoliowise.domain.analysis import FallbackReason
from portfoliowise.handlers import metric_names


def test_items_add_up_to_the_total() -> None:
    for estimate in cost.configurations() + cost.configurations(dr=True, free_tier=False):
        assert estimate.total == pytest.approx(sum(item.usd for item in estimate.items))
        assert all(item.usd >= 0 for item in estimate.items)


def test_per_az_costs_more_than_single() -> None:
    per_az, single = (cost.estimate(mode) for mode in (C.NAT_MODE_PER_AZ, C.NAT_MODE_SINGLE))
    assert per_az.total > single.total


def test_none_has_no_interface_endpoints_unless_asked_for() -> None:
    """Plain `none` runs every function outside the VPC: no NAT, no interface endpoint; it
    is the cheapest mode. `none+endpoints` is priced with the endpoints."""
    plain = cost.estimate(C.NAT_MODE_NONE)
    none = {item.name: item.usd for item in plain.items}
    assert none["NAT gateways (hours)"] == 0
    assert none["NAT data (assumed)"] == 0
    assert none["Interface endpoints"] == 0
    assert plain.label == "none"
    with_endpoints = cost.estimate(C.NAT_MODE_NONE, interface_endpoints=True)
    assert with_endpoints.label == "none+endpoints"
    assert {i.name: i.usd for i in with_endpoints.items}["Interface endpoints"] > 0
    totals = [e.total for e in cost.configurations()]
    assert min(totals) == plain.total
    assert [e.label for e in cost.configurations()] == [
        "per-az",
        "single",
        "none",
        "none+endpoints",
    ]


@pytest.mark.parametrize(
    ("region", "per_hour"), [("us-west-2", 0.045), ("us-east-1", 0.045), ("ap-northeast-1", 0.062)]
)
def test_nat_gateway_hours_at_the_region_price(region: str, per_hour: float) -> None:
    per_az = cost.estimate(C.NAT_MODE_PER_AZ, region=region)
    items = {item.name: item.usd for item in per_az.items}
    assert items["NAT gateways (hours)"] == pytest.approx(3 * per_hour * 730, abs=0.01)
    single = {item.name: item.usd for item in cost.estimate(C.NAT_MODE_SINGLE, region=region).items}
    assert single["NAT gateways (hours)"] == pytest.approx(per_hour * 730, abs=0.01)


def test_the_default_region_is_the_seed_region_and_cdk_json_agrees() -> None:
    assert C.DEFAULT_PRIMARY_REGION == "us-west-2"
    assert cost.deployed_region() == "us-west-2"
    assert cost.estimate(C.NAT_MODE_SINGLE).region == "us-west-2"


def test_the_deployed_region_is_read_from_cdk_json(tmp_path: Path) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"region": "ap-northeast-1"}}))
    assert cost.deployed_region(cdk_json) == "ap-northeast-1"
    cdk_json.write_text(json.dumps({"context": {}}))
    assert cost.deployed_region(cdk_json) == C.DEFAULT_PRIMARY_REGION


def test_every_region_the_app_accepts_has_prices() -> None:
    assert set(C.AZ_SUFFIXES) <= set(cost.REGION_PRICES)


def test_waf_is_the_acl_plus_two_rules_plus_requests() -> None:
    items = {item.name: item.usd for item in cost.estimate(C.NAT_MODE_NONE).items}
    assert items["WAF WebACL + rules"] == 5 + 2 * 1
    assert items["WAF requests (seed ~1M/month)"] == pytest.approx(0.60)


def test_dr_adds_the_health_check_replica_keys_and_replica_secrets() -> None:
    plain = cost.estimate(C.NAT_MODE_SINGLE)
    dr = cost.estimate(C.NAT_MODE_SINGLE, dr=True)
    expected = plain.total + 1.50 + cost.KMS_KEYS_DR * 1.00 + cost.SECRETS * 0.40
    assert dr.total == pytest.approx(expected)


def test_free_tier_only_lowers_cloudwatch() -> None:
    free = cost.estimate(C.NAT_MODE_SINGLE)
    full = cost.estimate(C.NAT_MODE_SINGLE, free_tier=False)
    difference = full.total - free.total
    assert difference == pytest.approx(3 * 3.00 + 10 * 0.10 + 10 * 0.30)


def test_interface_endpoints_are_priced_per_az_hour() -> None:
    with_endpoints = cost.estimate(C.NAT_MODE_SINGLE, interface_endpoints=True)
    assert with_endpoints.label == "single+endpoints"
    items = {item.name: item.usd for item in with_endpoints.items}
    expected = len(C.INTERFACE_ENDPOINT_SERVICES) * C.AZ_COUNT * 0.010 * 730 + 0.01
    assert items["Interface endpoints"] == pytest.approx(expected, abs=0.01)


def test_counts_match_the_synthesized_monitoring_and_api() -> None:
    result = synth()
    alarm_metrics = 0
    for alarm in result.resources("AWS::CloudWatch::Alarm").values():
        metrics = alarm["Properties"].get("Metrics")
        alarm_metrics += sum(1 for m in metrics if "MetricStat" in m) if metrics else 1
    assert alarm_metrics == cost.ALARM_METRICS
    assert len(result.resources("AWS::CloudWatch::Dashboard")) == cost.DASHBOARDS
    (acl,) = result.resources("AWS::WAFv2::WebACL").values()
    assert len(acl["Properties"]["Rules"]) == cost.WAF_RULES


def test_the_table_shows_prices_date_and_the_seed_budget(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cost.main([]) == 0
    out = capsys.readouterr().out
    assert "us-west-2" in out
    assert "2025" in out
    header = next(line for line in out.splitlines() if line.startswith("fixed monthly cost"))
    assert header.split()[-4:] == ["per-az", "single", "none", "none+endpoints"]
    budget = next(line for line in out.splitlines() if line.startswith("seed budget"))
    assert budget.split()[-4:] == ["25.00"] * 4  # the seed's $25 beside each configuration
    # the custom metrics' derivation is printed with its row's basis
    assert f"CloudWatch custom metrics: {cost.CUSTOM_METRICS} (" in out
    assert "per route:" in out
    assert "upper bound" in out
    assert cost.main(["--region", "ap-northeast-1"]) == 0
    assert "ap-northeast-1" in capsys.readouterr().out


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="NAT mode"):
        cost.estimate("two")


def test_the_route_table_is_the_api_constructs() -> None:
    """cost.py reads api.py's ROUTES from its source (no aws_cdk import): the same table."""
    from infra.cdk.components.api import ROUTES

    assert cost.api_routes() == ROUTES
    assert sum(cost.ROUTES_PER_FUNCTION.values()) == sum(len(m) for _, m, _ in ROUTES)
    assert set(cost.ROUTES_PER_FUNCTION) == set(metric_names.API_FUNCTIONS)


def test_the_dimension_values_are_the_codes() -> None:
    from portfoliowise.handlers.lambdas import scheduled

    assert cost.DOMAIN_EVENT_JOB == scheduled.DOMAIN_EVENT_JOB
    assert set(cost.JOBS) == {*C.SCHEDULES, scheduled.DOMAIN_EVENT_JOB}
    assert {"yahoo", "stooq", "funds", "frankfurter"} <= set(cost.MARKET_SOURCES)
    assert len(cost.TIERS) == 2
    outcomes = {outcome for _, outcome in cost.ANALYSIS_OUTCOMES}
    assert {"answered", "failed", *(reason.value for reason in FallbackReason)} == outcomes


def test_custom_metrics_are_counted_from_the_catalog() -> None:
    """Every CATALOG entry counts once per value of its run-time dimensions; the derivation
    printed under the table adds up to the same figure."""
    assert sum(cost.metric_count(m) for m in metric_names.CATALOG) == cost.CUSTOM_METRICS
    assert len(metric_names.CATALOG) < cost.CUSTOM_METRICS
    routed = [m for m in metric_names.CATALOG if metric_names.ROUTE in m.dimensions]
    assert routed
    for metric in routed:
        assert cost.metric_count(metric) == cost.ROUTES_PER_FUNCTION[metric.function]
    derived = sum(int(line.rsplit("= ", 1)[1]) for line in cost.custom_metrics_derivation())
    assert derived == cost.CUSTOM_METRICS
    unknown = metric_names.EmittedMetric("X", "market", ("service", "colour"))
    with pytest.raises(ValueError, match="colour"):
        cost.metric_count(unknown)
