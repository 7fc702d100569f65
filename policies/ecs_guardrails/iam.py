"""Rules over IAM roles and policy documents, and the stack rule over what ECS task roles are granted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .resource_types import DAEMON_TASK_DEF, EXPRESS_SERVICE, TASK_DEF
from .rule import CRITICAL, HIGH, MANDATORY, Controls, Ctx, Res, Rule, StackCtx
from .stack import Index
from .values import Malformed, Unknown, as_list, get, parse_json, unwrap

ROLE = "aws:iam/role:Role"
POLICY_DOCS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)


def _statements(doc: Any) -> list[dict[str, Any]]:
    st = get(doc, "Statement")
    return [s for s in (st if isinstance(st, list) else [st]) if isinstance(s, dict)]


def _strings(v: Any) -> list[str]:
    return [x for x in (v if isinstance(v, list) else [v]) if isinstance(x, str)]


def _documents(ctx: Ctx) -> Iterator[tuple[str, Any]]:
    """(label, decoded policy document) of the resource; unknown documents are recorded and skipped."""
    if ctx.type in POLICY_DOCS:
        raw = ctx.get(POLICY_DOCS[ctx.type])
        if ctx.known(raw) and raw is not None:
            yield "policy", unwrap(parse_json(raw, "policy"))
    elif ctx.type == ROLE:
        for i, p in enumerate(as_list(ctx.get("inlinePolicies"))):
            raw = get(p, "policy")
            if ctx.known(raw) and raw:
                yield (
                    f"inline policy '{get(p, 'name', default=i)}'",
                    unwrap(parse_json(raw, f"inlinePolicies[{i}]")),
                )


def check_admin(ctx: Ctx) -> Iterator[str]:
    for label, doc in _documents(ctx):
        for i, s in enumerate(_statements(doc)):
            if s.get("Effect") != "Allow":
                continue
            actions, resources = _strings(s.get("Action")), _strings(s.get("Resource"))
            if any(a in ("*", "*:*") for a in actions) and "*" in resources:
                sid = s.get("Sid") or f"#{i}"
                yield (
                    f"{label} statement {sid} allows Action '*' on Resource '*': grant only the actions and "
                    "resources the workload needs"
                )
    denied = {p for p in as_list(ctx.cfg.get("deniedManagedPolicies")) if isinstance(p, str)}
    arns = _strings(ctx.get("policyArn")) + [
        a for a in as_list(ctx.get("managedPolicyArns")) if isinstance(a, str)
    ]
    for arn in arns:
        if arn in denied:
            yield f"attaches {arn}: replace it with a least-privilege policy"


def _principal_problems(principal: Any) -> Iterator[str]:
    if principal == "*":
        yield "Principal '*'"
        return
    if isinstance(principal, dict):
        for kind, value in principal.items():
            for v in _strings(value):
                if "*" in v:
                    yield f"Principal {kind} {v!r}"


def check_trust(ctx: Ctx) -> Iterator[str]:
    raw = ctx.get("assumeRolePolicy")
    if not ctx.known(raw):
        return
    if raw is None:
        yield "assumeRolePolicy is missing: name the service principal that may assume the role"
        return
    doc = unwrap(parse_json(raw, "assumeRolePolicy"))
    allowed = {p for p in as_list(ctx.cfg.get("allowedServicePrincipals")) if isinstance(p, str)}
    for i, s in enumerate(_statements(doc)):
        if s.get("Effect") != "Allow":
            continue
        for problem in _principal_problems(s.get("Principal")):
            yield f"trust statement #{i} allows {problem}: name specific service principals"
        if s.get("NotPrincipal") is not None:
            yield f"trust statement #{i} uses NotPrincipal: name specific principals instead"
        if allowed:
            for svc in _strings(get(s, "Principal", "Service")):
                if svc not in allowed:
                    yield f"trust statement #{i} trusts service {svc!r}, not in allowedServicePrincipals"


# --- ECS task roles (stack rule) -----------------------------------------------------------------------

TASK_PRINCIPAL = "ecs-tasks.amazonaws.com"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
ROLE_USERS = (TASK_DEF, DAEMON_TASK_DEF, EXPRESS_SERVICE)  # their taskRoleArn/executionRoleArn are task roles
ADMIN_ACTIONS = ("*", "*:*", "iam:*")


@dataclass
class Grant:
    """One policy a role receives: a document (JSON string, maybe unknown) or a managed policy ARN."""

    source: str
    document: Any = None
    managed_arn: Any = None


def _trusts_ecs_tasks(raw: Any) -> bool | Unknown:
    if isinstance(raw, Unknown):
        return raw
    try:
        doc = unwrap(parse_json(raw, "assumeRolePolicy"))
    except Malformed:
        return False  # reported by iam-trust-policy-specific-principals
    return any(
        s.get("Effect") == "Allow"
        and any(p.strip().lower() == TASK_PRINCIPAL for p in _strings(get(s, "Principal", "Service")))
        for s in _statements(doc)
    )


def _admin_statements(raw: Any) -> Iterator[str]:
    """What in a policy document grants administrator-level access on every resource."""
    try:
        doc = unwrap(parse_json(raw, "policy"))
    except Malformed:
        return  # reported by iam-no-admin-statements
    for i, s in enumerate(_statements(doc)):
        if s.get("Effect") != "Allow" or "*" not in _strings(s.get("Resource")):
            continue
        sid = s.get("Sid") or f"#{i}"
        actions = [a for a in _strings(s.get("Action")) if a.strip().lower() in ADMIN_ACTIONS]
        if actions:
            yield f"statement {sid} allows Action {actions[0]!r} on Resource '*'"
        elif s.get("NotAction") is not None:
            yield f"statement {sid} allows every action except its NotAction on Resource '*'"


def _admin_managed(arn: str, names: list[str]) -> bool:
    m = re.fullmatch(r"arn:[^:]+:iam::aws:policy/(?:.+/)?([^/]+)", arn.strip())
    return m is not None and m.group(1) in names


class _Roles:
    """The stack's IAM roles, found by URN (property dependencies), id/ARN or name."""

    def __init__(self, ix: Index) -> None:
        self.ix = ix
        self.all = ix.of((ROLE,))
        self.by_name = {n: r for r in self.all if isinstance(n := r.props.get("name"), str) and n}

    def of(self, res: Res, prop: str) -> list[Res] | Unknown:
        """The roles res.<prop> names; an Unknown when it names some that cannot be resolved."""
        found = self.ix.resolve(res, prop, (ROLE,))
        value = res.props.get(prop)
        for v in _strings(value if isinstance(value, list) else [value]):
            r = self.by_name.get(v) or self.by_name.get(v.rsplit("/", 1)[-1])
            if r is not None and all(f.urn != r.urn for f in found):
                found.append(r)
        unknown = next((v for v in [*as_list(value), value] if isinstance(v, Unknown)), None)
        return unknown if not found and unknown is not None else found


def _grants(ix: Index, roles: _Roles) -> tuple[dict[str, list[Grant]], list[tuple[Unknown, Grant]]]:
    """Per role URN, the policies it receives; and grants whose role cannot be resolved yet."""
    grants: dict[str, list[Grant]] = {r.urn: [] for r in roles.all}
    unresolved: list[tuple[Unknown, Grant]] = []
    for r in roles.all:
        for i, p in enumerate(as_list(r.props.get("inlinePolicies"))):
            grants[r.urn].append(Grant(f"inline policy '{get(p, 'name', default=i)}'", document=get(p, "policy")))
        for arn in as_list(r.props.get("managedPolicyArns")):
            grants[r.urn].append(Grant("managedPolicyArns", managed_arn=arn))

    def add(res: Res, prop: str, grant: Grant) -> None:
        targets = roles.of(res, prop)
        if isinstance(targets, Unknown):
            unresolved.append((targets, grant))
        for r in targets if isinstance(targets, list) else []:
            grants[r.urn].append(grant)

    for rp in ix.of((ROLE_POLICY,)):
        add(rp, "role", Grant(f"role policy '{rp.name}'", document=rp.props.get("policy")))
    for att in ix.of((ROLE_ATTACHMENT, POLICY_ATTACHMENT)):
        arn = att.props.get("policyArn")
        policies = ix.resolve(att, "policyArn", (POLICY,))
        if policies:
            grant = Grant(f"policy '{policies[0].name}' (attached by '{att.name}')", document=policies[0].props.get("policy"))
        else:
            grant = Grant(f"attachment '{att.name}'", managed_arn=arn)
        add(att, "role" if att.type == ROLE_ATTACHMENT else "roles", grant)
    return grants, unresolved


def _findings(ctx: StackCtx, grant: Grant, names: list[str]) -> list[str] | Unknown:
    """The admin-level permissions a grant gives; an Unknown when its document or ARN is unknown."""
    if grant.document is not None:
        if isinstance(grant.document, Unknown):
            return grant.document
        return list(_admin_statements(grant.document))
    if isinstance(grant.managed_arn, Unknown):
        return grant.managed_arn
    if isinstance(grant.managed_arn, str) and _admin_managed(grant.managed_arn, names):
        return [f"attaches the AWS managed policy {grant.managed_arn}"]
    return []


def check_task_role_admin(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    ix = Index(ctx.resources)
    roles = _Roles(ix)
    names = [n for n in as_list(ctx.cfg.get("adminManagedPolicies")) if isinstance(n, str)]
    task_roles: dict[str, Res] = {}
    undetermined: dict[str, Unknown] = {}
    for r in roles.all:
        trust = _trusts_ecs_tasks(r.props.get("assumeRolePolicy"))
        if trust is True:
            task_roles[r.urn] = r
        elif isinstance(trust, Unknown):
            undetermined[r.urn] = trust
    for user in ix.of(ROLE_USERS):
        for prop in ("taskRoleArn", "executionRoleArn"):
            for r in ix.resolve(user, prop, (ROLE,)):
                task_roles[r.urn] = r
    grants, unresolved = _grants(ix, roles)
    for r in roles.all:
        for grant in grants[r.urn]:
            found = _findings(ctx, grant, names)
            if r.urn in task_roles and isinstance(found, Unknown):
                ctx.known(found)
            elif r.urn in task_roles:
                for finding in found:
                    yield (
                        f"ECS task role '{r.name}' gets administrator access from {grant.source}: {finding}; "
                        "every container of the task (and any ECS Exec session) holds it: grant only the actions "
                        "and resources the application needs",
                        r,
                    )
            elif r.urn in undetermined and found:
                ctx.known(undetermined[r.urn])  # admin access on a role whose trust is not known yet
    if task_roles:
        for unknown, grant in unresolved:
            found = _findings(ctx, grant, names)
            if isinstance(found, Unknown) or found:
                ctx.known(unknown)  # it may be attached to one of the task roles


RULES = [
    Rule(
        name="iam-no-admin-statements",
        description=(
            "No IAM policy allows Action '*' on Resource '*', and no denied managed policy "
            "(AdministratorAccess) is attached."
        ),
        level=MANDATORY,
        severity=CRITICAL,
        resource_types=(ROLE, *POLICY_DOCS, *ATTACHMENTS),
        check=check_admin,
        remediation_steps="Replace wildcard statements with the specific actions and resource ARNs needed.",
        config={
            "deniedManagedPolicies": {
                "type": "array",
                "items": {"type": "string"},
                "default": [
                    "arn:aws:iam::aws:policy/AdministratorAccess",
                    "arn:aws:iam::aws:policy/PowerUserAccess",
                    "arn:aws:iam::aws:policy/IAMFullAccess",
                ],
                "description": "Managed policy ARNs that may not be attached.",
            }
        },
        controls=Controls(
            fsbp=("IAM.1",), cdk_nag=("AwsSolutions-IAM4", "AwsSolutions-IAM5"), checkov=("CKV_AWS_1",)
        ),
    ),
    Rule(
        name="iam-trust-policy-specific-principals",
        description="Role trust policies name specific principals, never '*'.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=(ROLE,),
        check=check_trust,
        remediation_steps=(
            "Set Principal {Service: 'ecs-tasks.amazonaws.com'} (or ec2.amazonaws.com for instances)."
        ),
        config={
            "allowedServicePrincipals": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "If non-empty, the only service principals trusted.",
            }
        },
    ),
]

STACK_RULES = [
    Rule(
        name="iam-ecs-task-role-no-admin",
        description=(
            "No role ECS tasks assume (trusting ecs-tasks.amazonaws.com, or named as a task or execution role) is "
            "granted Action '*', '*:*' or 'iam:*' (or Allow NotAction) on Resource '*', inline, by role policy, "
            "attached policy or AWS managed policy (AdministratorAccess)."
        ),
        level=MANDATORY,
        severity=CRITICAL,
        resource_types=("stack",),
        stack=True,
        check=check_task_role_admin,
        remediation_steps=(
            "Give the task role a policy with the specific actions and resource ARNs the application uses; never "
            "attach AdministratorAccess to a task role."
        ),
        config={
            "adminManagedPolicies": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"],
                "description": "Names of AWS managed policies that grant administrator-level access.",
            }
        },
    ),
]
