"""The fixed monthly cost estimate: items add up, modes order, the output names its prices."""

from __future__ import annotations

import pytest
from compute_harness import synth
from infra.cdk import constants as C
from infra.cdk import cost


def test_items_add_up_to_the_total() -> None:
    for estimate in cost.configurations() + cost.configurations(dr=True, free_tier=False):
        assert estimate.total == pytest.approx(sum(item.usd for item in estimate.items))
        assert all(item.usd >= 0 for item in estimate.items)


def test_per_az_costs_more_than_single_more_than_none() -> None:
    per_az, single, none = (cost.estimate(mode) for mode in cost.NAT_GATEWAYS)
    assert per_az.total > single.total > none.total


def test_nat_gateway_hours_at_the_tokyo_price() -> None:
    items = {item.name: item.usd for item in cost.estimate(C.NAT_MODE_PER_AZ).items}
    assert items["NAT gateways (hours)"] == pytest.approx(3 * 0.062 * 730, abs=0.01)
    single = {item.name: item.usd for item in cost.estimate(C.NAT_MODE_SINGLE).items}
    assert single["NAT gateways (hours)"] == pytest.approx(0.062 * 730, abs=0.01)
    none = {item.name: item.usd for item in cost.estimate(C.NAT_MODE_NONE).items}
    assert none["NAT gateways (hours)"] == 0
    assert none["NAT data (assumed)"] == 0


def test_waf_is_the_acl_plus_two_rules_plus_requests() -> None:
    items = {item.name: item.usd for item in cost.estimate(C.NAT_MODE_NONE).items}
    assert items["WAF WebACL + rules"] == 5 + 2 * 1
    assert items["WAF requests (seed ~1M/month)"] == pytest.approx(0.60)


def test_dr_adds_the_health_check_and_replica_keys() -> None:
    plain = cost.estimate(C.NAT_MODE_SINGLE)
    dr = cost.estimate(C.NAT_MODE_SINGLE, dr=True)
    assert dr.total == pytest.approx(plain.total + 1.50 + cost.KMS_KEYS_DR * 1.00)


def test_free_tier_only_lowers_cloudwatch() -> None:
    free = cost.estimate(C.NAT_MODE_SINGLE)
    full = cost.estimate(C.NAT_MODE_SINGLE, free_tier=False)
    difference = full.total - free.total
    assert difference == pytest.approx(3 * 3.00 + 10 * 0.10 + 10 * 0.30)


def test_interface_endpoints_are_priced_per_az_hour() -> None:
    with_endpoints = cost.estimate(C.NAT_MODE_NONE, interface_endpoints=True)
    items = {item.name: item.usd for item in with_endpoints.items}
    expected = len(C.INTERFACE_ENDPOINT_SERVICES) * C.AZ_COUNT * 0.014 * 730 + 0.01
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
    assert "ap-northeast-1" in out
    assert "2025" in out
    assert "25.00" in out
    for label in ("per-az", "single", "none", "none+endpoints"):
        assert label in out


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="NAT mode"):
        cost.estimate("two")
