"""App permissions: what a task's application may do with AWS, on its task role.

Declares, as children of the task's owner (a service or scheduled task; names derived from the
task's name): the deny of every IAM action (`<name>-deny-iam`, on unless `deny_iam: false`, as AWS
Copilot's task roles have), the application policy from the configured statements
(`<name>-app-policy`) and the managed policy attachments (`<name>-managed-<policy name>`). The role
itself, the execution role and ECS Exec's permissions are not its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .config import PermissionsConfig
from .config.permissions import MANAGED_POLICY_ARN

# An explicit deny wins over every allow, including managed policies attached later by hand.
DENY_IAM = {"Version": "2012-10-17", "Statement": [{"Sid": "DenyIam", "Effect": "Deny", "Action": "iam:*",
                                                    "Resource": "*"}]}


@dataclass(frozen=True)
class TaskRolePermissions:
    """The task role's policies declared from the config (see `declare_task_role_permissions`)."""

    deny_iam: aws.iam.RolePolicy | None
    app_policy: aws.iam.RolePolicy | None
    managed: list[aws.iam.RolePolicyAttachment] = field(default_factory=list)

    @property
    def resources(self) -> list[pulumi.Resource]:
        """Every policy resource: what must exist before the task runs."""
        return [r for r in (self.deny_iam, self.app_policy, *self.managed) if r is not None]


def managed_policy_name(arn: str) -> str:
    """The policy's name (the ARN's last path segment), which names its attachment."""
    match = MANAGED_POLICY_ARN.fullmatch(arn)
    assert match, arn  # the config validated it
    return match.group(3)


def declare_task_role_permissions(owner: pulumi.ComponentResource, name: str, cfg: PermissionsConfig,
                                  task_role: aws.iam.Role) -> TaskRolePermissions:
    """Declares, as children of `owner`, the policies of `task_role` that `cfg` asks for."""
    child = pulumi.ResourceOptions(parent=owner)
    deny = aws.iam.RolePolicy(
        f"{name}-deny-iam", role=task_role.id, policy=json.dumps(DENY_IAM), opts=child,
    ) if cfg.deny_iam else None
    document = cfg.document()
    app_policy = aws.iam.RolePolicy(
        f"{name}-app-policy", role=task_role.id, policy=json.dumps(document), opts=child,
    ) if document is not None else None
    managed = [
        aws.iam.RolePolicyAttachment(
            f"{name}-managed-{managed_policy_name(arn)}", role=task_role.name, policy_arn=arn, opts=child,
        )
        for arn in cfg.managed_policy_arns
    ]
    return TaskRolePermissions(deny_iam=deny, app_policy=app_policy, managed=managed)
