"""At preview, role and instance profile ARNs are unknown: the stack view decides from the resources they
come from (property dependencies), as the engine sends them in AnalyzeStack."""

from __future__ import annotations

from pack_driver import UNKNOWN, Analyzer, StackResource, urn_of
from pack_fixtures import LT, ROLE, TD, good, names, task_def

ROLES = "ecs-task-separate-roles-by-reference"
PROFILE = "ec2-launch-template-instance-profile-by-reference"
PROFILE_TYPE = "aws:iam/instanceProfile:InstanceProfile"


def role(name: str, **props: object) -> StackResource:
    return StackResource(ROLE, name, good(ROLE, name=name, arn=UNKNOWN, **props))


def td(exe: object, task: object, deps: dict[str, list[str]]) -> StackResource:
    props = task_def(executionRoleArn=exe, taskRoleArn=task)
    return StackResource(TD, "web-td", props, property_dependencies={k: [urn_of(ROLE, n) for n in v] for k, v in deps.items()})


def verdicts(resources: list[StackResource], policy: str) -> list[tuple[str, str]]:
    return [(d.level, d.message) for d in Analyzer().analyze_stack(resources) if d.policy == policy]


def test_unknown_arns_from_different_roles_pass():
    deps = {"executionRoleArn": ["web-exec"], "taskRoleArn": ["web-task"]}
    resources = [role("web-exec"), role("web-task"), td(UNKNOWN, UNKNOWN, deps)]
    assert verdicts(resources, ROLES) == []


def test_unknown_arns_from_one_role_fail():
    resources = [role("web-role"), td(UNKNOWN, UNKNOWN, {"executionRoleArn": ["web-role"], "taskRoleArn": ["web-role"]})]
    [(level, message)] = verdicts(resources, ROLES)
    assert level == "mandatory" and "both take their value from role 'web-role'" in message
    diag = next(d for d in Analyzer().analyze_stack(resources) if d.policy == ROLES)
    assert diag.urn == urn_of(TD, "web-td")


def test_without_references_the_check_is_deferred():
    resources = [td(UNKNOWN, UNKNOWN, {})]
    [(level, message)] = verdicts(resources, ROLES)
    assert level == "advisory" and "can't run policy" in message and ".web-td.executionRoleArn" in message


def test_one_known_arn_against_a_role_of_the_stack():
    other = td("arn:aws:iam::123456789012:role/ops/legacy-exec", UNKNOWN, {"taskRoleArn": ["web-task"]})
    assert verdicts([role("web-task"), other], ROLES) == []
    same_name = td("arn:aws:iam::123456789012:role/web-task", UNKNOWN, {"taskRoleArn": ["web-task"]})
    [(level, _)] = verdicts([role("web-task"), same_name], ROLES)
    assert level == "advisory"  # the same name may be the same role: deploy decides


def test_known_arns_are_left_to_the_resource_rule():
    same = td("arn:aws:iam::1:role/x", "arn:aws:iam::1:role/x", {})
    assert verdicts([same], ROLES) == []
    assert "ecs-task-separate-roles" in names(Analyzer().analyze(TD, same.props), "mandatory")


def test_exemption_of_the_completed_rule_applies():
    a = Analyzer({"ecs-guardrails-exemption-reason": {"exemptable": ["ecs-task-separate-roles"]}})
    a.analyze(TD, task_def())
    resources = [role("web-role"), td(UNKNOWN, UNKNOWN, {"executionRoleArn": ["web-role"], "taskRoleArn": ["web-role"]})]
    resources[1].props["tags"] = {
        "ecs-guardrails:exempt": "ecs-task-separate-roles",
        "ecs-guardrails:reason": "legacy batch job, approved in PLAT-9",
    }
    diags = a.analyze_stack(resources)
    assert ROLES not in names(diags)
    assert any("exempt from 'ecs-task-separate-roles'" in d.message for d in diags)


def lt(profile: object, deps: list[tuple[str, str]]) -> StackResource:
    return StackResource(
        LT, "lt", good(LT, iamInstanceProfile=profile),
        property_dependencies={"iamInstanceProfile": [urn_of(t, n) for t, n in deps]},
    )


def test_instance_profile_from_a_profile_resource_is_attached():
    profile = StackResource(PROFILE_TYPE, "ecs-profile", {"role": "ecs-instance", "arn": UNKNOWN})
    assert verdicts([profile, lt({"arn": UNKNOWN}, [(PROFILE_TYPE, "ecs-profile")])], PROFILE) == []
    [(level, message)] = verdicts([lt({"arn": UNKNOWN}, [])], PROFILE)
    assert level == "advisory" and ".lt.iamInstanceProfile.arn" in message


def test_resource_rules_no_longer_defer_on_the_covered_properties(analyzer):
    diags = analyzer.analyze(TD, task_def(executionRoleArn=UNKNOWN, taskRoleArn=UNKNOWN))
    assert "ecs-task-separate-roles" not in names(diags)
    diags = analyzer.analyze(LT, good(LT, iamInstanceProfile={"arn": UNKNOWN}))
    assert "ec2-launch-template-instance-profile" not in names(diags)
    # Other unknowns still defer their rules.
    diags = analyzer.analyze(LT, good(LT, metadataOptions=UNKNOWN))
    assert [d.level for d in diags if d.policy == "ec2-launch-template-imdsv2"] == ["advisory"]


def asg_graph(subnets: int) -> list[StackResource]:
    from pack_fixtures import ASG

    nets = [StackResource("aws:ec2/subnet:Subnet", f"private-{i}", {"vpcId": "vpc-1", "id": UNKNOWN}) for i in range(subnets)]
    asg = StackResource(
        ASG, "asg", good(ASG, vpcZoneIdentifiers=UNKNOWN),
        property_dependencies={"vpcZoneIdentifiers": [n.urn or urn_of(n.type, n.name) for n in nets]},
    )
    return [*nets, asg]


def test_asg_subnets_counted_from_references_with_the_rules_settings():
    from pack_fixtures import ASG

    policy = "asg-multi-az-by-reference"
    a = Analyzer()
    # Before asg-multi-az has run in this pack instance its settings are unknown: deferred.
    assert [d.level for d in a.analyze_stack(asg_graph(2)) if d.policy == policy] == ["advisory"]
    a.analyze(ASG, good(ASG))  # the engine analyses every resource before AnalyzeStack
    assert [d for d in a.analyze_stack(asg_graph(2)) if d.policy == policy] == []
    [note] = [d for d in a.analyze_stack(asg_graph(1)) if d.policy == policy]
    assert note.level == "advisory" and ".asg.vpcZoneIdentifiers" in note.message  # one may not be all
    strict = Analyzer({"asg-multi-az": {"minSubnets": 3}})
    strict.analyze(ASG, good(ASG, vpcZoneIdentifiers=["subnet-a", "subnet-b", "subnet-c"]))
    assert [d.level for d in strict.analyze_stack(asg_graph(2)) if d.policy == policy] == ["advisory"]
    assert [d for d in strict.analyze_stack(asg_graph(3)) if d.policy == policy] == []


def test_every_type_the_completed_rule_reads_is_decided():
    daemon = StackResource(
        "aws:ecs/daemonTaskDefinition:DaemonTaskDefinition", "agent",
        {"executionRoleArn": UNKNOWN, "taskRoleArn": UNKNOWN},
        property_dependencies={"executionRoleArn": [urn_of(ROLE, "agent")], "taskRoleArn": [urn_of(ROLE, "agent")]},
    )
    assert [level for level, _ in verdicts([role("agent"), daemon], ROLES)] == ["mandatory"]


def test_a_completed_rule_reading_more_types_fails_loudly():
    import dataclasses

    import pytest
    from ecs_guardrails import preview_references
    from ecs_guardrails.pack import build_rules

    rule = next(r for r in build_rules() if r.name == "asg-multi-az")
    wider = dataclasses.replace(rule, resource_types=(*rule.resource_types, "aws:autoscaling/warmPool:WarmPool"))
    with pytest.raises(AssertionError, match="warmPool"):
        preview_references.mark_decided(wider)
