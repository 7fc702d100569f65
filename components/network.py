"""Network: a new VPC (awsx.ec2.Vpc, public and private subnets, NAT) or an existing VPC's ids.

Owns the VPC only; security groups belong to the components whose traffic they describe.
"""

from __future__ import annotations

import pulumi
import pulumi_awsx as awsx

from .config import NetworkConfig


class Network(pulumi.ComponentResource):
    """Exposes `vpc_id`, `public_subnet_ids`, `private_subnet_ids` (and `vpc` when it made one)."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, config: NetworkConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecs-platform:network:Network", name, None, opts)
        self.vpc: awsx.ec2.Vpc | None = None
        if config.vpc_id:
            self.vpc_id = pulumi.Output.from_input(config.vpc_id)
            self.public_subnet_ids = pulumi.Output.from_input(list(config.public_subnet_ids))
            self.private_subnet_ids = pulumi.Output.from_input(list(config.private_subnet_ids))
        else:
            strategy = (awsx.ec2.NatGatewayStrategy.SINGLE if config.nat_gateways == "single"
                        else awsx.ec2.NatGatewayStrategy.ONE_PER_AZ)
            self.vpc = awsx.ec2.Vpc(
                f"{name}-vpc",
                cidr_block=config.cidr_block,
                number_of_availability_zones=config.availability_zones,
                nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(strategy=strategy),
                subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
                subnet_specs=[
                    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC),
                    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE),
                ],
                enable_dns_hostnames=True,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.vpc_id = self.vpc.vpc_id
            self.public_subnet_ids = self.vpc.public_subnet_ids
            self.private_subnet_ids = self.vpc.private_subnet_ids
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids,
        })
