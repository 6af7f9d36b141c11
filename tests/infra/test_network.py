"""Network (seed §2): CIDRs, AZs, tiers, endpoints, the Lambda SG, NACLs, NAT modes."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from infra.cdk import constants as c
from infra.cdk.config import Settings
from infra_synth import Synth

SEED_SUBNETS = {
    # seed §2, AZ-1a / 1b / 1c (us-west-2a / 2b / 2c, the seed's region)
    "10.0.1.0/26": ("public", 0),
    "10.0.1.64/26": ("public", 1),
    "10.0.1.128/26": ("public", 2),
    "10.0.10.0/26": ("private", 0),
    "10.0.10.64/26": ("private", 1),
    "10.0.10.128/26": ("private", 2),
    "10.0.20.0/26": ("data", 0),
    "10.0.20.64/26": ("data", 1),
    "10.0.20.128/26": ("data", 2),
}
SEED_AZS = ["us-west-2a", "us-west-2b", "us-west-2c"]
TOKYO_AZS = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]


def _of_type(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return template.find_resources(kind)


def _subnets(template: Template) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["CidrBlock"]: resource["Properties"]
        for resource in _of_type(template, "AWS::EC2::Subnet").values()
    }


def test_constants_are_the_seeds() -> None:
    assert c.VPC_CIDR == "10.0.0.0/16"
    assert c.AZ_COUNT == 3
    assert c.SUBNET_MASK == 26
    table = {
        cidr: (tier, index)
        for tier, cidrs in c.SUBNET_CIDRS.items()
        for index, cidr in enumerate(cidrs)
    }
    assert table == SEED_SUBNETS


def test_vpc_cidr(default_synth: Synth) -> None:
    default_synth.template.has_resource_properties(
        "AWS::EC2::VPC",
        {"CidrBlock": "10.0.0.0/16", "EnableDnsHostnames": True, "EnableDnsSupport": True},
    )
    default_synth.template.resource_count_is("AWS::EC2::VPC", 1)


def test_nine_subnets_at_the_seeds_cidrs_in_three_azs(default_synth: Synth) -> None:
    subnets = _subnets(default_synth.template)
    assert set(subnets) == set(SEED_SUBNETS)
    for cidr, (tier, index) in SEED_SUBNETS.items():
        assert subnets[cidr]["AvailabilityZone"] == SEED_AZS[index], cidr
        assert subnets[cidr]["MapPublicIpOnLaunch"] is False, cidr
        tags = {tag["Key"]: tag["Value"] for tag in subnets[cidr]["Tags"]}
        assert tags["aws-cdk:subnet-name"] == tier


def test_settings_pick_the_regions_azs() -> None:
    assert Settings().availability_zones == SEED_AZS
    assert Settings(region="ap-northeast-1").availability_zones == TOKYO_AZS


def test_gateway_endpoints_for_dynamodb_and_s3_in_private_and_data_tiers(
    default_synth: Synth,
) -> None:
    endpoints = _of_type(default_synth.template, "AWS::EC2::VPCEndpoint")
    services = {}
    for resource in endpoints.values():
        props = resource["Properties"]
        service = props["ServiceName"]["Fn::Join"][1][-1]
        services[service] = props
    assert set(services) == {".dynamodb", ".s3"}
    for props in services.values():
        assert props["VpcEndpointType"] == "Gateway"
        tables = {ref["Ref"] for ref in props["RouteTableIds"]}
        assert len(tables) == 6  # 3 private + 3 data subnets
        assert all("private" in t or "data" in t for t in tables)


def test_lambda_security_group_outbound_443_only_no_inbound(default_synth: Synth) -> None:
    groups = _of_type(default_synth.template, "AWS::EC2::SecurityGroup")
    (lambda_sg,) = [g["Properties"] for name, g in groups.items() if "LambdaSecurityGroup" in name]
    assert lambda_sg["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs and the internet",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in lambda_sg
    ingress = _of_type(default_synth.template, "AWS::EC2::SecurityGroupIngress")
    assert not [i for i in ingress.values() if "LambdaSecurityGroup" in str(i["Properties"])]


def _acl_entries(template: Template, acl_name: str) -> list[dict[str, Any]]:
    (acl_id,) = [name for name in _of_type(template, "AWS::EC2::NetworkAcl") if acl_name in name]
    return [
        entry["Properties"]
        for entry in _of_type(template, "AWS::EC2::NetworkAclEntry").values()
        if entry["Properties"]["NetworkAclId"] == {"Ref": acl_id}
    ]


def _rules(entries: list[dict[str, Any]]) -> set[tuple[bool, str, int, int]]:
    return {
        (
            bool(entry.get("Egress", False)),
            entry["CidrBlock"],
            entry["PortRange"]["From"],
            entry["PortRange"]["To"],
        )
        for entry in entries
        if entry["RuleAction"] == "allow"
    }


def test_one_nacl_per_tier_associated_with_its_subnets(default_synth: Synth) -> None:
    template = default_synth.template
    template.resource_count_is("AWS::EC2::NetworkAcl", 3)
    template.resource_count_is("AWS::EC2::SubnetNetworkAclAssociation", 9)


def test_public_nacl_allows_80_and_443(default_synth: Synth) -> None:
    rules = _rules(_acl_entries(default_synth.template, "PublicNacl"))
    assert (False, "0.0.0.0/0", 443, 443) in rules
    assert (False, "0.0.0.0/0", 80, 80) in rules
    assert (True, "0.0.0.0/0", 443, 443) in rules


def test_private_nacl_only_https_out_and_replies_in(default_synth: Synth) -> None:
    rules = _rules(_acl_entries(default_synth.template, "PrivateNacl"))
    assert rules == {(True, "0.0.0.0/0", 443, 443), (False, "0.0.0.0/0", 1024, 65535)}


def test_data_nacl_only_https_from_the_private_subnets(default_synth: Synth) -> None:
    rules = _rules(_acl_entries(default_synth.template, "DataNacl"))
    private = c.SUBNET_CIDRS[c.PRIVATE_SUBNET_GROUP]
    assert rules == {(False, cidr, 443, 443) for cidr in private} | {
        (True, cidr, 1024, 65535) for cidr in private
    }


def test_flow_logs_go_to_the_logs_bucket(default_synth: Synth) -> None:
    default_synth.template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {
            "LogDestinationType": "s3",
            "ResourceType": "VPC",
            "TrafficType": "ALL",
            "LogDestination": {
                "Fn::Join": [
                    "",
                    [
                        {"Fn::GetAtt": [Match.string_like_regexp("LogsBucket"), "Arn"]},
                        "/vpc-flow-logs/",
                    ],
                ]
            },
        },
    )


@pytest.mark.parametrize(
    ("fixture", "gateways"), [("default_synth", 1), ("per_az_template", 3), ("no_nat_template", 0)]
)
def test_nat_gateways_per_mode(request: pytest.FixtureRequest, fixture: str, gateways: int) -> None:
    value = request.getfixturevalue(fixture)
    template = value.template if isinstance(value, Synth) else value
    template.resource_count_is("AWS::EC2::NatGateway", gateways)
    nats = _of_type(template, "AWS::EC2::NatGateway")
    public_ids = {name for name in _of_type(template, "AWS::EC2::Subnet") if "publicSubnet" in name}
    for nat in nats.values():
        assert nat["Properties"]["SubnetId"]["Ref"] in public_ids
    # private subnets route 0.0.0.0/0 to a NAT gateway, unless there is none
    routes = [
        r["Properties"]
        for name, r in _of_type(template, "AWS::EC2::Route").items()
        if "privateSubnet" in name and r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"
    ]
    assert len(routes) == (3 if gateways else 0)
    assert all("NatGatewayId" in r for r in routes)


def test_per_az_nat_puts_one_gateway_in_each_az(per_az_template: Template) -> None:
    routes = [
        r["Properties"]["NatGatewayId"]["Ref"]
        for name, r in _of_type(per_az_template, "AWS::EC2::Route").items()
        if "privateSubnet" in name and "NatGatewayId" in r["Properties"]
    ]
    assert len(set(routes)) == 3


def test_no_nat_mode_adds_interface_endpoints_behind_the_endpoint_sg(
    no_nat_template: Template,
) -> None:
    endpoints = [
        e["Properties"]
        for e in _of_type(no_nat_template, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert len(endpoints) == len(c.INTERFACE_ENDPOINT_SERVICES)
    assert all(e["PrivateDnsEnabled"] for e in endpoints)
    services = {str(e["ServiceName"]).split(".")[-1] for e in endpoints}
    assert services == set(c.INTERFACE_ENDPOINT_SERVICES)
    groups = _of_type(no_nat_template, "AWS::EC2::SecurityGroup")
    (endpoint_sg,) = [g for name, g in groups.items() if "EndpointSecurityGroup" in name]
    inline = endpoint_sg["Properties"].get("SecurityGroupIngress", [])
    separate = [
        i["Properties"]
        for i in _of_type(no_nat_template, "AWS::EC2::SecurityGroupIngress").values()
        if "EndpointSecurityGroup" in str(i["Properties"]["GroupId"])
    ]
    rules = inline + separate
    assert len(rules) == 1
    (rule,) = rules
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443)
    assert "LambdaSecurityGroup" in str(rule["SourceSecurityGroupId"])
