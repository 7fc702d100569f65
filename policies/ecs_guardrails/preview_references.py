"""Stack rules that decide, at preview, resource rules whose values are not known yet, from the resources those
values come from (the stack view's property dependencies).

During `pulumi preview` a task definition's role ARNs, a launch template's instance profile ARN and an Auto
Scaling group's subnet ids are outputs of resources not created yet: unknown to the resource rules, which
would defer (the SDK's "can't run policy ... during preview" note). The engine still knows which resources
each value comes from: two different IAM roles have different ARNs; a value taken from an instance profile
attaches one; a list taken from N subnets' ids holds N subnets. Each rule here `completes` a resource rule:
it decides only where that rule met unknowns, with that rule's settings (published in `SharedState`) and
exemptions, and defers itself when the references do not decide either. `COVERED` lists the properties whose
unknown values no longer defer the completed rule (`pack.build_rules` applies it). During `pulumi up` the
values are known and the resource rules decide alone.

Configure each rule at the same level as the rule it completes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from .resource_types import ASG, DAEMON_TASK_DEF, EXPRESS_SERVICE, LAUNCH_TEMPLATE, TASK_DEF
from .rule import MANDATORY, MEDIUM, Res, Rule, StackCtx
from .values import Unknown, as_list, get, to_int

ROLE = "aws:iam/role:Role"
INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
SUBNET = "aws:ec2/subnet:Subnet"
ROLE_HOLDERS = (TASK_DEF, DAEMON_TASK_DEF, EXPRESS_SERVICE)  # what ecs-task-separate-roles reads


def _referenced(by_urn: dict[str, Res], res: Res, prop: str, rtype: str) -> list[Res]:
    """The resources of type `rtype` the value of `prop` depends on, each once."""
    urns = dict.fromkeys(u for u in res.deps.get(prop, []) if u in by_urn and by_urn[u].type == rtype)
    return [by_urn[u] for u in urns]


def check_roles_by_reference(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    by_urn = {r.urn: r for r in ctx.resources}
    for td in ctx.resources:
        if td.type not in ROLE_HOLDERS:
            continue
        exe, task = get(td.props, "executionRoleArn"), get(td.props, "taskRoleArn")
        unknown = [v for v in (exe, task) if isinstance(v, Unknown)]
        if not unknown or any(v is None or (isinstance(v, str) and not v.strip()) for v in (exe, task)):
            continue  # known ARNs: ecs-task-separate-roles decided; a missing role: nothing shared
        roles = {p: _referenced(by_urn, td, p, ROLE) for p in ("executionRoleArn", "taskRoleArn")}
        if len(unknown) == 2:
            exe_roles, task_roles = roles["executionRoleArn"], roles["taskRoleArn"]
            if len(exe_roles) == 1 and len(task_roles) == 1:
                role = exe_roles[0]
                if role.urn == task_roles[0].urn:
                    yield (
                        f"executionRoleArn and taskRoleArn both take their value from role '{role.name}' "
                        f"({role.urn}): give the task its own role so the application does not get the agent's "
                        "permissions (ECR pull, secrets, logs)"
                    ), td
                continue
        else:
            # One ARN known, the other from a role of this stack: different names are different roles.
            known, prop = (exe, "taskRoleArn") if isinstance(task, Unknown) else (task, "executionRoleArn")
            ref = roles[prop]
            name = get(ref[0].props, "name") if len(ref) == 1 else None
            if isinstance(known, str) and isinstance(name, str) and name and known.rsplit("/", 1)[-1] != name:
                continue
        ctx.known(unknown[0])  # the references do not decide: deferred to deploy


def check_instance_profile_by_reference(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    by_urn = {r.urn: r for r in ctx.resources}
    for lt in ctx.resources:
        if lt.type != LAUNCH_TEMPLATE:
            continue
        profile = get(lt.props, "iamInstanceProfile")
        values = [profile, get(profile, "arn"), get(profile, "name")]
        unknown = next((v for v in values if isinstance(v, Unknown)), None)
        if unknown is None or _referenced(by_urn, lt, "iamInstanceProfile", INSTANCE_PROFILE):
            continue  # known: the resource rule decided; from an instance profile: one is attached
        ctx.known(unknown)
    yield from ()


def check_asg_subnets_by_reference(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    by_urn = {r.urn: r for r in ctx.resources}
    settings = ctx.shared.settings.get("asg-multi-az") if ctx.shared is not None else None
    for asg in ctx.resources:
        if asg.type != ASG:
            continue
        subnets, azs = get(asg.props, "vpcZoneIdentifiers"), get(asg.props, "availabilityZones")
        unknown = next((v for v in (subnets, azs) if isinstance(v, Unknown)), None)
        if unknown is None:
            continue  # known: asg-multi-az decided
        need = (to_int(settings.get("minSubnets")) or 2) if settings is not None else None
        known = 0 if isinstance(azs, Unknown) else len(as_list(azs))
        from_subnets = len(_referenced(by_urn, asg, "vpcZoneIdentifiers", SUBNET))
        if need is not None and max(from_subnets, known) >= need:
            continue  # spans enough subnets; fewer would not prove a violation (the list may hold others)
        ctx.known(unknown)
    yield from ()


RULES = [
    Rule(
        name="ecs-task-separate-roles-by-reference",
        description=(
            "At preview, where a task definition's role ARNs are not known yet: the execution and task roles "
            "are different IAM roles of the stack (completes ecs-task-separate-roles)."
        ),
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=("stack",),
        stack=True,
        check=check_roles_by_reference,
        remediation_steps="Create a dedicated task role with only the application's permissions.",
        completes="ecs-task-separate-roles",
    ),
    Rule(
        name="ec2-launch-template-instance-profile-by-reference",
        description=(
            "At preview, where a launch template's instance profile is not known yet: it comes from an IAM "
            "instance profile (completes ec2-launch-template-instance-profile)."
        ),
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=("stack",),
        stack=True,
        check=check_instance_profile_by_reference,
        remediation_steps="Set iamInstanceProfile {arn} from the ECS container instance role's instance profile.",
        completes="ec2-launch-template-instance-profile",
    ),
    Rule(
        name="asg-multi-az-by-reference",
        description=(
            "At preview, where an Auto Scaling group's subnets are not known yet: its vpcZoneIdentifiers come "
            "from at least minSubnets subnets of the stack (completes asg-multi-az, with its settings)."
        ),
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=("stack",),
        stack=True,
        check=check_asg_subnets_by_reference,
        remediation_steps="List private subnets of two or more AZs in vpcZoneIdentifiers.",
        completes="asg-multi-az",
    ),
]

# The completed rules' properties whose unknown values the rules above decide, and the resource types they
# read there (`pack.build_rules` checks these cover every type the completed rule applies to).
COVERED = {
    "ecs-task-separate-roles": (("executionRoleArn", "taskRoleArn"), ROLE_HOLDERS),
    "ec2-launch-template-instance-profile": (("iamInstanceProfile",), (LAUNCH_TEMPLATE,)),
    "asg-multi-az": (("vpcZoneIdentifiers", "availabilityZones"), (ASG,)),
}


def mark_decided(rule: Rule) -> Rule:
    """`rule` as the pack runs it: when a rule above completes it, its covered properties no longer defer it.
    Raises when the rule reads resource types the completing rule does not."""
    if rule.name not in COVERED:
        return rule
    props, types = COVERED[rule.name]
    missing = set(rule.resource_types) - set(types)
    if missing:
        raise AssertionError(f"{rule.name} applies to {sorted(missing)}, which preview_references does not read")
    return replace(rule, decided_in_stack_view=props)
