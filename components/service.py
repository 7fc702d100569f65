"""Service: one ECS service behind the stack's shared ALB, or a worker without a load balancer.

Owns the service's log group, execution and task roles (with the ECS Exec policy when enabled), task
definition, target group, listener rule, security group (and the ALB's egress to it), the ECS
service and its autoscaling. A worker has no target group, listener rule or ALB ingress, and carries
the policy pack's exemption tags with its reason. The cluster, its capacity (EC2 or Fargate
providers) and the ALB itself are not its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .cluster import Cluster, exec_log_group_name
from .config import FARGATE_PROVIDERS, ContainerConfig, LogsConfig, ServiceConfig
from .iam import ecs_tasks_trust_policy, managed_policy_arn
from .load_balancer import LoadBalancer

# The policy pack's exemption tags (see policies/README.md) and the rule a worker is exempt from.
EXEMPT_TAG, REASON_TAG = "ecs-guardrails:exempt", "ecs-guardrails:reason"
LB_RULE = "ecs-service-load-balancer-required"


@dataclass(frozen=True)
class ServiceArgs:
    config: ServiceConfig
    logs: LogsConfig
    cluster: Cluster
    load_balancer: LoadBalancer
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    cluster_name: str
    region: str
    partition: str
    account_id: str
    architecture: str


def log_group_name(cluster_name: str, service: str) -> str:
    """Known at preview time, so the pack can match containers' awslogs-group to the log group."""
    return f"/ecs/{cluster_name}/{service}"


def secret_resource_arn(value_from: str) -> str:
    """The IAM resource of a `valueFrom`: a Secrets Manager ARN may carry `:json-key:stage:id`."""
    parts = value_from.split(":")
    return ":".join(parts[:7]) if parts[2] == "secretsmanager" else value_from


def container_definition(name: str, c: ContainerConfig, port: int | None, network_mode: str,
                         log_group: str, region: str, stream_prefix: str) -> dict[str, Any]:
    """One container as ECS RegisterTaskDefinition takes it, with AWS's defaults written out so
    that the definition does not re-diff on every update."""
    definition: dict[str, Any] = {
        "name": name,
        "image": c.image,
        "essential": c.essential,
        "cpu": c.cpu,
        "memory": c.memory,
        "portMappings": [] if port is None else [{
            "containerPort": port,
            "hostPort": 0 if network_mode == "bridge" else port,
            "protocol": "tcp",
        }],
        "environment": [{"name": k, "value": v} for k, v in sorted(c.environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(c.secrets.items())],
        "mountPoints": [],
        "volumesFrom": [],
        "privileged": False,
        "readonlyRootFilesystem": c.read_only_root_filesystem,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": stream_prefix,
            },
        },
    }
    if c.memory_reservation is not None:
        definition["memoryReservation"] = c.memory_reservation
    if c.command is not None:
        definition["command"] = c.command
    if c.user is not None:
        definition["user"] = c.user
    if c.writable_paths:
        definition["linuxParameters"] = {
            "tmpfs": [{"containerPath": p, "size": 64} for p in c.writable_paths],
        }
    return definition


def secrets_policy(name: str, execution_role: aws.iam.Role, containers: dict[str, ContainerConfig],
                   kms_key_arn: str | None, child: pulumi.ResourceOptions) -> aws.iam.RolePolicy | None:
    """Read access for the execution role to exactly the secrets the containers reference."""
    refs = sorted({secret_resource_arn(v) for c in containers.values() for v in c.secrets.values()})
    if not refs:
        return None
    statements = []
    ssm = [r for r in refs if r.split(":")[2] == "ssm"]
    if ssm:
        statements.append({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": ssm})
    secrets = [r for r in refs if r.split(":")[2] == "secretsmanager"]
    if secrets:
        statements.append({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secrets})
    if kms_key_arn:
        statements.append({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": kms_key_arn})
    return aws.iam.RolePolicy(
        f"{name}-secrets",
        role=execution_role.id,
        policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        opts=child,
    )


@dataclass(frozen=True)
class TaskIdentity:
    """What every task of ours has: its log group, execution role (+ secrets access) and task role."""

    log_group: aws.cloudwatch.LogGroup
    execution_role: aws.iam.Role
    execution_role_policy: aws.iam.RolePolicyAttachment
    secrets_policy: aws.iam.RolePolicy | None
    task_role: aws.iam.Role


def task_identity(owner: pulumi.ComponentResource, name: str, what: str, cfg: ServiceConfig | Any,
                  logs: LogsConfig, cluster_name: str, partition: str, region: str,
                  account_id: str) -> TaskIdentity:
    """Declares, as children of `owner` (names derived from `name`), a task's log group and roles."""
    child = pulumi.ResourceOptions(parent=owner)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs", name=log_group_name(cluster_name, name), retention_in_days=logs.retention_days,
        kms_key_id=logs.kms_key_arn,
        opts=pulumi.ResourceOptions(parent=owner, retain_on_delete=logs.retain_on_delete),
    )
    trust = ecs_tasks_trust_policy(partition, region, account_id)
    execution_role = aws.iam.Role(
        f"{name}-execution-role",
        assume_role_policy=trust,
        description=f"ECS agent for {what} {name}: pulls images, writes logs, reads its secrets",
        opts=child,
    )
    execution_role_policy = aws.iam.RolePolicyAttachment(
        f"{name}-execution-policy",
        role=execution_role.name,
        policy_arn=managed_policy_arn(partition, "service-role/AmazonECSTaskExecutionRolePolicy"),
        opts=child,
    )
    containers: dict[str, ContainerConfig] = {name: cfg, **cfg.sidecars}
    return TaskIdentity(
        log_group=log_group,
        execution_role=execution_role,
        execution_role_policy=execution_role_policy,
        secrets_policy=secrets_policy(name, execution_role, containers, cfg.secrets_kms_key_arn, child),
        task_role=aws.iam.Role(
            f"{name}-task-role",
            assume_role_policy=trust,
            description=f"Application role of {what} {name} (no permissions by default)",
            opts=child,
        ),
    )


def task_definition(owner: pulumi.ComponentResource, name: str, family: str, cfg: ServiceConfig | Any,
                    definitions: list[dict[str, Any]], identity: TaskIdentity, fargate: bool,
                    architecture: str) -> aws.ecs.TaskDefinition:
    """Declares, as a child of `owner`, the task definition of `cfg` and its sidecars: cpu and
    memory are the task's own or the sum of its containers'."""
    containers: dict[str, ContainerConfig] = {name: cfg, **cfg.sidecars}
    return aws.ecs.TaskDefinition(
        f"{name}-task",
        family=family,
        requires_compatibilities=["FARGATE"] if fargate else ["EC2"],
        network_mode=cfg.network_mode,
        cpu=str(cfg.task_cpu or sum(c.cpu for c in containers.values())),
        memory=str(cfg.task_memory or sum(c.memory for c in containers.values())),
        execution_role_arn=identity.execution_role.arn,
        task_role_arn=identity.task_role.arn,
        container_definitions=json.dumps(definitions),
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            operating_system_family="LINUX",
            cpu_architecture="ARM64" if architecture == "arm64" else "X86_64",
        ),
        opts=pulumi.ResourceOptions(parent=owner),
    )


class Service(pulumi.ComponentResource):
    """Children: log_group, execution_role, task_role, task_definition, target_group and listener_rule
    (web; None for workers), security_group (awsvpc), service, scaling_target and scaling_policies
    (with autoscaling)."""

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecs-platform:service:Service", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        awsvpc = cfg.network_mode == "awsvpc"
        web = cfg.kind == "web"
        # Without its own strategy a service takes the cluster's default one (set explicitly: the pack
        # wants a strategy on every service).
        strategy = cfg.capacity_provider_strategy or args.cluster.args.config.default_strategy
        fargate = any(i.capacity_provider in FARGATE_PROVIDERS for i in strategy)
        group = log_group_name(args.cluster_name, name)

        identity = task_identity(self, name, "service", cfg, args.logs, args.cluster_name, args.partition,
                                 args.region, args.account_id)
        self.log_group, self.execution_role = identity.log_group, identity.execution_role
        self.execution_role_policy, self.secrets_policy = identity.execution_role_policy, identity.secrets_policy
        self.task_role = identity.task_role
        containers: dict[str, ContainerConfig] = {name: cfg, **cfg.sidecars}

        self.exec_policy = self._exec_policy(name, args, child) if cfg.enable_execute_command else None

        definitions = [
            container_definition(cname, c, cfg.container_port if cname == name else c.port,
                                 cfg.network_mode, group, args.region, cname)
            for cname, c in containers.items()
        ]
        self.task_definition = task_definition(self, name, f"{args.cluster_name}-{name}", cfg, definitions,
                                               identity, fargate, args.architecture)

        self.target_group: aws.lb.TargetGroup | None = None
        self.listener_rule: aws.lb.ListenerRule | None = None
        if web:
            self._routing(name, args, child)

        network_configuration = None
        self.security_group: aws.ec2.SecurityGroup | None = None
        if awsvpc:
            self.security_group = aws.ec2.SecurityGroup(
                f"{name}-sg", vpc_id=args.vpc_id, description=f"ECS service {name}", opts=child,
            )
        if self.security_group is not None and cfg.container_port is not None:
            lb_sg = args.load_balancer.security_group.id
            port = cfg.container_port
            self.ingress = aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-alb",
                security_group_id=self.security_group.id, referenced_security_group_id=lb_sg,
                ip_protocol="tcp", from_port=port, to_port=port,
                description="ALB to the container port", opts=child,
            )
            self.alb_egress = aws.vpc.SecurityGroupEgressRule(
                f"{name}-alb-egress",
                security_group_id=lb_sg, referenced_security_group_id=self.security_group.id,
                ip_protocol="tcp", from_port=port, to_port=port,
                description=f"ALB to service {name}", opts=child,
            )
        if self.security_group is not None:
            self.egress = aws.vpc.SecurityGroupEgressRule(
                f"{name}-https-out",
                security_group_id=self.security_group.id,
                ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
                description="HTTPS to AWS APIs and registries", opts=child,
            )
            network_configuration = aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=args.private_subnet_ids, security_groups=[self.security_group.id],
                assign_public_ip=False,
            )

        dep = cfg.deployment
        self.service = aws.ecs.Service(
            f"{name}-service",
            name=name,
            cluster=args.cluster.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=cfg.desired_count,
            capacity_provider_strategies=[aws.ecs.ServiceCapacityProviderStrategyArgs(
                capacity_provider=args.cluster.providers[i.capacity_provider], weight=i.weight, base=i.base,
            ) for i in strategy],
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=dep.minimum_healthy_percent,
            deployment_maximum_percent=dep.maximum_percent,
            health_check_grace_period_seconds=dep.health_check_grace_period if web else None,
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=self.target_group.arn, container_name=name, container_port=cfg.container_port,
            )] if self.target_group is not None else None,
            network_configuration=network_configuration,
            # Fargate places tasks itself (spread over the subnets' AZs) and refuses placement strategies.
            ordered_placement_strategies=None if fargate else [
                aws.ecs.ServiceOrderedPlacementStrategyArgs(type="spread", field="attribute:ecs.availability-zone"),
                aws.ecs.ServiceOrderedPlacementStrategyArgs(type="binpack", field="memory"),
            ],
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            enable_execute_command=True if cfg.enable_execute_command else None,
            # A worker's only way past the pack's load balancer rule: its exemption, with the reason.
            tags=None if web else {EXEMPT_TAG: LB_RULE, REASON_TAG: cfg.worker_reason or ""},
            opts=pulumi.ResourceOptions(
                parent=self,
                # The listener rule must exist before the target group can be attached, and the
                # capacity providers before the strategy; destroy runs in reverse.
                depends_on=[r for r in (self.listener_rule, args.cluster.capacity_providers) if r is not None],
                ignore_changes=["desiredCount"] if cfg.autoscaling else None,
            ),
        )

        self.scaling_target: aws.appautoscaling.Target | None = None
        self.scaling_policies: list[aws.appautoscaling.Policy] = []
        if cfg.autoscaling:
            self._autoscaling(name, args, child)

        self.register_outputs({
            "service_name": self.service.name,
            "log_group_name": self.log_group.name,
            "target_group_arn": self.target_group.arn if self.target_group else None,
        })

    def _routing(self, name: str, args: ServiceArgs, child: pulumi.ResourceOptions) -> None:
        """The target group and the listener rule forwarding to it (web services)."""
        cfg = args.config
        assert cfg.routing is not None
        hc = cfg.health_check
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            port=cfg.container_port,
            protocol="HTTP",
            target_type="ip" if cfg.network_mode == "awsvpc" else "instance",
            vpc_id=args.vpc_id,
            deregistration_delay=cfg.deployment.deregistration_delay,
            stickiness=aws.lb.TargetGroupStickinessArgs(
                enabled=True, type=cfg.stickiness.type, cookie_duration=cfg.stickiness.duration_seconds,
                cookie_name=cfg.stickiness.cookie_name,
            ) if cfg.stickiness else None,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, protocol="HTTP", port="traffic-port", path=hc.path, matcher=hc.matcher,
                interval=hc.interval, timeout=hc.timeout,
                healthy_threshold=hc.healthy_threshold, unhealthy_threshold=hc.unhealthy_threshold,
            ),
            opts=child,
        )
        conditions = []
        if cfg.routing.path_patterns:
            conditions.append(aws.lb.ListenerRuleConditionArgs(
                path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=cfg.routing.path_patterns)))
        if cfg.routing.host_headers:
            conditions.append(aws.lb.ListenerRuleConditionArgs(
                host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=cfg.routing.host_headers)))
        self.listener_rule = aws.lb.ListenerRule(
            f"{name}-rule",
            listener_arn=args.load_balancer.listener.arn,
            priority=cfg.routing.priority,
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)],
            conditions=conditions,
            opts=child,
        )


    def _exec_policy(self, name: str, args: ServiceArgs, child: pulumi.ResourceOptions) -> aws.iam.RolePolicy:
        """ECS Exec: the SSM session channels, and writing the session log to the cluster's group."""
        group = (f"arn:{args.partition}:logs:{args.region}:{args.account_id}:log-group:"
                 f"{exec_log_group_name(args.cluster_name)}")
        statements = [
            {"Effect": "Allow", "Resource": "*", "Action": [
                "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
            ]},
            {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
             "Resource": f"{group}:*"},
        ]
        return aws.iam.RolePolicy(
            f"{name}-exec",
            role=self.task_role.id,
            policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            opts=child,
        )

    def _autoscaling(self, name: str, args: ServiceArgs, child: pulumi.ResourceOptions) -> None:
        scaling = args.config.autoscaling
        assert scaling is not None
        resource_id = f"service/{args.cluster_name}/{name}"
        self.scaling_target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=resource_id,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service]),
        )
        metrics: list[tuple[str, float, pulumi.Input[str] | None]] = []
        if scaling.cpu_target:
            metrics.append(("ECSServiceAverageCPUUtilization", scaling.cpu_target, None))
        if scaling.memory_target:
            metrics.append(("ECSServiceAverageMemoryUtilization", scaling.memory_target, None))
        if scaling.requests_per_target:
            label = pulumi.Output.concat(
                args.load_balancer.load_balancer.arn_suffix, "/", self.target_group.arn_suffix)
            metrics.append(("ALBRequestCountPerTarget", float(scaling.requests_per_target), label))
        short = {"ECSServiceAverageCPUUtilization": "cpu", "ECSServiceAverageMemoryUtilization": "memory",
                 "ALBRequestCountPerTarget": "requests"}
        for metric, target, label in metrics:
            self.scaling_policies.append(aws.appautoscaling.Policy(
                f"{name}-scale-{short[metric]}",
                policy_type="TargetTrackingScaling",
                service_namespace=self.scaling_target.service_namespace,
                scalable_dimension=self.scaling_target.scalable_dimension,
                resource_id=self.scaling_target.resource_id,
                target_tracking_scaling_policy_configuration=(
                    aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                        target_value=target,
                        scale_in_cooldown=120,
                        scale_out_cooldown=60,
                        predefined_metric_specification=(
                            aws.appautoscaling
                            .PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                                predefined_metric_type=metric, resource_label=label,
                            )
                        ),
                    )
                ),
                opts=child,
            ))
