"""Stack-level rules over a realistic ALB -> ECS service graph, as preview (unknown ids, property
dependencies) and as update (known ids, no dependencies)."""

from __future__ import annotations

import json

from pack_driver import UNKNOWN, Analyzer, StackResource, urn_of
from pack_fixtures import (
    LB,
    LG,
    LISTENER,
    LT,
    RULE,
    SG,
    SG_INGRESS,
    SG_RULE,
    SVC,
    TD,
    TG,
    WAF_ASSOCIATION,
    container,
    good,
    names,
    task_def,
)

STACK_POLICIES = {
    "ecs-capacity-provider-asg-scale-in-protection",
    "ecs-service-target-group-routed",
    "ecs-lb-reaches-service-port",
    "ecs-log-group-managed",
    "sg-public-ingress-only-on-load-balancers",
    "lb-listener-rule-priority-unique",
    "lb-alb-waf",
    "iam-ecs-task-role-no-admin",
}


def u(rtype: str, name: str) -> str:
    return urn_of(rtype, name)


def res(rtype: str, name: str, props: dict, deps: dict | None = None, ids: bool = False) -> StackResource:
    """deps: {prop: [(type, name)]}; preview form sets those props UNKNOWN, update form sets their ids."""
    props = dict(props)
    pdeps = {prop: [u(t, n) for t, n in targets] for prop, targets in (deps or {}).items()}
    if ids:
        props["id"] = f"id-{name}"
        props["arn"] = f"arn-{name}"
    return StackResource(rtype, name, props, property_dependencies={} if ids else pdeps)


def graph(
    preview: bool = True,
    *,
    ingress_port: int = 8080,
    bridge: bool = False,
    routed: bool = True,
    log_group: bool = True,
    svc_public: bool = False,
    svc_tags: dict | None = None,
) -> list[StackResource]:
    def ref(name: str) -> str:
        return UNKNOWN if preview else f"id-{name}"

    def arn(name: str) -> str:
        return UNKNOWN if preview else f"arn-{name}"

    ids = not preview
    out = [
        res(
            SG,
            "alb-sg",
            {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]},
            ids=ids,
        ),
        res(
            LB, "alb", good(LB, securityGroups=[ref("alb-sg")]), {"securityGroups": [(SG, "alb-sg")]}, ids=ids
        ),
        res(
            LISTENER,
            "https",
            good(
                LISTENER,
                loadBalancerArn=arn("alb"),
                defaultActions=[
                    {
                        "type": "fixed-response",
                        "fixedResponse": {"contentType": "text/plain", "statusCode": "404"},
                    }
                ],
            ),
            {"loadBalancerArn": [(LB, "alb")]},
            ids=ids,
        ),
        res(
            WAF_ASSOCIATION,
            "alb-waf",
            {"webAclArn": "arn:aws:wafv2:eu-west-1:1:regional/webacl/edge/1", "resourceArn": arn("alb")},
            {"resourceArn": [(LB, "alb")]},
            ids=ids,
        ),
        res(TG, "web-tg", good(TG), ids=ids),
        res(
            SG,
            "svc-sg",
            {"ingress": [{"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": ["0.0.0.0/0"]}]}
            if svc_public
            else {},
            ids=ids,
        ),
        res(LG, "web-logs", good(LG), ids=ids)
        if log_group
        else res(LG, "other", good(LG, name="/ecs/other")),
    ]
    if routed:
        out.append(
            res(
                RULE,
                "web-rule",
                {
                    "listenerArn": arn("https"),
                    "priority": 10,
                    "actions": [{"type": "forward", "targetGroupArn": arn("web-tg")}],
                    "conditions": [{"pathPattern": {"values": ["/*"]}}],
                },
                {"listenerArn": [(LISTENER, "https")], "actions": [(TG, "web-tg")]},
                ids=ids,
            )
        )
    if bridge:
        td = task_def(
            [container(portMappings=[{"containerPort": 8080, "hostPort": 0}])], networkMode="bridge"
        )
        out += [
            res(SG, "inst-sg", {}, ids=ids),
            res(
                LT,
                "lt",
                good(LT, networkInterfaces=None, vpcSecurityGroupIds=[ref("inst-sg")]),
                {"vpcSecurityGroupIds": [(SG, "inst-sg")]},
                ids=ids,
            ),
            res(
                SG_RULE,
                "inst-from-alb",
                {
                    "type": "ingress",
                    "protocol": "tcp",
                    "fromPort": 32768,
                    "toPort": 65535 if ingress_port == 8080 else ingress_port,
                    "securityGroupId": ref("inst-sg"),
                    "sourceSecurityGroupId": ref("alb-sg"),
                },
                {"securityGroupId": [(SG, "inst-sg")], "sourceSecurityGroupId": [(SG, "alb-sg")]},
                ids=ids,
            ),
        ]
        svc = good(SVC, networkConfiguration=None)
        svc_deps = {"loadBalancers": [(TG, "web-tg")], "taskDefinition": [(TD, "web-td")]}
    else:
        td = task_def()
        out.append(
            res(
                SG_INGRESS,
                "svc-from-alb",
                {
                    "securityGroupId": ref("svc-sg"),
                    "ipProtocol": "tcp",
                    "fromPort": ingress_port,
                    "toPort": ingress_port,
                    "referencedSecurityGroupId": ref("alb-sg"),
                },
                {"securityGroupId": [(SG, "svc-sg")], "referencedSecurityGroupId": [(SG, "alb-sg")]},
                ids=ids,
            )
        )
        svc = good(
            SVC,
            networkConfiguration={
                "subnets": ["s-1", "s-2"],
                "securityGroups": [ref("svc-sg")],
                "assignPublicIp": False,
            },
        )
        svc_deps = {
            "loadBalancers": [(TG, "web-tg")],
            "networkConfiguration": [(SG, "svc-sg")],
            "taskDefinition": [(TD, "web-td")],
        }
    svc["loadBalancers"] = [{"targetGroupArn": arn("web-tg"), "containerName": "web", "containerPort": 8080}]
    svc["taskDefinition"] = arn("web-td")
    if svc_tags:
        svc["tags"] = svc_tags
    out += [res(TD, "web-td", td, ids=ids), res(SVC, "web", svc, svc_deps, ids=ids)]
    return out


def stack_names(analyzer, resources, level="mandatory"):
    return names(analyzer.analyze_stack(resources), level) & (
        STACK_POLICIES | {"ecs-guardrails-stack-exemptions"}
    )


def test_good_graph_preview_and_update(analyzer):
    for preview in (True, False):
        assert analyzer.analyze_stack(graph(preview)) == [], preview
        assert analyzer.analyze_stack(graph(preview, bridge=True)) == [], preview


def test_unrouted_target_group(analyzer):
    for preview in (True, False):
        assert "ecs-service-target-group-routed" in stack_names(analyzer, graph(preview, routed=False))


def test_lb_cannot_reach_container_port(analyzer):
    for preview in (True, False):
        diags = analyzer.analyze_stack(graph(preview, ingress_port=80))
        msg = next(d.message for d in diags if d.policy == "ecs-lb-reaches-service-port")
        assert (
            "port 8080" in msg
            and "alb-sg" in msg
            and d_urn(diags, "ecs-lb-reaches-service-port").endswith("::web")
        )


def d_urn(diags, policy):
    return next(d.urn for d in diags if d.policy == policy)


def test_bridge_needs_ephemeral_range(analyzer):
    diags = analyzer.analyze_stack(graph(True, bridge=True, ingress_port=40000))
    msg = next(d.message for d in diags if d.policy == "ecs-lb-reaches-service-port")
    assert "32768-65535" in msg and "container instances" in msg


def test_log_group_not_managed(analyzer):
    assert "ecs-log-group-managed" in stack_names(analyzer, graph(log_group=False))
    a = Analyzer({"ecs-log-group-managed": {"externalLogGroups": ["/ecs/*"]}})
    assert "ecs-log-group-managed" not in stack_names(a, graph(log_group=False))


def test_log_group_unknown_name_is_not_mandatory(analyzer):
    resources = graph(log_group=False)
    resources.append(StackResource(LG, "auto", {"name": UNKNOWN, "retentionInDays": 30}))
    diags = analyzer.analyze_stack(resources)
    assert [d.level for d in diags if d.policy == "ecs-log-group-managed"] == ["advisory"]


def test_public_sg_on_service(analyzer):
    assert "sg-public-ingress-only-on-load-balancers" in stack_names(analyzer, graph(svc_public=True))


def test_duplicate_listener_rule_priority(analyzer):
    resources = graph()
    rule = next(r for r in resources if r.name == "web-rule")
    resources.append(
        StackResource(
            RULE, "api-rule", dict(rule.props), property_dependencies=dict(rule.property_dependencies)
        )
    )
    assert "lb-listener-rule-priority-unique" in stack_names(analyzer, resources)


def test_stack_exemption_becomes_advisory():
    # A mandatory stack rule is exemptable only when the organisation lists it (governance, see
    # test_pack_exemptions_remediation.py); the engine analyses a resource before AnalyzeStack.
    a = Analyzer(
        {
            "ecs-guardrails-exemption-reason": {
                "exemptable": ["ecs-service-load-balancer-required", "ecs-service-target-group-routed"]
            }
        }
    )
    a.analyze(SVC, good(SVC))
    tags = {
        "ecs-guardrails:exempt": "ecs-service-target-group-routed",
        "ecs-guardrails:reason": "blue/green spare",
    }
    diags = a.analyze_stack(graph(routed=False, svc_tags=tags))
    assert names(diags, "mandatory") == set()
    note = [d for d in diags if d.policy == "ecs-guardrails-stack-exemptions"]
    assert note and note[0].level == "advisory" and "blue/green spare" in note[0].message


def test_stack_with_garbage_never_raises(analyzer):
    junk = [
        StackResource(SVC, "s", {"loadBalancers": "x", "taskDefinition": 5}),
        StackResource(TD, "t", {"containerDefinitions": json.dumps({"a": 1})}),
        StackResource(SG_RULE, "r", {"type": "ingress", "fromPort": "a"}),
        StackResource(LB, "l", {"securityGroups": [None, 3]}),
        StackResource(RULE, "x", {"priority": "p"}),
    ]
    assert names(analyzer.analyze_stack(junk), "mandatory") == set()


def test_capacity_provider_asg_scale_in_protection(analyzer):
    from pack_fixtures import ASG, CP

    for protect, expect in ((True, set()), (False, {"ecs-capacity-provider-asg-scale-in-protection"})):
        cp = good(CP)
        cp["autoScalingGroupProvider"]["autoScalingGroupArn"] = UNKNOWN
        resources = [
            StackResource(ASG, "asg", good(ASG, protectFromScaleIn=protect)),
            StackResource(CP, "cp", cp, property_dependencies={"autoScalingGroupProvider": [u(ASG, "asg")]}),
        ]
        assert stack_names(analyzer, resources) == expect
