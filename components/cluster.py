"""Cluster: the ECS cluster and its EC2 capacity.

Owns the cluster, the instance role and profile, the instances' security group, the launch
template (ECS-optimized Amazon Linux 2023 AMI, IMDSv2), the Auto Scaling group, the capacity
provider and the cluster's capacity provider association. Services and the ALB are not its own.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import ClusterConfig
from .iam import managed_policy_arn, trust_policy

AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/{arch}recommended/image_id"
EPHEMERAL_PORTS = (32768, 65535)  # bridge-mode dynamic host ports


@dataclass(frozen=True)
class ClusterArgs:
    config: ClusterConfig
    cluster_name: str
    partition: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    # Bridge-mode tasks use the instance's network: the ALB must reach the instances' host ports.
    bridge_networking: bool
    load_balancer_security_group_id: pulumi.Input[str]


def user_data(cluster_name: str) -> str:
    """Joins the cluster; lets the agent drain spot instances and cache images."""
    script = "\n".join([
        "#!/bin/bash",
        "cat >> /etc/ecs/ecs.config <<'EOF'",
        f"ECS_CLUSTER={cluster_name}",
        "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true",
        "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached",
        "ECS_ENABLE_CONTAINER_METADATA=true",
        "EOF",
        "",
    ])
    return base64.b64encode(script.encode()).decode()


class Cluster(pulumi.ComponentResource):
    """Children: cluster, instance_role, instance_profile, instance_security_group, launch_template,
    auto_scaling_group, capacity_provider, capacity_providers."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecs-platform:cluster:Cluster", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)

        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value=cfg.container_insights)],
            opts=child,
        )
        self.instance_role = aws.iam.Role(
            f"{name}-instance-role",
            assume_role_policy=trust_policy("ec2.amazonaws.com"),
            description=f"ECS container instances of {args.cluster_name}",
            opts=child,
        )
        self.instance_role_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-instance-{short}",
                role=self.instance_role.name,
                policy_arn=managed_policy_arn(args.partition, path),
                opts=child,
            )
            for short, path in (
                ("ecs", "service-role/AmazonEC2ContainerServiceforEC2Role"),
                ("ssm", "AmazonSSMManagedInstanceCore"),
            )
        ]
        self.instance_profile = aws.iam.InstanceProfile(
            f"{name}-instance-profile", role=self.instance_role.name, opts=child
        )

        self.instance_security_group = aws.ec2.SecurityGroup(
            f"{name}-instances",
            vpc_id=args.vpc_id,
            description=f"ECS container instances of {args.cluster_name}",
            opts=child,
        )
        # The agent and image pulls reach AWS APIs and registries over HTTPS (through NAT).
        self.instance_egress = aws.vpc.SecurityGroupEgressRule(
            f"{name}-instances-https-out",
            security_group_id=self.instance_security_group.id,
            ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
            description="HTTPS to AWS APIs and image registries",
            opts=child,
        )
        if args.bridge_networking:
            low, high = EPHEMERAL_PORTS
            self.bridge_ingress = aws.vpc.SecurityGroupIngressRule(
                f"{name}-instances-from-alb",
                security_group_id=self.instance_security_group.id,
                referenced_security_group_id=args.load_balancer_security_group_id,
                ip_protocol="tcp", from_port=low, to_port=high,
                description="ALB to bridge-mode tasks' dynamic host ports",
                opts=child,
            )
            self.bridge_egress = aws.vpc.SecurityGroupEgressRule(
                f"{name}-alb-to-instances",
                security_group_id=args.load_balancer_security_group_id,
                referenced_security_group_id=self.instance_security_group.id,
                ip_protocol="tcp", from_port=low, to_port=high,
                description="ALB to bridge-mode tasks' dynamic host ports",
                opts=child,
            )

        arch = "arm64/" if cfg.architecture == "arm64" else ""
        ami = aws.ssm.get_parameter(name=AMI_PARAMETER.format(arch=arch))
        # IMDSv2 only; bridge-mode containers sit one hop further from the instance.
        hop_limit = 2 if args.bridge_networking else 1
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-launch-template",
            description=f"ECS container instances of {args.cluster_name}",
            image_id=ami.value,
            instance_type=cfg.instance_types[0] if len(cfg.instance_types) == 1 else None,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=self.instance_profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=hop_limit,
                instance_metadata_tags="disabled",
            ),
            network_interfaces=[aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                associate_public_ip_address="false",
                delete_on_termination="true",
                security_groups=[self.instance_security_group.id],
            )],
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=cfg.root_volume_size_gb,
                    volume_type="gp3",
                    encrypted="true",
                    delete_on_termination="true",
                ),
            )],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            user_data=user_data(args.cluster_name),
            update_default_version=True,
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type=kind, tags={"Name": f"{args.cluster_name}-instance"},
            ) for kind in ("instance", "volume")],
            opts=child,
        )

        template = aws.autoscaling.GroupLaunchTemplateArgs(
            id=self.launch_template.id, version=self.launch_template.latest_version.apply(str)
        )
        mixed = None
        if len(cfg.instance_types) > 1:
            mixed = aws.autoscaling.GroupMixedInstancesPolicyArgs(
                launch_template=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs(
                    launch_template_specification=(
                        aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs(
                            launch_template_id=self.launch_template.id,
                            version=self.launch_template.latest_version.apply(str),
                        )
                    ),
                    overrides=[
                        aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs(instance_type=t)
                        for t in cfg.instance_types
                    ],
                ),
                instances_distribution=aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs(
                    on_demand_percentage_above_base_capacity=100,
                ),
            )
        self.auto_scaling_group = aws.autoscaling.Group(
            f"{name}-asg",
            vpc_zone_identifiers=args.private_subnet_ids,
            min_size=cfg.min_size,
            max_size=cfg.max_size,
            desired_capacity=cfg.desired_capacity,
            launch_template=template if mixed is None else None,
            mixed_instances_policy=mixed,
            # Managed termination protection needs scale-in protection on every instance.
            protect_from_scale_in=True,
            health_check_type="EC2",
            health_check_grace_period=120,
            default_instance_warmup=120,
            force_delete=cfg.force_delete,
            tags=[
                aws.autoscaling.GroupTagArgs(key="AmazonECSManaged", value="true", propagate_at_launch=True),
                aws.autoscaling.GroupTagArgs(key="Name", value=f"{args.cluster_name}-instance",
                                             propagate_at_launch=True),
            ],
            # Managed scaling owns the instance count once the group exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]),
        )
        self.capacity_provider = aws.ecs.CapacityProvider(
            f"{name}-capacity-provider",
            auto_scaling_group_provider=aws.ecs.CapacityProviderAutoScalingGroupProviderArgs(
                auto_scaling_group_arn=self.auto_scaling_group.arn,
                managed_termination_protection="ENABLED",
                managed_draining="ENABLED",
                managed_scaling=aws.ecs.CapacityProviderAutoScalingGroupProviderManagedScalingArgs(
                    status="ENABLED",
                    target_capacity=cfg.target_capacity_percent,
                    minimum_scaling_step_size=1,
                    maximum_scaling_step_size=10,
                    instance_warmup_period=120,
                ),
            ),
            opts=child,
        )
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=[self.capacity_provider.name],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=self.capacity_provider.name, weight=1, base=0,
                )
            ],
            opts=child,
        )
        self.register_outputs({
            "cluster_name": self.cluster.name,
            "cluster_arn": self.cluster.arn,
            "capacity_provider_name": self.capacity_provider.name,
            "auto_scaling_group_name": self.auto_scaling_group.name,
        })
