"""The pack's aws-limits-* rules through the real servicer: what AWS refuses fails (mandatory, whatever
the exemption tags say), what it takes passes, unknowns are never violations; the pack's copy of the
facts agrees with the project's catalogue, and its checks with the catalogue's on every example."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ecs_guardrails import aws_limits as pack_limits
from ecs_guardrails.pack import build_rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pack_driver import UNKNOWN, Analyzer, StackResource, urn_of
from pack_fixtures import LB, LISTENER, RULE, SG, SG_INGRESS, SVC, TD, TG, container, good, names, task_def

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from components import aws_limits  # noqa: E402

SCHEDULE = "aws:scheduler/schedule:Schedule"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ASG = "aws:autoscaling/group:Group"
LG = "aws:cloudwatch/logGroup:LogGroup"
BUCKET = "aws:s3/bucket:Bucket"
CLUSTER = "aws:ecs/cluster:Cluster"
ROLE = "aws:iam/role:Role"
RULES = {r.name: r for r in build_rules() if r.name.startswith("aws-limits-")}


def hits(analyzer: Analyzer, rtype: str, props: dict[str, Any], policy: str) -> list[str]:
    """The messages of `policy` for one resource; each is mandatory."""
    diags = [d for d in analyzer.analyze(rtype, props, remediate=False) if d.policy == policy]
    assert all(d.level == "mandatory" for d in diags), diags
    return [d.message for d in diags]


def schedule(expression: str, **ecs: Any) -> dict[str, Any]:
    return {"name": "nightly", "scheduleExpression": expression, "flexibleTimeWindow": {"mode": "OFF"},
            "target": {"arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/c", "roleArn": "arn:aws:iam::1:role/r",
                       "ecsParameters": {"taskDefinitionArn": "arn:td", **ecs}}}


def listener_rule(conditions: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    return {"listenerArn": "arn:listener", "priority": 100, "conditions": conditions,
            "actions": [{"type": "forward", "targetGroupArn": "arn:tg"}], **over}


# ---- every rule fails on what AWS refuses and passes on what it takes -----------------------------------

FAIL: list[tuple[str, str, dict[str, Any], str]] = [
    ("aws-limits-names", TG, good(TG, name="web-service-with-a-long-name-tg-1"), "is 33 characters long (at most 32)"),
    ("aws-limits-names", TG, good(TG, namePrefix="webservice"), "'webservice<26 characters>'"),
    ("aws-limits-names", LB, good(LB, name="internal-alb"), "begins with `internal-`"),
    ("aws-limits-names", SG, good(SG, name="sg-web"), "begins with `sg-`"),
    ("aws-limits-names", SG, good(SG, description="web's tasks"), "EC2 security group description"),
    ("aws-limits-names", SG, good(SG, ingress=[{"protocol": "tcp", "fromPort": 443, "toPort": 443,
                                                "cidrBlocks": ["10.0.0.0/8"], "description": "ALB's"}]),
     "ingress[0].description"),
    ("aws-limits-names", SG_INGRESS, good(SG_INGRESS, description="ALB to bridge-mode tasks' host ports"),
     "EC2 security group rule description"),
    ("aws-limits-names", BUCKET, {"bucket": "Alb-Logs"}, "S3 general purpose bucket name"),
    ("aws-limits-names", LG, {"name": "aws/ecs/web", "retentionInDays": 30}, "begins with `aws/`"),
    ("aws-limits-names", CLUSTER, {"name": "ecs-platform-dev.eu"}, "ECS cluster name"),
    ("aws-limits-names", TD, task_def(family="web.v2"), "ECS task definition family"),
    ("aws-limits-names", TD, task_def([container(name="web.main")]), "containerDefinitions[0].name"),
    ("aws-limits-names", TD, task_def([container(portMappings=[{"containerPort": 80, "name": "Web"}])]),
     "containerDefinitions[0].portMappings[0].name"),
    ("aws-limits-names", ROLE, {"name": "r" * 65, "assumeRolePolicy": "{}"}, "IAM role name"),
    ("aws-limits-names", SCHEDULE, schedule("rate(1 hour)", name=None) | {"name": "ecs-platform-" + "s" * 60},
     "EventBridge Scheduler schedule name"),
    ("aws-limits-schedule-expressions", SCHEDULE, schedule("cron(61 25 * * ? *)"), "minutes '61' is not a value"),
    ("aws-limits-schedule-expressions", SCHEDULE, schedule("cron(0 3 * * 1 *)"), "exactly one of day-of-month"),
    ("aws-limits-schedule-expressions", SCHEDULE, schedule("rate(1 hours)"), "1 takes the singular unit"),
    ("aws-limits-schedule-expressions", EVENT_RULE, {"scheduleExpression": "at(2026-12-01T03:00:00)"},
     "is not rate(...) or cron(...)"),
    ("aws-limits-tags", SVC, good(SVC, tags={f"k{i}": "v" for i in range(51)}), "51 tags"),
    ("aws-limits-tags", SVC, good(SVC, tags={"reason": "approved, by platform"}), "characters this service refuses"),
    ("aws-limits-tags", SG, good(SG, tags={"aws:owner": "me"}), "which AWS reserves"),
    ("aws-limits-tags", ASG, {"tags": [{"key": f"k{i}", "value": "v", "propagateAtLaunch": True} for i in range(51)]},
     "51 tags"),
    ("aws-limits-task-definitions", TD, task_def(networkMode="awsvpc", containerDefinitions=json.dumps([container(
        portMappings=[{"containerPort": 8080, "hostPort": 80}])])), "host port must be absent or equal"),
    ("aws-limits-task-definitions", TD, task_def([container(portMappings=[
        {"containerPort": 53, "protocol": "tcp"}, {"containerPort": 53, "protocol": "udp"}])]), "one protocol per port"),
    ("aws-limits-task-definitions", TD, task_def([container(environment=[{"name": "BIG", "value": "x" * 131068}])]),
     "131073 bytes"),
    ("aws-limits-ecs-networking", SVC, good(SVC, networkConfiguration={"subnets": ["s"], "securityGroups": [
        f"sg-{i}" for i in range(6)]}), "networkConfiguration.securityGroups has 6 entries"),
    ("aws-limits-ecs-networking", SCHEDULE, schedule("rate(1 hour)", capacityProviderStrategies=[
        {"capacityProvider": f"cp{i}"} for i in range(7)]), "target.ecsParameters.capacityProviderStrategies has 7"),
    ("aws-limits-ecs-networking", EVENT_TARGET, {"ecsTarget": {"networkConfiguration": {"subnets": [
        f"subnet-{i}" for i in range(17)]}}}, "ecsTarget.networkConfiguration.subnets has 17 entries"),
    ("aws-limits-listener-rules", RULE, listener_rule([{"pathPattern": {"values": ["/a", "/b", "/c"]}},
                                                       {"hostHeader": {"values": ["a.example.com", "b.example.com",
                                                                                  "c.example.com"]}}]),
     "the conditions hold 6 values"),
    ("aws-limits-listener-rules", RULE, listener_rule([{"pathPattern": {"values": ["/*/*/*", "/?/*/*"]}}]),
     "6 wildcards"),
    ("aws-limits-listener-rules", RULE, listener_rule([{"pathPattern": {"values": ["/" + "a" * 128]}}]),
     "is 129 characters"),
    ("aws-limits-listener-rules", RULE, listener_rule([{"pathPattern": {"values": ["/*"]}}], priority=50001),
     "outside 1-50000"),
]
PASS: list[tuple[str, str, dict[str, Any]]] = [
    ("aws-limits-names", TG, good(TG, name="web-tg-0a1b2c3")),
    ("aws-limits-names", TG, good(TG, namePrefix="web")),
    ("aws-limits-names", SG, good(SG, name="web-sg-0a1b2c3", description="ECS service web")),
    ("aws-limits-names", SG_INGRESS, good(SG_INGRESS, description="ALB to service web")),
    ("aws-limits-names", BUCKET, {"bucket": "alb-logs-0a1b2c3"}),
    ("aws-limits-names", TD, task_def(family="ecs-platform-dev-web")),
    ("aws-limits-names", TD, {"family": "t", "containerDefinitions": "not json"}),  # other rules report that
    ("aws-limits-schedule-expressions", SCHEDULE, schedule("cron(0 3 * * ? *)")),
    ("aws-limits-schedule-expressions", SCHEDULE, schedule("at(2026-12-01T03:00:00)")),
    ("aws-limits-schedule-expressions", EVENT_RULE, {"scheduleExpression": "rate(5 minutes)"}),
    ("aws-limits-tags", SG, good(SG, tags={"reason": "approved, by platform (PLAT-1)"})),  # EC2 takes any characters
    ("aws-limits-tags", SVC, good(SVC, tags={f"k{i}": "v" for i in range(50)})),
    ("aws-limits-tags", "pulumi:providers:aws", {"defaultTags": "{}", "tags": {"aws:x": "y"}}),
    ("aws-limits-task-definitions", TD, task_def([container(portMappings=[{"containerPort": 80, "hostPort": 0}])],
                                                 networkMode="bridge")),
    ("aws-limits-task-definitions", TD, task_def([container(environment=[{"name": "BIG", "value": "x" * 131067}])])),
    ("aws-limits-ecs-networking", SVC, good(SVC)),
    ("aws-limits-listener-rules", RULE, listener_rule([{"pathPattern": {"values": ["/api/*", "/v1/*"]}},
                                                       {"hostHeader": {"values": ["api.example.com"]}}])),
]


@pytest.mark.parametrize(("policy", "rtype", "props", "expected"), FAIL, ids=[f"{c[0]}-{i}" for i, c in enumerate(FAIL)])
def test_fails(analyzer: Analyzer, policy: str, rtype: str, props: dict[str, Any], expected: str) -> None:
    messages = hits(analyzer, rtype, props, policy)
    assert any(expected in m for m in messages), messages


@pytest.mark.parametrize(("policy", "rtype", "props"), PASS, ids=[f"{c[0]}-{i}" for i, c in enumerate(PASS)])
def test_passes(analyzer: Analyzer, policy: str, rtype: str, props: dict[str, Any]) -> None:
    assert hits(analyzer, rtype, props, policy) == []


def test_every_rule_has_fail_and_pass_cases() -> None:
    resource_rules = {name for name, r in RULES.items() if not r.stack}
    assert resource_rules - {c[0] for c in FAIL} == set()
    assert resource_rules - {c[0] for c in PASS} == set()


def test_exemption_tags_cannot_silence_what_aws_refuses(analyzer: Analyzer) -> None:
    tags = {"ecs-guardrails:exempt": "aws-limits-names", "ecs-guardrails:reason": "we know"}
    assert hits(analyzer, SG, good(SG, name="sg-web", tags=tags), "aws-limits-names")
    assert all(not r.exemptible for r in RULES.values())


def test_unknown_values_are_never_violations(analyzer: Analyzer) -> None:
    for rtype, props in [(TG, good(TG, name=UNKNOWN)), (SCHEDULE, schedule(UNKNOWN)), (SVC, good(SVC, tags=UNKNOWN)),
                         (TD, task_def(containerDefinitions=UNKNOWN)), (RULE, listener_rule(UNKNOWN))]:
        diags = analyzer.analyze(rtype, props, remediate=False)
        assert not [d for d in diags if d.policy.startswith("aws-limits-") and d.level == "mandatory"], diags


# ---- counts: at the quota passes, one more fails ----------------------------------------------------------

Builder = Callable[[int], tuple[str, dict[str, Any]]]
BOUNDARIES: dict[str, tuple[str, Builder]] = {
    "ecs-target-groups-per-service": ("aws-limits-ecs-networking", lambda n: (SVC, good(SVC, loadBalancers=[
        {"targetGroupArn": f"arn:tg{i}", "containerName": "web", "containerPort": 8080} for i in range(n)]))),
    "ecs-security-groups-per-awsvpc-configuration": ("aws-limits-ecs-networking", lambda n: (SVC, good(
        SVC, networkConfiguration={"subnets": ["s"], "securityGroups": [f"sg-{i}" for i in range(n)]}))),
    "ecs-subnets-per-awsvpc-configuration": ("aws-limits-ecs-networking", lambda n: (SVC, good(
        SVC, networkConfiguration={"subnets": [f"s{i}" for i in range(n)]}))),
    "ecs-capacity-providers-per-strategy": ("aws-limits-ecs-networking", lambda n: (SVC, good(
        SVC, capacityProviderStrategies=[{"capacityProvider": f"cp{i}", "weight": 1} for i in range(n)]))),
    "scheduler-capacity-providers-per-strategy": ("aws-limits-ecs-networking", lambda n: (SCHEDULE, schedule(
        "rate(1 hour)", capacityProviderStrategies=[{"capacityProvider": f"cp{i}"} for i in range(n)]))),
    "ecs-placement-strategies-per-service": ("aws-limits-ecs-networking", lambda n: (SVC, good(
        SVC, orderedPlacementStrategies=[{"type": "spread", "field": f"attribute:a{i}"} for i in range(n)]))),
    "ecs-placement-constraints-per-task": ("aws-limits-task-definitions", lambda n: (TD, task_def(
        placementConstraints=[{"type": "memberOf", "expression": f"attribute:a{i} exists"} for i in range(n)]))),
    "ecs-port-ranges-per-container": ("aws-limits-task-definitions", lambda n: (TD, task_def([container(portMappings=[
        {"containerPortRange": f"{10000 + 2 * i}-{10001 + 2 * i}"} for i in range(n)])]))),
    "ecs-environment-files-per-container": ("aws-limits-task-definitions", lambda n: (TD, task_def([container(
        environmentFiles=[{"type": "s3", "value": f"arn:aws:s3:::b/{i}.env"} for i in range(n)])]))),
    "container-environment-variable-bytes": ("aws-limits-task-definitions", lambda n: (TD, task_def([container(
        environment=[{"name": "V", "value": "x" * (n - len("V=") - 1)}])]))),
    "alb-condition-values-per-rule": ("aws-limits-listener-rules", lambda n: (RULE, listener_rule(
        [{"pathPattern": {"values": [f"/p{i}" for i in range(n)]}}]))),
    "alb-condition-wildcards-per-rule": ("aws-limits-listener-rules", lambda n: (RULE, listener_rule(
        [{"pathPattern": {"values": ["/" + "*" * n]}}]))),
    "alb-condition-value-length": ("aws-limits-listener-rules", lambda n: (RULE, listener_rule(
        [{"pathPattern": {"values": ["/" + "a" * (n - 1)]}}]))),
    "alb-target-groups-per-action": ("aws-limits-listener-rules", lambda n: (RULE, listener_rule(
        [{"pathPattern": {"values": ["/*"]}}], actions=[{"type": "forward", "forward": {"targetGroups": [
            {"arn": f"arn:tg{i}", "weight": 1} for i in range(n)]}}]))),
    "alb-listener-rule-priority": ("aws-limits-listener-rules", lambda n: (RULE, listener_rule(
        [{"pathPattern": {"values": ["/*"]}}], priority=n))),
}
# Enforced elsewhere: the containers per task definition by ecs-task-max-containers (and the config); the
# rules per load balancer by the stack rule below.
ELSEWHERE = {"ecs-containers-per-task-definition", "alb-rules-per-load-balancer"}


def test_every_quota_the_pack_reads_has_a_boundary_test() -> None:
    assert set(pack_limits.QUOTAS) == set(BOUNDARIES) | ELSEWHERE


@pytest.mark.parametrize("quota_id", sorted(BOUNDARIES))
def test_quota_boundary(analyzer: Analyzer, quota_id: str) -> None:
    policy, build = BOUNDARIES[quota_id]
    limit = pack_limits.QUOTAS[quota_id]
    assert hits(analyzer, *build(limit), policy) == [], quota_id
    assert hits(analyzer, *build(limit + 1), policy), quota_id


# ---- rules per load balancer (stack) ----------------------------------------------------------------------

def lb_graph(rules: int) -> list[StackResource]:
    """One ALB, one listener, `rules` listener rules (preview form: references through property dependencies)."""
    lb, listener = urn_of(LB, "alb"), urn_of(LISTENER, "http")
    out = [StackResource(LB, "alb", good(LB), urn=lb),
           StackResource(LISTENER, "http", good(LISTENER, loadBalancerArn=UNKNOWN), urn=listener,
                         property_dependencies={"loadBalancerArn": [lb]})]
    out += [StackResource(RULE, f"r{i}", listener_rule([{"pathPattern": {"values": [f"/{i}/*"]}}], priority=i + 1,
                                                       listenerArn=UNKNOWN),
                          property_dependencies={"listenerArn": [listener]}) for i in range(rules)]
    return out


def test_rules_per_load_balancer(analyzer: Analyzer) -> None:
    def found(diags: list) -> list:
        return [d for d in diags if d.policy == "aws-limits-rules-per-load-balancer"]

    assert found(analyzer.analyze_stack(lb_graph(100))) == []
    over = found(analyzer.analyze_stack(lb_graph(101)))
    assert len(over) == 1 and over[0].level == "mandatory" and "has 101 listener rules" in over[0].message
    assert over[0].urn == urn_of(LB, "alb")
    raised = Analyzer({"aws-limits-rules-per-load-balancer": {"maxRulesPerLoadBalancer": 200}})
    assert found(raised.analyze_stack(lb_graph(101))) == []


# ---- the pack's copy and checks agree with the catalogue --------------------------------------------------

def test_the_pack_reads_the_catalogue_as_generated() -> None:
    assert json.loads(json.dumps(aws_limits.pack_copy())) == pack_limits.LIMITS


@pytest.mark.parametrize("rule_id", sorted(aws_limits.catalogue().names))
def test_pack_names_check_agrees_with_the_catalogue(rule_id: str) -> None:
    rule = aws_limits.catalogue().names[rule_id]
    limits = {limit for where in rule.resources for path, limit in pack_limits.NAMES[where.type] if path == where.property}
    assert len(limits) == 1
    limit = limits.pop()
    for value in (*rule.valid, *rule.invalid, "x" * (rule.max + 1), ""):
        assert limit.problems(value) == rule.problems(value), value


@pytest.mark.parametrize("expression", [*aws_limits.catalogue().schedules.valid, *aws_limits.catalogue().schedules.invalid])
def test_pack_schedule_check_agrees_with_the_catalogue_on_its_examples(expression: str) -> None:
    assert bool(pack_limits.schedule_problems(expression, ("at", "rate", "cron"))) == bool(
        aws_limits.schedule_problems(expression))


CRON_TOKENS = ["*", "?", "0", "1", "5", "7", "12", "15", "23", "31", "32", "59", "60", "1970", "2199", "L", "W", "LW",
               "5L", "15W", "3#2", "2#6", "MON", "jan", "FOO", "1-5", "MON-FRI", "0/15", "*/5", "1/0", "L-2", "1,3", ""]


@settings(deadline=None, derandomize=True, database=None, max_examples=400, suppress_health_check=list(HealthCheck))
@given(fields=st.lists(st.sampled_from(CRON_TOKENS), min_size=5, max_size=7),
       rate=st.tuples(st.integers(0, 3), st.sampled_from(["minute", "minutes", "hour", "days", "weeks"])))
def test_pack_and_catalogue_schedule_checks_agree(fields: list[str], rate: tuple[int, str]) -> None:
    for expression in (f"cron({' '.join(fields)})", f"rate({rate[0]} {rate[1]})"):
        for kinds in (("at", "rate", "cron"), ("rate", "cron")):
            assert bool(pack_limits.schedule_problems(expression, kinds)) == bool(
                aws_limits.schedule_problems(expression, kinds)), expression


def test_the_stacks_resources_pass(analyzer: Analyzer) -> None:
    """The fixtures' compliant resources are ones AWS takes (no aws-limits finding on any of them)."""
    from pack_fixtures import GOOD

    for rtype in GOOD:
        diags = analyzer.analyze(rtype, good(rtype), remediate=False)
        assert not [d for d in diags if d.policy.startswith("aws-limits-")], (rtype, diags)
    assert "aws-limits-names" in names(analyzer.analyze(TG, good(TG, name="-tg"), remediate=False))


def test_count_quotas_skip_a_list_unknown_at_preview_and_count_a_known_one() -> None:
    """A limit rule guards a deploy AWS would refuse, not an unsafe one: a list wholly unknown at preview
    (subnets from a VPC being created) neither defers nor passes as counted; a known list is counted."""
    a = Analyzer()
    unknown = a.analyze(SVC, good(SVC, networkConfiguration={"subnets": UNKNOWN, "securityGroups": ["sg-1"]}))
    assert not [d for d in unknown if d.policy == "aws-limits-ecs-networking"]
    known = a.analyze(SVC, good(SVC, networkConfiguration={"subnets": [f"subnet-{i}" for i in range(17)]}))
    assert "aws-limits-ecs-networking" in names(known, "mandatory")
