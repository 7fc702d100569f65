"""awsx's default IAM roles of a task definition (awsx/role.ts `defaultRoleWithPolicies`).

Owns: the role awsx creates unless told to skip it or given an existing ARN (`aws.iam.Role`, trust
policy for `ecs-tasks.amazonaws.com`, JSON-encoded as awsx does), and one `RolePolicyAttachment` per
policy ARN, named `<role name>-<first 8 hex of the ARN's SHA-1>`; all children of the component.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .construct import Args, Construct, ConstructError, Node, Out, lift, plain

EXECUTION_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
# awsx's defaultRoleAssumeRolePolicy(), keys in its order (JSON.stringify keeps them).
ASSUME_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Action": "sts:AssumeRole", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Effect": "Allow", "Sid": ""}
    ],
}


def sha1_8(text: str) -> str:
    """awsx's `sha1hash`: the first 8 hex digits of the SHA-1."""
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def js_json(value: Any) -> str:
    """`JSON.stringify`: compact, keys in insertion order, integral numbers without a fraction."""
    return json.dumps(_integral(value), separators=(",", ":"), ensure_ascii=False)


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def default_role(
    ctx: Construct, name: str, given: Args | None, policy_arns: list[str], parent: Node
) -> tuple[Out | None, Node | None]:
    """(role ARN, role) for `taskRole` / `executionRole`: (None, None) when skipped, the given ARN
    with no role when `roleArn` is set."""
    given = given or Args({})
    if "roleArn" in given and "args" in given:
        raise ConstructError("Can't define role args if specified an existing role ARN")
    if given.value("skip") is True:
        return None, None
    if "roleArn" in given:
        return given.get("roleArn"), None
    role_args = given.sub("args") or Args({})
    arns = plain(role_args.value("policyArns", policy_arns))
    if not isinstance(arns, list) or not all(isinstance(a, str) for a in arns):
        raise ConstructError(f"{name}: 'policyArns' must be a list of known ARNs (awsx names attachments after them)")
    assume: Any = role_args.get("assumeRolePolicy") or Out(ASSUME_ROLE_POLICY)
    assume = assume if isinstance(plain(assume), str) else lift(js_json, assume)
    inputs = {**role_args.items(omit=("policyArns", "assumeRolePolicy")), "assumeRolePolicy": assume}
    role = ctx.register("aws:iam/role:Role", name, inputs, parent)
    for arn in arns:
        ctx.register(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            f"{name}-{sha1_8(arn)}",
            {"role": role.out("name"), "policyArn": arn},
            parent,
        )
    return role.out("arn"), role
