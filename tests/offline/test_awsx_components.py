"""Each emulated awsx component's children: types, names, parents and the inputs awsx 3.11.0's
source gives them (awsx/ec2/vpc.ts, ecs/*.ts, lb/*.ts, ecr/*.ts, role.ts, cloudwatch/logGroup.ts),
in preview and update modes, from tests/fixtures/awsx_program run by the offline engine."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from offline_testlib import FIXTURES

from offline.engine import Registration, run_program
from offline.invokes import default_subnets, default_vpc_id
from offline.properties import RESOURCE_SIG, SECRET_SIG, SIG, UNKNOWN, contains_unknown, engine_properties, plain
from offline.stack_config import load_project, load_stack_config

PROGRAM = FIXTURES / "awsx_program"
URN = "urn:pulumi:dev::awsx-fixture::"
REGION = "eu-west-1"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ASSUME_ROLE = (
    '{"Version":"2012-10-17","Statement":[{"Action":"sts:AssumeRole","Principal":'
    '{"Service":"ecs-tasks.amazonaws.com"},"Effect":"Allow","Sid":""}]}'
)
OPEN_INGRESS = [{"fromPort": 0, "toPort": 0, "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}]
OPEN_EGRESS = [{"fromPort": 0, "toPort": 65535, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}]


class Run:
    def __init__(self, mode: str) -> None:
        project = load_project(PROGRAM)
        self.result = run_program(project, "dev", load_stack_config(project, "dev"), dry_run=mode == "preview", timeout=180)
        self.by_urn = {r.urn: r for r in self.result.registrations}

    def get(self, chain: str, name: str) -> Registration:
        return self.by_urn[f"{URN}{chain}::{name}"]

    def inputs(self, chain: str, name: str) -> dict:
        return plain(engine_properties(self.get(chain, name).inputs))

    def children(self, parent: Registration) -> list[tuple[str, str]]:
        return [(r.type, r.name) for r in self.result.registrations if r.parent == parent.urn]

    @property
    def exports(self) -> dict:
        root = self.result.root
        assert root is not None
        return plain(engine_properties(root.outputs))


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return {mode: Run(mode) for mode in ("preview", "update")}


VPC = "awsx:ec2:Vpc$aws:ec2/vpc:Vpc"
SUBNET = f"{VPC}$aws:ec2/subnet:Subnet"
TABLE = f"{SUBNET}$aws:ec2/routeTable:RouteTable"


def test_vpc_defaults_legacy_layout_one_nat_gateway_per_az(runs) -> None:
    run = runs["preview"]
    component = run.get("awsx:ec2:Vpc", "legacy")
    vpc = run.get(VPC, "legacy")
    assert run.children(component) == [("aws:ec2/vpc:Vpc", "legacy")]
    # tagsAll: the provider's Check merges the (here absent) default tags into it.
    assert run.inputs(VPC, "legacy") == {"cidrBlock": "10.0.0.0/16", "tags": {"Name": "legacy"}, "tagsAll": {"Name": "legacy"}}
    assert run.children(vpc)[0] == ("aws:ec2/internetGateway:InternetGateway", "legacy")
    cidrs = {
        "private": ["10.0.0.0/19", "10.0.64.0/19", "10.0.128.0/19"],
        "public": ["10.0.32.0/20", "10.0.96.0/20", "10.0.160.0/20"],
    }
    for kind in ("public", "private"):
        for i, zone in enumerate("abc"):
            name = f"legacy-{kind}-{i + 1}"
            subnet = run.inputs(SUBNET, name)
            assert subnet["cidrBlock"] == cidrs[kind][i] and subnet["availabilityZone"] == f"{REGION}{zone}"
            assert subnet["mapPublicIpOnLaunch"] is (kind == "public") and subnet["vpcId"] == UNKNOWN
            assert subnet["tags"] == {"Name": name, "SubnetType": kind.capitalize()}
            assert run.get(SUBNET, name).parent == vpc.urn and vpc.urn in run.get(SUBNET, name).dependencies
            table = run.get(TABLE, name)
            assert table.parent == run.get(SUBNET, name).urn
            assert run.children(table) == [
                ("aws:ec2/routeTableAssociation:RouteTableAssociation", name),
                ("aws:ec2/route:Route", name),
            ]
            route = run.get(f"{TABLE}$aws:ec2/route:Route", name)
            assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"
            target = (
                run.get(VPC + "$aws:ec2/internetGateway:InternetGateway", "legacy")
                if kind == "public"
                else (run.get(f"{SUBNET}$aws:ec2/natGateway:NatGateway", f"legacy-{i + 1}"))
            )
            key = "gatewayId" if kind == "public" else "natGatewayId"
            assert route.property_dependencies[key] == [target.urn]
        # OnePerAz: an EIP and a NAT gateway `legacy-<n>` in each public subnet
    for i in range(3):
        public = run.get(SUBNET, f"legacy-public-{i + 1}")
        assert run.children(public)[-2:] == [
            ("aws:ec2/eip:Eip", f"legacy-{i + 1}"),
            ("aws:ec2/natGateway:NatGateway", f"legacy-{i + 1}"),
        ]
        nat = run.get(f"{SUBNET}$aws:ec2/natGateway:NatGateway", f"legacy-{i + 1}")
        eip = run.get(f"{SUBNET}$aws:ec2/eip:Eip", f"legacy-{i + 1}")
        assert nat.property_dependencies["allocationId"] == [eip.urn] and nat.inputs["tags"] == {"Name": f"legacy-{i + 1}"}


def test_vpc_auto_layout_single_nat_gateway_and_isolated_subnets(runs) -> None:
    run = runs["preview"]
    expected = {
        "auto-public-1": ("10.1.0.0/24", "a"),
        "auto-private-1": ("10.1.4.0/22", "a"),
        "auto-db-1": ("10.1.8.0/26", "a"),
        "auto-public-2": ("10.1.128.0/24", "b"),
        "auto-private-2": ("10.1.132.0/22", "b"),
        "auto-db-2": ("10.1.136.0/26", "b"),
    }
    for name, (cidr, zone) in expected.items():
        subnet = run.inputs(SUBNET, name)
        assert (subnet["cidrBlock"], subnet["availabilityZone"]) == (cidr, f"{REGION}{zone}")
        assert subnet["tags"]["team"] == "platform" and subnet["tags"]["Name"] == name
    assert run.inputs(SUBNET, "auto-db-1")["tags"]["SubnetType"] == "Isolated"
    nats = [r for r in run.result.registrations if r.type == "aws:ec2/natGateway:NatGateway" and "::auto-" in r.urn]
    assert [n.name for n in nats] == ["auto-1"] and nats[0].parent == run.get(SUBNET, "auto-public-1").urn
    for az in ("1", "2"):
        private_route = run.get(f"{TABLE}$aws:ec2/route:Route", f"auto-private-{az}")
        assert private_route.property_dependencies["natGatewayId"] == [nats[0].urn]
    assert run.children(run.get(TABLE, "auto-db-1")) == [("aws:ec2/routeTableAssociation:RouteTableAssociation", "auto-db-1")]
    eip_tags = {"team": "platform", "Name": "auto-1"}
    assert run.inputs(f"{SUBNET}$aws:ec2/eip:Eip", "auto-1") == {"tags": eip_tags, "tagsAll": eip_tags}
    assert run.exports["autoSubnetLayout"] == [
        {"cidrMask": 24, "size": 256, "type": "Public"},
        {"cidrMask": 22, "size": 1024, "type": "Private"},
        {"name": "db", "cidrMask": 26, "size": 64, "type": "Isolated"},
    ]


def test_vpc_outputs_reach_the_program(runs) -> None:
    preview, update = runs["preview"].exports, runs["update"]
    assert preview["legacyVpcId"] == UNKNOWN and contains_unknown(preview["legacyPublicSubnetIds"])
    exports = update.exports
    assert exports["legacyVpcId"] == update.get(VPC, "legacy").id
    assert exports["legacyPublicSubnetIds"] == [update.get(SUBNET, f"legacy-public-{i}").id for i in (1, 2, 3)]
    assert exports["autoPrivateSubnetIds"] == [update.get(SUBNET, f"auto-private-{i}").id for i in (1, 2)]
    # The component's outputs depend on its children (the engine's property dependencies).
    assert update.get("awsx:ec2:Vpc", "legacy").outputs["vpc"][SIG] == RESOURCE_SIG


def test_default_vpc_has_no_children_and_answers_the_default_vpc(runs) -> None:
    run = runs["update"]
    assert run.children(run.get("awsx:ec2:DefaultVpc", "default")) == []
    assert run.exports["defaultVpcId"] == default_vpc_id(REGION)
    assert run.exports["defaultPublicSubnetIds"] == [s["id"] for s in default_subnets(REGION)]


def test_application_load_balancer_open_security_group_target_group_listener(runs) -> None:
    run = runs["preview"]
    alb = "awsx:lb:ApplicationLoadBalancer"
    assert run.children(run.get(alb, "web-lb")) == [
        ("aws:ec2/securityGroup:SecurityGroup", "web-lb"),
        ("aws:lb/loadBalancer:LoadBalancer", "web-lb"),
        ("aws:lb/targetGroup:TargetGroup", "web-lb"),
        ("aws:lb/listener:Listener", "web-lb-0"),
    ]
    group = run.inputs(f"{alb}$aws:ec2/securityGroup:SecurityGroup", "web-lb")
    assert group["ingress"] == OPEN_INGRESS and group["egress"] == OPEN_EGRESS
    assert group["vpcId"] == default_vpc_id(REGION) and group["description"] == "Managed by Pulumi"
    lb = run.inputs(f"{alb}$aws:lb/loadBalancer:LoadBalancer", "web-lb")
    assert lb["loadBalancerType"] == "application" and lb["securityGroups"] == [UNKNOWN]
    assert lb["subnets"] == [s["id"] for s in default_subnets(REGION)]
    target = run.inputs(f"{alb}$aws:lb/targetGroup:TargetGroup", "web-lb")
    assert {k: target[k] for k in ("port", "protocol", "targetType", "vpcId")} == {
        "port": 80,
        "protocol": "HTTP",
        "targetType": "ip",
        "vpcId": default_vpc_id(REGION),
    }
    assert re.fullmatch(r"web-lb-[0-9a-f]{7}", target["name"])  # autonamed, within the 32 characters
    listener = run.inputs(f"{alb}$aws:lb/listener:Listener", "web-lb-0")
    assert listener["port"] == 80 and listener["protocol"] == "HTTP"
    assert listener["defaultActions"] == [{"type": "forward", "targetGroupArn": UNKNOWN}]
    # The provider's plan: the program receives the checked name (known in preview, as in a real
    # preview); the recorded outputs (what AnalyzeStack sees) hold each output-only property as unknown.
    assert run.exports["albTargetGroupName"] == target["name"]
    outputs = run.get(f"{alb}$aws:lb/targetGroup:TargetGroup", "web-lb").outputs
    assert outputs["arn"] == outputs["arnSuffix"] == outputs["loadBalancerArns"] == UNKNOWN
    assert outputs["name"] == target["name"] and outputs["port"] == 80
    assert run.exports["albDnsName"] == UNKNOWN
    assert (
        runs["update"].exports["albTargetGroupName"]
        == runs["update"].inputs(f"{alb}$aws:lb/targetGroup:TargetGroup", "web-lb")["name"]
    )


def test_network_load_balancer_in_given_subnets(runs) -> None:
    nlb = "awsx:lb:NetworkLoadBalancer"
    preview, update = runs["preview"], runs["update"]
    assert preview.children(preview.get(nlb, "tcp-lb")) == [
        ("aws:lb/loadBalancer:LoadBalancer", "tcp-lb"),
        ("aws:lb/targetGroup:TargetGroup", "tcp-lb"),
        ("aws:lb/listener:Listener", "tcp-lb-0"),
    ]
    lb = preview.inputs(f"{nlb}$aws:lb/loadBalancer:LoadBalancer", "tcp-lb")
    assert (lb["loadBalancerType"], lb["enableHttp2"], lb["idleTimeout"], lb["subnets"]) == ("network", False, 0, UNKNOWN)
    target = update.inputs(f"{nlb}$aws:lb/targetGroup:TargetGroup", "tcp-lb")
    assert (target["protocol"], target["port"]) == ("TCP", 8080)
    assert target["vpcId"] == update.get(VPC, "auto").id  # getSubnet(first subnet).vpcId: the auto VPC
    assert preview.inputs(f"{nlb}$aws:lb/targetGroup:TargetGroup", "tcp-lb")["vpcId"] == UNKNOWN
    listener = update.inputs(f"{nlb}$aws:lb/listener:Listener", "tcp-lb-0")
    assert (listener["protocol"], listener["port"]) == ("TCP", 80)


FARGATE = "awsx:ecs:FargateService"
TASK = f"{FARGATE}$awsx:ecs:FargateTaskDefinition"


def test_fargate_service_children(runs) -> None:
    run = runs["preview"]
    service = run.get(FARGATE, "web")
    assert run.children(service) == [
        ("awsx:ecs:FargateTaskDefinition", "web"),
        ("aws:ec2/securityGroup:SecurityGroup", "web-sg"),
        ("aws:ecs/service:Service", "web"),
    ]
    attachment = "web-execution-" + hashlib.sha1(EXECUTION_POLICY.encode()).hexdigest()[:8]
    assert run.children(run.get(FARGATE + "$awsx:ecs:FargateTaskDefinition", "web")) == [
        ("aws:cloudwatch/logGroup:LogGroup", "web"),
        ("aws:iam/role:Role", "web-task"),
        ("aws:iam/role:Role", "web-execution"),
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", attachment),
        ("aws:ecs/taskDefinition:TaskDefinition", "web"),
    ]
    log_group = run.inputs(f"{TASK}$aws:cloudwatch/logGroup:LogGroup", "web")
    assert "retentionInDays" not in log_group and re.fullmatch(r"web-[0-9a-f]{7}", log_group["name"])
    for role in ("web-task", "web-execution"):
        assert run.inputs(f"{TASK}$aws:iam/role:Role", role)["assumeRolePolicy"] == ASSUME_ROLE
    attach = run.inputs(f"{TASK}$aws:iam/rolePolicyAttachment:RolePolicyAttachment", attachment)
    assert attach == {"policyArn": EXECUTION_POLICY, "role": run.inputs(f"{TASK}$aws:iam/role:Role", "web-execution")["name"]}
    group = run.inputs(f"{FARGATE}$aws:ec2/securityGroup:SecurityGroup", "web-sg")
    assert group["ingress"] == OPEN_INGRESS and group["egress"] == OPEN_EGRESS


def test_fargate_task_definition_inputs(runs) -> None:
    preview = runs["preview"].inputs(f"{TASK}$aws:ecs/taskDefinition:TaskDefinition", "web")
    assert preview["requiresCompatibilities"] == ["FARGATE"] and preview["networkMode"] == "awsvpc"
    assert (preview["cpu"], preview["memory"]) == ("256", "512")  # 0.25 vCPU / 0.5 GB holds 256 units + 512 MiB
    assert preview["taskRoleArn"] == preview["executionRoleArn"] == UNKNOWN
    log_group = runs["preview"].inputs(f"{TASK}$aws:cloudwatch/logGroup:LogGroup", "web")["name"]
    definitions = json.loads(preview["containerDefinitions"])  # known in preview: the log group's name is
    assert definitions == [
        {
            "cpu": 256,
            "essential": True,
            "image": "nginx:latest",
            "memory": 512,
            "name": "nginx",
            "portMappings": [{"containerPort": 80, "hostPort": 80}],  # the target group's port
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": log_group, "awslogs-region": REGION, "awslogs-stream-prefix": "nginx"},
            },
        }
    ]
    family = "web-" + hashlib.sha1(("dev" + preview["containerDefinitions"]).encode()).hexdigest()[:8]
    assert preview["family"] == family
    update = runs["update"].inputs(f"{TASK}$aws:ecs/taskDefinition:TaskDefinition", "web")
    assert update["containerDefinitions"] == preview["containerDefinitions"]
    assert update["executionRoleArn"].startswith("arn:aws:iam::")


def test_fargate_service_inputs(runs) -> None:
    preview, update = runs["preview"], runs["update"]
    service = preview.inputs(f"{FARGATE}$aws:ecs/service:Service", "web")
    assert (service["launchType"], service["desiredCount"], service["waitForSteadyState"]) == ("FARGATE", 1, True)
    assert service["networkConfiguration"]["assignPublicIp"] is True
    assert service["networkConfiguration"]["subnets"] == [s["id"] for s in default_subnets(REGION)]
    assert service["loadBalancers"] == UNKNOWN  # built from the target group's ARN, unknown in preview
    assert service["cluster"] == UNKNOWN and re.fullmatch(r"web-[0-9a-f]{7}", service["name"])
    target_group = update.get("awsx:lb:ApplicationLoadBalancer$aws:lb/targetGroup:TargetGroup", "web-lb")
    assert update.inputs(f"{FARGATE}$aws:ecs/service:Service", "web")["loadBalancers"] == [
        {"containerName": "nginx", "containerPort": 80, "targetGroupArn": target_group.outputs["arn"]}
    ]
    deps = preview.get(f"{FARGATE}$aws:ecs/service:Service", "web").property_dependencies
    assert deps["taskDefinition"] == [preview.get(f"{TASK}$aws:ecs/taskDefinition:TaskDefinition", "web").urn]
    assert deps["cluster"] == [preview.get("aws:ecs/cluster:Cluster", "cluster").urn]


def test_ec2_service_with_capacity_providers_and_sorted_containers(runs) -> None:
    run = runs["preview"]
    ec2 = "awsx:ecs:EC2Service"
    assert run.children(run.get(ec2, "worker")) == [
        ("awsx:ecs:EC2TaskDefinition", "worker"),
        ("aws:ecs/service:Service", "worker"),
    ]
    service = run.inputs(f"{ec2}$aws:ecs/service:Service", "worker")
    assert "launchType" not in service and "desiredCount" not in service
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "spot", "weight": 1}]
    assert service["loadBalancers"] == [] and service["networkConfiguration"] == {"subnets": UNKNOWN}
    task = run.inputs(f"{ec2}$awsx:ecs:EC2TaskDefinition$aws:ecs/taskDefinition:TaskDefinition", "worker")
    assert task["requiresCompatibilities"] == ["EC2"] and task["networkMode"] == "awsvpc"
    assert "cpu" not in task and "memory" not in task
    containers = json.loads(task["containerDefinitions"])
    assert [c["name"] for c in containers] == ["a-sidecar", "b-app"]
    assert containers[0]["logConfiguration"] == {"logDriver": "json-file"}  # its own logging is kept
    assert containers[1]["logConfiguration"]["logDriver"] == "awslogs"


def test_standalone_task_definitions_roles_and_log_group_options(runs) -> None:
    run = runs["preview"]
    batch = run.get("awsx:ecs:FargateTaskDefinition", "batch")
    assert run.children(batch) == [
        ("aws:cloudwatch/logGroup:LogGroup", "batch"),
        ("aws:iam/role:Role", "batch-task"),
        ("aws:ecs/taskDefinition:TaskDefinition", "batch"),
    ]
    assert run.inputs("awsx:ecs:FargateTaskDefinition$aws:cloudwatch/logGroup:LogGroup", "batch")["retentionInDays"] == 30
    task = run.inputs("awsx:ecs:FargateTaskDefinition$aws:ecs/taskDefinition:TaskDefinition", "batch")
    assert task["executionRoleArn"] == "arn:aws:iam::123456789012:role/existing-execution"
    # A secret in a container makes what awsx derives from the containers secret, as an Output would.
    for key in ("containerDefinitions", "cpu", "memory", "family"):
        assert task[key][SIG] == SECRET_SIG, key
    assert (task["cpu"]["value"], task["memory"]["value"]) == ("1024", "3072")
    job = json.loads(task["containerDefinitions"]["value"])[0]
    assert job["environment"] == [{"name": "MODE", "value": "nightly"}]
    ec2_task = run.get("awsx:ecs:EC2TaskDefinition", "ec2-task")
    assert ("aws:iam/role:Role", "ec2-task-task") not in run.children(ec2_task)  # taskRole: skip
    probe = run.inputs("awsx:ecs:EC2TaskDefinition$aws:ecs/taskDefinition:TaskDefinition", "ec2-task")
    assert "taskRoleArn" not in probe and probe["networkMode"] == "bridge"


def test_ecr_repository_lowercases_and_adds_the_default_lifecycle_policy(runs) -> None:
    run = runs["preview"]
    assert run.children(run.get("awsx:ecr:Repository", "Repo")) == [
        ("aws:ecr/repository:Repository", "repo"),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "repo"),
    ]
    repository = run.inputs("awsx:ecr:Repository$aws:ecr/repository:Repository", "repo")
    assert repository["forceDelete"] is True and re.fullmatch(r"repo-[0-9a-f]{7}", repository["name"])
    policy = run.inputs("awsx:ecr:Repository$aws:ecr/lifecyclePolicy:LifecyclePolicy", "repo")
    assert policy["repository"] == repository["name"]
    assert json.loads(policy["policy"]) == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "remove untagged images",
                "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
                "action": {"type": "expire"},
            }
        ]
    }


def test_ecr_image_builds_nothing_and_has_a_uri_only_in_update(runs) -> None:
    preview, update = runs["preview"], runs["update"]
    assert preview.children(preview.get("awsx:ecr:Image", "image")) == []  # awsx's apply has not run
    assert preview.exports["imageUri"] == UNKNOWN
    url = update.exports["repositoryUrl"]
    assert (
        url
        == f"123456789012.dkr.ecr.{REGION}.amazonaws.com/"
        + update.inputs("awsx:ecr:Repository$aws:ecr/repository:Repository", "repo")["name"]
    )
    assert re.fullmatch(re.escape(url) + r"@sha256:[0-9a-f]{64}", update.exports["imageUri"])
    ((child_type, child_name),) = update.children(update.get("awsx:ecr:Image", "image"))
    assert child_type == "docker-build:index:Image" and child_name.endswith("-container")
    built = update.inputs("awsx:ecr:Image$docker-build:index:Image", child_name)
    assert built["tags"] == [f"{url}:{child_name}"] and built["push"] is True and built["platforms"] == ["linux/amd64"]


def test_children_use_awsx_aws_version_default_provider(runs) -> None:
    run = runs["preview"]
    subnet = run.get(SUBNET, "legacy-public-1")
    assert subnet.provider.startswith(URN + "pulumi:providers:aws::default_7_42_0::")
    assert run.get("aws:ecs/cluster:Cluster", "cluster").provider.startswith(URN + "pulumi:providers:aws::default_7_51_1::")


def test_unexpandable_remote_component_is_named_not_analysed(runs) -> None:
    for run in runs.values():
        trail = run.get("awsx:cloudtrail:Trail", "trail")
        assert run.children(trail) == []
        assert run.result.unanalysed == [(trail.urn, "awsx:cloudtrail:Trail")]
        warnings = [log.message for log in run.result.logs if log.severity == "warning"]
        assert any("awsx:cloudtrail:Trail 'trail'" in w and "not analysed" in w for w in warnings)


def test_runs_are_reproducible(runs) -> None:
    again = Run("preview")
    assert {r.urn: r.inputs for r in again.result.registrations} == {
        r.urn: r.inputs for r in runs["preview"].result.registrations
    }
