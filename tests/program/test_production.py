"""Issue 19 under mocks: what a production service needs on day one, as AWS receives it: task role
permissions, reachability (egress, ingress between tasks, extra security groups), alarms with
deployment rollback, container lifecycle, Service Connect and tags; and config errors that name
the key. Stacks: Pulumi.prod.yaml, Pulumi.dev.yaml, examples/Pulumi.workloads.yaml."""
# ruff: noqa: E501  (tables of cases read best one case a line)

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import pytest

from components.config import RULE_DESCRIPTION, ConfigError, parse_stack_config

from .harness import ROOT, Recorder, of_type, one, run_program, stack_config
from .pack import example_config

SG_OUT = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_IN = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SERVICE = "aws:ecs/service:Service"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
PROD_TAGS = {"cost-centre": "CC-4711", "environment": "prod", "team": "platform"}
WORKLOADS_TAGS = {"cost-centre": "CC-0815", "data-classification": "internal", "environment": "workloads",
                  "team": "data-platform"}
TOPIC = "arn:aws:sns:eu-west-1:123456789012:prod-alerts"


@pytest.fixture(scope="module")
def prod() -> Recorder:
    return run_program(stack_config("prod"), "prod")


@pytest.fixture(scope="module")
def dev() -> Recorder:
    return run_program(stack_config("dev"), "dev")


@pytest.fixture(scope="module")
def workloads() -> Recorder:
    return run_program(example_config("workloads"), "workloads")


def containers(rec: Recorder, task: str) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(one(rec, TASK, f"{task}-task").inputs["containerDefinitions"])}


def policy(rec: Recorder, name: str) -> dict:
    return json.loads(one(rec, ROLE_POLICY, name).inputs["policy"])


def names(rec: Recorder, type_: str) -> set[str]:
    return {r.name for r in of_type(rec, type_)}


def raw_of(config: dict[str, Any]) -> dict[str, Any]:
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in config.items() if k.startswith("ecs-platform:")}


def errors_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw)
    return [line.strip() for line in str(caught.value).splitlines()[1:]]


def assert_error(raw: dict[str, Any], expected: str) -> None:
    errors = errors_of(raw)
    assert any(e.startswith(expected) for e in errors), errors


def prod_raw() -> dict[str, Any]:
    return raw_of(stack_config("prod"))


def workloads_raw() -> dict[str, Any]:
    return raw_of(example_config("workloads"))


def with_changes(raw: dict[str, Any], path: str, **changes: Any) -> dict[str, Any]:
    """`raw` with `changes` merged into the mapping at dotted `path` (e.g. services.api)."""
    node = raw
    for key in path.split("."):
        node = node[key]
    node.update(changes)
    return raw


# --- 1. task role permissions ------------------------------------------------------------------

DENY_IAM = {"Version": "2012-10-17", "Statement": [
    {"Sid": "DenyIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}


def test_prod_api_may_export_traces_and_metrics_and_no_task_may_use_iam(prod: Recorder) -> None:
    app = one(prod, ROLE_POLICY, "api-app-policy").inputs
    assert app["role"] == "api-task-role-id"
    assert json.loads(app["policy"]) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "OtelTraces", "Effect": "Allow",
         "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                    "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"],
         "Resource": ["*"]},
        {"Sid": "OtelMetrics", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
         "Resource": ["arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/ecs-platform-prod/api:*"]},
    ]}
    for service in ("web", "api"):
        deny = one(prod, ROLE_POLICY, f"{service}-deny-iam").inputs
        assert (deny["role"], json.loads(deny["policy"])) == (f"{service}-task-role-id", DENY_IAM)
    assert "web-app-policy" not in names(prod, ROLE_POLICY)
    assert [r.name for r in of_type(prod, ATTACHMENT) if "-managed-" in r.name] == []


def test_managed_policies_deny_statements_conditions_and_the_iam_switch(workloads: Recorder) -> None:
    attachment = one(workloads, ATTACHMENT, "queue-worker-managed-job-results-writer").inputs
    assert attachment == {"role": "queue-worker-task-role",
                          "policyArn": "arn:aws:iam::123456789012:policy/job-results-writer"}
    assert policy(workloads, "queue-worker-app-policy")["Statement"] == [
        {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                       "sqs:GetQueueAttributes"],
         "Resource": ["arn:aws:sqs:eu-west-1:123456789012:jobs"]},
        {"Effect": "Deny", "Action": ["s3:Delete*"], "Resource": ["arn:aws:s3:::job-results/*"]},
    ]
    assert policy(workloads, "nightly-report-app-policy")["Statement"] == [
        {"Sid": "WriteReports", "Effect": "Allow", "Action": ["s3:PutObject"],
         "Resource": ["arn:aws:s3:::reports/nightly/*"],
         "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}]
    # deny_iam: false (cleanup manages access keys): no deny, and its IAM statement stands
    assert "cleanup-deny-iam" not in names(workloads, ROLE_POLICY)
    assert policy(workloads, "cleanup-app-policy")["Statement"][0]["Action"] == ["iam:ListAccessKeys", "iam:DeleteAccessKey"]
    assert {"queue-worker-deny-iam", "nightly-report-deny-iam", "web-deny-iam", "api-deny-iam"} <= names(workloads, ROLE_POLICY)


@pytest.fixture(scope="module")
def prod_engine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """prod's resources as the offline engine records them (dependencies included), by name."""
    report = tmp_path_factory.mktemp("prod") / "prod.json"
    proc = subprocess.run(
        [sys.executable, "-m", "offline", "preview", "--stack", "prod", "--policy-pack", "none", "--json", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {r["name"]: r for r in json.loads(report.read_text())["resources"]}


def test_permissions_and_alarms_exist_before_the_service_starts_tasks(prod_engine: dict[str, dict]) -> None:
    deps = set(prod_engine["api-service"]["dependencies"])
    for name in ("api-deny-iam", "api-app-policy", "api-alarm-http-5xx", "api-alarm-response-time",
                 "api-alarm-cpu", "api-alarm-memory", "service-connect-namespace"):
        assert prod_engine[name]["urn"] in deps, name


@pytest.mark.parametrize(("statement", "expected"), [
    ({"actions": ["*"], "resources": ["*"]}, "ecs-platform:services.api.permissions.statements.0.actions: '*' grants every action of every service"),
    ({"actions": ["*:*"], "resources": ["*"]}, "ecs-platform:services.api.permissions.statements.0.actions: '*:*' grants every action"),
    ({"actions": ["s3*:GetObject"], "resources": ["*"]}, "ecs-platform:services.api.permissions.statements.0.actions: 's3*:GetObject' is not service:Action"),
    ({"actions": ["GetObject"], "resources": ["*"]}, "ecs-platform:services.api.permissions.statements.0.actions: 'GetObject' is not service:Action"),
    ({"actions": ["s3:GetObject"], "resources": []}, "ecs-platform:services.api.permissions.statements.0.resources: List should have at least 1 item"),
    ({"actions": ["s3:GetObject"]}, "ecs-platform:services.api.permissions.statements.0.resources: required key is missing"),
    ({"actions": ["s3:GetObject"], "resources": ["my-bucket/*"]}, "ecs-platform:services.api.permissions.statements.0.resources: 'my-bucket/*' is neither an ARN"),
    ({"actions": ["s3:*"], "resources": ["*"]}, "ecs-platform:services.api.permissions.statements.0.resources: s3:* on `*` grants every s3 action on every resource"),
    ({"actions": ["iam:PassRole"], "resources": ["*"]}, "ecs-platform:services.api.permissions.statements.0.actions: IAM actions are denied to the task role (deny_iam)"),
    ({"actions": ["s3:GetObject"], "resources": ["*"], "effect": "Permit"}, "ecs-platform:services.api.permissions.statements.0.effect: must be one of"),
    ({"actions": ["s3:GetObject"], "resources": ["*"], "conditions": {"StringEqualz": {"s3:prefix": "a"}}},
     "ecs-platform:services.api.permissions.statements.0.conditions: 'StringEqualz' is not an IAM condition operator"),
    ({"actions": ["s3:GetObject"], "resources": ["*"], "conditions": {"Bool": {"SecureTransport": "true"}}},
     "ecs-platform:services.api.permissions.statements.0.conditions: Bool: 'SecureTransport' is not a condition key"),
    ({"actions": ["s3:GetObject"], "resources": ["*"], "sid": "read-objects"}, "ecs-platform:services.api.permissions.statements.0.sid: 'read-objects' does not match"),
])
def test_statement_errors_name_the_key(statement: dict[str, Any], expected: str) -> None:
    assert_error(with_changes(prod_raw(), "services.api", permissions={"statements": [statement]}), expected)


@pytest.mark.parametrize(("permissions", "expected"), [
    ({"managed_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
     "ecs-platform:services.api.permissions.managed_policy_arns.0: AdministratorAccess makes the task an administrator"),
    ({"managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnly", "arn:aws:iam::123456789012:policy/ReadOnly"]},
     "ecs-platform:services.api.permissions.managed_policy_arns.1: another managed policy is named 'ReadOnly'"),
    ({"managed_policy_arns": ["arn:aws:s3:::bucket"]}, "ecs-platform:services.api.permissions.managed_policy_arns.0: 'arn:aws:s3:::bucket' does not match"),
    ({"statements": [{"sid": "A", "actions": ["s3:GetObject"], "resources": ["*"]},
                     {"sid": "A", "actions": ["s3:PutObject"], "resources": ["*"]}]},
     "ecs-platform:services.api.permissions.statements.1.sid: 'A' is used by another statement"),
    ({"statements": [{"actions": [f"s3:Get{'x' * 60}{i}" for i in range(100)], "resources": [f"arn:aws:s3:::b{i}/*" for i in range(100)]}]},
     "ecs-platform:services.api.permissions.statements: the application policy has"),
    ({"deny_iam": "sometimes"}, "ecs-platform:services.api.permissions.deny_iam: Input should be a valid boolean"),
])
def test_permission_errors_name_the_key(permissions: dict[str, Any], expected: str) -> None:
    assert_error(with_changes(prod_raw(), "services.api", permissions=permissions), expected)


def test_scheduled_tasks_take_permissions_too() -> None:
    raw = workloads_raw()
    raw["scheduled_tasks"]["nightly-report"]["permissions"]["statements"][0]["actions"] = ["iam:CreateUser"]
    assert_error(raw, "ecs-platform:scheduled_tasks.nightly-report.permissions.statements.0.actions: IAM actions are denied")


# --- 2. reachability -------------------------------------------------------------------------------

def test_api_reaches_its_database_and_web_reaches_api(prod: Recorder) -> None:
    assert one(prod, SG_OUT, "api-out-5432-pl-0a1b2c3d4e5f60789").inputs == {
        "securityGroupId": "api-sg-id", "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432,
        "prefixListId": "pl-0a1b2c3d4e5f60789", "description": "PostgreSQL prod database"}
    assert one(prod, SG_OUT, "web-to-api-8080").inputs == {
        "securityGroupId": "web-sg-id", "referencedSecurityGroupId": "api-sg-id", "ipProtocol": "tcp",
        "fromPort": 8080, "toPort": 8080, "description": "To service api on TCP 8080"}
    assert one(prod, SG_IN, "api-from-web-8080").inputs == {
        "securityGroupId": "api-sg-id", "referencedSecurityGroupId": "web-sg-id", "ipProtocol": "tcp",
        "fromPort": 8080, "toPort": 8080, "description": "From service web on TCP 8080"}
    # nothing else opened: HTTPS egress and the ALB's ingress stay as they were
    assert names(prod, SG_OUT) == {"cluster-instances-https-out", "web-https-out", "web-alb-egress", "api-https-out",
                                   "api-alb-egress", "api-out-5432-pl-0a1b2c3d4e5f60789", "web-to-api-8080"}
    assert names(prod, SG_IN) == {"alb-in-80-0", "alb-in-443-0", "web-from-alb", "api-from-alb", "api-from-web-8080"}


def test_dev_stays_closed(dev: Recorder) -> None:
    assert names(dev, SG_OUT) == {"cluster-instances-https-out", "web-https-out", "web-alb-egress", "api-https-out",
                                  "api-alb-egress"}
    assert one(dev, SERVICE, "api-service").inputs["networkConfiguration"]["securityGroups"] == ["api-sg-id"]


def test_cidrs_ipv6_udp_ranges_scheduled_tasks_and_extra_groups(workloads: Recorder) -> None:
    rules = {r.name: r.inputs for r in of_type(workloads, SG_OUT)}
    assert rules["queue-worker-out-6379-10.30.0.0_24"] == {
        "securityGroupId": "queue-worker-sg-id", "ipProtocol": "tcp", "fromPort": 6379, "toPort": 6379,
        "cidrIpv4": "10.30.0.0/24", "description": "Redis job locks"}
    assert rules["queue-worker-out-6379-2001_db8_30___56"]["cidrIpv6"] == "2001:db8:30::/56"
    assert rules["queue-worker-out-udp-8125-10.0.0.0_16"] == {
        "securityGroupId": "queue-worker-sg-id", "ipProtocol": "udp", "fromPort": 8125, "toPort": 8125,
        "cidrIpv4": "10.0.0.0/16", "description": "StatsD"}
    assert rules["nightly-report-out-5432-5433-10.20.0.0_16"] == {
        "securityGroupId": "nightly-report-sg-id", "ipProtocol": "tcp", "fromPort": 5432, "toPort": 5433,
        "cidrIpv4": "10.20.0.0/16", "description": "PostgreSQL primary and replica"}
    assert rules["nightly-report-to-api-8080"]["referencedSecurityGroupId"] == "api-sg-id"
    assert one(workloads, SG_IN, "api-from-nightly-report-8080").inputs == {
        "securityGroupId": "api-sg-id", "referencedSecurityGroupId": "nightly-report-sg-id", "ipProtocol": "tcp",
        "fromPort": 8080, "toPort": 8080, "description": "From scheduled task nightly-report on TCP 8080"}
    network = one(workloads, SERVICE, "queue-worker-service").inputs["networkConfiguration"]
    assert network["securityGroups"] == ["queue-worker-sg-id", "sg-0123456789abcdef0"]


def test_rule_names_do_not_depend_on_the_order_of_the_config(workloads: Recorder) -> None:
    config = example_config("workloads")
    services = config["ecs-platform:services"]
    services["queue-worker"]["egress"].reverse()
    services["queue-worker"]["egress"][1]["cidrs"].reverse()
    services["api"]["ingress"].reverse()
    reordered = run_program(config, "workloads")
    for type_ in (SG_OUT, SG_IN):
        assert {r.name: r.inputs for r in of_type(reordered, type_)} == {r.name: r.inputs for r in of_type(workloads, type_)}


def test_rule_descriptions_use_ec2_characters_only(prod: Recorder, workloads: Recorder) -> None:
    for rec in (prod, workloads):
        for rule in [*of_type(rec, SG_OUT), *of_type(rec, SG_IN)]:
            assert RULE_DESCRIPTION.fullmatch(rule.inputs["description"]), (rule.name, rule.inputs["description"])


@pytest.mark.parametrize(("path", "changes", "expected"), [
    ("services.web", {"egress": [{"service": "apx"}]}, "ecs-platform:services.web.egress.0.service: unknown service 'apx': use one of ['api', 'web']"),
    ("services.api", {"ingress": []}, "ecs-platform:services.web.egress.0.service: service 'api' does not admit 'web' on tcp 8080: add {source: web, port: 8080} to services.api.ingress"),
    ("services.web", {"egress": []}, "ecs-platform:services.api.ingress.0.source: 'web' has no egress to 'api' on tcp 8080: add {service: api, port: 8080} to services.web.egress"),
    ("services.api", {"ingress": [{"source": "web"}, {"source": "worker"}]}, "ecs-platform:services.api.ingress.1.source: unknown service or scheduled task 'worker'"),
    ("services.api", {"ingress": [{"source": "web", "port": 9090}]}, "ecs-platform:services.api.ingress.0.port: 9090 is no port of this service [8080]"),
    ("services.web", {"egress": [{"service": "api", "port": 9090}]}, "ecs-platform:services.web.egress.0.port: 9090 is no port of service 'api' [8080]"),
    ("services.web", {"egress": [{"service": "api"}, {"service": "api", "port": 8080}]}, "ecs-platform:services.web.egress.1: repeats a rule to 'api' on tcp 8080"),
    ("services.web", {"egress": [{"service": "api", "cidrs": ["10.0.0.0/8"]}]}, "ecs-platform:services.web.egress.0: names a service and CIDRs or prefix lists"),
    ("services.web", {"egress": [{"service": "api", "to_port": 8081}]}, "ecs-platform:services.web.egress.0.to_port: a rule to a service takes one port"),
    ("services.api", {"egress": [{"cidrs": ["10.0.0.0/8"]}]}, "ecs-platform:services.api.egress.0.port: required with cidrs or prefix_list_ids"),
    ("services.api", {"egress": [{"port": 5432}]}, "ecs-platform:services.api.egress.0: needs a destination"),
    ("services.api", {"egress": [{"port": 5432, "to_port": 5000, "cidrs": ["10.0.0.0/8"]}]}, "ecs-platform:services.api.egress.0.to_port: must be at least port (5432)"),
    ("services.api", {"egress": [{"port": 5432, "cidrs": ["10.0.0.0/33"]}]}, "ecs-platform:services.api.egress.0.cidrs: '10.0.0.0/33' is not a CIDR"),
    ("services.api", {"egress": [{"port": 5432, "prefix_list_ids": ["pl-xyz"]}]}, "ecs-platform:services.api.egress.0.prefix_list_ids.0: 'pl-xyz' does not match"),
    ("services.api", {"egress": [{"port": 5432, "cidrs": ["10.0.0.0/8"]}, {"port": 5432, "cidrs": ["10.0.0.0/8"]}]}, "ecs-platform:services.api.egress.1: repeats 10.0.0.0/8 on tcp 5432"),
    ("services.api", {"egress": [{"port": 5432, "protocol": "icmp", "cidrs": ["10.0.0.0/8"]}]}, "ecs-platform:services.api.egress.0.protocol: must be one of 'tcp' or 'udp'"),
    ("services.api", {"egress": [{"port": 5432, "cidrs": ["10.0.0.0/8"], "description": "Postgres' primary"}]}, "ecs-platform:services.api.egress.0.description: a security group rule description"),
    ("services.api", {"security_group_ids": ["sg-12345"]}, "ecs-platform:services.api.security_group_ids.0: 'sg-12345' does not match"),
    ("services.api", {"security_group_ids": ["sg-0123456789abcdef0", "sg-0123456789abcdef0"]}, "ecs-platform:services.api.security_group_ids: names a security group twice"),
    ("services.api", {"security_group_ids": [f"sg-0123456789abcdef{i}" for i in range(5)]}, "ecs-platform:services.api.security_group_ids: List should have at most 4 items"),
    ("services.api", {"network_mode": "bridge"}, "ecs-platform:services.api.egress: needs network_mode awsvpc"),
])
def test_reachability_errors_name_the_key(path: str, changes: dict[str, Any], expected: str) -> None:
    assert_error(with_changes(prod_raw(), path, **changes), expected)


# --- 3. alarms and rollback --------------------------------------------------------------------------

def test_prod_alarms_watch_the_target_group_and_the_service(prod: Recorder) -> None:
    common = {"alarmActions": [TOPIC], "okActions": [TOPIC], "period": 60, "evaluationPeriods": 3,
              "datapointsToAlarm": 2, "comparisonOperator": "GreaterThanOrEqualToThreshold",
              "treatMissingData": "notBreaching"}
    assert one(prod, ALARM, "api-alarm-http-5xx").inputs == {
        **common, "name": "ecs-platform-prod-api-http-5xx", "namespace": "AWS/ApplicationELB",
        "metricName": "HTTPCode_Target_5XX_Count", "statistic": "Sum", "threshold": 10,
        "dimensions": {"LoadBalancer": "app/alb/0123456789abcdef", "TargetGroup": "app/api-tg/0123456789abcdef"},
        "alarmDescription": "Service api of ecs-platform-prod: 10+ target 5xx responses (rolls a deployment back)"}
    assert one(prod, ALARM, "web-alarm-response-time").inputs == {
        **common, "name": "ecs-platform-prod-web-response-time", "namespace": "AWS/ApplicationELB",
        "metricName": "TargetResponseTime", "extendedStatistic": "p95", "threshold": 1.0,
        "dimensions": {"LoadBalancer": "app/alb/0123456789abcdef", "TargetGroup": "app/web-tg/0123456789abcdef"},
        "alarmDescription": "Service web of ecs-platform-prod: p95 response time 1.0s+ (rolls a deployment back)"}
    assert one(prod, ALARM, "api-alarm-memory").inputs == {
        **common, "name": "ecs-platform-prod-api-memory", "namespace": "AWS/ECS", "metricName": "MemoryUtilization",
        "statistic": "Average", "threshold": 90, "dimensions": {"ClusterName": "ecs-platform-prod", "ServiceName": "api"},
        "alarmDescription": "Service api of ecs-platform-prod: average memory 90%+ (rolls a deployment back)"}
    for service in ("web", "api"):
        assert one(prod, SERVICE, f"{service}-service").inputs["alarms"] == {
            "alarmNames": [f"ecs-platform-prod-{service}-{a}" for a in ("http-5xx", "response-time", "cpu", "memory")],
            "enable": True, "rollback": True}
        assert one(prod, SERVICE, f"{service}-service").inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_worker_alarms_on_cpu_only_and_only_marks_a_deployment_failed(workloads: Recorder) -> None:
    assert {r.name for r in of_type(workloads, ALARM) if r.name.startswith("queue-worker")} == {"queue-worker-alarm-cpu"}
    cpu = one(workloads, ALARM, "queue-worker-alarm-cpu").inputs
    assert (cpu["threshold"], cpu["metricName"], cpu["dimensions"]) == (
        85, "CPUUtilization", {"ClusterName": "ecs-platform-workloads", "ServiceName": "queue-worker"})
    assert "alarmActions" not in cpu and "okActions" not in cpu
    assert one(workloads, SERVICE, "queue-worker-service").inputs["alarms"] == {
        "alarmNames": ["ecs-platform-workloads-queue-worker-cpu"], "enable": True, "rollback": False}
    api = one(workloads, ALARM, "api-alarm-http-5xx").inputs
    assert (api["threshold"], api["evaluationPeriods"], api["datapointsToAlarm"]) == (5, 5, 3)
    assert one(workloads, ALARM, "api-alarm-response-time").inputs["extendedStatistic"] == "p99"
    assert "alarms" not in one(workloads, SERVICE, "web-service").inputs


def test_dev_has_no_alarms(dev: Recorder) -> None:
    assert not of_type(dev, ALARM)
    assert "alarms" not in one(dev, SERVICE, "api-service").inputs


@pytest.mark.parametrize(("path", "alarms", "expected"), [
    ("services.api", {"http_5xx": {"period": 90}}, "ecs-platform:services.api.alarms.http_5xx.period: must be a multiple of 60"),
    ("services.api", {"cpu": {"period": 30}}, "ecs-platform:services.api.alarms.cpu.period: Input should be greater than or equal to 60"),
    ("services.api", {"memory": {"evaluation_periods": 2, "datapoints_to_alarm": 3}}, "ecs-platform:services.api.alarms.memory.datapoints_to_alarm: must be at most evaluation_periods (2)"),
    ("services.api", {"cpu": {"period": 600, "evaluation_periods": 150, "datapoints_to_alarm": 1}}, "ecs-platform:services.api.alarms.cpu.evaluation_periods: period x evaluation_periods may cover 86400 seconds"),
    ("services.api", {"response_time": {"statistic": "p50"}}, "ecs-platform:services.api.alarms.response_time.statistic: must be one of"),
    ("services.api", {"cpu": {"threshold_percent": 120}}, "ecs-platform:services.api.alarms.cpu.threshold_percent: Input should be less than or equal to 100"),
    ("services.api", {"sns_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:alerts"}, "ecs-platform:services.api.alarms.sns_topic_arn: 'arn:aws:sqs:eu-west-1:123456789012:alerts' does not match"),
    ("services.api", {"http_5xx": None, "response_time": None, "cpu": None, "memory": None}, "ecs-platform:services.api.alarms: every alarm is off"),
    ("services.queue-worker", {"http_5xx": {}}, "ecs-platform:services.queue-worker.alarms.http_5xx: a worker has no target group"),
    ("services.queue-worker", {"cpu": None, "memory": None}, "ecs-platform:services.queue-worker.alarms: every alarm is off"),
])
def test_alarm_errors_name_the_key(path: str, alarms: dict[str, Any], expected: str) -> None:
    raw = workloads_raw()
    with_changes(raw, path, alarms=alarms)
    assert_error(raw, expected)


# --- 4. container lifecycle ---------------------------------------------------------------------------

def test_prod_api_container_lifecycle(prod: Recorder) -> None:
    api, otel = containers(prod, "api")["api"], containers(prod, "api")["otel"]
    assert api["stopTimeout"] == 60
    assert api["healthCheck"] == {"command": ["CMD-SHELL", "curl -fs http://localhost:8080/api/health || exit 1"],
                                  "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 30}
    assert api["dependsOn"] == [{"containerName": "otel", "condition": "HEALTHY"}]
    assert api["ulimits"] == [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}]
    assert api["linuxParameters"] == {"initProcessEnabled": True}
    assert otel["healthCheck"] == {"command": ["CMD", "/healthcheck"], "interval": 30, "timeout": 5, "retries": 3}
    assert otel["linuxParameters"] == {"initProcessEnabled": True, "tmpfs": [{"containerPath": "/tmp", "size": 64}]}
    assert (otel["stopTimeout"], otel["essential"]) == (30, False)
    assert "dependsOn" not in otel and "ulimits" not in otel


def test_defaults_run_an_init_process_and_write_out_the_stop_timeout(dev: Recorder) -> None:
    for service in ("web", "api"):
        c = containers(dev, service)[service]
        assert c["stopTimeout"] == 30 and c["linuxParameters"]["initProcessEnabled"] is True
        for absent in ("healthCheck", "dependsOn", "ulimits"):
            assert absent not in c
    assert containers(dev, "web")["web"]["linuxParameters"]["tmpfs"][0] == {"containerPath": "/var/cache/nginx", "size": 64}


def test_worker_turns_the_init_process_off(workloads: Recorder) -> None:
    worker = containers(workloads, "queue-worker")["queue-worker"]
    assert "linuxParameters" not in worker
    assert (worker["stopTimeout"], worker["ulimits"]) == (120, [{"name": "nofile", "softLimit": 4096, "hardLimit": 8192}])


@pytest.mark.parametrize(("changes", "expected"), [
    ({"stop_timeout": 121}, "ecs-platform:services.api.stop_timeout: Input should be less than or equal to 120"),
    ({"stop_timeout": 1}, "ecs-platform:services.api.stop_timeout: Input should be greater than or equal to 2"),
    ({"container_health_check": {"command": ["curl", "-f", "http://localhost/"]}}, "ecs-platform:services.api.container_health_check.command: must start with CMD"),
    ({"container_health_check": {"command": ["CMD-SHELL", "curl", "-f"]}}, "ecs-platform:services.api.container_health_check.command: CMD-SHELL takes one string"),
    ({"container_health_check": {"command": ["CMD"]}}, "ecs-platform:services.api.container_health_check.command: List should have at least 2 items"),
    ({"container_health_check": {"command": ["CMD", " "]}}, "ecs-platform:services.api.container_health_check.command: holds an empty argument"),
    ({"container_health_check": {"command": ["CMD", "true"], "interval": 4}}, "ecs-platform:services.api.container_health_check.interval: Input should be greater than or equal to 5"),
    ({"container_health_check": {"command": ["CMD", "true"], "timeout": 61}}, "ecs-platform:services.api.container_health_check.timeout: Input should be less than or equal to 60"),
    ({"container_health_check": {"command": ["CMD", "true"], "retries": 11}}, "ecs-platform:services.api.container_health_check.retries: Input should be less than or equal to 10"),
    ({"container_health_check": {"command": ["CMD", "true"], "start_period": 301}}, "ecs-platform:services.api.container_health_check.start_period: Input should be less than or equal to 300"),
    ({"depends_on": {"redis": "START"}}, "ecs-platform:services.api.depends_on.redis: unknown container: use one of ['api', 'otel']"),
    ({"depends_on": {"api": "START"}}, "ecs-platform:services.api.depends_on.api: a container cannot wait for itself"),
    ({"depends_on": {"otel": "READY"}}, "ecs-platform:services.api.depends_on.otel: must be one of"),
    ({"depends_on": {"otel": "COMPLETE"}, "sidecars": {"otel": {"image": "public.ecr.aws/a/b:1", "cpu": 64, "memory": 64}}},
     "ecs-platform:services.api.depends_on.otel: 'otel' is essential: ECS takes COMPLETE only for non-essential containers"),
    ({"ulimits": {"files": {"soft": 1, "hard": 1}}}, "ecs-platform:services.api.ulimits.files: 'files' is not one of 'core', 'cpu'"),
    ({"ulimits": {"nproc": {"soft": 2048, "hard": 1024}}}, "ecs-platform:services.api.ulimits.nproc.soft: 2048 exceeds the hard limit 1024"),
    ({"init_process_enabled": "yes please"}, "ecs-platform:services.api.init_process_enabled: Input should be a valid boolean"),
])
def test_lifecycle_errors_name_the_key(changes: dict[str, Any], expected: str) -> None:
    assert_error(with_changes(prod_raw(), "services.api", **changes), expected)


def test_healthy_needs_a_health_check_and_cycles_are_refused() -> None:
    raw = prod_raw()
    del raw["services"]["api"]["sidecars"]["otel"]["container_health_check"]
    assert_error(raw, "ecs-platform:services.api.depends_on.otel: HEALTHY needs a container_health_check on 'otel'")
    raw = prod_raw()
    raw["services"]["api"]["sidecars"]["otel"]["depends_on"] = {"api": "START"}
    assert_error(raw, "ecs-platform:services.api.depends_on: containers wait for each other in a cycle: api -> otel -> api")


# --- 5. Service Connect -----------------------------------------------------------------------------

def test_api_is_published_and_web_calls_it_by_name(prod: Recorder) -> None:
    assert one(prod, "aws:servicediscovery/httpNamespace:HttpNamespace", "service-connect-namespace").inputs == {
        "name": "ecs-platform-prod", "description": "Service Connect of ecs-platform-prod"}
    namespace = "arn:aws:servicediscovery:eu-west-1:123456789012:service-connect-namespace"

    def logs(service: str) -> dict:
        return {"logDriver": "awslogs", "options": {"awslogs-group": f"/ecs/ecs-platform-prod/{service}",
                                                    "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "service-connect"}}
    assert one(prod, SERVICE, "api-service").inputs["serviceConnectConfiguration"] == {
        "enabled": True, "namespace": namespace, "logConfiguration": logs("api"),
        "services": [{"portName": "api", "discoveryName": "api", "clientAlias": [{"port": 8080, "dnsName": "api"}]}]}
    assert one(prod, SERVICE, "web-service").inputs["serviceConnectConfiguration"] == {
        "enabled": True, "namespace": namespace, "logConfiguration": logs("web")}
    assert containers(prod, "api")["api"]["portMappings"] == [
        {"containerPort": 8080, "hostPort": 8080, "protocol": "tcp", "name": "api", "appProtocol": "http"}]
    assert containers(prod, "web")["web"]["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    # derived task sizes leave room for the proxy: containers + 256 CPU units and 64 MiB
    task = one(prod, TASK, "api-task").inputs
    assert (task["cpu"], task["memory"]) == (str(512 + 128 + 256), str(1024 + 256 + 64))


def test_aliases_discovery_names_and_protocols_are_configurable(workloads: Recorder) -> None:
    api = one(workloads, SERVICE, "api-service").inputs["serviceConnectConfiguration"]
    assert api["services"] == [{"portName": "api", "discoveryName": "api",
                                "clientAlias": [{"port": 80, "dnsName": "api.internal"}]}]
    assert containers(workloads, "api")["api"]["portMappings"][0]["appProtocol"] == "http2"
    assert "services" not in one(workloads, SERVICE, "web-service").inputs["serviceConnectConfiguration"]
    assert "serviceConnectConfiguration" not in one(workloads, SERVICE, "queue-worker-service").inputs
    assert one(workloads, TASK, "api-task").inputs["memory"] == "2048"  # explicit Fargate size: as given


def test_no_namespace_without_service_connect(dev: Recorder) -> None:
    assert not of_type(dev, "aws:servicediscovery/httpNamespace:HttpNamespace")
    assert not [r for r in dev.resources if r.type == "ecs-platform:service_connect:ServiceConnectNamespace"]
    assert "serviceConnectConfiguration" not in one(dev, SERVICE, "api-service").inputs


@pytest.mark.parametrize(("path", "changes", "expected"), [
    ("services.queue-worker", {"service_connect": {}}, "ecs-platform:services.queue-worker.service_connect.publish: the service has no container_port to publish"),
    ("services.web", {"service_connect": {"publish": False, "discovery_name": "web"}}, "ecs-platform:services.web.service_connect.discovery_name: only with publish: true"),
    ("services.web", {"service_connect": {"discovery_name": "api"}}, "ecs-platform:services.api.service_connect.discovery_name: 'api' is already the discovery name of service 'web'"),
    ("services.web", {"service_connect": {"client_aliases": [{"port": 80, "dns_name": "api.internal"}]}}, "ecs-platform:services.api.service_connect.client_aliases: api.internal:80 is already the client alias of service 'web'"),
    ("services.api", {"service_connect": {"client_aliases": [{"port": 80}, {"port": 81}]}}, "ecs-platform:services.api.service_connect.client_aliases: List should have at most 1 item"),
    ("services.api", {"service_connect": {"client_aliases": [{"dns_name": "-api"}]}}, "ecs-platform:services.api.service_connect.client_aliases.0.dns_name: '-api' does not match"),
    ("services.api", {"service_connect": {"app_protocol": "https"}}, "ecs-platform:services.api.service_connect.app_protocol: must be one of"),
])
def test_service_connect_errors_name_the_key(path: str, changes: dict[str, Any], expected: str) -> None:
    assert_error(with_changes(workloads_raw(), path, **changes), expected)


# --- 6. tags --------------------------------------------------------------------------------------------

def test_ecs_resources_carry_the_stack_tags_and_propagate_them(workloads: Recorder, prod: Recorder) -> None:
    for svc in of_type(workloads, SERVICE):
        assert svc.inputs["propagateTags"] == "SERVICE"
        assert {k: v for k, v in svc.inputs["tags"].items() if not k.startswith("ecs-guardrails:")} == WORKLOADS_TAGS
    for task in of_type(workloads, TASK):
        assert task.inputs["tags"] == WORKLOADS_TAGS, task.name
    for schedule in of_type(workloads, "aws:scheduler/schedule:Schedule"):
        ecs = schedule.inputs["target"]["ecsParameters"]
        assert (ecs["tags"], ecs["propagateTags"]) == (WORKLOADS_TAGS, "TASK_DEFINITION")
    assert all(r.inputs["tags"] == PROD_TAGS for r in [*of_type(prod, SERVICE), *of_type(prod, TASK)])


def test_a_stack_without_tags_sends_none() -> None:
    config = stack_config("dev")
    del config["ecs-platform:tags"], config["aws:defaultTags"]
    rec = run_program(config, "dev")
    assert all("tags" not in r.inputs for r in [*of_type(rec, SERVICE), *of_type(rec, TASK)])


@pytest.mark.parametrize("default_tags", [
    None,  # missing
    {"tags": {"team": "platform", "environment": "dev"}},  # a tag short
    {"tags": {**PROD_TAGS, "environment": "dev", "owner": "someone"}},  # one more
])
def test_aws_default_tags_must_hold_the_same_tags(default_tags: dict | None) -> None:
    config = stack_config("dev")
    if default_tags is None:
        del config["aws:defaultTags"]
    else:
        config["aws:defaultTags"] = default_tags
    recorder = Recorder()
    with pytest.raises(Exception) as caught:
        run_program(config, "dev", recorder)
    expected = ("ecs-platform:tags: the stack's aws:defaultTags must hold the same tags, so that the default AWS "
                'provider tags every resource: set `aws:defaultTags: {"tags": {"cost-centre": "CC-4711", '
                '"environment": "dev", "team": "platform"}}`')
    assert expected in str(caught.value)
    assert recorder.resources == []


def test_every_stack_file_mirrors_its_tags_in_aws_default_tags() -> None:
    from components.config import TagsConfig, default_tags_config
    for config in (stack_config("dev"), stack_config("prod"), example_config("workloads")):
        assert config["aws:defaultTags"] == default_tags_config(TagsConfig.model_validate(config["ecs-platform:tags"]))


@pytest.mark.parametrize(("tags", "expected"), [
    ({"team": "platform", "cost_centre": "CC-1"}, "ecs-platform:tags.environment: required key is missing"),
    ({"team": "platform", "cost_centre": "CC,1", "environment": "dev"}, "ecs-platform:tags.cost_centre: 'CC,1' does not match"),
    ({"team": "", "cost_centre": "CC-1", "environment": "dev"}, "ecs-platform:tags.team: String should have at least 1 character"),
    ({"team": "platform", "cost_centre": "CC-1", "environment": "dev", "extra": {"aws:owner": "x"}}, "ecs-platform:tags.extra: aws:owner: the aws: prefix is reserved by AWS"),
    ({"team": "platform", "cost_centre": "CC-1", "environment": "dev", "extra": {"ecs-guardrails:exempt": "x"}}, "ecs-platform:tags.extra: ecs-guardrails:exempt: policy pack exemptions are per resource"),
    ({"team": "platform", "cost_centre": "CC-1", "environment": "dev", "extra": {"team": "x"}}, "ecs-platform:tags.extra: team: set by the team key"),
    ({"team": "platform", "cost_centre": "CC-1", "environment": "dev", "extra": {f"k{i}": "v" for i in range(46)}}, "ecs-platform:tags.extra: at most 48 tags in all"),
    ({"team": "platform", "cost_centre": "CC-1", "environment": "dev", "owner": "x"}, "ecs-platform:tags.owner: unknown key"),
])
def test_tag_errors_name_the_key(tags: dict[str, Any], expected: str) -> None:
    raw = prod_raw()
    raw["tags"] = tags
    assert_error(raw, expected)


# --- the config reference ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", [
    "services.<name>.permissions", "services.<name>.permissions.statements.<index>.actions",
    "services.<name>.permissions.managed_policy_arns", "services.<name>.permissions.deny_iam",
    "services.<name>.egress", "services.<name>.ingress", "services.<name>.security_group_ids",
    "services.<name>.alarms", "services.<name>.alarms.sns_topic_arn", "services.<name>.service_connect",
    "services.<name>.service_connect.client_aliases", "services.<name>.stop_timeout",
    "services.<name>.container_health_check", "services.<name>.depends_on", "services.<name>.init_process_enabled",
    "services.<name>.ulimits", "services.<name>.sidecars.<name>.depends_on", "scheduled_tasks.<name>.permissions",
    "scheduled_tasks.<name>.egress", "tags.team", "tags.cost_centre", "tags.environment", "tags.extra",
])
def test_reference_shows_each_new_key_with_an_example(key: str) -> None:
    from components import reference
    rows = [line for line in reference.render().splitlines() if line.startswith(f"| `{key}` |")]
    assert len(rows) == 1 and "Example: `" in rows[0], rows
