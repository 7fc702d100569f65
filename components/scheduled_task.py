"""ScheduledTask: a task definition run on a schedule by EventBridge Scheduler on the cluster.

Owns the task (log group, roles and the task role's permissions, task definition, security group
and egress: see task.py), the scheduler's role (ecs:RunTask on this task definition family in this cluster, iam:PassRole on the
task's two roles) and the schedule. No load balancer: the pack's load balancer rule covers services
only. The cluster and its capacity are not its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .config import LogsConfig, ScheduledTaskConfig
from .iam import trust_policy
from .task import Task, TaskPlacement, declare_task


@dataclass(frozen=True)
class ScheduledTaskArgs:
    config: ScheduledTaskConfig
    logs: LogsConfig
    placement: TaskPlacement
    # The stack's tags: on the task definition and on every task the schedule starts.
    tags: Mapping[str, str] = field(default_factory=dict)


class ScheduledTask(pulumi.ComponentResource):
    """Children: task (see task.py) and, from it, log_group, execution_role, task_role,
    task_definition, security_group (awsvpc); scheduler_role, scheduler_policy, schedule."""

    def __init__(self, name: str, args: ScheduledTaskArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecs-platform:scheduled_task:ScheduledTask", name, None, opts)
        cfg = args.config
        placement = args.placement
        child = pulumi.ResourceOptions(parent=self)
        family = placement.family(name)

        # The main container takes no traffic (the config refuses its port); sidecars keep theirs.
        self.task: Task = declare_task(self, name, "scheduled task", cfg, None, args.logs, placement, args.tags)
        identity, network = self.task.identity, self.task.network
        self.log_group, self.execution_role = identity.log_group, identity.execution_role
        self.execution_role_policy, self.secrets_policy = identity.execution_role_policy, identity.secrets_policy
        self.task_role = identity.task_role
        self.task_definition = self.task.definition
        self.security_group, self.egress = network.security_group, network.https_egress

        # Only EventBridge Scheduler of this account may assume the role.
        self.scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            assume_role_policy=trust_policy("scheduler.amazonaws.com",
                                            {"StringEquals": {"aws:SourceAccount": placement.account_id}}),
            description=f"EventBridge Scheduler: runs scheduled task {name}",
            opts=child,
        )
        cluster_arn = placement.cluster.cluster.arn
        task_family_arn = placement.arn("ecs", f"task-definition/{family}:*")
        tasks_arn = placement.arn("ecs", f"task/{placement.cluster_name}/*")
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
            name=placement.schedule_name(name),
            description=f"Runs scheduled task {name} on {placement.cluster_name}",
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
                            capacity_provider=p.capacity_provider, weight=p.weight, base=p.base,
                        ) for p in network.providers
                    ],
                    network_configuration=aws.scheduler.ScheduleTargetEcsParametersNetworkConfigurationArgs(
                        subnets=network.subnet_ids, security_groups=network.security_group_ids(), assign_public_ip=False,
                    ) if self.security_group is not None else None,
                    enable_ecs_managed_tags=True,
                    propagate_tags="TASK_DEFINITION",
                    tags=dict(args.tags) if args.tags else None,
                ),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=cfg.retry.maximum_retry_attempts,
                    maximum_event_age_in_seconds=cfg.retry.maximum_event_age_seconds,
                ),
            ),
            # The roles' permissions and the cluster's providers must exist before the first run.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[
                self.scheduler_policy, placement.cluster.capacity_providers, *identity.permissions.resources]),
        )
        self.register_outputs({
            "schedule_name": self.schedule.name,
            "log_group_name": self.log_group.name,
            "task_definition_arn": self.task_definition.arn,
        })
