"""Log groups: the one place that decides their names, retention and lifecycle.

Every log group of the stack (a task's, the cluster's ECS Exec one) has a fixed name, known at
preview time so that the policy pack can match containers' `awslogs-group` to it. A fixed name
outlives the stack when the group is kept on delete (`logs.retain_on_delete`): the next `up` of a
re-created stack would fail with ResourceAlreadyExistsException, so with `logs.adopt_existing` the
group is imported under its name (its id) instead of created. Declares no other resource.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from . import naming
from .config import LogsConfig


def task_log_group_name(cluster_name: str, task: str) -> str:
    """A task's log group: /ecs/<cluster>/<service or scheduled task> (`naming`)."""
    return naming.log_group_name(cluster_name, task)


def exec_log_group_name(cluster_name: str) -> str:
    """The ECS Exec session log group (outside /ecs/<cluster>/, where the tasks' names live)."""
    return f"/ecs-exec/{cluster_name}"


def log_group_options(owner: pulumi.Resource, group_name: str, logs: LogsConfig) -> pulumi.ResourceOptions:
    """Kept on delete with `retain_on_delete`; imported under its name with `adopt_existing` (a
    no-op once the group is in the stack's state with that id)."""
    return pulumi.ResourceOptions(
        parent=owner,
        retain_on_delete=logs.retain_on_delete,
        import_=group_name if logs.adopt_existing else None,
    )


def declare_log_group(owner: pulumi.Resource, resource_name: str, group_name: str,
                      logs: LogsConfig) -> aws.cloudwatch.LogGroup:
    """A log group named `group_name`, a child of `owner`, with the stack's retention and KMS key."""
    return aws.cloudwatch.LogGroup(
        resource_name, name=group_name, retention_in_days=logs.retention_days, kms_key_id=logs.kms_key_arn,
        opts=log_group_options(owner, group_name, logs),
    )
