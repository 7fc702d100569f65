"""Every resource rule passes a compliant resource and fails a non-compliant one (real servicer)."""

from __future__ import annotations

import json

import pytest
from ecs_guardrails.pack import build_rules
from pack_fixtures import (
    ALB,
    ALB_LISTENER,
    ASG,
    ATTACH,
    CLUSTER,
    CP,
    DAEMON_TD,
    ELB,
    EVENT_TARGET,
    EXPRESS,
    GOOD,
    IAM_POLICY,
    LB,
    LG,
    LISTENER,
    LT,
    PIPE,
    ROLE,
    ROLE_POLICY,
    SCHEDULE,
    SG,
    SG_INGRESS,
    SG_RULE,
    SVC,
    TASK_SET,
    TD,
    TG,
    container,
    good,
    names,
    task_def,
)

W = "arn:aws:iam::1:role/same"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal: object) -> str:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


FAIL = [
    ("ecs-container-resource-limits", TD, task_def([container(cpu=None)], cpu=None)),  # no task-level cpu
    ("ecs-container-resource-limits", TD, task_def([container(memory=None, memoryReservation=None)])),
    ("ecs-container-resource-limits", TD, task_def([container(memory=None)])),  # soft-only
    ("ecs-container-resource-limits", TD, task_def([container(memory=900), container(name="b", memory=900)])),
    ("ecs-container-resource-limits", TD, task_def([container(cpu=8192)], cpu="16384")),
    ("ecs-container-resource-limits", TD, task_def([container(memoryReservation=1024, memory=512)])),
    ("ecs-container-resource-limits", TD, task_def([container(cpu="lots")])),
    ("ecs-container-resource-limits", TD, task_def(cpu="half")),
    ("ecs-container-logging-required", TD, task_def([container(logConfiguration=None)])),
    (
        "ecs-container-logging-required",
        TD,
        task_def([container(logConfiguration={"logDriver": "json-file"})]),
    ),
    (
        "ecs-container-logging-required",
        TD,
        task_def(
            [container(logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}})]
        ),
    ),
    (
        "ecs-task-max-containers",
        TD,
        task_def([container(name=f"c{i}", cpu=10, memory=10) for i in range(11)]),
    ),
    ("ecs-container-no-privileged", TD, task_def([container(privileged=True)])),
    ("ecs-task-no-host-network", TD, task_def(networkMode="host")),
    ("ecs-task-no-host-pid", TD, task_def(pidMode="host")),
    ("ecs-task-no-host-ipc", TD, task_def(ipcMode="host")),
    ("ecs-container-non-root-user", TD, task_def([container(user=None)])),
    ("ecs-container-non-root-user", TD, task_def([container(user="0:0")])),
    ("ecs-container-readonly-root-fs", TD, task_def([container(readonlyRootFilesystem=None)])),
    (
        "ecs-container-no-plaintext-secrets",
        TD,
        task_def([container(environment=[{"name": "DB_PASSWORD", "value": "hunter2"}])]),
    ),
    (
        "ecs-container-no-plaintext-secrets",
        TD,
        task_def([container(environment=[{"name": "X", "value": "AKIAABCDEFGHIJKLMNOP"}])]),
    ),
    ("ecs-container-image-pinned", TD, task_def([container(image="httpd")])),
    ("ecs-container-image-pinned", TD, task_def([container(image="public.ecr.aws/nginx/nginx:latest")])),
    ("ecs-container-image-registry", TD, task_def([container(image="nginx:1.27")])),
    ("ecs-container-image-registry", TD, task_def([container(image="ghcr.io/acme/web:1.0")])),
    ("ecs-task-separate-roles", TD, task_def(executionRoleArn=W, taskRoleArn=W)),
    ("ecs-bridge-dynamic-host-ports", TD, task_def(networkMode="bridge")),
    (
        "ecs-task-efs-transit-encryption",
        TD,
        task_def(
            volumes=[
                {
                    "name": "data",
                    "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "DISABLED"},
                }
            ]
        ),
    ),
    ("ecs-service-load-balancer-required", SVC, good(SVC, loadBalancers=None)),
    (
        "ecs-service-load-balancer-required",
        SVC,
        good(SVC, loadBalancers=[{"elbName": "classic", "containerName": "web", "containerPort": 80}]),
    ),
    ("ecs-service-load-balancer-required", SVC, good(SVC, loadBalancers=[{"targetGroupArn": "arn:tg"}])),
    (
        "ecs-service-no-public-ip",
        SVC,
        good(SVC, networkConfiguration={"subnets": ["s"], "assignPublicIp": True}),
    ),
    ("ecs-service-circuit-breaker", SVC, good(SVC, deploymentCircuitBreaker=None)),
    (
        "ecs-service-circuit-breaker",
        SVC,
        good(SVC, deploymentCircuitBreaker={"enable": True, "rollback": False}),
    ),
    ("ecs-service-capacity-provider-strategy", SVC, good(SVC, launchType="EC2")),
    ("ecs-service-capacity-provider-strategy", SVC, good(SVC, capacityProviderStrategies=None)),
    ("ecs-service-health-check-grace-period", SVC, good(SVC, healthCheckGracePeriodSeconds=None)),
    ("ecs-cluster-container-insights", CLUSTER, good(CLUSTER, settings=None)),
    (
        "ecs-cluster-container-insights",
        CLUSTER,
        good(CLUSTER, settings=[{"name": "containerInsights", "value": "disabled"}]),
    ),
    (
        "ecs-capacity-provider-managed-scaling",
        CP,
        {"autoScalingGroupProvider": {"autoScalingGroupArn": "a", "managedTerminationProtection": "ENABLED"}},
    ),
    (
        "ecs-capacity-provider-termination-protection",
        CP,
        {"autoScalingGroupProvider": {"autoScalingGroupArn": "a", "managedScaling": {"status": "ENABLED"}}},
    ),
    (
        "ecs-capacity-provider-managed-draining",
        CP,
        {"autoScalingGroupProvider": {"autoScalingGroupArn": "a", "managedDraining": "DISABLED"}},
    ),
    ("lb-no-classic-elb", ELB, {"listeners": [{"instancePort": 80, "lbPort": 80}]}),
    ("lb-drop-invalid-headers", LB, good(LB, dropInvalidHeaderFields=None)),
    ("lb-drop-invalid-headers", ALB, good(LB, dropInvalidHeaderFields=False)),
    ("lb-deletion-protection", LB, good(LB, enableDeletionProtection=False)),
    ("lb-deletion-protection", ALB, good(LB, enableDeletionProtection=None)),
    ("lb-access-logs", LB, good(LB, accessLogs=None)),
    ("lb-access-logs", ALB, good(LB, accessLogs={"bucket": "b", "enabled": False})),
    ("lb-desync-mitigation", LB, good(LB, desyncMitigationMode="monitor")),
    (
        "lb-http-redirects-to-https",
        LISTENER,
        {"protocol": "HTTP", "port": 80, "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}]},
    ),
    (
        "lb-http-redirects-to-https",
        ALB_LISTENER,
        {
            "protocol": "HTTP",
            "port": 80,
            "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTP", "port": "8080"}}],
        },
    ),
    ("lb-https-tls-policy", LISTENER, good(LISTENER, sslPolicy="ELBSecurityPolicy-2016-08")),
    ("lb-https-tls-policy", ALB_LISTENER, good(LISTENER, sslPolicy=None)),
    ("lb-target-group-health-check", TG, good(TG, healthCheck={"enabled": False})),
    ("lb-target-group-health-check", TG, good(TG, healthCheck=None)),
    ("ec2-launch-template-imdsv2", LT, good(LT, metadataOptions={"httpTokens": "optional"})),
    ("ec2-launch-template-imdsv2", LT, good(LT, metadataOptions=None)),
    (
        "ec2-launch-template-imdsv2",
        LT,
        good(LT, metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 5}),
    ),
    (
        "ec2-launch-template-no-public-ip",
        LT,
        good(LT, networkInterfaces=[{"associatePublicIpAddress": "true"}]),
    ),
    (
        "ec2-launch-template-ebs-encrypted",
        LT,
        good(LT, blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 30}}]),
    ),
    ("ec2-launch-template-instance-profile", LT, good(LT, iamInstanceProfile=None)),
    ("asg-launch-template", ASG, good(ASG, launchTemplate=None)),
    ("asg-launch-template", ASG, good(ASG, launchTemplate=None, launchConfiguration="lc-1")),
    ("asg-multi-az", ASG, good(ASG, vpcZoneIdentifiers=["subnet-a"])),
    ("log-group-retention", LG, good(LG, retentionInDays=None)),
    ("log-group-retention", LG, good(LG, retentionInDays=3)),
    ("log-group-retention", LG, good(LG, retentionInDays="forever")),
    ("log-group-kms", LG, good(LG, kmsKeyId=None)),
    (
        "iam-no-admin-statements",
        IAM_POLICY,
        {"policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
    ),
    (
        "iam-no-admin-statements",
        ROLE_POLICY,
        {"role": "r", "policy": doc({"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]})},
    ),
    (
        "iam-no-admin-statements",
        ROLE,
        good(
            ROLE,
            inlinePolicies=[
                {"name": "admin", "policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})}
            ],
        ),
    ),
    (
        "iam-no-admin-statements",
        ATTACH,
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    ),
    ("iam-no-admin-statements", IAM_POLICY, {"policy": "{not json"}),
    ("iam-trust-policy-specific-principals", ROLE, {"assumeRolePolicy": trust("*")}),
    ("iam-trust-policy-specific-principals", ROLE, {"assumeRolePolicy": trust({"AWS": "*"})}),
    ("iam-trust-policy-specific-principals", ROLE, {"assumeRolePolicy": "nope"}),
    (
        "sg-no-admin-ports-from-internet",
        SG,
        {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]},
    ),
    (
        "sg-no-admin-ports-from-internet",
        SG_RULE,
        {
            "type": "ingress",
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
            "securityGroupId": "sg",
        },
    ),
    (
        "sg-no-admin-ports-from-internet",
        SG_INGRESS,
        {"securityGroupId": "sg", "ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "cidrIpv6": "::/0"},
    ),
    (
        "sg-no-public-ingress",
        SG,
        {"ingress": [{"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "ipv6CidrBlocks": ["::/0"]}]},
    ),
    (
        "sg-no-public-ingress",
        SG_RULE,
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 0,
            "toPort": 65535,
            "cidrBlocks": ["0.0.0.0/0"],
            "securityGroupId": "sg",
        },
    ),
    (
        "sg-no-public-ingress",
        SG_INGRESS,
        {"securityGroupId": "sg", "ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"},
    ),
]

FAIL += [
    ("ecs-service-no-public-ip", TASK_SET, good(TASK_SET, networkConfiguration={"subnets": ["s"], "assignPublicIp": True})),
    ("ecs-service-load-balancer-required", TASK_SET, good(TASK_SET, loadBalancers=None)),
    ("ecs-service-capacity-provider-strategy", TASK_SET, good(TASK_SET, launchType="EC2", capacityProviderStrategies=None)),
    ("ecs-service-ebs-encrypted", SVC, good(SVC, volumeConfiguration={"name": "data", "managedEbsVolume": {"sizeInGb": 20}})),
    (
        "ecs-run-task-no-public-ip",
        EVENT_TARGET,
        good(
            EVENT_TARGET,
            ecsTarget={**GOOD[EVENT_TARGET]["ecsTarget"], "networkConfiguration": {"subnets": ["s"], "assignPublicIp": True}},
        ),
    ),
    (
        "ecs-run-task-capacity-provider-strategy",
        SCHEDULE,
        good(SCHEDULE, target={"arn": "arn:c", "ecsParameters": {"taskDefinitionArn": "arn:td", "launchType": "EC2"}}),
    ),
    (
        "ecs-fargate-platform-version",
        PIPE,
        good(PIPE, targetParameters={"ecsTaskParameters": {"launchType": "FARGATE", "platformVersion": "1.3.0"}}),
    ),
    ("ecs-cluster-exec-logging", CLUSTER, good(CLUSTER, configuration={"executeCommandConfiguration": {"logging": "NONE"}})),
    ("ecs-cluster-exec-kms", CLUSTER, good(CLUSTER, configuration={"executeCommandConfiguration": {"logging": "DEFAULT"}})),
    ("lb-cross-zone", LB, good(LB, loadBalancerType="network", securityGroups=None)),
    ("lb-multi-az", ALB, good(LB, loadBalancerType="gateway", subnets=["subnet-a"], enableCrossZoneLoadBalancing=True)),
    ("lb-target-group-encrypted", TG, good(TG, protocol="HTTP")),
    (
        "ecs-container-no-privileged",
        DAEMON_TD,
        good(DAEMON_TD, containerDefinitions=[{"name": "a", "image": "x:1", "privileged": True}]),
    ),
    ("ecs-container-image-registry", EXPRESS, good(EXPRESS, primaryContainer={"image": "nginx:1.27"})),
    ("ecs-express-service-network", EXPRESS, good(EXPRESS, networkConfigurations=None)),
]

# Rules that report nothing under the default config: (policy, config, type, failing props).
FAIL_CONFIGURED = [
    ("required-tag-keys", {"required-tag-keys": {"requiredTagKeys": ["owner"]}}, SVC, good(SVC, tags={"team": "x"})),
]

PASS_EXTRA = [
    (
        "ecs-container-resource-limits",
        TD,
        task_def([container(cpu="256", memory="512", memoryReservation=None)]),
    ),
    ("ecs-container-resource-limits", TD, task_def(cpu="1 vCPU", memory="1 GB")),
    (
        "ecs-container-logging-required",
        TD,
        task_def(
            [container(logConfiguration={"logDriver": "awsfirelens", "options": {"Name": "cloudwatch"}})]
        ),
    ),
    ("ecs-container-image-pinned", TD, task_def([container(image=f"{'a' * 3}@sha256:{'0' * 64}")])),
    ("ecs-container-image-pinned", TD, task_def([container(image="localhost:5000/web:1.0")])),
    ("lb-drop-invalid-headers", LB, good(LB, loadBalancerType="network", dropInvalidHeaderFields=None)),
    (
        "lb-http-redirects-to-https",
        LISTENER,
        {
            "protocol": "HTTP",
            "port": 80,
            "defaultActions": [
                {
                    "type": "redirect",
                    "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
                }
            ],
        },
    ),
    (
        "sg-no-admin-ports-from-internet",
        SG_RULE,
        {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]},
    ),
    ("ecs-service-load-balancer-required", SVC, good(SVC, name="worker", loadBalancers=None)),
    ("ecs-service-capacity-provider-strategy", SVC, good(SVC, deploymentController={"type": "ECS"})),
]


@pytest.mark.parametrize("policy,rtype,props", FAIL, ids=[f"{c[0]}-{i}" for i, c in enumerate(FAIL)])
def test_fails(analyzer, policy, rtype, props):
    diags = analyzer.analyze(rtype, props, remediate=False)
    hits = [d for d in diags if d.policy == policy]
    assert hits, diags
    rule = next(r for r in build_rules() if r.name == policy)
    assert {d.level for d in hits} == {rule.level.value}
    assert all("\n" in d.message and len(d.message.split("\n", 1)[1]) > 20 for d in hits)


@pytest.mark.parametrize("rtype", sorted(GOOD))
def test_good_resources_are_clean(analyzer, rtype):
    assert analyzer.analyze(rtype, good(rtype)) == []


@pytest.mark.parametrize("rtype", [ALB, ALB_LISTENER])
def test_alb_tokens_good(analyzer, rtype):
    assert analyzer.analyze(rtype, good(LB if rtype == ALB else LISTENER)) == []


@pytest.mark.parametrize(
    "policy,rtype,props", PASS_EXTRA, ids=[f"{c[0]}-{i}" for i, c in enumerate(PASS_EXTRA)]
)
def test_passes(policy, rtype, props):
    from pack_driver import Analyzer

    a = Analyzer({"ecs-service-load-balancer-required": {"exemptServiceNames": ["worker"]}})
    assert policy not in names(a.analyze(rtype, props))


@pytest.mark.parametrize("policy,config,rtype,props", FAIL_CONFIGURED, ids=[c[0] for c in FAIL_CONFIGURED])
def test_fails_when_configured(policy, config, rtype, props):
    from pack_driver import Analyzer

    hits = [d for d in Analyzer(config).analyze(rtype, props, remediate=False) if d.policy == policy]
    rule = next(r for r in build_rules() if r.name == policy)
    assert hits and {d.level for d in hits} == {rule.level.value}


def test_every_resource_rule_has_fail_and_pass_cases():
    failing = {c[0] for c in FAIL} | {c[0] for c in FAIL_CONFIGURED}
    resource_rules = {r.name for r in build_rules() if not r.stack and r.exemptible}
    assert resource_rules - failing == set()
    # Passing: every rule applies to at least one compliant GOOD resource.
    covered = {r.name for r in build_rules() for t in GOOD if r.applies_to(t)} | {
        "lb-no-classic-elb"
    }  # no good form
    assert resource_rules - covered == set()


def test_message_names_container(analyzer):
    diags = analyzer.analyze(TD, task_def([container(), container(name="sidecar", cpu=None)], cpu=None))
    msg = next(d.message for d in diags if d.policy == "ecs-container-resource-limits")
    assert "container 'sidecar'" in msg and "cpu" in msg


def test_soft_memory_allowed_by_config():
    from pack_driver import Analyzer

    a = Analyzer({"ecs-container-resource-limits": {"allowSoftMemoryLimit": True, "maxContainerCpu": 128}})
    diags = a.analyze(TD, task_def([container(memory=None, cpu=100)]))
    assert "ecs-container-resource-limits" not in names(diags)
    diags = a.analyze(TD, task_def([container(memory=None, cpu=200)]))
    assert "maximum 128" in next(d.message for d in diags if d.policy == "ecs-container-resource-limits")


def test_http_allowed_in_dev_not_prod(dev, prod):
    http = {
        "protocol": "HTTP",
        "port": 80,
        "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}],
    }
    assert "lb-http-redirects-to-https" not in names(dev.analyze(LISTENER, http))
    assert "lb-http-redirects-to-https" in names(prod.analyze(LISTENER, http), "mandatory")


def test_deletion_protection_and_retention_per_env(dev, prod):
    lb = good(LB, enableDeletionProtection=False)
    assert names(dev.analyze(LB, lb), "mandatory") == set()
    assert "lb-deletion-protection" in names(prod.analyze(LB, lb), "mandatory")
    lg = good(LG, retentionInDays=14)
    assert "log-group-retention" not in names(dev.analyze(LG, lg))
    assert "log-group-retention" in names(prod.analyze(LG, lg), "mandatory")
