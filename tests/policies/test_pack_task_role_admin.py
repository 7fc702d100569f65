"""iam-ecs-task-role-no-admin: a role ECS tasks assume gets no administrator-level grant, from any of the ways a
policy reaches a role, in preview form (property dependencies, unknown ids) and update form (known names/ARNs)."""

from __future__ import annotations

import json

import pytest
from pack_driver import UNKNOWN, Analyzer, StackResource, urn_of
from pack_fixtures import ATTACH, IAM_POLICY, ROLE, ROLE_POLICY, TD, task_def

RULE = "iam-ecs-task-role-no-admin"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(service: str) -> str:
    return doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


ADMIN = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
IAM_ALL = doc({"Sid": "Iam", "Effect": "Allow", "Action": ["s3:GetObject", "iam:*"], "Resource": ["*"]})
NOT_ACTION = doc({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})
SCOPED = doc({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"})
DENY_ALL = doc({"Effect": "Deny", "Action": "*", "Resource": "*"})


def r(rtype: str, name: str, props: dict, deps: dict[str, list[tuple[str, str]]] | None = None) -> StackResource:
    pdeps = {p: [urn_of(t, n) for t, n in targets] for p, targets in (deps or {}).items()}
    return StackResource(rtype, name, props, urn=urn_of(rtype, name), property_dependencies=pdeps)


def task_role(name: str = "web-task", service: str = "ecs-tasks.amazonaws.com", **props) -> StackResource:
    return r(ROLE, name, {"assumeRolePolicy": trust(service), **props})


def findings(resources: list[StackResource], config: dict | None = None, analyzer: Analyzer | None = None):
    return [d for d in (analyzer or Analyzer(config)).analyze_stack(resources) if d.policy == RULE]


@pytest.fixture(scope="module")
def pack() -> Analyzer:
    return Analyzer()


def test_role_policy_in_preview_form_fails(pack):
    rp = r(ROLE_POLICY, "web-admin", {"role": UNKNOWN, "policy": ADMIN}, {"role": [(ROLE, "web-task")]})
    [d] = findings([task_role(), rp], analyzer=pack)
    assert d.level == "mandatory" and d.urn == urn_of(ROLE, "web-task")
    assert "role policy 'web-admin'" in d.message and "Action '*' on Resource '*'" in d.message


def test_role_policy_in_update_form_resolves_the_role_by_name(pack):
    role = task_role(id="AROAEXAMPLE", arn="arn:aws:iam::1:role/web-task")
    role.props["name"] = "web-task"  # RolePolicy.role names the role
    rp = r(ROLE_POLICY, "web-admin", {"role": "web-task", "policy": IAM_ALL})
    [d] = findings([role, rp], analyzer=pack)
    assert "statement Iam allows Action 'iam:*'" in d.message


def test_inline_policy_and_not_action(pack):
    role = task_role(inlinePolicies=[{"name": "everything-but-iam", "policy": NOT_ACTION}])
    [d] = findings([role], analyzer=pack)
    assert "inline policy 'everything-but-iam'" in d.message and "NotAction" in d.message


def test_customer_policy_attached_by_role_policy_attachment(pack):
    policy = r(IAM_POLICY, "admin-policy", {"policy": doc({"Effect": "Allow", "Action": "*:*", "Resource": "*"})})
    att = r(
        ATTACH,
        "attach",
        {"role": UNKNOWN, "policyArn": UNKNOWN},
        {"role": [(ROLE, "web-task")], "policyArn": [(IAM_POLICY, "admin-policy")]},
    )
    [d] = findings([task_role(), policy, att], analyzer=pack)
    assert "policy 'admin-policy' (attached by 'attach')" in d.message


@pytest.mark.parametrize(
    "arn,fails",
    [
        (ADMIN_ARN, True),
        ("arn:aws-us-gov:iam::aws:policy/AdministratorAccess", True),
        ("arn:aws:iam::aws:policy/IAMFullAccess", True),
        ("arn:aws:iam::aws:policy/ReadOnlyAccess", False),
        ("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", False),
    ],
)
def test_managed_policy_attachment(pack, arn, fails):
    att = r(ATTACH, "attach", {"role": UNKNOWN, "policyArn": arn}, {"role": [(ROLE, "web-task")]})
    assert bool(findings([task_role(), att], analyzer=pack)) is fails


def test_managed_policy_arns_and_policy_attachment_roles_list(pack):
    assert findings([task_role(managedPolicyArns=[ADMIN_ARN])], analyzer=pack)
    role = task_role()
    role.props["name"] = "web-task"
    att = r(POLICY_ATTACHMENT, "legacy", {"roles": ["web-task"], "policyArn": ADMIN_ARN})
    assert findings([role, att], analyzer=pack)


def test_scoped_or_denying_statements_pass(pack):
    role = task_role(inlinePolicies=[{"name": "s3", "policy": SCOPED}, {"name": "deny", "policy": DENY_ALL}])
    assert findings([role], analyzer=pack) == []


def test_only_roles_ecs_tasks_assume(pack):
    instance_role = task_role(name="instance", service="ec2.amazonaws.com", managedPolicyArns=[ADMIN_ARN])
    assert findings([instance_role], analyzer=pack) == []
    # ...unless a task definition names it as its task role
    td = r(TD, "web-td", task_def(taskRoleArn=UNKNOWN), {"taskRoleArn": [(ROLE, "instance")]})
    [d] = findings([instance_role, td], analyzer=pack)
    assert d.urn == urn_of(ROLE, "instance")


def test_unknown_grant_on_a_task_role_defers(pack):
    rp = r(ROLE_POLICY, "later", {"role": UNKNOWN, "policy": UNKNOWN}, {"role": [(ROLE, "web-task")]})
    [d] = findings([task_role(), rp], analyzer=pack)
    assert d.level == "advisory" and "can't run policy" in d.message


def test_admin_grant_to_a_role_not_yet_resolved_defers(pack):
    att = r(ATTACH, "attach", {"role": UNKNOWN, "policyArn": ADMIN_ARN})  # no dependency recorded
    [d] = findings([task_role(), att], analyzer=pack)
    assert "can't run policy" in d.message
    assert findings([att], analyzer=pack) == []  # no task role in the stack: nothing it could reach


def test_exempted_task_role_is_reported_as_advisory_with_the_reason(pack):
    tags = {"ecs-guardrails:exempt": RULE, "ecs-guardrails:reason": "break-glass, approved by sec-42"}
    role = task_role(managedPolicyArns=[ADMIN_ARN], tags=tags)
    # A mandatory policy: the exemption holds only where the organisation makes it exemptable.
    assert [d.level for d in pack.analyze_stack([role]) if d.policy == RULE] == ["mandatory"]
    listed = Analyzer({"ecs-guardrails-exemption-reason": {"exemptable": [RULE]}})
    listed.analyze(ROLE, role.props, "web-task")  # the engine analyses every resource before AnalyzeStack
    diags = listed.analyze_stack([role])
    assert [d for d in diags if d.policy == RULE] == []
    notes = [d.message for d in diags if d.policy == "ecs-guardrails-stack-exemptions"]
    assert any(RULE in m and "sec-42" in m for m in notes)


def test_configured_admin_managed_policies():
    power_user = "arn:aws:iam::aws:policy/PowerUserAccess"
    att = r(ATTACH, "a", {"role": UNKNOWN, "policyArn": power_user}, {"role": [(ROLE, "web-task")]})
    assert findings([task_role(), att])
    assert findings([task_role(), att], {RULE: {"adminManagedPolicies": ["AdministratorAccess"]}}) == []
