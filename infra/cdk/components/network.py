"""Network (seed §2): VPC 10.0.0.0/16 over three AZs with three tiers of /26 subnets —
public (IGW, NAT), private (Lambda ENIs) and data (VPC endpoints) — at the seed's exact
CIDRs, gateway endpoints for DynamoDB and S3, the Lambda security group (outbound 443 only,
no inbound), one network ACL per tier, NAT gateways per the `natMode` setting and VPC flow
logs to the logs bucket. Interface endpoints only with the `interfaceEndpoints` setting;
NAT mode `none` without them runs every function outside the VPC (config.py).

NACLs are stateless, so each tier also allows the ephemeral ports of the return traffic of
the connections it allows (the seed's "Restricted" / "DDB/S3 only" read as: only HTTPS
out of the private tier, only HTTPS from the private tier into the data tier).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk import constants as c
from infra.cdk.components.refs import NetworkRefs
from infra.cdk.config import Settings

_NAT_GATEWAYS = {c.NAT_MODE_PER_AZ: c.AZ_COUNT, c.NAT_MODE_SINGLE: 1, c.NAT_MODE_NONE: 0}


@jsii.implements(ec2.IIpAddresses)
class SeedSubnetCidrs:
    """Gives each subnet the seed's CIDR (CDK would otherwise pack the subnets itself):
    tier `name`, i-th availability zone -> `SUBNET_CIDRS[name][i]`."""

    def __init__(self, availability_zones: Sequence[str]) -> None:
        self._azs = list(availability_zones)

    def allocate_vpc_cidr(self) -> ec2.VpcIpamOptions:
        return ec2.VpcIpamOptions(cidr_block=c.VPC_CIDR)

    def allocate_subnets_cidr(self, input: ec2.AllocateCidrRequest) -> ec2.SubnetIpamOptions:
        allocated = []
        for subnet in input.requested_subnets:
            cidrs = c.SUBNET_CIDRS[subnet.configuration.name]
            allocated.append(
                ec2.AllocatedSubnet(cidr=cidrs[self._azs.index(subnet.availability_zone)])
            )
        return ec2.SubnetIpamOptions(allocated_subnets=allocated)


class Network(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        flow_logs_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        azs = settings.availability_zones
        nat_gateways = _NAT_GATEWAYS[settings.nat_mode]
        private_type = (
            ec2.SubnetType.PRIVATE_WITH_EGRESS if nat_gateways else ec2.SubnetType.PRIVATE_ISOLATED
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=SeedSubnetCidrs(azs),
            availability_zones=azs,
            nat_gateways=nat_gateways,
            nat_gateway_subnets=ec2.SubnetSelection(subnet_group_name=c.PUBLIC_SUBNET_GROUP),
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=c.PUBLIC_SUBNET_GROUP,
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=c.SUBNET_MASK,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name=c.PRIVATE_SUBNET_GROUP, subnet_type=private_type, cidr_mask=c.SUBNET_MASK
                ),
                ec2.SubnetConfiguration(
                    name=c.DATA_SUBNET_GROUP,
                    subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=c.SUBNET_MASK,
                ),
            ],
            # No custom resource (and its Lambda) to strip the default security group's
            # rules: nothing in this VPC uses the default group.
            restrict_default_security_group=False,
            flow_logs={
                "ToLogsBucket": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_s3(flow_logs_bucket, c.FLOW_LOGS_PREFIX),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        endpoint_subnets = [
            ec2.SubnetSelection(subnet_group_name=c.PRIVATE_SUBNET_GROUP),
            ec2.SubnetSelection(subnet_group_name=c.DATA_SUBNET_GROUP),
        ]
        self.vpc.add_gateway_endpoint(
            "DynamoDbEndpoint",
            service=ec2.GatewayVpcEndpointAwsService.DYNAMODB,
            subnets=endpoint_subnets,
        )
        self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=endpoint_subnets
        )

        self.lambda_security_group = ec2.SecurityGroup(
            self,
            "LambdaSecurityGroup",
            vpc=self.vpc,
            description="Lambda functions: outbound HTTPS only, no inbound (seed section 2)",
            allow_all_outbound=False,
        )
        self.lambda_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(c.HTTPS_PORT), "HTTPS to AWS APIs and the internet"
        )

        # Only when asked for (`interfaceEndpoints`). With NAT mode `none` they are the in-VPC
        # functions' only way to the AWS APIs other than DynamoDB and S3: without them no
        # function runs in the VPC (config.Settings.functions_in_vpc).
        if settings.creates_interface_endpoints:
            self._add_interface_endpoints()
        self._add_network_acls()

        self.refs = NetworkRefs(
            vpc=self.vpc,
            lambda_security_group=self.lambda_security_group,
            private_subnets_have_internet=nat_gateways > 0,
        )

    def _add_interface_endpoints(self) -> None:
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="VPC interface endpoints: inbound 443 from the Lambda SG (seed section 2)",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            self.lambda_security_group, ec2.Port.tcp(c.HTTPS_PORT), "HTTPS from Lambda"
        )
        for service in c.INTERFACE_ENDPOINT_SERVICES:
            self.vpc.add_interface_endpoint(
                f"{service.capitalize()}Endpoint",
                service=ec2.InterfaceVpcEndpointAwsService(service),
                subnets=ec2.SubnetSelection(subnet_group_name=c.DATA_SUBNET_GROUP),
                security_groups=[self.endpoint_security_group],
                private_dns_enabled=True,
                open=False,  # no VPC-wide rule: only the Lambda SG's rule above
            )

    def _add_network_acls(self) -> None:
        any_ipv4 = ec2.AclCidr.any_ipv4()
        https = ec2.AclTraffic.tcp_port(c.HTTPS_PORT)
        http = ec2.AclTraffic.tcp_port(c.HTTP_PORT)
        ephemeral = ec2.AclTraffic.tcp_port_range(c.EPHEMERAL_PORT_FROM, c.EPHEMERAL_PORT_TO)
        ingress = ec2.TrafficDirection.INGRESS
        egress = ec2.TrafficDirection.EGRESS

        # Public: allow 80/443 (seed), and return traffic of the NAT gateways' connections.
        public = self._acl("PublicNacl", c.PUBLIC_SUBNET_GROUP)
        _entry(public, "InHttps", 100, any_ipv4, https, ingress)
        _entry(public, "InHttp", 110, any_ipv4, http, ingress)
        _entry(public, "InEphemeral", 120, any_ipv4, ephemeral, ingress)
        _entry(public, "OutHttps", 100, any_ipv4, https, egress)
        _entry(public, "OutHttp", 110, any_ipv4, http, egress)
        _entry(public, "OutEphemeral", 120, any_ipv4, ephemeral, egress)

        # Private (Lambda): HTTPS out (NAT, gateway endpoints, interface endpoints), replies in.
        private = self._acl("PrivateNacl", c.PRIVATE_SUBNET_GROUP)
        _entry(private, "OutHttps", 100, any_ipv4, https, egress)
        _entry(private, "InEphemeral", 100, any_ipv4, ephemeral, ingress)

        # Data (endpoints): HTTPS in from the private subnets only, replies back to them.
        data = self._acl("DataNacl", c.DATA_SUBNET_GROUP)
        for index, cidr in enumerate(c.SUBNET_CIDRS[c.PRIVATE_SUBNET_GROUP]):
            peer = ec2.AclCidr.ipv4(cidr)
            _entry(data, f"InHttpsFromPrivate{index}", 100 + index, peer, https, ingress)
            _entry(data, f"OutEphemeralToPrivate{index}", 100 + index, peer, ephemeral, egress)

        for acl in (public, private, data):
            cdk.Validations.of(acl).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions::AwsSolutions-VPC3",
                    reason="Seed section 2 asks for one network ACL per tier (public 80/443, "
                    "private restricted, data DDB/S3 only) on top of the security groups.",
                )
            )

    def _acl(self, construct_id: str, group: str) -> ec2.NetworkAcl:
        return ec2.NetworkAcl(
            self,
            construct_id,
            vpc=self.vpc,
            subnet_selection=ec2.SubnetSelection(subnet_group_name=group),
        )


def _entry(
    acl: ec2.NetworkAcl,
    construct_id: str,
    rule_number: int,
    cidr: ec2.AclCidr,
    traffic: ec2.AclTraffic,
    direction: ec2.TrafficDirection,
) -> None:
    acl.add_entry(
        construct_id,
        rule_number=rule_number,
        cidr=cidr,
        traffic=traffic,
        direction=direction,
        rule_action=ec2.Action.ALLOW,
    )
