"""The `permissions` key of services and scheduled tasks: what the task role may do (IAM
statements, managed policies) and the deny of every IAM action it carries by default."""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from .base import Problem, Strict

# `service:Action`; wildcards (* ?) only in the action part, e.g. s3:Get*, sqs:SendMessage.
ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")
# An ARN (wildcards allowed in region, account and resource parts) or `*` for actions that take no
# resource-level permissions (xray:PutTraceSegments, cloudwatch:PutMetricData).
RESOURCE = re.compile(r"^(\*|arn:(aws|aws-cn|aws-us-gov|\*):[a-z0-9-]+:[a-z0-9*-]*:(\d{12}|\*|aws)?:\S{1,1900})$")
MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/([\w+=,.@-]+/)*([\w+=,.@-]{1,128})$")
CONDITION_OPERATOR = re.compile(
    r"^(ForAllValues:|ForAnyValue:)?("
    r"String(Not)?Equals(IgnoreCase)?|String(Not)?Like|"
    r"Numeric(Not)?Equals|Numeric(LessThan|GreaterThan)(Equals)?|"
    r"Date(Not)?Equals|Date(LessThan|GreaterThan)(Equals)?|"
    r"Bool|BinaryEquals|(Not)?IpAddress|Arn(Not)?(Equals|Like))(IfExists)?$|^Null$"
)
CONDITION_KEY = re.compile(r"^[A-Za-z0-9-]+:[\w./:@${}*?-]{1,200}$")
# Managed policies the pack refuses anyway (full or IAM admin): refused here, before any resource exists.
ADMIN_POLICIES = {"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"}
# IAM takes 10,240 characters of inline policy per role (whitespace not counted); the platform's own
# inline policies (IAM deny, ECS Exec) take the rest.
MAX_POLICY_CHARS = 8192

ConditionValues = str | Annotated[list[str], Field(min_length=1)]


class PolicyStatementConfig(Strict):
    """One IAM statement of the task role's application policy."""

    sid: str | None = Field(None, pattern=r"^[A-Za-z0-9]{1,128}$", description="Statement id (letters and digits).")
    effect: Literal["Allow", "Deny"] = Field("Allow", description="Allow or Deny.")
    actions: list[str] = Field(
        min_length=1, max_length=100,
        description="`service:Action`, wildcards only in the action part (`s3:Get*`); never `*` or `*:*`.",
        examples=[["sqs:SendMessage", "sqs:GetQueueUrl"]],
    )
    resources: list[str] = Field(
        min_length=1, max_length=100,
        description="Resource ARNs (wildcards allowed), or `*` for actions without resource-level permissions.",
        examples=[["arn:aws:sqs:eu-west-1:123456789012:jobs"]],
    )
    conditions: dict[str, dict[str, ConditionValues]] = Field(
        default_factory=dict, description="IAM condition block: operator -> condition key -> value(s).",
        examples=[{"StringEquals": {"cloudwatch:namespace": "ECS/AWSOTel/Application"}}],
    )

    @field_validator("actions")
    @classmethod
    def _actions(cls, values: list[str]) -> list[str]:
        for action in values:
            if action in ("*", "*:*"):
                raise ValueError(f"{action!r} grants every action of every service: name the actions (e.g. s3:GetObject)")
            if not ACTION.fullmatch(action):
                raise ValueError(f"{action!r} is not service:Action (lowercase service prefix without "
                                 "wildcards; wildcards only in the action, e.g. s3:Get*)")
        return values

    @field_validator("resources")
    @classmethod
    def _resources(cls, values: list[str]) -> list[str]:
        for resource in values:
            if not RESOURCE.fullmatch(resource):
                raise ValueError(f"{resource!r} is neither an ARN (arn:aws:service:region:account:resource) nor `*`")
        return values

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, values: dict[str, dict[str, ConditionValues]]) -> dict[str, dict[str, ConditionValues]]:
        for operator, keys in values.items():
            if not CONDITION_OPERATOR.fullmatch(operator):
                raise ValueError(f"{operator!r} is not an IAM condition operator (e.g. StringEquals, ArnLike, Bool)")
            if not keys:
                raise ValueError(f"{operator}: name at least one condition key")
            for key in keys:
                if not CONDITION_KEY.fullmatch(key):
                    raise ValueError(f"{operator}: {key!r} is not a condition key (e.g. aws:SourceVpce, s3:prefix)")
        return values

    def as_iam(self) -> dict:
        """The statement as IAM takes it."""
        statement: dict = {} if self.sid is None else {"Sid": self.sid}
        statement.update({"Effect": self.effect, "Action": self.actions, "Resource": self.resources})
        if self.conditions:
            statement["Condition"] = self.conditions
        return statement


class PermissionsConfig(Strict):
    """The task role's permissions (the role every container of the task uses): an application
    policy from `statements`, managed policies, and a deny of every IAM action (on by default)."""

    statements: list[PolicyStatementConfig] = Field(
        default_factory=list, max_length=50, description="IAM statements of the task role's inline application policy.",
    )
    managed_policy_arns: list[Annotated[str, Field(pattern=MANAGED_POLICY_ARN.pattern)]] = Field(
        default_factory=list, max_length=10, description="Managed policies attached to the task role (IAM's "
        "default quota: 10 per role); never AdministratorAccess, PowerUserAccess or IAMFullAccess.",
        examples=[["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"]],
    )
    deny_iam: bool = Field(
        True, description="Deny every IAM action (`iam:*`) to the task role, as AWS Copilot does: the "
        "application can neither change IAM nor pass roles, whatever a managed policy allows.", examples=[False],
    )

    def document(self) -> dict | None:
        """The application policy, or None without statements."""
        if not self.statements:
            return None
        return {"Version": "2012-10-17", "Statement": [s.as_iam() for s in self.statements]}

    def problems(self, at: str) -> list[Problem]:
        problems: list[Problem] = []
        names: dict[str, str] = {}
        for index, arn in enumerate(self.managed_policy_arns):
            name = MANAGED_POLICY_ARN.fullmatch(arn).group(3)  # type: ignore[union-attr]
            key = f"{at}.managed_policy_arns.{index}"
            if arn.split(":")[4] == "aws" and name in ADMIN_POLICIES:
                problems.append((key, f"{name} makes the task an administrator: grant only what it needs"))
            other = names.setdefault(name, arn)
            if other != arn:
                problems.append((key, f"another managed policy is named {name!r} ({other}): attach one of them"))
            elif self.managed_policy_arns.index(arn) != index:
                problems.append((key, f"{arn} is listed twice"))
        sids: set[str] = set()
        for index, statement in enumerate(self.statements):
            key = f"{at}.statements.{index}"
            if statement.sid is not None:
                if statement.sid in sids:
                    problems.append((f"{key}.sid", f"{statement.sid!r} is used by another statement"))
                sids.add(statement.sid)
            if statement.effect != "Allow":
                continue
            if self.deny_iam and any(a.startswith("iam:") for a in statement.actions):
                problems.append((f"{key}.actions", "IAM actions are denied to the task role (deny_iam): "
                                 "remove them, or set deny_iam: false"))
            whole = [a for a in statement.actions if a.endswith(":*")]
            if whole and "*" in statement.resources:
                problems.append((f"{key}.resources", f"{whole[0]} on `*` grants every {whole[0][:-2]} action on "
                                 "every resource: name the resources or the actions"))
        document = self.document()
        if document is not None:
            size = len(json.dumps(document, separators=(",", ":")))
            if size > MAX_POLICY_CHARS:
                problems.append((f"{at}.statements", f"the application policy has {size} characters, at most "
                                 f"{MAX_POLICY_CHARS}: IAM limits a role's inline policies; use managed_policy_arns"))
        return problems
