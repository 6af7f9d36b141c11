"""In every configuration with functions in the VPC, each of them reaches every AWS service it
calls; plain NAT mode `none` puts no function in the VPC and creates no interface endpoint.

What a function calls is read from the synthesized template: the service prefixes of the
actions in its role's IAM policies. For a function with a `VpcConfig` each prefix needs a
gateway endpoint (DynamoDB, S3) on the route tables of the function's subnets, or an
interface endpoint with private DNS in the same VPC, whose security group lets the
function's security groups in on 443 (and the function's group lets 443 out), or else a
default route of each of those route tables to a NAT gateway in a subnet routed to the
internet gateway. Two prefixes are not calls over the function's network interface: `ec2`
(the network-interface actions Lambda itself uses to attach the function to the VPC) and
`logs` on the function's own log group (written by the Lambda service from stdout); `logs`
on any other group is a call.

The whole app is synthesized in each configuration that has in-VPC functions: `single` (the
default, shared with the other tests), `per-az`, and `none` with `interfaceEndpoints=true`;
and plain `none`, which has none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from infra.cdk import constants as c
from infra_synth import Synth, synthesize

NOT_NETWORK_CALLS = {"ec2"}
ANYWHERE = "0.0.0.0/0"


@pytest.fixture(scope="module")
def no_nat_app(tmp_path_factory: pytest.TempPathFactory, asset_root: Path) -> Synth:
    """NAT mode `none` as deployed by default: no interface endpoints."""
    return synthesize(
        tmp_path_factory.mktemp("no-nat-app"),
        {"assetRoot": str(asset_root), "natMode": c.NAT_MODE_NONE},
    )


@pytest.fixture(scope="module")
def no_nat_endpoints_app(tmp_path_factory: pytest.TempPathFactory, asset_root: Path) -> Synth:
    return synthesize(
        tmp_path_factory.mktemp("no-nat-endpoints-app"),
        {"assetRoot": str(asset_root), "natMode": c.NAT_MODE_NONE, "interfaceEndpoints": True},
    )


@pytest.fixture(scope="module")
def per_az_app(tmp_path_factory: pytest.TempPathFactory, asset_root: Path) -> Synth:
    return synthesize(
        tmp_path_factory.mktemp("per-az-app"),
        {"assetRoot": str(asset_root), "natMode": c.NAT_MODE_PER_AZ},
    )


# The configurations with functions in the VPC: fixture -> (NAT gateways, functions that run
# outside the VPC).
IN_VPC_CONFIGURATIONS = {
    "default_synth": (1, frozenset()),  # single
    "per_az_app": (c.AZ_COUNT, frozenset()),
    "no_nat_endpoints_app": (0, c.LAMBDA_NEEDS_INTERNET),
}


@pytest.fixture(params=sorted(IN_VPC_CONFIGURATIONS))
def in_vpc_app(request: pytest.FixtureRequest) -> tuple[str, Synth]:
    return request.param, request.getfixturevalue(request.param)


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _called_services(template: dict[str, Any], function: dict[str, Any]) -> set[str]:
    """Service prefixes of the actions the function's role may call, minus the ones Lambda
    performs for it."""
    props = function["Properties"]
    role = props["Role"]["Fn::GetAtt"][0]
    own_log_group = props.get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
    services: set[str] = set()
    for policy in _resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            resources = _listed(statement.get("Resource", []))
            own_logs_only = own_log_group is not None and all(
                r == {"Fn::GetAtt": [own_log_group, "Arn"]} for r in resources
            )
            for action in _listed(statement["Action"]):
                prefix = action.split(":", 1)[0]
                if prefix in NOT_NETWORK_CALLS or (prefix == "logs" and own_logs_only):
                    continue
                services.add(c.IAM_PREFIX_ENDPOINT_SERVICE.get(prefix, prefix))
    return services


def _service_of(endpoint: dict[str, Any]) -> str:
    name = endpoint["Properties"]["ServiceName"]
    if isinstance(name, dict):  # gateway endpoints: com.amazonaws.${AWS::Region}.<service>
        name = name["Fn::Join"][1][-1]
    assert isinstance(name, str), name
    return name.rsplit(".", 1)[-1]


def _in_vpc_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: f
        for name, f in _resources(template, "AWS::Lambda::Function").items()
        if "VpcConfig" in f["Properties"]
    }


def _route_tables_of(template: dict[str, Any], subnets: list[Any]) -> list[Any]:
    associations = _resources(template, "AWS::EC2::SubnetRouteTableAssociation").values()
    return [
        a["Properties"]["RouteTableId"]
        for a in associations
        if a["Properties"]["SubnetId"] in subnets
    ]


def _ingress_sources(template: dict[str, Any], group: str) -> list[dict[str, Any]]:
    """Ingress rules of the security group `group` (inline and separate)."""
    props = template["Resources"][group]["Properties"]
    rules = list(props.get("SecurityGroupIngress", []))
    for ingress in _resources(template, "AWS::EC2::SecurityGroupIngress").values():
        if ingress["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}:
            rules.append(ingress["Properties"])
    return rules


def _allows_https_from(rules: list[dict[str, Any]], group_ref: dict[str, Any]) -> bool:
    return any(
        rule.get("SourceSecurityGroupId") == group_ref
        and rule["IpProtocol"] == "tcp"
        and rule["FromPort"] <= c.HTTPS_PORT <= rule["ToPort"]
        for rule in rules
    )


def _nat_routes(template: dict[str, Any]) -> dict[Any, Any]:
    """Route table ref -> the NAT gateway of its default route, for the NAT gateways that sit
    in a subnet whose own default route goes to the internet gateway."""
    routes = _resources(template, "AWS::EC2::Route").values()
    defaults = [
        r["Properties"] for r in routes if r["Properties"].get("DestinationCidrBlock") == ANYWHERE
    ]
    to_internet = {str(r["RouteTableId"]) for r in defaults if "GatewayId" in r}
    associations = _resources(template, "AWS::EC2::SubnetRouteTableAssociation").values()
    subnet_table = {
        str(a["Properties"]["SubnetId"]): str(a["Properties"]["RouteTableId"]) for a in associations
    }
    nats = _resources(template, "AWS::EC2::NatGateway")
    outbound = {
        name
        for name, nat in nats.items()
        if subnet_table.get(str(nat["Properties"]["SubnetId"])) in to_internet
    }
    return {
        str(r["RouteTableId"]): r["NatGatewayId"]
        for r in defaults
        if "NatGatewayId" in r and r["NatGatewayId"].get("Ref") in outbound
    }


def _egress_https_anywhere(template: dict[str, Any], group_ref: dict[str, Any]) -> bool:
    group = template["Resources"][group_ref["Fn::GetAtt"][0]]["Properties"]
    rules = list(group.get("SecurityGroupEgress", []))
    return any(
        rule.get("CidrIp") == "0.0.0.0/0"
        and rule["IpProtocol"] in ("tcp", "-1")
        and rule.get("FromPort", 0) <= c.HTTPS_PORT <= rule.get("ToPort", 65535)
        for rule in rules
    )


def test_plain_no_nat_puts_no_function_in_the_vpc_and_no_interface_endpoint(
    no_nat_app: Synth,
) -> None:
    """The cheapest mode: no NAT gateway, no interface endpoint, no function ENI; the
    functions reach the AWS APIs over the Lambda service's network (config.py)."""
    assert no_nat_app.validation_error is None
    assert not no_nat_app.resources("AWS::EC2::NatGateway")
    template = no_nat_app.templates[no_nat_app.stack_name]
    functions = _resources(template, "AWS::Lambda::Function")
    assert len(functions) >= len(c.LAMBDA_FUNCTION_NAMES)
    assert _in_vpc_functions(template) == {}
    endpoints = _resources(template, "AWS::EC2::VPCEndpoint").values()
    assert {_service_of(e) for e in endpoints} == set(c.GATEWAY_ENDPOINT_SERVICES)
    assert all(e["Properties"].get("VpcEndpointType", "Gateway") == "Gateway" for e in endpoints)
    # no role is granted the network-interface actions of a VPC function
    for policy in _resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert "ec2:CreateNetworkInterface" not in _listed(statement["Action"])


def test_in_vpc_configurations_synthesize_cleanly(in_vpc_app: tuple[str, Synth]) -> None:
    name, app = in_vpc_app
    gateways, _ = IN_VPC_CONFIGURATIONS[name]
    assert app.validation_error is None
    assert len(app.resources("AWS::EC2::NatGateway")) == gateways


def test_the_right_functions_are_in_the_vpc(in_vpc_app: tuple[str, Synth]) -> None:
    """Guards the reach test against passing vacuously: with a NAT gateway every function is
    in the VPC; with `none` + endpoints those that need no internet are, the others not."""
    name, app = in_vpc_app
    _, outside = IN_VPC_CONFIGURATIONS[name]
    in_vpc = _in_vpc_functions(app.templates[app.stack_name])
    for function in c.LAMBDA_FUNCTION_NAMES:
        placed = any(f"{function.capitalize()}Function" in logical for logical in in_vpc)
        assert placed == (function not in outside), function


def test_each_in_vpc_function_reaches_every_service_it_calls(
    in_vpc_app: tuple[str, Synth],
) -> None:
    _, app = in_vpc_app
    template = app.templates[app.stack_name]
    vpc_endpoints = _resources(template, "AWS::EC2::VPCEndpoint")
    gateways = {
        _service_of(e): e
        for e in vpc_endpoints.values()
        if e["Properties"].get("VpcEndpointType", "Gateway") == "Gateway"
    }
    interfaces = {
        _service_of(e): e
        for e in vpc_endpoints.values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    }
    assert set(gateways) == set(c.GATEWAY_ENDPOINT_SERVICES)
    nat_routes = _nat_routes(template)
    unreachable: list[str] = []
    for logical, function in _in_vpc_functions(template).items():
        vpc_config = function["Properties"]["VpcConfig"]
        route_tables = _route_tables_of(template, vpc_config["SubnetIds"])
        assert len(route_tables) == len(vpc_config["SubnetIds"]), logical
        groups = vpc_config["SecurityGroupIds"]
        assert all(_egress_https_anywhere(template, g) for g in groups), logical
        called = _called_services(template, function)
        assert "dynamodb" in called  # the derivation reads the policies at all
        for service in sorted(called):
            if service in gateways:
                tables = gateways[service]["Properties"]["RouteTableIds"]
                if not all(table in tables for table in route_tables):
                    unreachable.append(f"{logical}: {service} (gateway not on its routes)")
                continue
            endpoint = interfaces.get(service)
            if endpoint is None:
                if not all(str(table) in nat_routes for table in route_tables):
                    unreachable.append(f"{logical}: {service} (no endpoint, no NAT route)")
                continue
            props = endpoint["Properties"]
            assert props["PrivateDnsEnabled"] is True, service
            assert props["VpcId"] == gateways["dynamodb"]["Properties"]["VpcId"], service
            sources = [
                rule
                for group in props["SecurityGroupIds"]
                for rule in _ingress_sources(template, group["Fn::GetAtt"][0])
            ]
            if not any(_allows_https_from(sources, g) for g in groups):
                unreachable.append(f"{logical}: {service} (endpoint SG refuses the function)")
    assert not unreachable, "in-VPC functions that cannot reach a service:\n" + "\n".join(
        unreachable
    )


def test_the_derivation_sees_a_missing_endpoint(no_nat_endpoints_app: Synth) -> None:
    """The check would fail if an in-VPC function were granted a service without an
    endpoint: a made-up `sqs` grant is reported (and `none` has no NAT route to fall back on)."""
    template = no_nat_endpoints_app.templates[no_nat_endpoints_app.stack_name]
    function = next(iter(_in_vpc_functions(template).values()))
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policy = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "Roles": [{"Ref": role}],
            "PolicyDocument": {
                "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]
            },
        },
    }
    patched = {"Resources": {**template["Resources"], "ExtraPolicy": policy}}
    assert "sqs" in _called_services(patched, function)
    assert "sqs" not in c.INTERFACE_ENDPOINT_SERVICES
    assert _nat_routes(template) == {}


def test_the_nat_routes_lead_through_a_nat_gateway_to_the_internet(
    default_synth: Synth, per_az_app: Synth
) -> None:
    """Guards the NAT branch of the reach test: every private subnet's route table (the
    functions' subnets) has a default route to a NAT gateway routed to the internet gateway."""
    for app, gateways in ((default_synth, 1), (per_az_app, c.AZ_COUNT)):
        template = app.templates[app.stack_name]
        routes = _nat_routes(template)
        private = [
            str(a["Properties"]["RouteTableId"])
            for name, a in _resources(template, "AWS::EC2::SubnetRouteTableAssociation").items()
            if "privateSubnet" in name
        ]
        assert len(private) == c.AZ_COUNT
        assert all(table in routes for table in private)
        assert len({str(nat) for nat in routes.values()}) == gateways
