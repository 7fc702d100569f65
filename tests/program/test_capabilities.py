"""Issue 8 capabilities under mocks: the inputs AWS receives, and the example stacks (examples/)
pass the policy pack with no mandatory violation."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from components.config import ConfigError, parse_stack_config

from .harness import Recorder, of_type, one, run_program, stack_config
from .pack import diagnostics, example_config, examples, mandatory

DEFAULT_STRATEGY = [{"capacityProvider": "cluster-capacity-provider", "weight": 1, "base": 2},
                    {"capacityProvider": "cluster-spot-capacity-provider", "weight": 3, "base": 0}]
# examples/Pulumi.workloads.yaml's ecs-platform:tags, as ECS resources carry them
WORKLOADS_TAGS = {"cost-centre": "CC-0815", "data-classification": "internal", "environment": "workloads",
                  "team": "data-platform"}


@pytest.fixture(scope="module")
def workloads() -> Recorder:
    return run_program(example_config("workloads"), "workloads")


def raw_of(config: dict[str, Any]) -> dict[str, Any]:
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in config.items() if k.startswith("ecs-platform:")}


def errors_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw)
    return [line.strip() for line in str(caught.value).splitlines()[1:]]


def dev_with(section: str, key: str | None, **changes: Any) -> dict[str, Any]:
    """dev's raw config with `changes` merged into services.<key> (or into `section`)."""
    raw = raw_of(stack_config("dev"))
    target = raw.setdefault(section, {})
    if key is not None:
        target = target[key]
    target.update(changes)
    return raw


@pytest.mark.parametrize("name", examples())
def test_example_stacks_have_no_mandatory_violation(name: str) -> None:
    rec = run_program(example_config(name), name)
    assert mandatory(rec, name, "prod") == []


# --- 1. worker services ---------------------------------------------------------------------------

def test_worker_has_no_load_balancer_and_carries_the_exemption(workloads: Recorder) -> None:
    svc = one(workloads, "aws:ecs/service:Service", "queue-worker-service").inputs
    assert "loadBalancers" not in svc and "healthCheckGracePeriodSeconds" not in svc
    assert svc["tags"] == {
        **WORKLOADS_TAGS,
        "ecs-guardrails:exempt": "ecs-service-load-balancer-required",
        "ecs-guardrails:reason": "consumes the jobs queue and serves no HTTP - approved by platform-team in PLAT-1234",
    }
    assert svc["capacityProviderStrategies"] == DEFAULT_STRATEGY
    names = {r.name for r in workloads.resources}
    for absent in ("queue-worker-tg", "queue-worker-rule", "queue-worker-from-alb", "queue-worker-alb-egress"):
        assert absent not in names
    assert {"queue-worker-sg", "queue-worker-https-out", "queue-worker-scaling", "queue-worker-scale-cpu"} <= names
    container = json.loads(one(workloads, "aws:ecs/taskDefinition:TaskDefinition",
                               "queue-worker-task").inputs["containerDefinitions"])[0]
    assert container["portMappings"] == []
    # the web service of the same stack keeps its target group and has no exemption tags
    web = one(workloads, "aws:ecs/service:Service", "web-service").inputs
    assert web["tags"] == WORKLOADS_TAGS and web["loadBalancers"][0]["containerPort"] == 8080


@pytest.mark.parametrize(("changes", "expected"), [
    ({"kind": "worker", "routing": None, "container_port": None},
     "ecs-platform:services.api.worker_reason: a worker runs without a load balancer only with a reason"),
    ({"kind": "worker", "worker_reason": "serves no http"},
     "ecs-platform:services.api.container_port: a worker has no load balancer"),
    ({"worker_reason": "serves no http"}, "ecs-platform:services.api.worker_reason: only for kind: worker"),
    ({"routing": None}, "ecs-platform:services.api.routing: required key is missing"),
    ({"kind": "worker", "worker_reason": "a\nb is not a tag", "routing": None, "container_port": None},
     "ecs-platform:services.api.worker_reason: an ECS tag value"),
    ({"kind": "worker", "worker_reason": "no http", "routing": None, "container_port": None},
     "ecs-platform:services.api.worker_reason: String should have at least 10 characters"),
])
def test_worker_config_errors_name_the_key(changes: dict[str, Any], expected: str) -> None:
    raw = dev_with("services", "api", **changes)
    raw["services"]["api"] = {k: v for k, v in raw["services"]["api"].items() if v is not None}
    errors = errors_of(raw)
    assert any(e.startswith(expected) for e in errors), errors


def test_worker_exemption_is_honoured_by_the_pack_with_its_reason(workloads: Recorder) -> None:
    notes = [d for d in diagnostics(workloads, "workloads", "prod") if d.policy == "ecs-guardrails-exemptions"]
    assert [(d.level, d.urn.rsplit("::", 1)[1]) for d in notes] == [("advisory", "queue-worker-service")]
    assert "exempt from 'ecs-service-load-balancer-required' (no expiry), reason: consumes the jobs queue" in (
        notes[0].message
    )


# --- 2. ECS Exec ----------------------------------------------------------------------------------

def test_exec_grants_ssmmessages_and_logs_sessions(workloads: Recorder) -> None:
    assert one(workloads, "aws:ecs/service:Service", "queue-worker-service").inputs["enableExecuteCommand"] is True
    assert "enableExecuteCommand" not in one(workloads, "aws:ecs/service:Service", "web-service").inputs
    policy = one(workloads, "aws:iam/rolePolicy:RolePolicy", "queue-worker-exec").inputs
    assert policy["role"] == "queue-worker-task-role-id"
    assert json.loads(policy["policy"])["Statement"] == [
        {"Effect": "Allow", "Resource": "*", "Action": [
            "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]},
        {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
         "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs-exec/ecs-platform-workloads:*"},
    ]
    assert not [r for r in workloads.resources if r.name == "web-exec"]
    group = one(workloads, "aws:cloudwatch/logGroup:LogGroup", "cluster-exec-logs").inputs
    assert (group["name"], group["retentionInDays"]) == ("/ecs-exec/ecs-platform-workloads", 90)
    cluster = one(workloads, "aws:ecs/cluster:Cluster").inputs
    assert cluster["configuration"] == {"executeCommandConfiguration": {
        "logging": "OVERRIDE",
        "logConfiguration": {"cloudWatchLogGroupName": "/ecs-exec/ecs-platform-workloads",
                             "cloudWatchEncryptionEnabled": False}}}
    task = one(workloads, "aws:ecs/taskDefinition:TaskDefinition", "queue-worker-task").inputs
    worker = json.loads(task["containerDefinitions"])
    assert worker[0]["readonlyRootFilesystem"] is False


def test_no_exec_leaves_the_cluster_as_it_was() -> None:
    rec = run_program(stack_config("dev"), "dev")
    assert "configuration" not in one(rec, "aws:ecs/cluster:Cluster").inputs
    assert not [r for r in rec.resources if r.name == "cluster-exec-logs" or r.name.endswith("-exec")]


def test_exec_with_a_read_only_root_filesystem_is_refused() -> None:
    raw = dev_with("services", "api", enable_execute_command=True)
    raw["services"]["api"]["sidecars"] = {"otel": {"image": "public.ecr.aws/a/b:1", "cpu": 64, "memory": 64,
                                                   "read_only_root_filesystem": False}}
    errors = errors_of(raw)
    assert [e for e in errors if "ECS Exec" in e] == [
        "ecs-platform:services.api.read_only_root_filesystem: ECS Exec (enable_execute_command) does not work "
        "with a read-only root filesystem: set it false or turn ECS Exec off"]


# --- 3. spot, mixed instances, instance refresh, warm pool ------------------------------------------

def test_dev_runs_on_spot_with_rebalancing_and_instance_refresh() -> None:
    rec = run_program(stack_config("dev"), "dev")
    asg = one(rec, "aws:autoscaling/group:Group", "cluster-asg").inputs
    assert "launchTemplate" not in asg
    policy = asg["mixedInstancesPolicy"]
    assert policy["instancesDistribution"] == {
        "onDemandPercentageAboveBaseCapacity": 0, "onDemandBaseCapacity": 0,
        "spotAllocationStrategy": "price-capacity-optimized"}
    assert [o["instanceType"] for o in policy["launchTemplate"]["overrides"]] == ["t3.small", "t3a.small"]
    assert policy["launchTemplate"]["launchTemplateSpecification"] == {
        "launchTemplateId": "cluster-launch-template-id", "version": "1"}
    assert asg["capacityRebalance"] is True
    assert asg["instanceRefresh"] == {"strategy": "Rolling", "preferences": {
        "minHealthyPercentage": 100, "maxHealthyPercentage": 200, "skipMatching": True,
        "scaleInProtectedInstances": "Refresh", "autoRollback": False}}
    assert "warmPool" not in asg
    script = base64.b64decode(one(rec, "aws:ec2/launchTemplate:LaunchTemplate").inputs["userData"]).decode()
    assert "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true\n" in script and "ECS_WARM_POOLS_CHECK" not in script


def test_on_demand_only_mix_keeps_its_inputs() -> None:
    rec = run_program(stack_config("prod"), "prod")
    asg = one(rec, "aws:autoscaling/group:Group", "cluster-asg").inputs
    assert asg["mixedInstancesPolicy"]["instancesDistribution"] == {"onDemandPercentageAboveBaseCapacity": 100}
    for absent in ("capacityRebalance", "instanceRefresh", "warmPool"):
        assert absent not in asg


def test_warm_pool_is_stopped_and_the_agent_checks_it(workloads: Recorder) -> None:
    asg = one(workloads, "aws:autoscaling/group:Group", "cluster-asg").inputs
    assert asg["warmPool"] == {"poolState": "Stopped", "minSize": 1}  # ECS refuses ReuseOnScaleIn
    assert asg["launchTemplate"] == {"id": "cluster-launch-template-id", "version": "1"}
    lt = one(workloads, "aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert "ECS_WARM_POOLS_CHECK=true\n" in base64.b64decode(lt["userData"]).decode()
    assert lt["instanceType"] == "m7i.large" and "hibernationOptions" not in lt


@pytest.mark.parametrize(("cluster", "expected"), [
    ({"warm_pool": {}, "on_demand_percentage_above_base": 50},
     "ecs-platform:cluster.warm_pool: a warm pool does not work with spot instances"),
    ({"warm_pool": {}, "instance_types": ["t3.small", "t3a.small"]},
     "ecs-platform:cluster.warm_pool: a warm pool does not work with a mixed instances policy"),
    ({"warm_pool": {"pool_state": "Warm"}}, "ecs-platform:cluster.warm_pool.pool_state: must be one of"),
    ({"warm_pool": {"reuse_on_scale_in": True}},
     "ecs-platform:cluster.warm_pool.reuse_on_scale_in: ECS does not let a capacity provider's Auto Scaling group"),
    ({"spot_allocation_strategy": "cheapest"}, "ecs-platform:cluster.spot_allocation_strategy: must be one of"),
    ({"instance_refresh": {"min_healthy_percentage": 50, "max_healthy_percentage": 200}},
     "ecs-platform:cluster.instance_refresh.max_healthy_percentage: may exceed min_healthy_percentage by at most 100"),
    ({"on_demand_percentage_above_base": 101}, "ecs-platform:cluster.on_demand_percentage_above_base: Input should be"),
])
def test_capacity_config_errors_name_the_key(cluster: dict[str, Any], expected: str) -> None:
    raw = raw_of(stack_config("dev"))
    raw["cluster"] = {"instance_types": ["t3.small"], **cluster}
    errors = errors_of(raw)
    assert any(e.startswith(expected) for e in errors), errors


def test_hibernated_warm_pool_turns_on_hibernation() -> None:
    config = example_config("workloads")
    config["ecs-platform:cluster"]["warm_pool"]["pool_state"] = "Hibernated"
    rec = run_program(config, "workloads")
    assert one(rec, "aws:ec2/launchTemplate:LaunchTemplate").inputs["hibernationOptions"] == {"configured": True}


# --- 4. ALB extras: access logs, WAF, stickiness, deregistration delay ---------------------------------

def test_prod_writes_access_logs_to_a_locked_down_bucket() -> None:
    rec = run_program(stack_config("prod"), "prod")
    alb = one(rec, "aws:lb/loadBalancer:LoadBalancer", "alb").inputs
    assert alb["accessLogs"] == {"bucket": "alb-logs", "prefix": "alb", "enabled": True}
    bucket = one(rec, "aws:s3/bucket:Bucket", "alb-logs").inputs
    assert bucket.get("forceDestroy") is False
    assert one(rec, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs == {
        "bucket": "alb-logs-id", "blockPublicAcls": True, "blockPublicPolicy": True,
        "ignorePublicAcls": True, "restrictPublicBuckets": True}
    assert one(rec, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"}
    assert one(rec, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
               ).inputs["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    assert one(rec, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"] == [{
        "id": "expire-access-logs", "status": "Enabled", "filter": {"prefix": "alb/"},
        "expiration": {"days": 365}, "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]
    policy = json.loads(one(rec, "aws:s3/bucketPolicy:BucketPolicy", "alb-logs-policy").inputs["policy"])
    objects = "arn:aws:s3:eu-west-1:123456789012:alb-logs/alb/AWSLogs/123456789012/*"
    assert policy["Statement"] == [
        {"Sid": "ElbLogDelivery", "Effect": "Allow",
         "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": objects},
        {"Sid": "ElbRegionalAccount", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::156460612806:root"},
         "Action": "s3:PutObject", "Resource": objects},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:eu-west-1:123456789012:alb-logs", "arn:aws:s3:eu-west-1:123456789012:alb-logs/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]
    assert not of_type(rec, "aws:wafv2/webAclAssociation:WebAclAssociation")


def test_regions_opened_since_2022_get_only_the_service_principal() -> None:
    from components.config import AccessLogsConfig, LoadBalancerConfig
    from components.load_balancer import LoadBalancerArgs, access_log_bucket_policy
    args = LoadBalancerArgs(LoadBalancerConfig(), "vpc", [], region="eu-central-2", account_id="123456789012")
    statements = json.loads(access_log_bucket_policy("arn:aws:s3:::b", AccessLogsConfig(), args))["Statement"]
    assert [s["Sid"] for s in statements] == ["ElbLogDelivery", "DenyInsecureTransport"]
    assert statements[0]["Resource"] == "arn:aws:s3:::b/alb/AWSLogs/123456789012/*"
    no_prefix = json.loads(access_log_bucket_policy("arn:aws:s3:::b", AccessLogsConfig(prefix=None), args))
    assert no_prefix["Statement"][0]["Resource"] == "arn:aws:s3:::b/AWSLogs/123456789012/*"


def test_dev_has_no_access_log_bucket() -> None:
    rec = run_program(stack_config("dev"), "dev")
    assert "accessLogs" not in one(rec, "aws:lb/loadBalancer:LoadBalancer", "alb").inputs
    assert not [r for r in rec.resources if r.type.startswith("aws:s3/")]


def test_waf_stickiness_and_draining(workloads: Recorder) -> None:
    assert one(workloads, "aws:wafv2/webAclAssociation:WebAclAssociation", "alb-waf").inputs == {
        "resourceArn": "arn:aws:lb:eu-west-1:123456789012:alb",
        "webAclArn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/edge-rules/0f1e2d3c-4b5a-6978-8a9b-acbdcedf0123"}
    assert one(workloads, "aws:s3/bucket:Bucket", "alb-logs").inputs["forceDestroy"] is True
    tg = one(workloads, "aws:lb/targetGroup:TargetGroup", "web-tg").inputs
    assert tg["stickiness"] == {"enabled": True, "type": "app_cookie", "cookieDuration": 3600, "cookieName": "SESSIONID"}
    assert tg["deregistrationDelay"] == 120
    dev = run_program(stack_config("dev"), "dev")
    assert "stickiness" not in one(dev, "aws:lb/targetGroup:TargetGroup", "web-tg").inputs


@pytest.mark.parametrize(("section", "key", "changes", "expected"), [
    ("services", "api", {"stickiness": {"type": "app_cookie"}},
     "ecs-platform:services.api.stickiness.cookie_name: required with type app_cookie"),
    ("services", "api", {"stickiness": {"type": "app_cookie", "cookie_name": "AWSALBX"}},
     "ecs-platform:services.api.stickiness.cookie_name: names starting with AWSALB are reserved"),
    ("services", "api", {"stickiness": {"duration_seconds": 0}},
     "ecs-platform:services.api.stickiness.duration_seconds: Input should be greater than or equal to 1"),
    ("load_balancer", None, {"access_logs": {"prefix": "AWSLogs/x"}},
     "ecs-platform:load_balancer.access_logs.prefix: ELB adds AWSLogs/<account>/ itself"),
    ("load_balancer", None, {"access_logs": {"prefix": "x/AWSLogs"}},
     "ecs-platform:load_balancer.access_logs.prefix: ELB adds AWSLogs/<account>/ itself"),
    ("load_balancer", None, {"access_logs": {"prefix": "/alb"}},
     "ecs-platform:load_balancer.access_logs.prefix: '/alb' does not match"),
    ("load_balancer", None,
     {"web_acl_arn": "arn:aws:wafv2:eu-west-1:123456789012:global/webacl/x/0f1e2d3c-4b5a-6978-8a9b-acbdcedf0123"},
     "ecs-platform:load_balancer.web_acl_arn:"),
])
def test_alb_extras_config_errors_name_the_key(section: str, key: str | None, changes: dict[str, Any],
                                               expected: str) -> None:
    errors = errors_of(dev_with(section, key, **changes))
    assert any(e.startswith(expected) for e in errors), errors


def test_worker_refuses_load_balancer_settings() -> None:
    raw = dev_with("services", "api", kind="worker", worker_reason="serves no http", stickiness={},
                   deployment={"deregistration_delay": 5})
    for key in ("routing", "container_port", "health_check"):
        del raw["services"]["api"][key]
    errors = errors_of(raw)
    assert "ecs-platform:services.api.stickiness: a worker has no load balancer: remove it" in errors
    assert "ecs-platform:services.api.deployment.deregistration_delay: a worker has no load balancer: remove it" in errors


# --- 5. Fargate capacity per service ---------------------------------------------------------------

def test_fargate_service_uses_fargate_providers_and_a_fargate_task(workloads: Recorder) -> None:
    svc = one(workloads, "aws:ecs/service:Service", "api-service").inputs
    assert svc["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}]
    assert "launchType" not in svc and "orderedPlacementStrategies" not in svc
    assert svc["networkConfiguration"]["assignPublicIp"] is False
    task = one(workloads, "aws:ecs/taskDefinition:TaskDefinition", "api-task").inputs
    assert (task["requiresCompatibilities"], task["networkMode"], task["cpu"], task["memory"]) == (
        ["FARGATE"], "awsvpc", "512", "2048")
    assoc = one(workloads, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs
    assert assoc["capacityProviders"] == [
        "cluster-capacity-provider", "cluster-spot-capacity-provider", "FARGATE", "FARGATE_SPOT"]
    web = one(workloads, "aws:ecs/service:Service", "web-service").inputs
    assert web["capacityProviderStrategies"] == DEFAULT_STRATEGY
    assert one(workloads, "aws:ecs/taskDefinition:TaskDefinition", "web-task").inputs["requiresCompatibilities"] == ["EC2"]


def test_stacks_without_fargate_keep_one_provider() -> None:
    rec = run_program(stack_config("prod"), "prod")
    assoc = one(rec, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs
    assert assoc["capacityProviders"] == ["cluster-capacity-provider"]


FARGATE = [{"capacity_provider": "FARGATE"}]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"capacity_provider_strategy": FARGATE, "task_cpu": 256, "task_memory": 256},
     "ecs-platform:services.api.task_memory: 256 MiB does not go with Fargate cpu 256: use 512..2048"),
    ({"capacity_provider_strategy": FARGATE, "task_cpu": 384, "task_memory": 1024},
     "ecs-platform:services.api.task_cpu: 384 is not a Fargate task size"),
    ({"capacity_provider_strategy": FARGATE, "task_cpu": 256, "task_memory": 512, "network_mode": "bridge"},
     "ecs-platform:services.api.network_mode: Fargate runs awsvpc tasks only"),
    ({"capacity_provider_strategy": FARGATE, "task_cpu": 256, "task_memory": 512, "writable_paths": ["/tmp"]},
     "ecs-platform:services.api.writable_paths: tmpfs mounts are not available on Fargate"),
    ({"capacity_provider_strategy": [{"capacity_provider": "FARGATE"}, {"capacity_provider": "ec2"}],
      "task_cpu": 256, "task_memory": 512}, "ecs-platform:services.api.capacity_provider_strategy: mixes FARGATE"),
    ({"capacity_provider_strategy": [{"capacity_provider": "FARGATE", "base": 1},
                                     {"capacity_provider": "FARGATE_SPOT", "base": 1}], "task_cpu": 256, "task_memory": 512},
     "ecs-platform:services.api.capacity_provider_strategy: only one entry may have a base"),
    ({"capacity_provider_strategy": [{"capacity_provider": "fargate"}]},
     "ecs-platform:services.api.capacity_provider_strategy.0.capacity_provider: unknown capacity provider 'fargate'"),
    ({"capacity_provider_strategy": [{"capacity_provider": "ec2", "weight": 0}]},
     "ecs-platform:services.api.capacity_provider_strategy: at least one entry needs a weight above 0"),
])
def test_fargate_config_errors_name_the_key(changes: dict[str, Any], expected: str) -> None:
    errors = errors_of(dev_with("services", "api", **changes))
    assert any(e.startswith(expected) for e in errors), errors


@pytest.mark.parametrize(("cpu", "memory"), [(256, 512), (256, 2048), (1024, 8192), (4096, 30720), (16384, 122880)])
def test_every_fargate_size_is_accepted(cpu: int, memory: int) -> None:
    raw = dev_with("services", "api", capacity_provider_strategy=FARGATE, task_cpu=cpu, task_memory=memory)
    assert parse_stack_config(raw).services["api"].task_memory == memory


# --- 6. scheduled tasks (EventBridge Scheduler) ------------------------------------------------------

def test_scheduled_task_runs_on_the_cluster_with_a_scoped_role(workloads: Recorder) -> None:
    schedule = one(workloads, "aws:scheduler/schedule:Schedule", "nightly-report-schedule").inputs
    assert (schedule["name"], schedule["scheduleExpression"], schedule["scheduleExpressionTimezone"], schedule["state"]) == (
        "ecs-platform-workloads-nightly-report", "cron(0 3 * * ? *)", "Europe/Dublin", "ENABLED")
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    target = schedule["target"]
    assert target["arn"] == "arn:aws:ecs:eu-west-1:123456789012:cluster-cluster"
    assert target["roleArn"] == "arn:aws:iam:eu-west-1:123456789012:nightly-report-scheduler-role"
    assert target["retryPolicy"] == {"maximumRetryAttempts": 2, "maximumEventAgeInSeconds": 3600}
    assert target["ecsParameters"] == {
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:nightly-report-task",
        "taskCount": 1,
        "capacityProviderStrategies": DEFAULT_STRATEGY,
        "networkConfiguration": {"subnets": ["subnet-0bbb1111", "subnet-0bbb2222"],
                                 "securityGroups": ["nightly-report-sg-id"], "assignPublicIp": False},
        "enableEcsManagedTags": True, "propagateTags": "TASK_DEFINITION", "tags": WORKLOADS_TAGS}
    trust = json.loads(one(workloads, "aws:iam/role:Role", "nightly-report-scheduler-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
                                   "Action": "sts:AssumeRole",
                                   "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]
    policy = json.loads(one(workloads, "aws:iam/rolePolicy:RolePolicy", "nightly-report-scheduler-policy").inputs["policy"])
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "ecs:RunTask",
         "Resource": "arn:aws:ecs:eu-west-1:123456789012:task-definition/ecs-platform-workloads-nightly-report:*",
         "Condition": {"ArnEquals": {"ecs:cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster-cluster"}}},
        {"Effect": "Allow", "Action": "ecs:TagResource",
         "Resource": "arn:aws:ecs:eu-west-1:123456789012:task/ecs-platform-workloads/*",
         "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}}},
        {"Effect": "Allow", "Action": "iam:PassRole",
         "Resource": ["arn:aws:iam:eu-west-1:123456789012:nightly-report-execution-role",
                      "arn:aws:iam:eu-west-1:123456789012:nightly-report-task-role"],
         "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
    ]


def test_scheduled_task_logs_and_limits_like_services(workloads: Recorder) -> None:
    task = one(workloads, "aws:ecs/taskDefinition:TaskDefinition", "nightly-report-task").inputs
    assert (task["family"], task["requiresCompatibilities"], task["cpu"], task["memory"]) == (
        "ecs-platform-workloads-nightly-report", ["EC2"], "256", "512")
    [container] = json.loads(task["containerDefinitions"])
    assert container["command"] == ["python", "-m", "reports.nightly"] and container["portMappings"] == []
    assert (container["cpu"], container["memory"], container["readonlyRootFilesystem"]) == (256, 512, True)
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/ecs/ecs-platform-workloads/nightly-report"
    group = one(workloads, "aws:cloudwatch/logGroup:LogGroup", "nightly-report-logs").inputs
    assert (group["name"], group["retentionInDays"]) == ("/ecs/ecs-platform-workloads/nightly-report", 90)
    assert not [r for r in workloads.resources if r.name.startswith("nightly-report") and r.type.startswith("aws:lb")]


def test_fargate_spot_scheduled_task_with_a_flexible_window(workloads: Recorder) -> None:
    schedule = one(workloads, "aws:scheduler/schedule:Schedule", "cleanup-schedule").inputs
    assert schedule["flexibleTimeWindow"] == {"mode": "FLEXIBLE", "maximumWindowInMinutes": 30}
    assert schedule["target"]["ecsParameters"]["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    assert schedule["target"]["retryPolicy"]["maximumRetryAttempts"] == 5
    assert one(workloads, "aws:ecs/taskDefinition:TaskDefinition", "cleanup-task").inputs["requiresCompatibilities"] == [
        "FARGATE"]


TASK = {"image": "public.ecr.aws/a/b:1", "cpu": 256, "memory": 512, "schedule_expression": "rate(1 hour)"}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"schedule_expression": "every hour"}, "ecs-platform:scheduled_tasks.job.schedule_expression: must be rate("),
    ({"schedule_timezone": "Mars/Olympus"}, "ecs-platform:scheduled_tasks.job.schedule_timezone: 'Mars/Olympus' is not an IANA"),
    ({"task_count": 11}, "ecs-platform:scheduled_tasks.job.task_count: Input should be less than or equal to 10"),
    ({"capacity_provider_strategy": [{"capacity_provider": "FARGATE"}], "task_memory": 600},
     "ecs-platform:scheduled_tasks.job.task_memory: 600 MiB does not go with Fargate cpu 256"),
    ({"port": 80}, "ecs-platform:scheduled_tasks.job.port: a scheduled task takes no traffic"),
    ({"memory_reservation": 1024}, "ecs-platform:scheduled_tasks.job.memory_reservation: 1024 exceeds the hard limit"),
    ({"retry": {"maximum_event_age_seconds": 30}},
     "ecs-platform:scheduled_tasks.job.retry.maximum_event_age_seconds: Input should be greater than or equal to 60"),
])
def test_scheduled_task_config_errors_name_the_key(changes: dict[str, Any], expected: str) -> None:
    raw = raw_of(stack_config("dev"))
    raw["scheduled_tasks"] = {"job": {**TASK, **changes}}
    errors = errors_of(raw)
    assert any(e.startswith(expected) for e in errors), errors


def test_scheduled_task_cannot_share_a_service_name() -> None:
    raw = raw_of(stack_config("dev"))
    raw["scheduled_tasks"] = {"api": TASK}
    assert "ecs-platform:scheduled_tasks.api: a service is named 'api' too: their log groups and families would collide" \
        in errors_of(raw)


# --- 7. several capacity providers ---------------------------------------------------------------------

def test_on_demand_and_spot_groups_share_the_default_strategy(workloads: Recorder) -> None:
    assoc = one(workloads, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs
    assert assoc["defaultCapacityProviderStrategies"] == DEFAULT_STRATEGY
    spot = one(workloads, "aws:autoscaling/group:Group", "cluster-spot-asg").inputs
    assert "launchTemplate" not in spot and "warmPool" not in spot
    assert (spot["minSize"], spot["maxSize"], spot["desiredCapacity"], spot["protectFromScaleIn"]) == (0, 12, 0, True)
    policy = spot["mixedInstancesPolicy"]
    assert policy["launchTemplate"]["launchTemplateSpecification"]["launchTemplateId"] == "cluster-launch-template-id"
    assert [o["instanceType"] for o in policy["launchTemplate"]["overrides"]] == [
        "m7i.large", "m6i.large", "m6a.large", "m5.large"]
    assert policy["instancesDistribution"] == {"onDemandPercentageAboveBaseCapacity": 0, "onDemandBaseCapacity": 0,
                                               "spotAllocationStrategy": "price-capacity-optimized"}
    assert spot["capacityRebalance"] is True
    assert {"key": "AmazonECSManaged", "value": "true", "propagateAtLaunch": True} in spot["tags"]
    assert {"key": "Name", "value": "ecs-platform-workloads-spot-instance", "propagateAtLaunch": True} in spot["tags"]
    provider = one(workloads, "aws:ecs/capacityProvider:CapacityProvider", "cluster-spot-capacity-provider").inputs
    asp = provider["autoScalingGroupProvider"]
    assert asp["autoScalingGroupArn"] == "arn:aws:autoscaling:eu-west-1:123456789012:cluster-spot-asg"
    assert (asp["managedTerminationProtection"], asp["managedScaling"]["status"]) == ("ENABLED", "ENABLED")
    # the cluster's own group keeps its names and its plain launch template
    primary = one(workloads, "aws:autoscaling/group:Group", "cluster-asg").inputs
    assert "mixedInstancesPolicy" not in primary and "warmPool" in primary


def test_one_provider_keeps_the_single_default_strategy() -> None:
    rec = run_program(stack_config("dev"), "dev")
    assoc = one(rec, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs
    assert assoc["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "cluster-capacity-provider", "weight": 1, "base": 0}]
    assert len(of_type(rec, "aws:autoscaling/group:Group")) == 1


@pytest.mark.parametrize(("cluster", "expected"), [
    ({"base": 1, "additional_capacity_providers": {"spot": {"instance_types": ["t3.small"], "base": 1}}},
     "ecs-platform:cluster.base: only one provider of the default strategy may have a base"),
    ({"weight": 0, "additional_capacity_providers": {"spot": {"instance_types": ["t3.small"], "weight": 0}}},
     "ecs-platform:cluster.weight: at least one provider of the default strategy needs a weight above 0"),
    ({"additional_capacity_providers": {"ec2": {"instance_types": ["t3.small"]}}},
     "ecs-platform:cluster.additional_capacity_providers.ec2: 'ec2' names the cluster's own group"),
    ({"additional_capacity_providers": {"arm": {"instance_types": ["t4g.small"]}}},
     "ecs-platform:cluster.additional_capacity_providers.arm.instance_types: must match the cluster's architecture"),
    ({"additional_capacity_providers": {"spot": {"instance_types": ["t3.small"], "desired_capacity": 9}}},
     "ecs-platform:cluster.additional_capacity_providers.spot.desired_capacity: must lie in min_size..max_size"),
    ({"additional_capacity_providers": {"spot": {}}},
     "ecs-platform:cluster.additional_capacity_providers.spot.instance_types: required key is missing"),
])
def test_capacity_provider_config_errors_name_the_key(cluster: dict[str, Any], expected: str) -> None:
    raw = raw_of(stack_config("dev"))
    raw["cluster"] = {"instance_types": ["t3.small"], **cluster}
    errors = errors_of(raw)
    assert any(e.startswith(expected) for e in errors), errors


def test_a_service_may_pin_an_additional_provider() -> None:
    config = example_config("workloads")
    config["ecs-platform:services"]["web"]["capacity_provider_strategy"] = [{"capacity_provider": "spot"}]
    rec = run_program(config, "workloads")
    assert one(rec, "aws:ecs/service:Service", "web-service").inputs["capacityProviderStrategies"] == [
        {"capacityProvider": "cluster-spot-capacity-provider", "weight": 1, "base": 0}]
