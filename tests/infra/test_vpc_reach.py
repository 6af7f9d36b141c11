"""With NAT mode `none` every function placed in the VPC reaches every AWS service it calls.

What a function calls is read from the synthesized template: the service prefixes of the
actions in its role's IAM policies. For a function with a `VpcConfig` each prefix needs a
gateway endpoint (DynamoDB, S3) on the route tables of the function's subnets, or an
interface endpoint with private DNS in the same VPC, whose security group lets the
function's security groups in on 443 (and the function's group lets 443 out). Two prefixes
are not calls over the function's network interface: `ec2` (the network-interface actions
Lambda itself uses to attach the function to the VPC) and `logs` on the function's own log
group (written by the Lambda service from stdout); `logs` on any other group is a call.

The app is synthesized with `natMode=none` only (no `interfaceEndpoints`): `none` must bring
the endpoints by itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from infra.cdk import constants as c
from infra_synth import Synth, synthesize

NOT_NETWORK_CALLS = {"ec2"}


@pytest.fixture(scope="module")
def no_nat_app(tmp_path_factory: pytest.TempPathFactory, asset_root: Path) -> Synth:
    return synthesize(
        tmp_path_factory.mktemp("no-nat-app"),
        {"assetRoot": str(asset_root), "natMode": c.NAT_MODE_NONE},
    )


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


def _egress_https_anywhere(template: dict[str, Any], group_ref: dict[str, Any]) -> bool:
    group = template["Resources"][group_ref["Fn::GetAtt"][0]]["Properties"]
    rules = list(group.get("SecurityGroupEgress", []))
    return any(
        rule.get("CidrIp") == "0.0.0.0/0"
        and rule["IpProtocol"] in ("tcp", "-1")
        and rule.get("FromPort", 0) <= c.HTTPS_PORT <= rule.get("ToPort", 65535)
        for rule in rules
    )


def test_no_nat_synthesizes_cleanly_and_without_nat_gateways(no_nat_app: Synth) -> None:
    assert no_nat_app.validation_error is None
    assert not no_nat_app.resources("AWS::EC2::NatGateway")


def test_some_functions_stay_in_the_vpc(no_nat_app: Synth) -> None:
    """Guards the reach test against passing vacuously: the functions that need no internet
    stay in the VPC; those that need it run outside."""
    template = no_nat_app.templates[no_nat_app.stack_name]
    in_vpc = _in_vpc_functions(template)
    assert in_vpc
    for name in c.LAMBDA_NEEDS_INTERNET:
        assert not any(f"{name.capitalize()}Function" in logical for logical in in_vpc)


def test_each_in_vpc_function_reaches_every_service_it_calls(no_nat_app: Synth) -> None:
    template = no_nat_app.templates[no_nat_app.stack_name]
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
                unreachable.append(f"{logical}: {service} (no endpoint)")
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


def test_the_derivation_sees_a_missing_endpoint(no_nat_app: Synth) -> None:
    """The check would fail if an in-VPC function were granted a service without an
    endpoint: a made-up `sqs` grant is reported."""
    template = no_nat_app.templates[no_nat_app.stack_name]
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
