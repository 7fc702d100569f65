"""Rules over what AWS itself refuses when `pulumi up` calls it: names and their characters, schedule
expressions, tags, and the counts AWS caps (per container, ECS service, listener rule, load balancer).

The facts come from `aws_limits.json`, the pack's copy of the project's AWS limits catalogue (generated
from components/aws_limits.yaml by `python -m components.aws_limits_doc`; a test fails when they
disagree), because the pack never imports a program's code. The rules are mandatory where AWS refuses
the call, and not exemptible: an exemption tag cannot make AWS accept it. Values unknown during preview
are skipped (the SDK's "can't run policy during preview" note says so), except the lists the count
quotas read: see `_over`."""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .resource_types import LB_TYPES, LISTENER_RULE_TYPES, LISTENER_TYPES, SERVICE, TASK_DEF
from .rule import HIGH, MANDATORY, MEDIUM, Ctx, Res, Rule, StackCtx
from .stack import Index
from .task_definitions import containers
from .values import as_dict, as_list, get, is_unknown, parse_json, to_int

LIMITS: dict[str, Any] = json.loads(Path(__file__).with_name("aws_limits.json").read_text(encoding="utf-8"))
QUOTAS: dict[str, int] = {key: q["max"] for key, q in LIMITS["quotas"].items()}
SCHEDULE = "aws:scheduler/schedule:Schedule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
# Terraform's resource.PrefixedUniqueId appends this many characters to a `namePrefix`.
NAME_PREFIX_SUFFIX = 26


# --- reading values at a property path -----------------------------------------------------------------


def values_at(ctx: Ctx, path: str) -> Iterator[tuple[str, Any]]:
    """(display path, value) at `path` ("a[].b": every item of list a; a JSON string is decoded); unknown
    values are recorded on ctx and skipped, malformed JSON is skipped (other rules report it)."""

    def walk(value: Any, steps: list[str], shown: str) -> Iterator[tuple[str, Any]]:
        if not ctx.known(value):
            return
        if not steps:
            yield shown, value
            return
        step, rest = steps[0], steps[1:]
        key = step.removesuffix("[]")
        inner = get(value, key)
        if not ctx.known(inner):
            return
        where = f"{shown}.{key}" if shown else key
        if not step.endswith("[]"):
            if inner is not None:
                yield from walk(inner, rest, where)
            return
        if isinstance(inner, str):
            try:
                inner = parse_json(inner, where)
            except ValueError:
                return
        for i, item in enumerate(as_list(inner)):
            yield from walk(item, rest, f"{where}[{i}]")

    yield from walk(ctx.props, path.split("."), "")


# --- names ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameLimit:
    what: str
    min: int
    max: int
    pattern: re.Pattern[str]
    chars: str
    forbidden: tuple[tuple[re.Pattern[str], str], ...]

    def problems(self, value: str) -> list[str]:
        found = []
        if len(value) > self.max:
            found.append(f"is {len(value)} characters long (at most {self.max})")
        elif len(value) < self.min:
            found.append(f"is {len(value)} characters long (at least {self.min})")
        if value and not self.pattern.fullmatch(value):
            bad = sorted({ch for ch in value if not self.pattern.fullmatch(ch)})
            found.append(f"has characters not allowed here ({''.join(bad)!r}; allowed: {self.chars})")
        return found + [reason for pattern, reason in self.forbidden if pattern.search(value)]


NAMES: dict[str, list[tuple[str, NameLimit]]] = {}  # type token -> [(property path, limit)]
for _rule in LIMITS["names"].values():
    _limit = NameLimit(_rule["what"], _rule["min"], _rule["max"], re.compile(_rule["pattern"]), _rule["chars"],
                       tuple((re.compile(f["pattern"]), f["reason"]) for f in _rule["forbidden"]))
    for _where in _rule["resources"]:
        NAMES.setdefault(_where["type"], []).append((_where["property"], _limit))


def check_names(ctx: Ctx) -> Iterator[str]:
    for path, limit in NAMES.get(ctx.type, []):
        found = list(values_at(ctx, path))
        if path == "name" and not found:  # the provider creates the name at Create: namePrefix + 26 characters
            prefix = ctx.get("namePrefix")
            if ctx.known(prefix) and isinstance(prefix, str):
                for reason in limit.problems(prefix + "0" * NAME_PREFIX_SUFFIX):
                    yield (f"namePrefix {prefix!r} makes the {limit.what} '{prefix}<{NAME_PREFIX_SUFFIX} characters>', "
                           f"which {reason}: AWS refuses it")
            continue
        for where, value in found:
            if isinstance(value, str):
                for reason in limit.problems(value):
                    yield f"{where}: the {limit.what} {value!r} {reason}: AWS refuses it"


# --- schedule expressions ------------------------------------------------------------------------------

_SCHED = LIMITS["schedule_expressions"]
SCHEDULE_KINDS = {r["type"]: (r["property"], tuple(r["kinds"])) for r in _SCHED["resources"]}


def schedule_problems(expression: str, kinds: tuple[str, ...]) -> list[str]:
    """Why EventBridge (Scheduler) refuses the expression; [] when it takes it."""
    if len(expression) > _SCHED["max_length"]:
        return [f"is {len(expression)} characters long (at most {_SCHED['max_length']})"]
    m = re.fullmatch(r"(at|rate|cron)\((.*)\)", expression, re.DOTALL)
    if m is None or m[1] not in kinds:
        return [f"is not {' or '.join(f'{k}(...)' for k in kinds)}"]
    body = m[2]
    if m[1] == "at":
        at = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})", body)
        if at is None:
            return ["at() takes yyyy-mm-ddThh:mm:ss"]
        try:
            datetime.datetime(*(int(g) for g in at.groups()))
        except ValueError:
            return [f"at({body}) is not a calendar date and time"]
        return []
    if m[1] == "rate":
        rate = re.fullmatch(r"(\d+) ([a-z]+)", body)
        if rate is None or rate[2].removesuffix("s") not in _SCHED["rate_units"]:
            return [f"rate() takes `<positive integer> <{'|'.join(_SCHED['rate_units'])}>[s]`"]
        value, unit = int(rate[1]), rate[2]
        if value == 0:
            return ["rate() needs a positive value"]
        if (value == 1) != (unit in _SCHED["rate_units"]):
            return [f"rate({value} {unit}): 1 takes the singular unit, more the plural"]
        return []
    parts, fields = body.split(), _SCHED["cron_fields"]
    if len(parts) != len(fields) or " ".join(parts) != body.strip():
        return [f"cron() takes {len(fields)} fields separated by spaces, got {len(parts)}"]
    found = [p for field, text in zip(fields, parts, strict=True) for p in _cron_field(field, text)]
    if (parts[2] == "?") == (parts[4] == "?"):
        found.append("cron() needs `?` in exactly one of day-of-month and day-of-week")
    return found


def _cron_value(field: dict[str, Any], text: str) -> list[str]:
    if text.isdigit() and field["min"] <= int(text) <= field["max"]:
        return []
    if not text.isdigit() and text.upper() in field["names"]:
        return []
    return [f"cron() {field['name']} {text!r} is not a value ({field['min']}-{field['max']})"]


def _cron_field(field: dict[str, Any], text: str) -> list[str]:
    wild, name = field["wildcards"], field["name"]
    if text == "?":
        return [] if "?" in wild else [f"cron() `?` is not allowed in {name}"]
    items = text.split(",")
    found = [f"cron() {name} {text!r}: `#` takes one expression only"] if "#" in text and len(items) > 1 else []
    for item in items:
        upper = item.upper()
        if not item:
            found.append(f"cron() {name} has an empty list item")
        elif ("L" in wild and upper == "L") or ("W" in wild and (upper == "LW" or re.fullmatch(r"L-\d+", upper))):
            continue
        elif ("W" in wild and upper.endswith("W")) or ("#" in wild and upper.endswith("L")):
            found += _cron_value(field, item[:-1])
        elif "#" in item:
            day, _, nth = item.partition("#")
            if "#" not in wild or not (nth.isdigit() and 1 <= int(nth) <= 5):
                found.append(f"cron() {name} {item!r}: `#` is day-of-week only, with a week of 1-5")
            else:
                found += _cron_value(field, day)
        else:
            base, slash, step = item.partition("/")
            if slash and ("/" not in wild or not step.isdigit() or int(step) < 1):
                found.append(f"cron() {name} {item!r}: `/` needs a positive increment (and a field that takes it)")
            if base != "*":
                low, dash, high = base.partition("-")
                for value in (low, high) if dash else (low,):
                    found += _cron_value(field, value)
    return found


def check_schedules(ctx: Ctx) -> Iterator[str]:
    prop, kinds = SCHEDULE_KINDS[ctx.type]
    expression = ctx.get(prop)
    if ctx.known(expression) and isinstance(expression, str):
        for reason in schedule_problems(expression, kinds):
            yield f"{prop} {expression!r}: {reason}: AWS refuses it"


# --- tags ----------------------------------------------------------------------------------------------

_TAGS = LIMITS["tags"]


def _tag_chars_ok(text: str) -> bool:
    return all(unicodedata.category(ch)[0] in "LZN" or ch in _TAGS["restricted_characters"] for ch in text)


def check_tags(ctx: Ctx) -> Iterator[str]:
    if not ctx.type.startswith("aws:"):
        return
    raw = ctx.get("tags")
    if not ctx.known(raw) or raw is None:
        return
    # Auto Scaling groups hold a list of {key, value, propagateAtLaunch}; other resources a map.
    pairs = ([(get(t, "key"), get(t, "value", default="")) for t in raw] if isinstance(raw, list)
             else list(as_dict(raw).items()))
    if len(pairs) > _TAGS["max_tags"]:
        yield f"{len(pairs)} tags: AWS takes at most {_TAGS['max_tags']} on a resource"
    restricted = ctx.type.startswith(tuple(_TAGS["restricted_types"]))
    for key, value in pairs:
        if not (ctx.known(key) and ctx.known(value)) or not isinstance(key, str) or not isinstance(value, str):
            continue
        if not _TAGS["key_min"] <= len(key) <= _TAGS["key_max"]:
            yield f"tag key {key[:40]!r} is {len(key)} characters long ({_TAGS['key_min']} to {_TAGS['key_max']})"
        if key.lower().startswith(_TAGS["reserved_prefix"]):
            yield f"tag key {key!r} begins with {_TAGS['reserved_prefix']!r}, which AWS reserves"
        if len(value) > _TAGS["value_max"]:
            yield f"tag {key!r} has a value of {len(value)} characters (at most {_TAGS['value_max']})"
        if restricted and not (_tag_chars_ok(key) and _tag_chars_ok(value)):
            yield (f"tag {key!r}={value[:40]!r} has characters this service refuses (letters, digits, spaces and "
                   f"{_TAGS['restricted_characters']} only)")


# --- counts --------------------------------------------------------------------------------------------


def _over(ctx: Ctx, value: Any, quota: str, what: str) -> Iterator[str]:
    """A message when the list `value` holds more items than the quota allows.

    A list wholly unknown during preview is skipped without deferring the rule: these limits prevent a
    failed deploy, not an unsafe one; AWS refuses an over-long list at the call, and the pack checks the
    known list during `pulumi up`."""
    if is_unknown(value):
        return
    items = as_list(value)
    if len(items) > QUOTAS[quota]:
        yield f"{what} has {len(items)} entries: AWS takes at most {QUOTAS[quota]}"


def check_task_definition(ctx: Ctx) -> Iterator[str]:
    """Port mappings, environment and constraints of a task definition, as ECS and the kernel take them."""
    yield from _over(ctx, ctx.get("placementConstraints"), "ecs-placement-constraints-per-task", "placementConstraints")
    network_mode = ctx.get("networkMode")
    for who, c in containers(ctx) or []:
        mappings = as_list(c.get("portMappings"))
        ranges = [m for m in mappings if isinstance(m, dict) and m.get("containerPortRange") is not None]
        if len(ranges) > QUOTAS["ecs-port-ranges-per-container"]:
            yield f"{who} maps {len(ranges)} port ranges: ECS takes at most {QUOTAS['ecs-port-ranges-per-container']}"
        protocols: dict[int, set[str]] = {}
        for m in mappings:
            port, host = to_int(get(m, "containerPort")), get(m, "hostPort")
            if port is None:
                continue
            protocols.setdefault(port, set()).add(str(get(m, "protocol", default="tcp")).lower())
            if network_mode in ("awsvpc", "host") and host is not None and to_int(host) not in (None, port):
                yield (f"{who} maps container port {port} to host port {host}: in {network_mode} mode the host port "
                       "must be absent or equal the container port")
        for port, used in sorted(protocols.items()):
            if len(used) > 1:
                yield f"{who} exposes container port {port} for {', '.join(sorted(used))}: ECS takes one protocol per port"
        yield from _over(ctx, c.get("environmentFiles"), "ecs-environment-files-per-container", f"{who} environmentFiles")
        limit = QUOTAS["container-environment-variable-bytes"]
        for env in as_list(c.get("environment")):
            name, value = get(env, "name"), get(env, "value", default="")
            if isinstance(name, str) and isinstance(value, str):
                size = len(f"{name}={value}".encode("utf-8", "surrogatepass")) + 1
                if size > limit:
                    yield (f"{who} environment variable {name} is {size} bytes as NAME=value: the kernel refuses to "
                           f"start the container's process with a variable over {limit} bytes")


def check_ecs_networking(ctx: Ctx) -> Iterator[str]:
    """Load balancers, awsvpc network configuration, strategy and placement of what runs ECS tasks."""
    if ctx.type == SERVICE:
        base: tuple[str, ...] = ()
        strategy, strategy_quota = "capacityProviderStrategies", "ecs-capacity-providers-per-strategy"
        yield from _over(ctx, ctx.get("loadBalancers"), "ecs-target-groups-per-service", "loadBalancers")
        yield from _over(ctx, ctx.get("orderedPlacementStrategies"), "ecs-placement-strategies-per-service",
                         "orderedPlacementStrategies")
        yield from _over(ctx, ctx.get("placementConstraints"), "ecs-placement-constraints-per-task", "placementConstraints")
    elif ctx.type == SCHEDULE:
        base = ("target", "ecsParameters")
        strategy, strategy_quota = "capacityProviderStrategies", "scheduler-capacity-providers-per-strategy"
    else:  # EventBridge rule target
        base = ("ecsTarget",)
        strategy, strategy_quota = "capacityProviderStrategies", "ecs-capacity-providers-per-strategy"
    where = ".".join(base)
    prefix = f"{where}." if where else ""
    network = ctx.get(*base, "networkConfiguration")  # read for its counts only: unknown does not defer
    yield from _over(ctx, get(network, "securityGroups"), "ecs-security-groups-per-awsvpc-configuration",
                     f"{prefix}networkConfiguration.securityGroups")
    yield from _over(ctx, get(network, "subnets"), "ecs-subnets-per-awsvpc-configuration",
                     f"{prefix}networkConfiguration.subnets")
    yield from _over(ctx, ctx.get(*base, strategy), strategy_quota, f"{prefix}{strategy}")


def check_listener_rule(ctx: Ctx) -> Iterator[str]:
    """Priority, condition values and wildcards, and target groups per forward action of a listener rule."""
    priority = ctx.get("priority")
    top = QUOTAS["alb-listener-rule-priority"]
    if ctx.known(priority) and priority is not None and not 1 <= (to_int(priority) or 0) <= top:
        yield f"priority {priority} is outside 1-{top}"
    conditions = ctx.get("conditions")
    if not ctx.known(conditions):
        return
    values: list[str] = []
    for condition in as_list(conditions):
        for key in ("hostHeader", "pathPattern", "httpHeader", "httpRequestMethod", "sourceIp"):
            values += [v for v in as_list(get(condition, key, "values")) if isinstance(v, str)]
        for pair in as_list(get(condition, "queryStrings")):
            values.append(f"{get(pair, 'key', default='')}={get(pair, 'value', default='')}")
    if len(values) > QUOTAS["alb-condition-values-per-rule"]:
        yield f"the conditions hold {len(values)} values: a rule takes at most {QUOTAS['alb-condition-values-per-rule']}"
    wildcards = sum(v.count("*") + v.count("?") for v in values)
    if wildcards > QUOTAS["alb-condition-wildcards-per-rule"]:
        yield (f"the conditions hold {wildcards} wildcards (* and ?): a rule takes at most "
               f"{QUOTAS['alb-condition-wildcards-per-rule']}")
    for condition in as_list(conditions):
        for key in ("hostHeader", "pathPattern"):
            for v in as_list(get(condition, key, "values")):
                if isinstance(v, str) and len(v) > QUOTAS["alb-condition-value-length"]:
                    yield f"{key} value {v[:40]!r}... is {len(v)} characters (at most {QUOTAS['alb-condition-value-length']})"
    for i, action in enumerate(as_list(ctx.get("actions"))):  # counts only: unknown does not defer (`_over`)
        yield from _over(ctx, get(action, "forward", "targetGroups"), "alb-target-groups-per-action",
                         f"actions[{i}].forward.targetGroups")


def check_rules_per_load_balancer(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    limit = to_int(ctx.cfg.get("maxRulesPerLoadBalancer")) or QUOTAS["alb-rules-per-load-balancer"]
    ix = Index(ctx.resources)
    per_lb: dict[str, list[Res]] = {}
    for rule in ix.of(LISTENER_RULE_TYPES):
        for listener in ix.resolve(rule, "listenerArn", LISTENER_TYPES)[:1]:
            for lb in ix.resolve(listener, "loadBalancerArn", LB_TYPES)[:1]:
                per_lb.setdefault(lb.urn, []).append(rule)
    for urn, rules in per_lb.items():
        if len(rules) > limit:
            lb = ix.by_urn[urn]
            yield (f"load balancer '{lb.name}' has {len(rules)} listener rules: AWS takes at most {limit} per load "
                   "balancer (raise maxRulesPerLoadBalancer after a Service Quotas increase)", lb)


NAME_TYPES = tuple(sorted(NAMES))
NETWORK_TYPES = (SERVICE, SCHEDULE, EVENT_TARGET)

RULES = [
    Rule(
        name="aws-limits-names",
        description="Names and descriptions have the length and characters AWS takes (docs/aws-limits.md).",
        level=MANDATORY,
        severity=HIGH,
        resource_types=NAME_TYPES,
        check=check_names,
        remediation_steps="Shorten or rename as the message says; AWS refuses the name when `pulumi up` calls it.",
        exemptible=False,
    ),
    Rule(
        name="aws-limits-schedule-expressions",
        description="Schedule expressions are rate(), cron() or at() expressions EventBridge (Scheduler) accepts.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=tuple(SCHEDULE_KINDS),
        check=check_schedules,
        remediation_steps="Fix the expression: cron() has six fields in range and `?` in exactly one day field; "
        "rate(1 hour) but rate(2 hours).",
        exemptible=False,
    ),
    Rule(
        name="aws-limits-tags",
        description="At most 50 tags per resource, keys up to 128 and values up to 256 characters, no `aws:` keys; "
        "ECS, ELB, IAM, CloudWatch Logs and WAF take letters, digits, spaces and _.:/=+-@ only.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=("*",),
        check=check_tags,
        remediation_steps="Drop or shorten tags; use only the characters the service takes.",
        exemptible=False,
    ),
    Rule(
        name="aws-limits-task-definitions",
        description="Port mappings, environment variables and placement constraints within ECS's and the kernel's limits.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=(TASK_DEF,),
        check=check_task_definition,
        remediation_steps="One protocol per container port; in awsvpc or host mode the host port equals the container "
        "port; move large values to files or secrets.",
        exemptible=False,
    ),
    Rule(
        name="aws-limits-ecs-networking",
        description="ECS services and scheduled ECS targets within ECS's counts: target groups, security groups, "
        "subnets, capacity providers, placement.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=NETWORK_TYPES,
        check=check_ecs_networking,
        remediation_steps="At most 5 target groups and 5 security groups, 16 subnets, 20 capacity providers "
        "(6 in a schedule's target).",
        exemptible=False,
    ),
    Rule(
        name="aws-limits-listener-rules",
        description="Listener rules within ELB's limits: priority, condition values and wildcards, target groups "
        "per action.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=LISTENER_RULE_TYPES,
        check=check_listener_rule,
        remediation_steps="At most 5 condition values and 5 wildcards per rule (split it into several rules), "
        "5 target groups per forward action, priority 1-50000.",
        exemptible=False,
    ),
    Rule(
        name="aws-limits-rules-per-load-balancer",
        description="An Application Load Balancer holds at most its quota of listener rules (100 by default).",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=("stack",),
        stack=True,
        check=check_rules_per_load_balancer,
        remediation_steps="Spread the services over more load balancers, or raise the quota and maxRulesPerLoadBalancer.",
        config={
            "maxRulesPerLoadBalancer": {
                "type": "integer",
                "minimum": 1,
                "default": QUOTAS["alb-rules-per-load-balancer"],
                "description": "The account's quota of listener rules per Application Load Balancer.",
            },
        },
        exemptible=False,
    ),
]
