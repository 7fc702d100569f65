"""Stack-level rules: relations between resources that no single resource shows. References are resolved
through property dependencies (URNs, which preview has) or known ids/ARNs (which an update has)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from typing import Any

from .resource_types import (
    ASG,
    CAPACITY_PROVIDER,
    EVENT_TARGET,
    LAUNCH_TEMPLATE,
    LB_TYPES,
    LISTENER_RULE_TYPES,
    LISTENER_TYPES,
    LOG_GROUP,
    PIPE,
    SCHEDULE,
    SERVICE,
    SG,
    SG_INGRESS,
    SG_RULE,
    TARGET_GROUP_TYPES,
    TASK_DEF,
    TASK_SET,
)
from .rule import HIGH, MANDATORY, MEDIUM, Ctx, Res, Rule, StackCtx
from .security_groups import Ingress, ingress_rules
from .task_definitions import containers
from .values import Malformed, Unknown, as_list, get, to_int

# What registers tasks with target groups: services, and the task sets of EXTERNAL-controller services.
SERVICES = (SERVICE, TASK_SET)
# Where ECS tasks take their security groups from (services and task sets, and the run-task launchers).
TASK_NETWORKS = {
    SERVICE: "networkConfiguration",
    TASK_SET: "networkConfiguration",
    EVENT_TARGET: "ecsTarget",
    SCHEDULE: "target",
    PIPE: "targetParameters",
}


def _what(res: Res) -> str:
    return {TASK_SET: "task set", EVENT_TARGET: "EventBridge target", SCHEDULE: "schedule", PIPE: "pipe"}.get(
        res.type, "service"
    )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


class Index:
    """The stack's resources by URN, by arn/id value and by type; the reverse lookups the stack
    rules ask for per resource (routers of a target group, rules attached to a security group)
    are built in one pass on first use, so the rules stay linear in the stack's size."""

    def __init__(self, resources: list[Res]) -> None:
        self.resources = resources
        self.by_urn = {r.urn: r for r in resources}
        self.by_value: dict[str, Res] = {}
        self.by_type: dict[str, list[Res]] = {}
        for r in resources:
            self.by_type.setdefault(r.type, []).append(r)
            for key in ("arn", "id"):
                v = r.props.get(key)
                if isinstance(v, str) and v:
                    self.by_value[v] = r
        self._routers: dict[str, list[Res]] | None = None
        self._sg_rules: dict[str, list[Res]] | None = None

    def of(self, types: Iterable[str]) -> list[Res]:
        ts = set(types)
        if len(ts) == 1:
            return list(self.by_type.get(next(iter(ts)), []))
        return [r for r in self.resources if r.type in ts]

    def routers(self) -> dict[str, list[Res]]:
        """Target group URN -> load balancers whose listeners (or listener rules) forward to it."""
        if self._routers is None:
            routers: dict[str, list[Res]] = {}
            for lst in self.of(LISTENER_TYPES):
                for tg in dict.fromkeys(
                    t.urn for t in self.resolve(lst, "defaultActions", TARGET_GROUP_TYPES)
                ):
                    routers.setdefault(tg, []).extend(self.resolve(lst, "loadBalancerArn", LB_TYPES))
            for rule in self.of(LISTENER_RULE_TYPES):
                for tg in dict.fromkeys(t.urn for t in self.resolve(rule, "actions", TARGET_GROUP_TYPES)):
                    for lst in self.resolve(rule, "listenerArn", LISTENER_TYPES):
                        routers.setdefault(tg, []).extend(self.resolve(lst, "loadBalancerArn", LB_TYPES))
            self._routers = routers
        return self._routers

    def sg_rules(self) -> dict[str, list[Res]]:
        """Security group URN -> the standalone ingress rules attached to it, in stack order."""
        if self._sg_rules is None:
            rules: dict[str, list[Res]] = {}
            for rule in self.of((SG_RULE, SG_INGRESS)):
                for sg in dict.fromkeys(t.urn for t in self.resolve(rule, "securityGroupId", (SG,))):
                    rules.setdefault(sg, []).append(rule)
            self._sg_rules = rules
        return self._sg_rules

    def resolve(self, res: Res, prop: str, types: Iterable[str], value: Any = None) -> list[Res]:
        """Resources of `types` that res.<prop> refers to."""
        ts = set(types)
        out = [
            self.by_urn[u] for u in res.deps.get(prop, []) if u in self.by_urn and self.by_urn[u].type in ts
        ]
        for s in _strings(res.props.get(prop) if value is None else value):
            r = self.by_value.get(s)
            if r is not None and r.type in ts and all(o.urn != r.urn for o in out):
                out.append(r)
        return out


def _routers(ix: Index, tg: Res) -> list[Res]:
    """Load balancers whose listeners (or listener rules) forward to the target group."""
    return list(ix.routers().get(tg.urn, []))


def _service_tgs(ix: Index, ctx: StackCtx, svc: Res) -> list[Res] | None:
    lbs = svc.props.get("loadBalancers")
    if not ctx.known(lbs):
        return None
    if not as_list(lbs):
        return []
    return ix.resolve(svc, "loadBalancers", TARGET_GROUP_TYPES)


def check_target_groups_routed(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    ix = Index(ctx.resources)
    for svc in ix.of(SERVICES):
        for tg in _service_tgs(ix, ctx, svc) or []:
            if not _routers(ix, tg):
                yield (
                    f"{_what(svc)} '{svc.name}' registers with target group '{tg.name}', which no "
                    "listener or listener "
                    "rule of a load balancer in the stack forwards to: add a listener rule (or "
                    "default action) "
                    "forwarding to it",
                    svc,
                )


def _ingress_into(ix: Index, sg: Res) -> list[tuple[Ingress, list[Res]]]:
    """Ingress permissions of a security group with the security groups each admits (resolved)."""
    out = []
    inline_sources = ix.resolve(sg, "ingress", (SG,))
    for r in ingress_rules(SG, sg.props):
        out.append((r, inline_sources if r.groups else []))
    for rule in ix.sg_rules().get(sg.urn, []):
        src_prop = "sourceSecurityGroupId" if rule.type == SG_RULE else "referencedSecurityGroupId"
        for r in ingress_rules(rule.type, rule.props):
            out.append((r, ix.resolve(rule, src_prop, (SG,))))
    return out


def _needed_ports(ix: Index, svc: Res, entry: dict[str, Any]) -> tuple[int, int, bool] | None:
    """(lo, hi, via_instances) the target SG must admit for one loadBalancers entry."""
    port = to_int(entry.get("containerPort"))
    if port is None:
        return None
    tds = ix.resolve(svc, "taskDefinition", (TASK_DEF,))
    if not tds:
        return port, port, False
    td = tds[0]
    mode = td.props.get("networkMode")
    if isinstance(mode, Unknown):  # checked first: an Unknown is falsy
        return None
    mode = mode or "bridge"
    if mode == "awsvpc":
        return port, port, False
    try:
        cs = containers(Ctx(td.type, td.name, td.urn, td.props, {}))
    except Malformed:
        return None
    for _, c in cs or []:
        if c.get("name") != entry.get("containerName"):
            continue
        for pm in as_list(c.get("portMappings")):
            if to_int(get(pm, "containerPort")) == port:
                host = to_int(get(pm, "hostPort")) or 0
                if mode == "host":
                    return port, port, True
                return (host, host, True) if host else (32768, 65535, True)
    return None


def check_lb_reaches_service(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    ix = Index(ctx.resources)
    for svc in ix.of(SERVICES):
        tgs = _service_tgs(ix, ctx, svc) or []
        lb_sgs = {
            s.urn: s for tg in tgs for lb in _routers(ix, tg) for s in ix.resolve(lb, "securityGroups", (SG,))
        }
        if not lb_sgs:
            continue  # no load balancer security group known (NLB without SGs, or external)
        for entry in [e for e in as_list(svc.props.get("loadBalancers")) if isinstance(e, dict)]:
            need = _needed_ports(ix, svc, entry)
            if need is None:
                continue
            lo, hi, via_instances = need
            if via_instances:
                targets = [
                    s
                    for lt in ix.of((LAUNCH_TEMPLATE,))
                    for p in ("vpcSecurityGroupIds", "networkInterfaces")
                    for s in ix.resolve(lt, p, (SG,))
                ]
            else:
                targets = ix.resolve(svc, "networkConfiguration", (SG,))
            if not targets:
                continue
            ok = any(
                r.covers(lo, hi) and (r.cidrs or any(s.urn in lb_sgs for s in srcs))
                for t in targets
                for r, srcs in _ingress_into(ix, t)
                if not r.unknown
            )
            if not ok:
                ports = f"port {lo}" if lo == hi else f"ports {lo}-{hi}"
                where = "container instances'" if via_instances else f"{_what(svc)}'s"
                yield (
                    f"{_what(svc)} '{svc.name}': no ingress on the {where} security groups "
                    f"({', '.join(t.name for t in targets)}) admits the load balancer's security group "
                    f"({', '.join(s.name for s in lb_sgs.values())}) on {ports} (container "
                    f"'{entry.get('containerName')}'): add an ingress rule from the load balancer's "
                    "security group",
                    svc,
                )


def check_log_groups_managed(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    names, unknown = set(), False
    for lg in [r for r in ctx.resources if r.type == LOG_GROUP]:
        n = lg.props.get("name")
        if isinstance(n, str):
            names.add(n)
        else:
            unknown = True  # autonamed or unknown: an unmatched group might be this one
    external = [p for p in as_list(ctx.cfg.get("externalLogGroups")) if isinstance(p, str)]
    for td in [r for r in ctx.resources if r.type == TASK_DEF]:
        try:
            cs = containers(Ctx(td.type, td.name, td.urn, td.props, {}))
        except Malformed:
            continue  # reported by the resource rules
        for who, c in cs or []:
            group = get(c, "logConfiguration", "options", "awslogs-group")
            if get(c, "logConfiguration", "logDriver") != "awslogs" or not ctx.known(group):
                continue
            if (
                not isinstance(group, str)
                or group in names
                or any(fnmatch.fnmatchcase(group, p) for p in external)
            ):
                continue
            if unknown:
                ctx.unknowns.append(Unknown(path=".name"))
                continue
            yield (
                f"task definition '{td.name}' {who} logs to '{group}', which is not a log group "
                "managed in this "
                "stack: create the aws.cloudwatch.LogGroup with that name (and retention) or list it in "
                "externalLogGroups",
                td,
            )


def check_public_sg_attachment(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    ix = Index(ctx.resources)
    public = {sg.urn for sg in ix.of((SG,)) for r, _ in _ingress_into(ix, sg) if r.public() and not r.unknown}
    if not public:
        return
    users = [(res, prop) for rtype, prop in TASK_NETWORKS.items() for res in ix.of((rtype,))] + [
        (lt, p) for lt in ix.of((LAUNCH_TEMPLATE,)) for p in ("vpcSecurityGroupIds", "networkInterfaces")
    ]
    for res, prop in users:
        for sg in ix.resolve(res, prop, (SG,)):
            if sg.urn in public:
                yield (
                    f"'{res.name}' uses security group '{sg.name}', which admits 0.0.0.0/0 or ::/0: "
                    "only load "
                    "balancer security groups may be open to the internet; admit the load "
                    "balancer's security "
                    "group instead",
                    sg,
                )


def check_rule_priorities(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    ix = Index(ctx.resources)
    seen: dict[tuple[str, int], Res] = {}
    for rule in ix.of(LISTENER_RULE_TYPES):
        prio = to_int(rule.props.get("priority"))
        listeners = ix.resolve(rule, "listenerArn", LISTENER_TYPES)
        if prio is None or not listeners:
            continue
        key = (listeners[0].urn, prio)
        if key in seen:
            yield (
                f"listener rules '{seen[key].name}' and '{rule.name}' share priority {prio} on listener "
                f"'{listeners[0].name}': give each rule a unique priority",
                rule,
            )
        else:
            seen[key] = rule


def check_scale_in_protection(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    ix = Index(ctx.resources)
    for cp in ix.of((CAPACITY_PROVIDER,)):
        if get(cp.props, "autoScalingGroupProvider", "managedTerminationProtection") != "ENABLED":
            continue
        for asg in ix.resolve(cp, "autoScalingGroupProvider", (ASG,)):
            protect = asg.props.get("protectFromScaleIn")
            if ctx.known(protect) and protect is not True:
                yield (
                    f"capacity provider '{cp.name}' enables managed termination protection but its "
                    f"Auto Scaling group '{asg.name}' does not set protectFromScaleIn true: AWS rejects "
                    "this; set protectFromScaleIn true on the group",
                    asg,
                )


STACK = ("stack",)
RULES = [
    Rule(
        name="ecs-service-target-group-routed",
        description=(
            "Every ECS service's (and task set's) target group is forwarded to by a listener or listener rule "
            "of a load balancer in the stack."
        ),
        level=MANDATORY,
        severity=HIGH,
        resource_types=STACK,
        stack=True,
        check=check_target_groups_routed,
        remediation_steps=(
            "Add a listener default action or listener rule that forwards to the service's target group."
        ),
    ),
    Rule(
        name="ecs-lb-reaches-service-port",
        description=(
            "Security groups let the load balancer reach each service's container port (awsvpc) or the "
            "instances' host/ephemeral ports (bridge)."
        ),
        level=MANDATORY,
        severity=HIGH,
        resource_types=STACK,
        stack=True,
        check=check_lb_reaches_service,
        remediation_steps=(
            "Add an ingress rule on the service (or instance) security group from the load balancer's "
            "security group on the container port (bridge: 32768-65535)."
        ),
    ),
    Rule(
        name="ecs-log-group-managed",
        description=(
            "Every awslogs-group a container names is a log group managed in the stack or listed in config."
        ),
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=STACK,
        stack=True,
        check=check_log_groups_managed,
        remediation_steps=(
            "Create aws.cloudwatch.LogGroup with that name in the program, or add it to externalLogGroups."
        ),
        config={
            "externalLogGroups": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Log group names (globs) managed outside the stack.",
            }
        },
    ),
    Rule(
        name="sg-public-ingress-only-on-load-balancers",
        description=(
            "Security groups open to 0.0.0.0/0 or ::/0 are not attached to ECS tasks (services, task sets, "
            "scheduled and event-driven tasks) or container instances."
        ),
        level=MANDATORY,
        severity=HIGH,
        resource_types=STACK,
        stack=True,
        check=check_public_sg_attachment,
        remediation_steps=(
            "Attach internet-facing security groups to load balancers only; admit the LB's group on the "
            "service."
        ),
    ),
    Rule(
        name="ecs-capacity-provider-asg-scale-in-protection",
        description=(
            "An ASG behind a capacity provider with managed termination protection sets protectFromScaleIn."
        ),
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=STACK,
        stack=True,
        check=check_scale_in_protection,
        remediation_steps="Set protectFromScaleIn true on the Auto Scaling group.",
    ),
    Rule(
        name="lb-listener-rule-priority-unique",
        description="Listener rules on one listener have unique priorities.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=STACK,
        stack=True,
        check=check_rule_priorities,
        remediation_steps="Give each listener rule on a listener its own priority.",
    ),
]
