"""A stack shaped like the contract (/tmp/ecs-contract.md) passes every mandatory policy with the dev and prod
configs, resource by resource (Remediate + Analyze) and as a stack (AnalyzeStack), in preview form."""

from __future__ import annotations

import json

import pytest
from pack_driver import UNKNOWN, StackResource, urn_of
from pack_fixtures import (
    ALB,
    ASG,
    CLUSTER,
    CP,
    LG,
    LISTENER,
    LT,
    ROLE,
    RULE,
    SG,
    SG_INGRESS,
    SVC,
    TD,
    TG,
    good,
    task_def,
)
from pack_fixtures import container as base_container


def trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def contract_stack(env: str) -> list[StackResource]:
    def r(rtype: str, name: str, props: dict, **deps: list[tuple[str, str]]) -> StackResource:
        return StackResource(
            rtype,
            name,
            props,
            urn=urn_of(rtype, name, env),
            property_dependencies={k: [urn_of(t, n, env) for t, n in v] for k, v in deps.items()},
        )

    prod = env == "prod"
    listeners = [
        r(
            LISTENER,
            "http",
            {
                "loadBalancerArn": UNKNOWN,
                "port": 80,
                "protocol": "HTTP",
                "defaultActions": [
                    {
                        "type": "redirect",
                        "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
                    }
                    if prod
                    else {
                        "type": "fixed-response",
                        "fixedResponse": {"contentType": "text/plain", "statusCode": "404"},
                    }
                ],
            },
            loadBalancerArn=[(ALB, "alb")],
        )
    ]
    if prod:
        listeners.append(
            r(
                LISTENER,
                "https",
                good(
                    LISTENER,
                    loadBalancerArn=UNKNOWN,
                    defaultActions=[
                        {
                            "type": "fixed-response",
                            "fixedResponse": {"contentType": "text/plain", "statusCode": "404"},
                        }
                    ],
                ),
                loadBalancerArn=[(ALB, "alb")],
            )
        )
    front = "https" if prod else "http"
    td = task_def(
        [
            base_container(
                logConfiguration={
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": f"/ecs/{env}/web",
                        "awslogs-region": "eu-west-1",
                        "awslogs-stream-prefix": "web",
                    },
                }
            )
        ],
        executionRoleArn=UNKNOWN,
        taskRoleArn=UNKNOWN,
    )
    svc = good(
        SVC,
        cluster=UNKNOWN,
        taskDefinition=UNKNOWN,
        loadBalancers=[{"targetGroupArn": UNKNOWN, "containerName": "web", "containerPort": 8080}],
        capacityProviderStrategies=[{"capacityProvider": UNKNOWN, "weight": 1, "base": 0}],
        networkConfiguration={
            "subnets": [UNKNOWN, UNKNOWN],
            "securityGroups": [UNKNOWN],
            "assignPublicIp": False,
        },
        tags={"Name": "web"},
    )
    return [
        r(CLUSTER, "cluster", good(CLUSTER)),
        r(ROLE, "instance-role", {"assumeRolePolicy": trust("ec2.amazonaws.com")}),
        r(ROLE, "exec-role", {"assumeRolePolicy": trust("ecs-tasks.amazonaws.com")}),
        r(ROLE, "task-role", {"assumeRolePolicy": trust("ecs-tasks.amazonaws.com")}),
        r(
            SG,
            "instance-sg",
            {
                "vpcId": UNKNOWN,
                "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
            },
        ),
        r(
            LT,
            "lt",
            good(
                LT,
                iamInstanceProfile={"arn": UNKNOWN},
                networkInterfaces=[{"associatePublicIpAddress": "false", "securityGroups": [UNKNOWN]}],
            ),
            networkInterfaces=[(SG, "instance-sg")],
        ),
        r(
            ASG,
            "asg",
            good(
                ASG,
                launchTemplate={"id": UNKNOWN, "version": "$Latest"},
                vpcZoneIdentifiers=[UNKNOWN, UNKNOWN],
            ),
            launchTemplate=[(LT, "lt")],
        ),
        r(
            CP,
            "cp",
            good(
                CP,
                autoScalingGroupProvider={
                    **good(CP)["autoScalingGroupProvider"],
                    "autoScalingGroupArn": UNKNOWN,
                },
            ),
            autoScalingGroupProvider=[(ASG, "asg")],
        ),
        r(
            SG,
            "alb-sg",
            {
                "vpcId": UNKNOWN,
                "ingress": [
                    {"protocol": "tcp", "fromPort": p, "toPort": p, "cidrBlocks": ["0.0.0.0/0"]}
                    for p in (80, 443)
                ],
            },
        ),
        r(
            ALB,
            "alb",
            good(
                "aws:lb/loadBalancer:LoadBalancer",
                securityGroups=[UNKNOWN],
                subnets=[UNKNOWN, UNKNOWN],
                enableDeletionProtection=prod,
                accessLogs=None,
            ),
            securityGroups=[(SG, "alb-sg")],
        ),
        *listeners,
        r(
            LG,
            "web-logs",
            good(LG, name=f"/ecs/{env}/web", retentionInDays=90 if prod else 14, kmsKeyId=None),
        ),
        r(TG, "web-tg", good(TG, vpcId=UNKNOWN)),
        r(
            RULE,
            "web-rule",
            {
                "listenerArn": UNKNOWN,
                "priority": 100,
                "actions": [{"type": "forward", "targetGroupArn": UNKNOWN}],
                "conditions": [{"pathPattern": {"values": ["/*"]}}],
            },
            listenerArn=[(LISTENER, front)],
            actions=[(TG, "web-tg")],
        ),
        r(SG, "svc-sg", {"vpcId": UNKNOWN}),
        r(
            SG_INGRESS,
            "svc-from-alb",
            {
                "securityGroupId": UNKNOWN,
                "referencedSecurityGroupId": UNKNOWN,
                "ipProtocol": "tcp",
                "fromPort": 8080,
                "toPort": 8080,
            },
            securityGroupId=[(SG, "svc-sg")],
            referencedSecurityGroupId=[(SG, "alb-sg")],
        ),
        r(TD, "web-td", td, executionRoleArn=[(ROLE, "exec-role")], taskRoleArn=[(ROLE, "task-role")]),
        r(
            SVC,
            "web",
            svc,
            loadBalancers=[(TG, "web-tg")],
            networkConfiguration=[(SG, "svc-sg")],
            taskDefinition=[(TD, "web-td")],
            cluster=[(CLUSTER, "cluster")],
        ),
    ]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_contract_stack_passes_mandatory(env, dev, prod):
    analyzer = dev if env == "dev" else prod
    resources = contract_stack(env)
    mandatory = []
    for res in resources:
        mandatory += [
            d for d in analyzer.analyze(res.type, res.props, name=res.name) if d.level == "mandatory"
        ]
    mandatory += [d for d in analyzer.analyze_stack(resources) if d.level == "mandatory"]
    assert mandatory == []


def test_contract_stack_in_prod_fails_with_dev_shapes(prod):
    resources = contract_stack("dev")
    diags = [d for res in resources for d in prod.analyze(res.type, res.props, name=res.name)]
    failing = {d.policy for d in diags if d.level == "mandatory"}
    assert {"lb-deletion-protection", "log-group-retention"} <= failing
