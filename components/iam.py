"""IAM documents shared by the components: trust policies naming one service principal.

Declares no resource; roles and their policies live with the component that uses them.
"""

from __future__ import annotations

import json


def trust_policy(service: str, conditions: dict | None = None) -> str:
    """An assume-role policy for one AWS service principal (e.g. ecs-tasks.amazonaws.com)."""
    statement: dict = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if conditions:
        statement["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def ecs_tasks_trust_policy(partition: str, region: str, account_id: str) -> str:
    """Trust for ECS tasks of this account only (confused-deputy guard)."""
    return trust_policy("ecs-tasks.amazonaws.com", {
        "StringEquals": {"aws:SourceAccount": account_id},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:ecs:{region}:{account_id}:*"},
    })


def managed_policy_arn(partition: str, path: str) -> str:
    """The ARN of an AWS managed policy, e.g. `service-role/AmazonECSTaskExecutionRolePolicy`."""
    return f"arn:{partition}:iam::aws:policy/{path}"
