"""Hypothesis strategies and the checking harness for fuzzing the ecs-guardrails pack (issue 6, item 2).

Shared by tests/hardening/test_policy_fuzz.py and bench/fuzz_policies.py. Resource properties start from
realistic shapes (so rules get past their "malformed" exits) and are then mutated: unknown sentinels,
secrets, nulls, wrong types, numbers as strings, nested garbage, broken or wrong-shaped JSON, very large
container lists. Every case runs through the pack's real `_PolicyAnalyzerServicer` (Remediate, Analyze,
AnalyzeStack; built by tests/policies/pack_driver.py). The servicer lets any exception from a policy's
validate/remediate propagate (only UnknownValueError and not-applicable are turned into results), and the
pack's own wrapper turns an exception inside a rule into a "could not evaluate" violation: both count as
"a policy raised"."""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
import re
import sys
import traceback
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "policies", ROOT / "tests" / "policies"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import ecs_guardrails  # noqa: E402
from ecs_guardrails.pack import build_rules  # noqa: E402
from ecs_guardrails.rule import Ctx  # noqa: E402
from ecs_guardrails.values import unwrap  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from pack_driver import (  # noqa: E402
    LEVEL_NAMES,
    SIG_KEY,
    UNKNOWN,
    UNKNOWN_ARRAY,
    UNKNOWN_BOOL,
    UNKNOWN_NUMBER,
    UNKNOWN_OBJECT,
    Analyzer,
    StackResource,
    secret,
    to_struct,
    urn_of,
)
from pulumi.runtime.proto import analyzer_pb2  # noqa: E402
from pulumi_policy.deserialize import deserialize_properties  # noqa: E402
from pulumi_policy.proxy import UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ASSET_VALUE  # noqa: E402

INTERNAL_ERROR = "could not evaluate '"  # adapters._internal_error: a rule raised and the wrapper caught it
OTHER_TYPE = "aws:s3/bucketV2:BucketV2"  # a type no rule lists: the "*" rules still run on it
_TOKEN = re.compile(r"^aws:[A-Za-z0-9-]+/[A-Za-z0-9]+:[A-Za-z0-9]+$")


# --- the pack's type tokens -----------------------------------------------------------------------------


def _tokens_in(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        if _TOKEN.match(value):
            yield value
    elif depth < 3 and isinstance(value, dict):
        for k, v in value.items():
            yield from _tokens_in(k, depth + 1)
            yield from _tokens_in(v, depth + 1)
    elif depth < 3 and isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _tokens_in(v, depth + 1)


@cache
def type_tokens() -> tuple[str, ...]:
    """Every resource type the pack looks at: the rules' resource_types plus the type-token constants of
    its modules (the stack rules declare only "stack"; their types live in module constants)."""
    found = {t for r in build_rules() for t in r.resource_types if _TOKEN.match(t)}
    for mod in pkgutil.iter_modules(ecs_guardrails.__path__):
        module = importlib.import_module(f"ecs_guardrails.{mod.name}")
        for name, value in vars(module).items():
            if not name.startswith("__"):
                found.update(_tokens_in(value))
    return tuple(sorted(found))


@cache
def stack_types() -> tuple[str, ...]:
    """The types the stack rules relate (the type constants their module uses)."""
    from ecs_guardrails import stack

    return tuple(sorted({t for name, v in vars(stack).items() if not name.startswith("__") for t in _tokens_in(v)}))


@cache
def policy_names() -> frozenset[str]:
    return frozenset(r.name for r in build_rules())


# --- leaf values ------------------------------------------------------------------------------------------

SENTINELS = [UNKNOWN, UNKNOWN_NUMBER, UNKNOWN_BOOL, UNKNOWN_ARRAY, UNKNOWN_OBJECT, UNKNOWN_ASSET_VALUE,
             UNKNOWN_ARCHIVE_VALUE]
ASSET = {SIG_KEY: "c44067f5952c0a294b673a41bacd8c17", "text": "asset"}
REF_POOL = [f"arn:aws:x:eu-west-1:123456789012:ref/{i}" for i in range(6)]
refs = st.sampled_from(REF_POOL)
unknowns = st.sampled_from(SENTINELS)
ACCOUNT = "123456789012"

odd_strings = st.sampled_from(
    ["", " ", "host", "HOST", "*", "*:*", "0.0.0.0/0", "::/0", "latest", "awslogs", "true", "FALSE", "null",
     "-1", "0", "1e999", "NaN", "Infinity", " 256 ", "256.0", "0x10", "1 vCPU", "2 GB", "ENABLED", "disabled",
     "redirect", "HTTPS", "\x00", "é\u202e", "{", "[]", "root", "0:0"]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=12)
    | odd_strings
    | unknowns
)
garbage = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8) | st.sampled_from(["name", "value", "type", "enabled"]), inner,
                      max_size=4)
    | inner.map(secret),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy, *extra: Any) -> st.SearchStrategy:
    """A realistic value most of the time; sometimes None, an unknown, a secret or the extras."""
    return st.one_of(strategy, strategy, strategy, st.none(), unknowns, strategy.map(secret),
                     *(st.just(e) for e in extra))


def num(*values: Any) -> st.SearchStrategy:
    return maybe(st.sampled_from(values), *[str(v) for v in values[:2]])


def obj(required: dict[str, st.SearchStrategy], optional: dict[str, st.SearchStrategy] | None = None):
    return st.fixed_dictionaries(required, optional=optional or {})


# --- realistic shapes -------------------------------------------------------------------------------------

@st.composite
def tags(draw) -> dict[str, Any]:
    out: dict[str, Any] = draw(st.dictionaries(st.sampled_from(["Name", "team", "env"]), st.text(max_size=6),
                                               max_size=2))
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from([*sorted(policy_names()), "no-such-policy", " "]), max_size=3))
        out["ecs-guardrails:exempt"] = draw(maybe(st.just(",".join(names))))
        reason = draw(st.sampled_from(["approved by sec, TICKET-1", "", "  ", None, UNKNOWN]))
        if reason is not None:
            out["ecs-guardrails:reason"] = reason
    return out


IMAGES = [
    f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web:1.2.3", f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web",
    "public.ecr.aws/nginx/nginx:latest", "nginx", "nginx:LATEST", "localhost:5000/app:1", "ghcr.io/o/a:v1",
    f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:{'a' * 64}", "a:b:c@", "@sha256:", ":", "/", "",
]
ENV_NAMES = ["PORT", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "API_KEY", "TOKEN_TTL", "X"]
ENV_VALUES = ["8080", "AKIAABCDEFGHIJKLMNOP", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", "hunter2"]

log_config = obj(
    {"logDriver": maybe(st.sampled_from(["awslogs", "awsfirelens", "json-file", "none", "splunk"]))},
    {"options": maybe(obj({}, {
        "awslogs-group": maybe(st.sampled_from(["/ecs/web", "/ecs/api", "", "/ext/x"])),
        "awslogs-region": maybe(st.sampled_from(["eu-west-1", ""])),
        "awslogs-stream-prefix": st.just("web"),
    }))},
)
container = obj(
    {"name": maybe(st.sampled_from(["web", "api", "sidecar", ""])), "image": maybe(st.sampled_from(IMAGES))},
    {
        "cpu": num(256, 0, -1, 1024, 99999, 2.5),
        "memory": num(512, 0, -5, 40000, 256),
        "memoryReservation": num(256, 1024, 0),
        "essential": maybe(st.booleans()),
        "user": maybe(st.sampled_from(["1000", "root", "0:0", "ROOT ", "1000:1000"])),
        "readonlyRootFilesystem": maybe(st.booleans(), "true", "false"),
        "privileged": maybe(st.booleans(), "true"),
        "portMappings": maybe(st.lists(obj({"containerPort": num(8080, 80)}, {
            "hostPort": num(0, 8080, 80), "protocol": st.just("tcp")}), max_size=3)),
        "environment": maybe(st.lists(obj({"name": maybe(st.sampled_from(ENV_NAMES))},
                                          {"value": maybe(st.sampled_from(ENV_VALUES))}), max_size=3)),
        "secrets": st.just([{"name": "DB", "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:db"}]),
        "logConfiguration": maybe(log_config, "awslogs", []),
    },
)
containers_list = st.lists(container, min_size=0, max_size=4)
statement = obj(
    {"Effect": maybe(st.sampled_from(["Allow", "Deny", "allow"]))},
    {
        "Sid": st.sampled_from(["A", "", "Admin"]),
        "Action": maybe(st.sampled_from(["*", "*:*", "s3:GetObject", "sts:AssumeRole"])
                        | st.lists(st.sampled_from(["*", "logs:PutLogEvents", "s3:*"]), max_size=3)),
        "Resource": maybe(st.sampled_from(["*", "arn:aws:s3:::b/*"]) | st.lists(st.just("*"), max_size=2)),
        "Principal": maybe(st.sampled_from(["*", {"Service": "ecs-tasks.amazonaws.com"}, {"AWS": "*"},
                                            {"Service": ["ec2.amazonaws.com", "*.amazonaws.com"]}])),
        "NotPrincipal": st.just({"AWS": "arn:aws:iam::1:root"}),
    },
)
policy_doc = obj({"Version": st.just("2012-10-17"),
                  "Statement": maybe(st.lists(statement, max_size=3) | statement)})
action = obj(
    {"type": maybe(st.sampled_from(["forward", "redirect", "fixed-response", "authenticate-oidc"]))},
    {
        "targetGroupArn": refs,
        "redirect": maybe(obj({"protocol": maybe(st.sampled_from(["HTTPS", "HTTP", "https", "#{protocol}"]))},
                              {"port": st.just("443"), "statusCode": st.just("HTTP_301")})),
        "forward": obj({"targetGroups": st.lists(obj({"arn": refs}), max_size=2)}),
    },
)
ingress = obj(
    {"protocol": maybe(st.sampled_from(["tcp", "udp", "-1", "all", "icmp", "6", "58"])),
     "fromPort": num(443, 22, 0, -1, 80, 3389, 8080), "toPort": num(443, 22, 65535, -1, 80, 8080)},
    {"cidrBlocks": maybe(st.lists(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8"]), max_size=2)),
     "ipv6CidrBlocks": maybe(st.lists(st.just("::/0"), max_size=1)),
     "securityGroups": maybe(st.lists(refs, max_size=2)), "self": maybe(st.booleans())},
)
common = {"arn": refs, "id": refs, "tags": tags(), "name": maybe(st.sampled_from(["web", "api", "/ecs/web"]))}

SHAPES: dict[str, st.SearchStrategy] = {
    "taskDefinition": obj(
        {"family": st.just("web"), "containerDefinitions": containers_list},
        {"cpu": maybe(st.sampled_from(["512", 512, "1 vCPU", "0.25 vcpu", "2 GB", "abc", 64])),
         "memory": maybe(st.sampled_from(["1024", "2 GB", "1gb", 100000, "x"])),
         "networkMode": maybe(st.sampled_from(["awsvpc", "bridge", "host", "none", "HOST"])),
         "pidMode": maybe(st.sampled_from(["host", "task"])), "ipcMode": maybe(st.sampled_from(["host", "none"])),
         "executionRoleArn": maybe(st.sampled_from(["arn:role/a", "arn:role/b", ""])),
         "taskRoleArn": maybe(st.sampled_from(["arn:role/a", "arn:role/b"])),
         "volumes": maybe(st.lists(obj({"name": st.just("data")}, {"efsVolumeConfiguration": maybe(obj(
             {"fileSystemId": st.just("fs-1")},
             {"transitEncryption": maybe(st.sampled_from(["ENABLED", "DISABLED"]))}))}), max_size=2)),
         **common},
    ),
    "service": obj(
        {"cluster": refs, "taskDefinition": refs},
        {"launchType": maybe(st.sampled_from(["EC2", "FARGATE", ""])),
         "capacityProviderStrategies": maybe(st.lists(obj({"capacityProvider": st.just("cp"),
                                                           "weight": num(1)}), max_size=2)),
         "loadBalancers": maybe(st.lists(obj({}, {
             "targetGroupArn": maybe(refs, ""), "containerName": maybe(st.sampled_from(["web", "api"])),
             "containerPort": num(8080, 80), "elbName": st.just("classic")}), max_size=3)),
         "deploymentCircuitBreaker": maybe(obj({"enable": maybe(st.booleans(), "true"),
                                                "rollback": maybe(st.booleans())})),
         "deploymentController": maybe(obj({"type": st.sampled_from(["ECS", "CODE_DEPLOY", "EXTERNAL"])})),
         "networkConfiguration": maybe(obj({"subnets": st.just(["subnet-a"])}, {
             "securityGroups": st.lists(refs, max_size=2), "assignPublicIp": maybe(st.booleans(), "true")})),
         "healthCheckGracePeriodSeconds": num(60, 0),
         "schedulingStrategy": maybe(st.sampled_from(["REPLICA", "DAEMON"])),
         "serviceConnectConfiguration": maybe(obj({"enabled": maybe(st.booleans())}, {
             "services": maybe(st.lists(obj({"portName": st.just("http")}), max_size=1))})),
         "serviceRegistries": maybe(obj({"registryArn": maybe(refs, "")})),
         "volumeConfiguration": maybe(obj({"name": st.just("data")}, {"managedEbsVolume": maybe(obj({}, {
             "encrypted": maybe(st.booleans(), "true"), "snapshotId": maybe(st.just("snap-1"))}))})),
         "desiredCount": num(2, 0), **common},
    ),
    "cluster": obj({}, {"settings": maybe(st.lists(obj(
        {"name": maybe(st.sampled_from(["containerInsights", "other"]))},
        {"value": maybe(st.sampled_from(["enabled", "enhanced", "disabled"]))}), max_size=2)),
        "configuration": maybe(obj({}, {"executeCommandConfiguration": maybe(obj({}, {
            "kmsKeyId": maybe(refs, ""), "logging": maybe(st.sampled_from(["NONE", "DEFAULT", "OVERRIDE", "x"])),
            "logConfiguration": maybe(obj({}, {
                "cloudWatchLogGroupName": maybe(st.just("/ecs/exec"), ""), "s3BucketName": maybe(st.just("b")),
                "cloudWatchEncryptionEnabled": maybe(st.booleans(), "true")}))}))})), **common}),
    "capacityProvider": obj({}, {"autoScalingGroupProvider": maybe(obj({"autoScalingGroupArn": refs}, {
        "managedTerminationProtection": maybe(st.sampled_from(["ENABLED", "DISABLED"])),
        "managedDraining": maybe(st.sampled_from(["ENABLED", "DISABLED"])),
        "managedScaling": maybe(obj({"status": maybe(st.sampled_from(["ENABLED", "DISABLED"]))},
                                    {"targetCapacity": num(100)}))})), **common}),
    "loadBalancer": obj({}, {
        "loadBalancerType": maybe(st.sampled_from(["application", "network", "gateway"])),
        "internal": maybe(st.booleans()), "subnets": st.just(["subnet-a", "subnet-b"]),
        "securityGroups": maybe(st.lists(refs, max_size=2)),
        "dropInvalidHeaderFields": maybe(st.booleans(), "true", "false"),
        "enableDeletionProtection": maybe(st.booleans(), "true"),
        "accessLogs": maybe(obj({}, {"bucket": maybe(st.sampled_from(["logs", ""])),
                                     "enabled": maybe(st.booleans(), "false")})),
        "desyncMitigationMode": maybe(st.sampled_from(["monitor", "defensive", "strictest"])), **common}),
    "listener": obj({"loadBalancerArn": refs}, {
        "port": num(443, 80), "protocol": maybe(st.sampled_from(["HTTP", "HTTPS", "TLS", "TCP", "http"])),
        "sslPolicy": maybe(st.sampled_from(["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-2016-08"])),
        "certificateArn": st.just("arn:cert"), "defaultActions": maybe(st.lists(action, max_size=3)), **common}),
    "listenerRule": obj({"listenerArn": refs}, {"priority": num(1, 100, 50001, 0),
                                                "actions": maybe(st.lists(action, max_size=2)), **common}),
    "targetGroup": obj({}, {
        "port": num(8080), "protocol": maybe(st.sampled_from(["HTTP", "HTTPS", "TCP"])),
        "targetType": maybe(st.sampled_from(["ip", "instance", "lambda"])),
        "healthCheck": maybe(obj({}, {"enabled": maybe(st.booleans(), "false"),
                                      "path": maybe(st.sampled_from(["/health", ""])),
                                      "protocol": maybe(st.sampled_from(["HTTP", "TCP"])),
                                      "matcher": st.just("200-399")})), **common}),
    "launchTemplate": obj({}, {
        "metadataOptions": maybe(obj({}, {
            "httpEndpoint": maybe(st.sampled_from(["enabled", "disabled"])),
            "httpTokens": maybe(st.sampled_from(["required", "optional"])),
            "httpPutResponseHopLimit": num(1, 2, 3, 64)})),
        "networkInterfaces": maybe(st.lists(obj({}, {
            "associatePublicIpAddress": maybe(st.sampled_from(["true", "false", True, False])),
            "securityGroups": st.lists(refs, max_size=2)}), max_size=2)),
        "vpcSecurityGroupIds": maybe(st.lists(refs, max_size=2)),
        "blockDeviceMappings": maybe(st.lists(obj({"deviceName": st.just("/dev/xvda")}, {"ebs": maybe(obj({}, {
            "encrypted": maybe(st.sampled_from(["true", "false", True])),
            "snapshotId": st.just("snap-1")}))}), max_size=2)),
        "iamInstanceProfile": maybe(obj({}, {"arn": maybe(refs, ""), "name": maybe(st.just("ecs"))})),
        **common}),
    "group": obj({}, {
        "launchTemplate": maybe(obj({"id": refs}, {"version": st.just("$Latest")})),
        "launchConfiguration": st.just("lc-1"), "mixedInstancesPolicy": maybe(st.just({"x": 1})),
        "vpcZoneIdentifiers": maybe(st.lists(st.sampled_from(["subnet-a", "subnet-b"]), max_size=3)),
        "availabilityZones": maybe(st.lists(st.just("eu-west-1a"), max_size=2)),
        "protectFromScaleIn": maybe(st.booleans(), "true"), "minSize": num(1), **common}),
    "logGroup": obj({}, {"retentionInDays": num(90, 0, 2, 7, 14, 3653, -1, 1.5),
                         "kmsKeyId": maybe(st.just("arn:kms"), ""), **common}),
    "role": obj({}, {
        "assumeRolePolicy": policy_doc,
        "inlinePolicies": maybe(st.lists(obj({"name": st.just("inline")}, {"policy": policy_doc}), max_size=2)),
        "managedPolicyArns": maybe(st.lists(st.sampled_from(
            ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"]),
            max_size=2)), **common}),
    "policy": obj({"policy": policy_doc}, {"role": st.just("web"), **common}),
    "attachment": obj({}, {"role": st.just("web"), "policyArn": maybe(st.sampled_from(
        ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"])), **common}),
    "securityGroup": obj({}, {"ingress": maybe(st.lists(ingress, max_size=3)),
                              "egress": st.just([]), "vpcId": st.just("vpc-1"), **common}),
    "securityGroupRule": obj({"type": maybe(st.sampled_from(["ingress", "egress"]))}, {
        "protocol": maybe(st.sampled_from(["tcp", "-1", "icmp"])), "fromPort": num(22, 443, 0, -1),
        "toPort": num(22, 443, 65535), "cidrBlocks": maybe(st.lists(st.just("0.0.0.0/0"), max_size=1)),
        "securityGroupId": refs, "sourceSecurityGroupId": maybe(refs), "self": maybe(st.booleans()), **common}),
    "securityGroupIngressRule": obj({"securityGroupId": refs}, {
        "ipProtocol": maybe(st.sampled_from(["tcp", "-1", "udp"])), "fromPort": num(22, 443, 3389, -1),
        "toPort": num(22, 443, 3389), "cidrIpv4": maybe(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8"])),
        "cidrIpv6": maybe(st.just("::/0")), "referencedSecurityGroupId": maybe(refs), **common}),
}
# Launch settings shared by services' task sets, EventBridge targets, Scheduler schedules and Pipes.
launch = {
    "taskDefinitionArn": refs,
    "launchType": maybe(st.sampled_from(["EC2", "FARGATE", "EXTERNAL", ""])),
    "capacityProviderStrategies": maybe(st.lists(obj({"capacityProvider": maybe(st.sampled_from(
        ["cp", "FARGATE", "FARGATE_SPOT"]))}, {"weight": num(1)}), max_size=2)),
    "platformVersion": maybe(st.sampled_from(["LATEST", "1.4.0", "1.3.0", "1.0.0", "x.y", ""])),
}
task_network = obj({"subnets": st.just(["subnet-a"])}, {
    "securityGroups": st.lists(refs, max_size=2), "assignPublicIp": maybe(st.booleans(), "true")})
structured_container = obj(
    {"name": maybe(st.sampled_from(["agent", ""])), "image": maybe(st.sampled_from(IMAGES))},
    {"cpu": num(128, 0, 1), "memory": num(256, 0), "user": maybe(st.sampled_from(["1000", "root", "0:1"])),
     "privileged": maybe(st.booleans()), "readonlyRootFilesystem": maybe(st.booleans()),
     "environments": maybe(st.lists(obj({"name": maybe(st.sampled_from(ENV_NAMES))},
                                        {"value": maybe(st.sampled_from(ENV_VALUES))}), max_size=3)),
     "logConfiguration": maybe(log_config)},
)
SHAPES.update({
    "taskSet": obj({"cluster": refs, "service": refs, "taskDefinition": refs}, {
        **{k: v for k, v in launch.items() if k != "taskDefinitionArn"},
        "loadBalancers": maybe(st.lists(obj({}, {"targetGroupArn": maybe(refs, ""), "containerName": st.just("web"),
                                                 "containerPort": num(8080), "loadBalancerName": st.just("classic")}),
                                        max_size=2)),
        "networkConfiguration": maybe(task_network), **common}),
    "daemonTaskDefinition": obj({"family": st.just("agent"), "containerDefinitions": maybe(st.lists(
        structured_container, max_size=3))}, {"cpu": maybe(st.sampled_from(["256", "x"])),
                                              "executionRoleArn": maybe(st.sampled_from(["arn:role/a", ""])),
                                              "taskRoleArn": maybe(st.sampled_from(["arn:role/a", "arn:role/b"])),
                                              **common}),
    "expressGatewayService": obj({"primaryContainer": maybe(structured_container)}, {
        "executionRoleArn": maybe(st.sampled_from(["arn:role/a"])), "taskRoleArn": maybe(st.sampled_from(["arn:role/a"])),
        "networkConfigurations": maybe(st.lists(obj({"subnets": st.just(["subnet-a"])}), max_size=1)), **common}),
    "eventTarget": obj({"rule": st.just("r")}, {"ecsTarget": maybe(obj(launch, {
        "networkConfiguration": maybe(task_network)})), **common}),
    "schedule": obj({"target": maybe(obj({"arn": refs}, {"ecsParameters": maybe(obj(launch, {
        "networkConfiguration": maybe(task_network)}))}))}, common),
    "pipe": obj({"target": refs}, {"targetParameters": maybe(obj({}, {"ecsTaskParameters": maybe(obj(launch, {
        "networkConfiguration": maybe(obj({}, {"awsVpcConfiguration": maybe(obj({}, {
            "assignPublicIp": maybe(st.sampled_from(["ENABLED", "DISABLED", True]))}))})),
        "overrides": maybe(obj({}, {"containerOverrides": maybe(st.lists(obj({"name": st.just("w")}, {
            "environments": maybe(st.lists(obj({"name": maybe(st.sampled_from(ENV_NAMES))},
                                               {"value": maybe(st.sampled_from(ENV_VALUES))}), max_size=2))}),
            max_size=2))}))}))})), **common}),
    "webAclAssociation": obj({"resourceArn": refs}, {"webAclArn": refs, "webAclId": refs}),
})
JSON_FIELDS = {"containerDefinitions", "assumeRolePolicy", "policy"}  # JSON documents given as strings


def shape_key(rtype: str) -> str | None:
    """The shape of a token by its resource part ("aws:iam/rolePolicy:RolePolicy" -> policy)."""
    part = rtype.split("/", 1)[-1].split(":", 1)[0]
    if part in SHAPES:
        return part
    if part.endswith("PolicyAttachment"):
        return "attachment"
    if part.endswith("Policy"):
        return "policy"
    return None


generic = st.dictionaries(st.sampled_from(["containerDefinitions", "ingress", "loadBalancers", "policy",
                                           "retentionInDays", "protocol", "tags", "settings", "name"]),
                          garbage, max_size=5)


# --- mutations --------------------------------------------------------------------------------------------


def _paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict) and SIG_KEY not in value:
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


def _set(value: Any, path: tuple, new: Any, delete: bool = False) -> Any:
    if not path:
        return new
    cur = value
    for key in path[:-1]:
        cur = cur[key]
    if delete and isinstance(cur, dict):
        del cur[path[-1]]
    else:
        cur[path[-1]] = new
    return value


def _as_string(v: Any) -> Any:
    if isinstance(v, bool):
        return str(v).lower() if v else "True"
    if isinstance(v, int | float):
        return f" {v} " if v == 0 else str(float(v) if isinstance(v, int) else v)
    return v


MUTATIONS = ["garbage", "unknown", "secret", "null", "delete", "stringify", "wrong", "grow", "extra"]


@st.composite
def mutate(draw, value: Any, max_mutations: int = 3, keep_root: bool = True) -> Any:
    value = copy.deepcopy(value)
    for _ in range(draw(st.integers(0, max_mutations))):
        paths = [p for p in _paths(value) if p or not keep_root]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        cur = value
        for key in path:
            cur = cur[key]
        op = draw(st.sampled_from(MUTATIONS))
        if op == "garbage":
            value = _set(value, path, draw(garbage))
        elif op == "unknown":
            value = _set(value, path, draw(unknowns))
        elif op == "secret":
            value = _set(value, path, secret(cur))
        elif op in ("null", "delete"):
            value = _set(value, path, None, delete=op == "delete")
        elif op == "stringify":
            value = _set(value, path, _as_string(cur))
        elif op == "wrong":
            value = _set(value, path, draw(st.sampled_from([[cur], {"value": cur}, 7, "x", [], {}, True])))
        elif op == "grow" and isinstance(cur, list) and cur:
            value = _set(value, path, cur * draw(st.sampled_from([3, 12, 60])))
        elif op == "extra" and isinstance(cur, dict) and SIG_KEY not in cur:
            cur[draw(st.sampled_from(["name", "x", "Statement", "value", "type"]))] = draw(garbage)
    return value


BROKEN_JSON = [
    "", "[", "[{not json", "{}", "[1, 2]", '"str"', "null", "[[]]", "42", '[{"name": "web",}]', "[" * 5000,
    "[" * 600 + "]" * 600, "[" + "1" * 5000 + "]", '[{"cpu": ' + "9" * 5000 + "}]", '{"Statement": ' + "[" * 800,
    "\ufeff[]", "[NaN, Infinity]", '[{"name": "a\\ud800", "user": "root"}]',
    '[{"name": "w", "image": "x\\udc00:latest", "environment": [{"name": "\\ud800TOKEN", "value": "v"}]}]',
    '[{"name": "w", "logConfiguration": {"logDriver": "\\ud800", "options": {"awslogs-group": "\\udc00"}}}]',
    '{"Statement": [{"Effect": "Allow", "Sid": "\\ud800", "Action": "*", "Resource": "*"}]}',
    '{"Statement": {"Effect": "Allow", "Principal": {"\\ud800": "*"}}}',
]


@st.composite
def json_field(draw, doc: Any) -> Any:
    """A JSON document as the engine may carry it: encoded, broken, wrong-shaped, secret, decoded, huge."""
    kind = draw(st.sampled_from(["json"] * 14 + ["broken", "decoded", "secret", "truncated", "large", "other"]))
    if kind == "broken":
        return draw(st.sampled_from(BROKEN_JSON))
    if kind == "decoded":
        return doc
    if kind == "other":
        return draw(garbage)
    if kind == "large" and isinstance(doc, list) and doc:
        doc = doc * draw(st.sampled_from([11, 100, 1000]))
    text = json.dumps(doc)
    if kind == "truncated":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    return secret(text) if kind == "secret" else text


def _encode_json_fields(draw, props: dict[str, Any]) -> None:
    for key in JSON_FIELDS & set(props):
        props[key] = draw(json_field(props[key]))
    pols = props.get("inlinePolicies")
    if isinstance(pols, list):
        for p in pols:
            if isinstance(p, dict) and "policy" in p:
                p["policy"] = draw(json_field(p["policy"]))


@st.composite
def resource_props(draw, rtype: str, mutations: int = 3) -> dict[str, Any]:
    key = shape_key(rtype)
    props = draw(SHAPES[key]) if key else draw(generic)
    props = draw(mutate(props, mutations))  # inner mutations reach into the JSON documents before encoding
    _encode_json_fields(draw, props)
    props = draw(mutate(props, 1))
    return props if isinstance(props, dict) else {}


@st.composite
def resource_case(draw, rtypes: tuple[str, ...] | None = None) -> tuple[str, dict[str, Any]]:
    rtype = draw(st.sampled_from(rtypes or (*type_tokens(), OTHER_TYPE)))
    return rtype, draw(resource_props(rtype))


@st.composite
def stack_case(draw, max_resources: int = 10) -> list[StackResource]:
    """Sets of generated resources sharing a small pool of ids/ARNs (so references resolve, sometimes to the
    wrong type), with random property dependencies, dependencies and parents (some dangling)."""
    n = draw(st.integers(1, max_resources))
    kinds = st.sampled_from(stack_types()) | st.sampled_from(stack_types()) | st.sampled_from(type_tokens())
    types = draw(st.lists(kinds, min_size=n, max_size=n))
    urns = [urn_of(t, f"r{i}") for i, t in enumerate(types)]
    pool = [*urns, urn_of(OTHER_TYPE, "gone")]
    out = []
    for i, t in enumerate(types):
        props = draw(resource_props(t, mutations=2))
        if i < len(REF_POOL) and draw(st.integers(0, 4)):  # mostly: ref i names resource i, so refs resolve
            props["arn"] = props["id"] = REF_POOL[i]
        keys = sorted(props)
        deps = draw(st.dictionaries(st.sampled_from(keys), st.lists(st.sampled_from(pool), max_size=2),
                                    max_size=3)) if keys else {}
        out.append(StackResource(t, f"r{i}", props, urns[i],
                                 parent=draw(st.sampled_from(["", *pool])),
                                 dependencies=draw(st.lists(st.sampled_from(pool), max_size=3)),
                                 property_dependencies=deps))
    return out


# --- the harness ------------------------------------------------------------------------------------------

# "Names something": a quoted name, a camelCase property, a dotted/colon path or ARN, an acronym (ASG, KMS),
# an index, or the resource it is about.
_SUBJECT = re.compile(
    r"'[^']+'|\"[^\"]+\"|\b[a-z]+[A-Z0-9][\w.-]*|\b[\w-]+[.:/][\w./:-]+|\b[A-Z]{2,}\b|\[\d+\]|#\d+"
    r"|\b(?:task|containers?|service|listener)\b"
)


def _config_remediate() -> dict[str, Any]:
    return {r.name: "remediate" for r in build_rules() if r.remediate is not None}


def _config_flipped() -> dict[str, Any]:
    """Every boolean setting flipped, arrays emptied, remediable rules at remediate: other branches."""
    out: dict[str, Any] = {}
    for r in build_rules():
        entry: dict[str, Any] = {}
        for k, schema in r.config.items():
            if schema.get("type") == "boolean":
                entry[k] = not schema["default"]
            elif schema.get("type") == "array":
                entry[k] = []
        if r.remediate is not None:
            entry["enforcementLevel"] = "remediate"
        if entry:
            out[r.name] = entry
    return out


@cache
def analyzers() -> dict[str, Analyzer]:
    cfg = ROOT / "policies" / "config"
    return {
        "default": Analyzer(),
        "dev": Analyzer(json.loads((cfg / "dev.json").read_text())),
        "prod": Analyzer({**json.loads((cfg / "prod.json").read_text()), **_config_remediate()}),
        "flipped": Analyzer(_config_flipped()),
    }


def _diag_problems(diags: Any, where: str) -> list[tuple[str, str]]:
    out = []
    for d in diags:
        policy, msg = d.policyName, d.message
        if policy not in policy_names():
            out.append((policy or "?", f"{where}: diagnostic from unknown policy {policy!r}"))
        if d.enforcementLevel not in LEVEL_NAMES:
            out.append((policy, f"{where}: bad enforcement level {d.enforcementLevel}"))
        if not isinstance(msg, str) or not msg.strip():
            out.append((policy, f"{where}: empty message"))
        elif INTERNAL_ERROR in msg:
            out.append((policy, f"{where}: policy raised: {msg}"))
        elif not _SUBJECT.search(msg):
            out.append((policy, f"{where}: message names nothing: {msg!r}"))
    return out


def _call(fn: Any, req: Any, where: str) -> tuple[Any, list[tuple[str, str]]]:
    try:
        return fn(req, None), []
    except Exception as e:
        tb = traceback.extract_tb(e.__traceback__)
        frame = next((f for f in reversed(tb) if "ecs_guardrails" in f.filename), tb[-1])
        return None, [("?", f"{where} raised {type(e).__name__}: {e} at {Path(frame.filename).name}:"
                            f"{frame.lineno}")]


def _direct_remediations(rtype: str, props: dict[str, Any]) -> list[tuple[str, str]]:
    """The wrapper swallows a remediation's exception (returns None): call the fix functions directly."""
    out = []
    plain = None
    for rule in build_rules():
        if rule.remediate is None or not rule.applies_to(rtype):
            continue
        if plain is None:
            plain = unwrap(deserialize_properties(json_format.MessageToDict(to_struct(props)), True))
        try:
            rule.remediate(Ctx(rtype, "r", urn_of(rtype, "r"), plain, rule.settings(None)))
        except Exception as e:
            out.append((rule.name, f"remediation raised {type(e).__name__}: {e}"))
    return out


def check_resource(
    rtype: str, props: dict[str, Any], name: str = "r", fired: set[str] | None = None
) -> list[tuple[str, str]]:
    """(policy, problem) for one resource through Remediate then Analyze under every configuration;
    `fired` collects the policies that reported something other than a preview note."""
    problems = _direct_remediations(rtype, props)
    urn = urn_of(rtype, name)
    for label, an in analyzers().items():
        s = an.servicer
        req = analyzer_pb2.AnalyzeRequest(type=rtype, properties=to_struct(props), urn=urn, name=name)
        resp, errs = _call(s.Remediate, req, f"[{label}] Remediate")
        problems += errs
        fixed_by: set[str] = set()
        after = props
        for r in resp.remediations if resp is not None else []:
            if r.properties.fields:
                fixed_by.add(r.policyName)
                after = json_format.MessageToDict(r.properties)
                missing = set(props) - set(after)
                if missing:
                    problems.append((r.policyName, f"[{label}] remediation dropped {sorted(missing)}"))
            elif r.diagnostic and not r.diagnostic.strip():
                problems.append((r.policyName, f"[{label}] empty remediation diagnostic"))
        req = analyzer_pb2.AnalyzeRequest(type=rtype, properties=to_struct(after), urn=urn, name=name)
        resp, errs = _call(s.Analyze, req, f"[{label}] Analyze")
        problems += errs
        if resp is not None:
            problems += _diag_problems(resp.diagnostics, f"[{label}] Analyze {rtype}")
            _note(fired, resp.diagnostics)
            for d in resp.diagnostics:  # a remediated property is no longer a violation of its own policy
                if d.policyName in fixed_by and d.enforcementLevel == analyzer_pb2.MANDATORY:
                    problems.append((d.policyName, f"[{label}] still violated after its remediation: "
                                                   f"{d.message}"))
    return problems


def _note(fired: set[str] | None, diags: Any) -> None:
    if fired is not None:
        fired.update(d.policyName for d in diags if "during preview" not in d.message)


def check_stack(resources: list[StackResource], fired: set[str] | None = None) -> list[tuple[str, str]]:
    problems = []
    for label, an in analyzers().items():
        req = analyzer_pb2.AnalyzeStackRequest()
        for r in resources:
            ar = req.resources.add()
            ar.type, ar.name, ar.urn = r.type, r.name, r.urn
            ar.properties.CopyFrom(to_struct(r.props))
            if r.parent:
                ar.parent = r.parent
            ar.dependencies.extend(r.dependencies)
            for k, urns in r.property_dependencies.items():
                ar.propertyDependencies[k].urns.extend(urns)
        resp, errs = _call(an.servicer.AnalyzeStack, req, f"[{label}] AnalyzeStack")
        problems += errs
        if resp is not None:
            problems += _diag_problems(resp.diagnostics, f"[{label}] AnalyzeStack")
            _note(fired, resp.diagnostics)
    return problems
