"""Service: one ECS service behind the stack's shared ALB, or a worker without a load balancer.

Owns the service's task (log group, roles and the task role's permissions, task definition,
security group and egress: see task.py), the ECS Exec policy on its task role (when enabled),
target group, listener rule, the security group's ingress from the ALB (and the ALB's egress to
it), its alarms (alarms.py), the ECS service (with the stack's tags, deployment alarms and Service
Connect) and its autoscaling. A worker has no target group, listener rule or ALB ingress, and
carries the policy pack's exemption tags with its reason. The cluster, its capacity (EC2 or
Fargate providers), the ALB, the Service Connect namespace and the rules between services
(reachability.py, declared once every task exists) are not its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .alarms import AlarmTargets, ServiceAlarms, declare_service_alarms, deployment_alarms
from .config import LogsConfig, ServiceConfig
from .load_balancer import LoadBalancer
from .log_group import exec_log_group_name
from .service_connect import (
    ServiceConnectArgs,
    ServiceConnectNamespace,
    main_port_mapping_extras,
    service_connect_configuration,
)
from .task import Task, TaskIdentity, TaskPlacement, declare_task

# The policy pack's exemption tags (see policies/README.md) and the rule a worker is exempt from.
EXEMPT_TAG, REASON_TAG = "ecs-guardrails:exempt", "ecs-guardrails:reason"
LB_RULE = "ecs-service-load-balancer-required"


@dataclass(frozen=True)
class ServiceArgs:
    config: ServiceConfig
    logs: LogsConfig
    load_balancer: LoadBalancer
    placement: TaskPlacement
    # The stack's tags (ECS service and task definition; the ECS service propagates them to tasks).
    tags: Mapping[str, str] = field(default_factory=dict)
    # The stack's Service Connect namespace (when some service uses Service Connect).
    namespace: ServiceConnectNamespace | None = None


class Service(pulumi.ComponentResource):
    """Children: task (see task.py) and, from it, log_group, execution_role, task_role,
    task_definition, security_group (awsvpc); exec_policy (ECS Exec); target_group and listener_rule
    (web; None for workers), ingress and alb_egress (web, awsvpc); alarms; service; scaling_target
    and scaling_policies (with autoscaling)."""

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecs-platform:service:Service", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        web = cfg.kind == "web"

        # Permissions of the task role beyond the config's (ECS Exec): each a policy of its own, in
        # place before the task definition (which depends on them).
        def task_role_policies(identity: TaskIdentity) -> list[pulumi.Resource]:
            return [self._exec_policy(name, args, identity.task_role, child)] if cfg.enable_execute_command else []

        self.task: Task = declare_task(self, name, "service", cfg, cfg.container_port, args.logs, args.placement,
                                       args.tags, main_port_mapping_extras(name, cfg.service_connect),
                                       task_role_policies)
        identity, network = self.task.identity, self.task.network
        self.log_group, self.execution_role = identity.log_group, identity.execution_role
        self.execution_role_policy, self.secrets_policy = identity.execution_role_policy, identity.secrets_policy
        self.task_role = identity.task_role
        self.task_definition = self.task.definition
        self.security_group, self.egress = network.security_group, network.https_egress

        self.exec_policy = self.task.task_role_policies[0] if cfg.enable_execute_command else None

        self.target_group: aws.lb.TargetGroup | None = None
        self.listener_rule: aws.lb.ListenerRule | None = None
        if web:
            self._routing(name, args, child)
        if self.security_group is not None and cfg.container_port is not None:
            self._alb_ingress(name, args, self.security_group, cfg.container_port, child)

        self.alarms = ServiceAlarms()
        if cfg.alarms is not None:
            self.alarms = declare_service_alarms(self, name, cfg.alarms, AlarmTargets(
                cluster_name=args.placement.cluster_name,
                service_name=name,
                load_balancer_arn_suffix=args.load_balancer.load_balancer.arn_suffix if web else None,
                target_group_arn_suffix=self.target_group.arn_suffix if self.target_group is not None else None,
            ))
        connect = None
        if cfg.service_connect is not None:
            assert args.namespace is not None, "the program declares the namespace when a service uses it"
            connect = service_connect_configuration(name, cfg.service_connect, cfg.container_port, ServiceConnectArgs(
                namespace_arn=args.namespace.namespace.arn,
                log_group_name=args.placement.log_group_name(name),
                region=args.placement.region,
            ))
        tags = dict(args.tags)
        if not web:  # a worker's only way past the pack's load balancer rule: its exemption, with the reason
            tags.update({EXEMPT_TAG: LB_RULE, REASON_TAG: cfg.worker_reason or ""})

        dep = cfg.deployment
        self.service = aws.ecs.Service(
            f"{name}-service",
            name=name,
            cluster=args.placement.cluster.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=cfg.desired_count,
            capacity_provider_strategies=[aws.ecs.ServiceCapacityProviderStrategyArgs(
                capacity_provider=p.capacity_provider, weight=p.weight, base=p.base,
            ) for p in network.providers],
            # The provider refuses to update a strategy without it; it also makes every update of
            # the service a new deployment (it is not read back, so it adds no diff of its own).
            force_new_deployment=True,
            # A failed rollout (circuit breaker rollback) then fails `pulumi up`.
            wait_for_steady_state=dep.wait_for_steady_state,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=dep.minimum_healthy_percent,
            deployment_maximum_percent=dep.maximum_percent,
            health_check_grace_period_seconds=dep.health_check_grace_period if web else None,
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=self.target_group.arn, container_name=name, container_port=cfg.container_port,
            )] if self.target_group is not None else None,
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=network.subnet_ids, security_groups=network.security_group_ids(), assign_public_ip=False,
            ) if self.security_group is not None else None,
            # Fargate places tasks itself (spread over the subnets' AZs) and refuses placement strategies.
            ordered_placement_strategies=None if network.fargate else [
                aws.ecs.ServiceOrderedPlacementStrategyArgs(type="spread", field="attribute:ecs.availability-zone"),
                aws.ecs.ServiceOrderedPlacementStrategyArgs(type="binpack", field="memory"),
            ],
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            enable_execute_command=True if cfg.enable_execute_command else None,
            tags=tags or None,
            alarms=deployment_alarms(cfg.alarms, self.alarms) if cfg.alarms is not None else None,
            service_connect_configuration=connect,
            opts=pulumi.ResourceOptions(
                parent=self,
                # The listener rule must exist before the target group can be attached, the capacity
                # providers before the strategy, the task role's permissions before a task runs and
                # the deployment alarms before a deployment watches them; destroy runs in reverse.
                depends_on=[r for r in (self.listener_rule, args.placement.cluster.capacity_providers,
                                        *identity.permissions.resources, *self.alarms.alarms)
                            if r is not None],
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

    def _alb_ingress(self, name: str, args: ServiceArgs, security_group: aws.ec2.SecurityGroup, port: int,
                     child: pulumi.ResourceOptions) -> None:
        """The ALB reaches the container port: ingress on the service's group, egress on the ALB's."""
        lb_sg = args.load_balancer.security_group.id
        self.ingress = aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-alb",
            security_group_id=security_group.id, referenced_security_group_id=lb_sg,
            ip_protocol="tcp", from_port=port, to_port=port,
            description="ALB to the container port", opts=child,
        )
        self.alb_egress = aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-egress",
            security_group_id=lb_sg, referenced_security_group_id=security_group.id,
            ip_protocol="tcp", from_port=port, to_port=port,
            description=f"ALB to service {name}", opts=child,
        )

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
            vpc_id=args.placement.vpc_id,
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

    def _exec_policy(self, name: str, args: ServiceArgs, task_role: aws.iam.Role,
                     child: pulumi.ResourceOptions) -> aws.iam.RolePolicy:
        """ECS Exec: the SSM session channels, and writing the session log to the cluster's group."""
        placement = args.placement
        group = placement.arn("logs", f"log-group:{exec_log_group_name(placement.cluster_name)}")
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
            role=task_role.id,
            policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            opts=child,
        )

    def _autoscaling(self, name: str, args: ServiceArgs, child: pulumi.ResourceOptions) -> None:
        scaling = args.config.autoscaling
        assert scaling is not None
        resource_id = f"service/{args.placement.cluster_name}/{name}"
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
