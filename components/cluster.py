"""Cluster: the ECS cluster and its EC2 capacity.

Owns the cluster, the instance role and profile, the instances' security group, the launch
template (ECS-optimized Amazon Linux 2023 AMI, IMDSv2), the Auto Scaling group, the capacity
provider, the cluster's capacity provider association and, when asked, the account's
`awsvpcTrunking` default. Services and the ALB are not its own.

Destroy order (the engine deletes a resource before everything it depends on): services, then
the capacity provider association, then each capacity provider, then its Auto Scaling group, then
the launch template, then the cluster. The launch template's user data is built from the
cluster's name output, so every group depends on the cluster: the cluster is deleted only once
its instances are gone, as DeleteCluster requires (ClusterContainsContainerInstances otherwise).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .config import EC2_PROVIDER, FARGATE_PROVIDERS, AdditionalCapacityConfig, ClusterConfig, LogsConfig
from .iam import managed_policy_arn, trust_policy
from .log_group import declare_log_group, exec_log_group_name

AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/{arch}recommended/image_id"
EPHEMERAL_PORTS = (32768, 65535)  # bridge-mode dynamic host ports
# Without force_delete the provider drains a group before deleting it (scale to 0, lift scale-in
# protection, wait for no instances), within the delete timeout (default 10m). Once the capacity
# provider is gone, ECS's managed draining lifecycle hook (ecs-managed-draining-termination-hook,
# one hour, then CONTINUE) can hold each instance in Terminating:Wait: give the drain that hour.
DRAINING_DELETE_TIMEOUT = "75m"


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
    logs: LogsConfig | None = None
    # FARGATE / FARGATE_SPOT when some service runs on them (they join the cluster's providers).
    fargate_providers: tuple[str, ...] = ()
    # Some service uses ECS Exec: the cluster logs the sessions to its exec log group.
    execute_command: bool = False
    # The stack's tags (cost allocation): the provider's default tags never reach the instances an
    # Auto Scaling group launches, so the groups propagate these to them.
    instance_tags: Mapping[str, str] = field(default_factory=dict)


def user_data(cluster_name: str, warm_pool: bool = False) -> str:
    """Joins the cluster; lets the agent drain spot instances and cache images. With a warm pool,
    the agent must not register instances while they are being warmed (ECS_WARM_POOLS_CHECK)."""
    script = "\n".join([
        "#!/bin/bash",
        "cat >> /etc/ecs/ecs.config <<'EOF'",
        f"ECS_CLUSTER={cluster_name}",
        "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true",
        "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached",
        "ECS_ENABLE_CONTAINER_METADATA=true",
        *(["ECS_WARM_POOLS_CHECK=true"] if warm_pool else []),
        "EOF",
        "",
    ])
    return base64.b64encode(script.encode()).decode()


def _instance_refresh(cfg: ClusterConfig) -> aws.autoscaling.GroupInstanceRefreshArgs | None:
    """A rolling refresh; the provider starts one whenever the launch template or mix changes."""
    refresh = cfg.instance_refresh
    if refresh is None:
        return None
    return aws.autoscaling.GroupInstanceRefreshArgs(
        strategy="Rolling",
        preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
            min_healthy_percentage=refresh.min_healthy_percentage,
            max_healthy_percentage=refresh.max_healthy_percentage,
            instance_warmup=None if refresh.instance_warmup is None else str(refresh.instance_warmup),
            skip_matching=refresh.skip_matching,
            scale_in_protected_instances=refresh.scale_in_protected_instances,
            auto_rollback=refresh.auto_rollback,
        ),
    )


def _warm_pool(cfg: ClusterConfig) -> aws.autoscaling.GroupWarmPoolArgs | None:
    pool = cfg.warm_pool
    if pool is None:
        return None
    return aws.autoscaling.GroupWarmPoolArgs(
        pool_state=pool.pool_state,
        min_size=pool.min_size,
        max_group_prepared_capacity=pool.max_group_prepared_capacity,
    )


class Cluster(pulumi.ComponentResource):
    """Children: exec_log_group (with ECS Exec), cluster, instance_role, instance_profile,
    instance_security_group, launch_template, awsvpc_trunking (with cluster.awsvpc_trunking),
    auto_scaling_group, capacity_provider, additional_groups (name -> (group, provider)),
    capacity_providers. `providers` maps the names strategies use (`ec2`, `FARGATE`, ...) to capacity provider names."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecs-platform:cluster:Cluster", name, None, opts)
        self.args = args
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)

        self.exec_log_group: aws.cloudwatch.LogGroup | None = None
        configuration = None
        if args.execute_command:
            logs = args.logs or LogsConfig()
            self.exec_log_group = declare_log_group(
                self, f"{name}-exec-logs", exec_log_group_name(args.cluster_name), logs)
            configuration = aws.ecs.ClusterConfigurationArgs(
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    logging="OVERRIDE",
                    log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                        cloud_watch_log_group_name=self.exec_log_group.name,
                        cloud_watch_encryption_enabled=logs.kms_key_arn is not None,
                    ),
                ),
            )
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value=cfg.container_insights)],
            configuration=configuration,
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
            # EC2 rule descriptions: a-z A-Z 0-9 space ._-:/()#,@[]+=;{}!$* only (no apostrophe).
            self.bridge_ingress = aws.vpc.SecurityGroupIngressRule(
                f"{name}-instances-from-alb",
                security_group_id=self.instance_security_group.id,
                referenced_security_group_id=args.load_balancer_security_group_id,
                ip_protocol="tcp", from_port=low, to_port=high,
                description="ALB to bridge-mode tasks on dynamic host ports",
                opts=child,
            )
            self.bridge_egress = aws.vpc.SecurityGroupEgressRule(
                f"{name}-alb-to-instances",
                security_group_id=args.load_balancer_security_group_id,
                referenced_security_group_id=self.instance_security_group.id,
                ip_protocol="tcp", from_port=low, to_port=high,
                description="ALB to bridge-mode tasks on dynamic host ports",
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
            # From the cluster's output, not the plain name: the groups (through this template)
            # depend on the cluster, so destroy removes the instances before the cluster.
            user_data=self.cluster.name.apply(lambda cluster: user_data(cluster, warm_pool=cfg.warm_pool is not None)),
            hibernation_options=aws.ec2.LaunchTemplateHibernationOptionsArgs(configured=True)
            if cfg.warm_pool is not None and cfg.warm_pool.pool_state == "Hibernated" else None,
            update_default_version=True,
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type=kind, tags={"Name": f"{args.cluster_name}-instance"},
            ) for kind in ("instance", "volume")],
            opts=child,
        )

        # awsvpcTrunking applies to instances launched after it is on: the groups wait for it. An
        # account-wide default other stacks may rely on, so destroy leaves it on.
        self.awsvpc_trunking: aws.ecs.AccountSettingDefault | None = None
        if cfg.awsvpc_trunking:
            self.awsvpc_trunking = aws.ecs.AccountSettingDefault(
                f"{name}-awsvpc-trunking", name="awsvpcTrunking", value="enabled",
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )

        self.auto_scaling_group, self.capacity_provider = self._group(
            f"{name}-asg", f"{name}-capacity-provider", cfg, args, key=None)
        # More groups with their own providers (e.g. spot next to on-demand), sharing the template.
        self.additional_groups: dict[str, tuple[aws.autoscaling.Group, aws.ecs.CapacityProvider]] = {
            key: self._group(f"{name}-{key}-asg", f"{name}-{key}-capacity-provider", extra, args, key=key)
            for key, extra in cfg.additional_capacity_providers.items()
        }
        self.providers: dict[str, pulumi.Input[str]] = {
            EC2_PROVIDER: self.capacity_provider.name,
            **{key: provider.name for key, (_, provider) in self.additional_groups.items()},
            **{p: p for p in FARGATE_PROVIDERS},
        }
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=[
                self.capacity_provider.name,
                *[provider.name for _, provider in self.additional_groups.values()],
                *args.fargate_providers,
            ],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=self.providers[i.capacity_provider], weight=i.weight, base=i.base,
                ) for i in cfg.default_strategy
            ],
            opts=child,
        )
        self.register_outputs({
            "cluster_name": self.cluster.name,
            "cluster_arn": self.cluster.arn,
            "capacity_provider_name": self.capacity_provider.name,
            "auto_scaling_group_name": self.auto_scaling_group.name,
        })

    def _group(self, asg_name: str, provider_name: str, cfg: ClusterConfig | AdditionalCapacityConfig,
               args: ClusterArgs, key: str | None) -> tuple[aws.autoscaling.Group, aws.ecs.CapacityProvider]:
        """An Auto Scaling group on the cluster's launch template and its managed capacity provider.
        The cluster's own group keeps a plain launch template unless it mixes types or uses spot."""
        cluster, primary = args.config, key is None
        instance_name = f"{args.cluster_name}-instance" if primary else f"{args.cluster_name}-{key}-instance"
        template = aws.autoscaling.GroupLaunchTemplateArgs(
            id=self.launch_template.id, version=self.launch_template.latest_version.apply(str)
        )
        mixed = None
        if len(cfg.instance_types) > 1 or cfg.uses_spot or not primary:
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
                    on_demand_percentage_above_base_capacity=cfg.on_demand_percentage_above_base,
                    on_demand_base_capacity=cfg.on_demand_base_capacity if cfg.uses_spot else None,
                    spot_allocation_strategy=cfg.spot_allocation_strategy if cfg.uses_spot else None,
                ),
            )
        group = aws.autoscaling.Group(
            asg_name,
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
            force_delete=cluster.force_delete,
            capacity_rebalance=cfg.capacity_rebalance if cfg.uses_spot else None,
            instance_refresh=_instance_refresh(cluster),
            warm_pool=_warm_pool(cluster) if primary else None,
            tags=[
                aws.autoscaling.GroupTagArgs(key="AmazonECSManaged", value="true", propagate_at_launch=True),
                aws.autoscaling.GroupTagArgs(key="Name", value=instance_name, propagate_at_launch=True),
                *(
                    aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True)
                    for key, value in sorted(args.instance_tags.items())
                    if key not in ("AmazonECSManaged", "Name")
                ),
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                # Managed scaling owns the instance count once the group exists.
                ignore_changes=["desiredCapacity"],
                depends_on=[self.awsvpc_trunking] if self.awsvpc_trunking is not None else None,
                custom_timeouts=None if cluster.force_delete else pulumi.CustomTimeouts(delete=DRAINING_DELETE_TIMEOUT),
            ),
        )
        provider = aws.ecs.CapacityProvider(
            provider_name,
            auto_scaling_group_provider=aws.ecs.CapacityProviderAutoScalingGroupProviderArgs(
                auto_scaling_group_arn=group.arn,
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
            opts=pulumi.ResourceOptions(parent=self),
        )
        return group, provider
