"""Deployment settings from CDK context: defaults, parsing, validation."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from infra.cdk import constants as c
from infra.cdk.app import build_app, stack_name
from infra.cdk.config import Settings, SettingsError


def _from(context: dict[str, object]) -> Settings:
    return Settings.from_context(cdk.App(context=context).node)


def test_defaults() -> None:
    settings = _from({})
    assert settings == Settings()
    assert settings.nat_mode == c.NAT_MODE_SINGLE
    assert settings.region == "us-west-2"  # seed §1
    assert settings.prefix == "portfoliowise"
    assert settings.name("cache") == "portfoliowise-cache"
    assert settings.ssm_root == "/portfoliowise/prod"
    assert not settings.dr
    assert not settings.failover_enabled


def test_command_line_strings() -> None:
    settings = _from(
        {
            "stage": "dev",
            "natMode": "per-az",
            "dr": "true",
            "interfaceEndpoints": "false",
            "allowedOrigins": "https://a.example.com, http://localhost:5173",
            "alarmEmail": "ops@example.com",
        }
    )
    assert settings.prefix == "portfoliowise-dev"
    assert settings.nat_mode == "per-az"
    assert settings.dr
    assert not settings.interface_endpoints
    assert settings.allowed_origins == ("https://a.example.com", "http://localhost:5173")


def test_json_list_of_origins() -> None:
    assert _from({"allowedOrigins": '["https://a.example.com"]'}).allowed_origins == (
        "https://a.example.com",
    )


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"natMode": "two"}, "natMode"),
        ({"stage": "Prod!"}, "stage"),
        ({"region": "mars-1"}, "region"),
        ({"dr": "maybe"}, "dr"),
        ({"domainName": "not a domain"}, "domainName"),
        ({"dr": True, "domainName": "example.com"}, "hostedZoneId"),
        ({"alarmEmail": "nobody"}, "alarmEmail"),
        ({"allowedOrigins": ["ftp://x"]}, "allowedOrigins"),
        ({"allowedOrigins": 3}, "allowedOrigins"),
        ({"region": "us-east-1", "dr": True}, "DR region"),
        ({"standby": True}, "standby"),
        ({"standby": True, "region": "us-east-1", "dr": True}, "standby"),
    ],
)
def test_bad_values_are_refused_with_the_key(context: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        _from(context)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().stage = "x"  # type: ignore[misc]


def test_cdk_json_runs_the_app_with_valid_settings() -> None:
    cdk_json = json.loads(
        (Path(__file__).resolve().parents[2] / "infra" / "cdk" / "cdk.json").read_text()
    )
    assert cdk_json["app"].endswith("-m infra.cdk.app")
    settings = _from(cdk_json["context"])
    assert settings == Settings()
    assert stack_name(settings) == "PortfolioWise"
    assert stack_name(Settings(stage="dev")) == "PortfolioWise-dev"
    assert stack_name(Settings(standby=True, region="us-east-1")) == "PortfolioWise-Standby"


def test_standby_needs_the_account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
    with pytest.raises(SettingsError, match="account"):
        build_app({"standby": True, "region": "us-east-1"}, tmp_path)


@pytest.mark.parametrize(
    ("nat_mode", "endpoints", "creates", "in_vpc"),
    [
        (c.NAT_MODE_PER_AZ, False, False, True),
        (c.NAT_MODE_SINGLE, False, False, True),
        (c.NAT_MODE_SINGLE, True, True, True),
        (c.NAT_MODE_NONE, False, False, False),  # the cheapest: every function outside the VPC
        (c.NAT_MODE_NONE, True, True, True),
    ],
)
def test_interface_endpoints_and_functions_in_the_vpc(
    nat_mode: str, endpoints: bool, creates: bool, in_vpc: bool
) -> None:
    settings = Settings(nat_mode=nat_mode, interface_endpoints=endpoints)
    assert settings.creates_interface_endpoints is creates
    assert settings.functions_in_vpc is in_vpc
