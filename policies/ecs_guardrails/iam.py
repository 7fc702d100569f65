"""Rules over IAM roles and policy documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .rule import CRITICAL, HIGH, MANDATORY, Controls, Ctx, Rule
from .values import as_list, get, parse_json, unwrap

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
