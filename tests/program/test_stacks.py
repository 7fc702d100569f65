"""Both stack files under mocks: the inputs AWS will receive."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from .harness import AMI, Recorder, of_type, one, run_program, stack_config


@pytest.fixture(scope="module")
def dev() -> Recorder:
    return run_program(stack_config("dev"), "dev")


@pytest.fixture(scope="module")
def prod() -> Recorder:
    return run_program(stack_config("prod"), "prod")


def containers(rec: Recorder, service: str) -> list[dict]:
    return json.loads(one(rec, "aws:ecs/taskDefinition:TaskDefinition", f"{service}-task").inputs["containerDefinitions"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_builds_every_part(stack: str, request: pytest.FixtureRequest) -> None:
    rec: Recorder = request.getfixturevalue(stack)
    types = {r.type for r in rec.resources}
    for expected in [
        "ecs-platform:network:Network", "ecs-platform:cluster:Cluster", "ecs-platform:load_balancer:LoadBalancer",
        "ecs-platform:service:Service", "awsx:ec2:Vpc", "aws:ecs/cluster:Cluster", "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:autoscaling/group:Group", "aws:ecs/capacityProvider:CapacityProvider",
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "aws:lb/loadBalancer:LoadBalancer",
        "aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/service:Service", "aws:lb/targetGroup:TargetGroup",
        "aws:lb/listenerRule:ListenerRule", "aws:cloudwatch/logGroup:LogGroup",
    ]:
        assert expected in types, expected
    assert len(of_type(rec, "aws:ecs/service:Service")) == 2


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_containers_have_limits_and_log_to_the_stacks_log_group(stack: str, request: pytest.FixtureRequest) -> None:
    rec: Recorder = request.getfixturevalue(stack)
    for service in ("web", "api"):
        group = one(rec, "aws:cloudwatch/logGroup:LogGroup", f"{service}-logs").inputs
        assert group["name"] == f"/ecs/ecs-platform-{stack}/{service}"
        assert group["retentionInDays"] == {"dev": 14, "prod": 365}[stack]
        task = one(rec, "aws:ecs/taskDefinition:TaskDefinition", f"{service}-task").inputs
        defs = containers(rec, service)
        assert task["requiresCompatibilities"] == ["EC2"]
        assert sum(c["cpu"] for c in defs) <= int(task["cpu"])
        assert sum(c["memory"] for c in defs) <= int(task["memory"])
        assert task["executionRoleArn"] != task["taskRoleArn"]
        for c in defs:
            assert c["cpu"] > 0 and c["memory"] > 0
            assert c.get("memoryReservation", 0) <= c["memory"]
            assert c["privileged"] is False and c["readonlyRootFilesystem"] is True
            assert c["logConfiguration"] == {"logDriver": "awslogs", "options": {
                "awslogs-group": group["name"], "awslogs-region": "eu-west-1", "awslogs-stream-prefix": c["name"]}}
            assert ":latest" not in c["image"] and (":" in c["image"].rsplit("/", 1)[1] or "@sha256:" in c["image"])


def test_service_uses_the_alb_and_capacity_provider_never_a_launch_type(dev: Recorder) -> None:
    for service in ("web", "api"):
        inputs = one(dev, "aws:ecs/service:Service", f"{service}-service").inputs
        port = containers(dev, service)[0]["portMappings"][0]["containerPort"]
        assert inputs["loadBalancers"] == [{
            "targetGroupArn": one(dev, "aws:lb/targetGroup:TargetGroup", f"{service}-tg").inputs.get("arn")
            or f"arn:aws:lb:eu-west-1:123456789012:{service}-tg",
            "containerName": service, "containerPort": port}]
        assert "launchType" not in inputs
        assert inputs["capacityProviderStrategies"] == [{"capacityProvider": "cluster-capacity-provider", "weight": 1, "base": 0}]
        assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert inputs["networkConfiguration"]["assignPublicIp"] is False
        assert inputs["networkConfiguration"]["subnets"] == ["subnet-0bbb1111", "subnet-0bbb2222"]
        assert inputs["orderedPlacementStrategies"][0] == {"type": "spread", "field": "attribute:ecs.availability-zone"}
        assert inputs["healthCheckGracePeriodSeconds"] == 60


def test_launch_template_requires_imdsv2_and_encrypts_without_public_ip(dev: Recorder) -> None:
    lt = one(dev, "aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert lt["imageId"] == AMI
    assert lt["metadataOptions"]["httpTokens"] == "required"
    assert lt["metadataOptions"]["httpPutResponseHopLimit"] == 1  # awsvpc only
    assert lt["networkInterfaces"][0]["associatePublicIpAddress"] == "false"
    ebs = lt["blockDeviceMappings"][0]["ebs"]
    assert (ebs["encrypted"], ebs["volumeType"], ebs["volumeSize"]) == ("true", "gp3", 30)
    assert lt["iamInstanceProfile"]["arn"]
    assert "ECS_CLUSTER=ecs-platform-dev\n" in base64.b64decode(lt["userData"]).decode()
    params = [args["name"] for token, args in dev.calls if token == "aws:ssm/getParameter:getParameter"]
    assert params == ["/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"]


def test_capacity_is_protected_and_managed(dev: Recorder) -> None:
    asg = one(dev, "aws:autoscaling/group:Group").inputs
    assert asg["protectFromScaleIn"] is True
    assert {"key": "AmazonECSManaged", "value": "true", "propagateAtLaunch": True} in asg["tags"]
    assert asg["vpcZoneIdentifiers"] == ["subnet-0bbb1111", "subnet-0bbb2222"]
    assert asg["forceDelete"] is True  # dev destroys despite protected instances
    cp = one(dev, "aws:ecs/capacityProvider:CapacityProvider").inputs["autoScalingGroupProvider"]
    assert cp["managedTerminationProtection"] == "ENABLED"
    assert cp["managedScaling"]["status"] == "ENABLED"
    cluster = one(dev, "aws:ecs/cluster:Cluster").inputs
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assoc = one(dev, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs
    assert assoc["defaultCapacityProviderStrategies"][0]["capacityProvider"] == "cluster-capacity-provider"


def test_service_security_group_admits_only_the_alb(dev: Recorder) -> None:
    ingress = of_type(dev, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    for service, port in (("web", 80), ("api", 8080)):
        rules = [r.inputs for r in ingress if r.inputs["securityGroupId"] == f"{service}-sg-id"]
        assert rules == [{"securityGroupId": f"{service}-sg-id", "referencedSecurityGroupId": "alb-sg-id",
                          "ipProtocol": "tcp", "fromPort": port, "toPort": port,
                          "description": "ALB to the container port"}]
    alb_rules = [r.inputs for r in ingress if r.inputs["securityGroupId"] == "alb-sg-id"]
    assert {(r["fromPort"], r.get("cidrIpv4")) for r in alb_rules} == {(80, "0.0.0.0/0")}


def test_dev_serves_http_and_prod_redirects_to_tls13(dev: Recorder, prod: Recorder) -> None:
    dev_http = one(dev, "aws:lb/listener:Listener", "alb-http").inputs
    assert dev_http["defaultActions"][0]["type"] == "fixed-response"
    assert not of_type(dev, "aws:lb/listener:Listener")[1:]
    http = one(prod, "aws:lb/listener:Listener", "alb-http").inputs
    assert http["defaultActions"][0]["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}
    https = one(prod, "aws:lb/listener:Listener", "alb-https").inputs
    assert https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06" and https["protocol"] == "HTTPS"
    alb = one(prod, "aws:lb/loadBalancer:LoadBalancer").inputs
    assert alb["enableDeletionProtection"] is True and alb["dropInvalidHeaderFields"] is True
    rules = [r.inputs["listenerArn"] for r in of_type(prod, "aws:lb/listenerRule:ListenerRule")]
    assert set(rules) == {"arn:aws:lb:eu-west-1:123456789012:alb-https"}


def test_prod_autoscales_and_scopes_secrets(prod: Recorder) -> None:
    targets = {r.name: r.inputs for r in of_type(prod, "aws:appautoscaling/target:Target")}
    assert targets["api-scaling"]["resourceId"] == "service/ecs-platform-prod/api"
    assert (targets["api-scaling"]["minCapacity"], targets["api-scaling"]["maxCapacity"]) == (3, 20)
    policies = {r.name: r.inputs for r in of_type(prod, "aws:appautoscaling/policy:Policy")}
    assert set(policies) == {"web-scale-cpu", "web-scale-requests", "api-scale-cpu", "api-scale-memory"}
    spec = policies["web-scale-requests"]["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
    assert spec == {"predefinedMetricType": "ALBRequestCountPerTarget",
                    "resourceLabel": "app/alb/0123456789abcdef/app/web-tg/0123456789abcdef"}
    secrets = json.loads(one(prod, "aws:iam/rolePolicy:RolePolicy", "api-secrets").inputs["policy"])["Statement"]
    assert secrets == [
        {"Effect": "Allow", "Action": "ssm:GetParameters",
         "Resource": ["arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api/signing-key"]},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api/database-url-AbCdEf"]},
    ]
    assert not [r for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if r.name == "web-secrets"]
    api = containers(prod, "api")
    assert [c["name"] for c in api] == ["api", "otel"]
    assert api[0]["secrets"][0] == {"name": "API_SIGNING_KEY",
                                    "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api/signing-key"}


def test_trust_policies_name_ecs_tasks_for_this_account(prod: Recorder) -> None:
    role = one(prod, "aws:iam/role:Role", "api-task-role").inputs
    statement = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_bridge_mode_uses_dynamic_ports_and_hop_limit_two() -> None:
    config = copy.deepcopy(stack_config("dev"))
    config["ecs-platform:services"]["api"]["network_mode"] = "bridge"
    rec = run_program(config, "dev")
    api = containers(rec, "api")[0]
    assert api["portMappings"] == [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]
    assert one(rec, "aws:lb/targetGroup:TargetGroup", "api-tg").inputs["targetType"] == "instance"
    assert "networkConfiguration" not in one(rec, "aws:ecs/service:Service", "api-service").inputs
    assert one(rec, "aws:ec2/launchTemplate:LaunchTemplate").inputs["metadataOptions"]["httpPutResponseHopLimit"] == 2
    rule = one(rec, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "cluster-instances-from-alb").inputs
    assert (rule["fromPort"], rule["toPort"], rule["referencedSecurityGroupId"]) == (32768, 65535, "alb-sg-id")


def test_existing_vpc_is_used_as_given() -> None:
    config = copy.deepcopy(stack_config("dev"))
    config["ecs-platform:network"] = {
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "public_subnet_ids": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"],
        "private_subnet_ids": ["subnet-0b1b2c3d", "subnet-0b1b2c3e"],
    }
    rec = run_program(config, "dev")
    assert not of_type(rec, "awsx:ec2:Vpc")
    assert one(rec, "aws:autoscaling/group:Group").inputs["vpcZoneIdentifiers"] == ["subnet-0b1b2c3d", "subnet-0b1b2c3e"]
    assert one(rec, "aws:lb/loadBalancer:LoadBalancer").inputs["subnets"] == ["subnet-0a1b2c3d", "subnet-0a1b2c3e"]


def test_graviton_instances_get_the_arm64_ami_and_tasks() -> None:
    config = copy.deepcopy(stack_config("dev"))
    config["ecs-platform:cluster"]["instance_types"] = ["t4g.small", "m7g.large"]
    rec = run_program(config, "dev")
    params = [args["name"] for token, args in rec.calls if token == "aws:ssm/getParameter:getParameter"]
    assert params == ["/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"]
    task = one(rec, "aws:ecs/taskDefinition:TaskDefinition", "web-task").inputs
    assert task["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    overrides = one(rec, "aws:autoscaling/group:Group").inputs["mixedInstancesPolicy"]["launchTemplate"]["overrides"]
    assert [o["instanceType"] for o in overrides] == ["t4g.small", "m7g.large"]
