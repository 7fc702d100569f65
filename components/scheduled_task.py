"""ScheduledTask: a task definition run on a schedule by EventBridge Scheduler on the cluster.

Owns the task's log group, execution and task roles, task definition, security group (awsvpc), the
scheduler's role (ecs:RunTask on this task definition family in this cluster, iam:PassRole on the
task's two roles) and the schedule. No load balancer: the pack's load balancer rule covers services
only. The cluster and its capacity are not its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .cluster import Cluster
from .config import FARGATE_PROVIDERS, LogsConfig, ScheduledTaskConfig
from .iam import trust_policy
from .service import container_definition, log_group_name, task_definition, task_identity


@dataclass(frozen=True)
class ScheduledTaskArgs:
    config: ScheduledTaskConfig
    logs: LogsConfig
    cluster: Cluster
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    cluster_name: str
    region: str
    partition: str
    account_id: str
    architecture: str


class ScheduledTask(pulumi.ComponentResource):
    """Children: log_group, execution_role, task_role, task_definition, security_group (awsvpc),
    scheduler_role, scheduler_policy, schedule."""

    def __init__(self, name: str, args: ScheduledTaskArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecs-platform:scheduled_task:ScheduledTask", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        strategy = cfg.capacity_provider_strategy or args.cluster.args.config.default_strategy
        fargate = any(i.capacity_provider in FARGATE_PROVIDERS for i in strategy)
        group = log_group_name(args.cluster_name, name)
        family = f"{args.cluster_name}-{name}"

        identity = task_identity(self, name, "scheduled task", cfg, args.logs, args.cluster_name,
                                 args.partition, args.region, args.account_id)
        self.log_group, self.execution_role = identity.log_group, identity.execution_role
        self.execution_role_policy, self.secrets_policy = identity.execution_role_policy, identity.secrets_policy
        self.task_role = identity.task_role
        containers = {name: cfg, **cfg.sidecars}
        definitions = [
            container_definition(cname, c, None if cname == name else c.port, cfg.network_mode,
                                 group, args.region, cname)
            for cname, c in containers.items()
        ]
        self.task_definition = task_definition(self, name, family, cfg, definitions, identity, fargate,
                                               args.architecture)

        network = None
        self.security_group: aws.ec2.SecurityGroup | None = None
        if cfg.network_mode == "awsvpc":
            self.security_group = aws.ec2.SecurityGroup(
                f"{name}-sg", vpc_id=args.vpc_id, description=f"ECS scheduled task {name}", opts=child,
            )
            self.egress = aws.vpc.SecurityGroupEgressRule(
                f"{name}-https-out",
                security_group_id=self.security_group.id,
                ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
                description="HTTPS to AWS APIs and registries", opts=child,
            )
            network = aws.scheduler.ScheduleTargetEcsParametersNetworkConfigurationArgs(
                subnets=args.private_subnet_ids, security_groups=[self.security_group.id], assign_public_ip=False,
            )

        # Only EventBridge Scheduler of this account may assume the role.
        self.scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            assume_role_policy=trust_policy("scheduler.amazonaws.com",
                                            {"StringEquals": {"aws:SourceAccount": args.account_id}}),
            description=f"EventBridge Scheduler: runs scheduled task {name}",
            opts=child,
        )
        cluster_arn = args.cluster.cluster.arn
        task_family_arn = f"arn:{args.partition}:ecs:{args.region}:{args.account_id}:task-definition/{family}:*"
        tasks_arn = f"arn:{args.partition}:ecs:{args.region}:{args.account_id}:task/{args.cluster_name}/*"
        policy = pulumi.Output.all(cluster_arn, self.execution_role.arn, self.task_role.arn).apply(
            lambda arns: json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": task_family_arn,
                 "Condition": {"ArnEquals": {"ecs:cluster": arns[0]}}},
                # RunTask with managed tags tags the new task.
                {"Effect": "Allow", "Action": "ecs:TagResource", "Resource": tasks_arn,
                 "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}}},
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": [arns[1], arns[2]],
                 "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
            ]}))
        self.scheduler_policy = aws.iam.RolePolicy(
            f"{name}-scheduler-policy", role=self.scheduler_role.id, policy=policy, opts=child,
        )

        self.schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            name=family,
            description=f"Runs scheduled task {name} on {args.cluster_name}",
            schedule_expression=cfg.schedule_expression,
            schedule_expression_timezone=cfg.schedule_timezone,
            state="ENABLED" if cfg.enabled else "DISABLED",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF")
            if cfg.flexible_window_minutes is None else aws.scheduler.ScheduleFlexibleTimeWindowArgs(
                mode="FLEXIBLE", maximum_window_in_minutes=cfg.flexible_window_minutes),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=cluster_arn,
                role_arn=self.scheduler_role.arn,
                ecs_parameters=aws.scheduler.ScheduleTargetEcsParametersArgs(
                    task_definition_arn=self.task_definition.arn,
                    task_count=cfg.task_count,
                    capacity_provider_strategies=[
                        aws.scheduler.ScheduleTargetEcsParametersCapacityProviderStrategyArgs(
                            capacity_provider=args.cluster.providers[i.capacity_provider], weight=i.weight,
                            base=i.base,
                        ) for i in strategy
                    ],
                    network_configuration=network,
                    enable_ecs_managed_tags=True,
                    propagate_tags="TASK_DEFINITION",
                ),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=cfg.retry.maximum_retry_attempts,
                    maximum_event_age_in_seconds=cfg.retry.maximum_event_age_seconds,
                ),
            ),
            # The role's permissions and the cluster's providers must exist before the first run.
            opts=pulumi.ResourceOptions(parent=self,
                                        depends_on=[self.scheduler_policy, args.cluster.capacity_providers]),
        )
        self.register_outputs({
            "schedule_name": self.schedule.name,
            "log_group_name": self.log_group.name,
            "task_definition_arn": self.task_definition.arn,
        })
