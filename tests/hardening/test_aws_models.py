"""AWS API model checks (issue 6, item 3): what the stacks produce under the Pulumi mocks, validated
against botocore's own API models, so that a value AWS rejects fails here rather than at `pulumi up`.

- every task definition: the full RegisterTaskDefinition input through botocore's ParamValidator
  (types, required members, unknown members, minimums), then a walk over the shapes for what
  ParamValidator leaves out (maximums, enums, patterns); task cpu/memory values ECS accepts;
- enum values: ELBv2 listener/target group protocols, action types, redirect codes, target types;
  launch template metadata options; ECS placement strategy types, capacity provider statuses,
  cluster settings; Application Auto Scaling metric/policy types; log retention days (the values
  listed in the logs model's documentation of `Days`); EventBridge Scheduler enums;
- limits the provider only reports at `up`: ALB and target group names <= 32 (autonamed: resource
  name + 8 random characters), IAM role names <= 64, listener rule priority, health check ranges,
  schedule and family names;
- IAM policy documents parse as JSON and use real actions (parliament);
- issue 19: every ECS service through CreateService (deployment alarms, Service Connect, tags,
  extra security groups), every CloudWatch alarm through PutMetricAlarm, the Cloud Map namespace
  through CreateHttpNamespace, every security group rule through AuthorizeSecurityGroupEgress /
  Ingress with EC2's documented description characters, container health check and stop timeout
  ranges as the ECS model documents them, task definition and scheduled task tags.
Stacks: Pulumi.dev.yaml, Pulumi.prod.yaml and examples/Pulumi.workloads.yaml (optional capabilities)."""

from __future__ import annotations

import copy
import json
import re
import sys
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, assume, given, settings

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import config_strategies as cs  # noqa: E402
from program.harness import Recorder, Registration, run_program  # noqa: E402

STACK_FILES = {"dev": ROOT / "Pulumi.dev.yaml", "prod": ROOT / "Pulumi.prod.yaml",
               "workloads": ROOT / "examples" / "Pulumi.workloads.yaml"}
AUTONAME_SUFFIX = 8  # Pulumi autonaming: "-" + 7 random characters
# ELB predefined TLS 1.3 policies (the ELBv2 model has no enum for SslPolicyName; AWS's list).
ELB_TLS13_POLICIES = {
    "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06", "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
}
# Listener rule condition values (elbv2 model documentation of RuleCondition.Values): at most 128
# characters; path patterns of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?; host names of A-Z a-z 0-9 - . * ?
# with at least one "." and only letters after the last one.
PATH_PATTERN = re.compile(r"[A-Za-z0-9_\-.$/~\"'@:+&*?]{1,128}")
HOST_HEADER = re.compile(r"(?=.{1,128}\Z)[A-Za-z0-9\-.*?]*\.[A-Za-z]+")
# Fargate task sizes (cpu units -> memory MiB), as documented for RegisterTaskDefinition's cpu/memory.
FARGATE = {256: [512, 1024, 2048], 512: list(range(1024, 4097, 1024)), 1024: list(range(2048, 8193, 1024)),
           2048: list(range(4096, 16385, 1024)), 4096: list(range(8192, 30721, 1024)),
           8192: list(range(16384, 61441, 4096)), 16384: list(range(32768, 122881, 8192))}


# ---- botocore models ---------------------------------------------------------------------------

@cache
def model(service: str) -> ServiceModel:
    return ServiceModel(Loader().load_service_model(service, "service-2"), service_name=service)


def enum(service: str, shape: str) -> list[str]:
    values = model(service).shape_for(shape).enum
    assert values, f"{service} {shape} has no enum in botocore's model"
    return values


def limits(service: str, shape: str) -> tuple[int | None, int | None]:
    m = model(service).shape_for(shape).metadata
    return m.get("min"), m.get("max")


@cache
def retention_days() -> set[int]:
    """The logs model documents the accepted values of `Days` (no enum): 'Possible values are: 1, 3, ...'."""
    doc = model("logs").shape_for("Days").documentation
    listed = re.search(r"Possible values are:([\d,\sand]+)\.", doc)
    assert listed, doc
    return {int(v) for v in re.findall(r"\d+", listed.group(1))}


def _java_pattern(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def validate_shape(shape: Shape, value: Any, path: str = "") -> list[str]:
    """What botocore's ParamValidator does not check: maximums, enums and patterns (plus types,
    required and unknown members again, so it also works on a bare ContainerDefinitions value)."""
    errors: list[str] = []
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        for key in shape.required_members:
            if key not in value:
                errors.append(f"{path}.{key}: required member missing")
        for key, item in value.items():
            if key not in shape.members:
                errors.append(f"{path}.{key}: unknown member of {shape.name}")
            elif item is not None:
                errors += validate_shape(shape.members[key], item, f"{path}.{key}")
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        errors += _range(shape, len(value), path, "items")
        for i, item in enumerate(value):
            errors += validate_shape(shape.member, item, f"{path}[{i}]")
        return errors
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {type(value).__name__}"]
        for k, v in value.items():
            errors += validate_shape(shape.key, k, f"{path}.<key {k}>")
            errors += validate_shape(shape.value, v, f"{path}.{k}")
        return errors
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        if shape.enum and value not in shape.enum:
            errors.append(f"{path}: {value!r} is not one of {shape.enum}")
        errors += _range(shape, len(value), path, "characters")
        pattern = shape.metadata.get("pattern")
        compiled = _java_pattern(pattern) if pattern else None
        if compiled and not compiled.fullmatch(value):
            errors.append(f"{path}: {value!r} does not match {pattern}")
        return errors
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{path}: expected an integer, got {value!r}"]
        return _range(shape, value, path, "")
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if kind in ("double", "float"):
        return [] if isinstance(value, int | float) and not isinstance(value, bool) else [f"{path}: expected a number"]
    return errors


def _range(shape: Shape, size: int, path: str, unit: str) -> list[str]:
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    if lo is not None and size < lo:
        return [f"{path}: {size} {unit} is below the minimum {lo}".replace("  ", " ")]
    if hi is not None and size > hi:
        return [f"{path}: {size} {unit} is above the maximum {hi}".replace("  ", " ")]
    return []


def validate_operation(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """botocore's own ParamValidator on the whole input, then validate_shape for the rest."""
    shape = model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    errors = report.generate_report().splitlines()[1:] if report.has_errors() else []
    return [e.strip() for e in errors] + validate_shape(shape, params, operation)


# ---- the stacks under mocks ----------------------------------------------------------------------

@cache
def produced(stack: str) -> tuple[Registration, ...]:
    config = yaml.safe_load(STACK_FILES[stack].read_text())["config"]
    return tuple(run_program(config, stack, Recorder(region=config["aws:region"])).resources)


def of(stack: str, type_: str) -> list[Registration]:
    return [r for r in produced(stack) if r.type == type_]


def integral(value: Any) -> Any:
    """Mocked numbers arrive as floats (protobuf): 365.0 -> 365, recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


STACKS = list(STACK_FILES)


def ecs_tags(tags: dict[str, str] | None) -> list[dict[str, str]]:
    """A Pulumi tag map as ECS's Tags list."""
    return [{"key": k, "value": v} for k, v in (tags or {}).items()]


def ecs_tag_problems(tags: list[dict[str, str]]) -> list[str]:
    """ECS TagKey / TagValue patterns, `([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)`, which Python's re cannot
    compile (validate_shape skips them): letters, separators, numbers and _ . : / = + - @."""
    for shape in ("TagKey", "TagValue"):
        assert model("ecs").shape_for(shape).metadata["pattern"] == r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)", shape

    def ok(text: str) -> bool:
        return all(unicodedata.category(ch)[0] in "LZN" or ch in "_.:/=+-@" for ch in text)
    return [f"tag {t['key']!r}={t['value']!r}: characters ECS refuses" for t in tags if not (ok(t["key"]) and ok(t["value"]))]


def register_task_definition_input(inputs: dict[str, Any]) -> dict[str, Any]:
    """RegisterTaskDefinition's input from a TaskDefinition's inputs (same member names; tags as a list)."""
    keys = ("family", "networkMode", "cpu", "memory", "requiresCompatibilities", "executionRoleArn",
            "taskRoleArn", "runtimePlatform", "pidMode", "ipcMode", "volumes")
    params = {k: integral(inputs[k]) for k in keys if inputs.get(k) is not None}
    params["containerDefinitions"] = json.loads(inputs["containerDefinitions"])
    if inputs.get("tags"):
        params["tags"] = ecs_tags(inputs["tags"])
    return params


# ---- task definitions ----------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_task_definitions_match_register_task_definition(stack: str) -> None:
    tasks = of(stack, "aws:ecs/taskDefinition:TaskDefinition")
    assert tasks
    for task in tasks:
        params = register_task_definition_input(task.inputs)
        errors = validate_operation("ecs", "RegisterTaskDefinition", params) + ecs_tag_problems(params.get("tags", []))
        assert not errors, f"{stack} {task.name}:\n  " + "\n  ".join(errors)


@pytest.mark.parametrize("stack", STACKS)
def test_task_sizes_are_ones_ecs_accepts(stack: str) -> None:
    for task in of(stack, "aws:ecs/taskDefinition:TaskDefinition"):
        params = register_task_definition_input(task.inputs)
        cpu, memory = int(params["cpu"]), int(params["memory"])
        containers = params["containerDefinitions"]
        at = f"{stack} {task.name}"
        assert 1 <= len(containers) <= 10, at
        assert sum(c.get("cpu", 0) for c in containers) <= cpu, at
        assert sum(c.get("memory", 0) for c in containers) <= memory, at
        for c in containers:
            assert c.get("memory", 6) >= 6, f"{at} {c['name']}: ECS needs at least 6 MiB"
            assert c.get("memoryReservation", 0) <= c.get("memory", 10**9), f"{at} {c['name']}"
        if "FARGATE" in params.get("requiresCompatibilities", []):
            assert params["networkMode"] == "awsvpc", at
            assert memory in FARGATE.get(cpu, []), f"{at}: {cpu} cpu / {memory} MiB is no Fargate task size"
        else:
            assert 128 <= cpu <= 196608 and memory >= 128, f"{at}: {cpu} cpu / {memory} MiB"
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", params["family"]), at


@settings(deadline=None, derandomize=True, database=None, max_examples=5, suppress_health_check=list(HealthCheck))
@given(raw=cs.valid_config(max_services=3))
def test_generated_configs_produce_valid_task_definitions(raw: dict[str, Any]) -> None:
    """Fuzzed valid configs (config_strategies) build task definitions RegisterTaskDefinition takes."""
    valid, problems = cs.check_parse(raw)
    assume(valid and not problems)
    recorder = run_program(cs.full_config(raw), "fuzz", Recorder())
    for task in [r for r in recorder.resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"]:
        errors = validate_operation("ecs", "RegisterTaskDefinition", register_task_definition_input(task.inputs))
        assert not errors, f"{task.name}: {errors[:5]}\nconfig: {raw}"


def test_the_validator_rejects_a_broken_container_definition() -> None:
    """Negative test: a deliberately broken container definition fails, naming each bad value."""
    task = of("dev", "aws:ecs/taskDefinition:TaskDefinition")[0]
    params = register_task_definition_input(task.inputs)
    broken = copy.deepcopy(params)
    c = broken["containerDefinitions"][0]
    c["cpu"] = "256"  # a string where ECS wants an integer
    c["portMappings"][0]["protocol"] = "sctp"  # not in TransportProtocol
    c["logConfiguration"]["logDriver"] = "journald-ish"  # not in LogDriver
    c["memroy"] = 512  # no such member
    del c["name"]
    c["ulimits"] = [{"name": "nofile", "softLimit": 1024}]  # hardLimit is required
    broken["networkMode"] = "overlay"
    errors = "\n".join(validate_operation("ecs", "RegisterTaskDefinition", broken))
    for needle in ("cpu", "'sctp'", "'journald-ish'", "memroy", "hardLimit", "'overlay'"):
        assert needle in errors, (needle, errors)
    shape = model("ecs").shape_for("ContainerDefinitions")
    assert validate_shape(shape, [{"name": "x" * 300, "image": "i", "essential": "yes"}])
    assert not validate_shape(shape, params["containerDefinitions"])


# ---- load balancing ------------------------------------------------------------------------------

def _name_ok(reg: Registration, limit: int) -> tuple[str, bool]:
    name = reg.inputs.get("name")
    if name:
        return name, len(name) <= limit
    prefix = reg.inputs.get("namePrefix")
    if prefix:
        return prefix, len(prefix) + 26 <= limit  # provider adds a 26-character unique id
    return reg.name, len(reg.name) + AUTONAME_SUFFIX <= limit


@pytest.mark.parametrize("stack", STACKS)
def test_load_balancer_and_target_groups(stack: str) -> None:
    protocols = enum("elbv2", "ProtocolEnum")
    for lb in of(stack, "aws:lb/loadBalancer:LoadBalancer"):
        name, ok = _name_ok(lb, 32)
        assert ok, f"{stack}: ALB name {name!r} exceeds 32 characters"
        assert lb.inputs.get("loadBalancerType", "application") in enum("elbv2", "LoadBalancerTypeEnum")
        assert 1 <= integral(lb.inputs.get("idleTimeout", 60)) <= 4000
    hc_interval, hc_timeout, hc_threshold = (limits("elbv2", s) for s in (
        "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthCheckThresholdCount"))
    for tg in of(stack, "aws:lb/targetGroup:TargetGroup"):
        at = f"{stack} {tg.name}"
        name, ok = _name_ok(tg, 32)
        assert ok, f"{at}: target group name {name!r} exceeds 32 characters"
        inputs = integral(tg.inputs)
        assert inputs["protocol"] in protocols and inputs["targetType"] in enum("elbv2", "TargetTypeEnum"), at
        assert 1 <= inputs["port"] <= 65535, at
        hc = inputs["healthCheck"]
        assert hc["protocol"] in protocols, at
        for key, (lo, hi) in (("interval", hc_interval), ("timeout", hc_timeout),
                              ("healthyThreshold", hc_threshold), ("unhealthyThreshold", hc_threshold)):
            assert lo <= hc[key] <= hi, f"{at}: health check {key} {hc[key]} outside {lo}..{hi}"
        assert hc["timeout"] < hc["interval"], at
        codes = [int(c) for c in re.split(r"[,-]", hc["matcher"])]
        assert all(200 <= c <= 499 for c in codes), f"{at}: matcher {hc['matcher']} (ALB takes 200..499)"
        assert 0 <= inputs.get("deregistrationDelay", 300) <= 3600, at
        if "stickiness" in inputs:
            assert inputs["stickiness"]["type"] in ("lb_cookie", "app_cookie"), at
            assert 1 <= inputs["stickiness"].get("cookieDuration", 86400) <= 604800, at


@pytest.mark.parametrize("stack", STACKS)
def test_listeners_and_rules(stack: str) -> None:
    protocols, actions = enum("elbv2", "ProtocolEnum"), enum("elbv2", "ActionTypeEnum")
    redirect_codes = enum("elbv2", "RedirectActionStatusCodeEnum")
    listeners = of(stack, "aws:lb/listener:Listener")
    assert listeners
    for ls in listeners:
        at = f"{stack} {ls.name}"
        assert ls.inputs["protocol"] in protocols, at
        if ls.inputs["protocol"] == "HTTPS":
            assert ls.inputs.get("sslPolicy") in ELB_TLS13_POLICIES, f"{at}: ssl policy {ls.inputs.get('sslPolicy')}"
            assert ls.inputs.get("certificateArn"), at
        for action in ls.inputs["defaultActions"]:
            assert action["type"] in actions, at
            if action["type"] == "redirect":
                assert action["redirect"]["statusCode"] in redirect_codes, at
    lo, hi = limits("elbv2", "RulePriority")
    for rule in of(stack, "aws:lb/listenerRule:ListenerRule"):
        priority = integral(rule.inputs["priority"])
        assert lo <= priority <= hi, f"{stack} {rule.name}: priority {priority} outside {lo}..{hi}"
        assert all(a["type"] in actions for a in rule.inputs["actions"])
        values = sum(len(next(iter(c.values()))["values"]) for c in rule.inputs["conditions"])
        assert 1 <= values <= 5, f"{stack} {rule.name}: {values} condition values (ELB allows 5)"
        for condition in rule.inputs["conditions"]:
            for value in condition.get("pathPattern", {}).get("values", []):
                assert PATH_PATTERN.fullmatch(value), f"{stack} {rule.name}: path pattern {value!r}"
            for value in condition.get("hostHeader", {}).get("values", []):
                assert HOST_HEADER.fullmatch(value), f"{stack} {rule.name}: host header {value!r}"


# ---- compute -------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_launch_template_and_groups(stack: str) -> None:
    (lt,) = of(stack, "aws:ec2/launchTemplate:LaunchTemplate")
    meta = integral(lt.inputs["metadataOptions"])
    assert meta["httpTokens"] in enum("ec2", "LaunchTemplateHttpTokensState")
    assert meta["httpEndpoint"] in enum("ec2", "LaunchTemplateInstanceMetadataEndpointState")
    assert meta.get("instanceMetadataTags", "disabled") in enum("ec2", "LaunchTemplateInstanceMetadataTagsState")
    assert 1 <= meta["httpPutResponseHopLimit"] <= 64
    for bdm in lt.inputs.get("blockDeviceMappings", []):
        assert bdm["ebs"]["volumeType"] in enum("ec2", "VolumeType")
        assert 1 <= integral(bdm["ebs"]["volumeSize"]) <= 16384
    for group in of(stack, "aws:autoscaling/group:Group"):
        g = integral(group.inputs)
        assert 0 <= g["minSize"] <= g.get("desiredCapacity", g["minSize"]) <= g["maxSize"], group.name
        dist = g.get("mixedInstancesPolicy", {}).get("instancesDistribution", {})
        assert 0 <= dist.get("onDemandPercentageAboveBaseCapacity", 100) <= 100, group.name


@pytest.mark.parametrize("stack", STACKS)
def test_ecs_enums(stack: str) -> None:
    placement = enum("ecs", "PlacementStrategyType")
    status, draining = enum("ecs", "ManagedScalingStatus"), enum("ecs", "ManagedDraining")
    protection = enum("ecs", "ManagedTerminationProtection")
    cap_lo, cap_hi = limits("ecs", "ManagedScalingTargetCapacity")
    step_lo, step_hi = limits("ecs", "ManagedScalingStepSize")
    for svc in of(stack, "aws:ecs/service:Service"):
        for p in svc.inputs.get("orderedPlacementStrategies", []):
            assert p["type"] in placement, f"{stack} {svc.name}: placement {p['type']}"
        assert svc.inputs.get("propagateTags", "NONE") in enum("ecs", "PropagateTags")
        for item in integral(svc.inputs.get("capacityProviderStrategies", [])):
            assert 0 <= item["weight"] <= 1000 and 0 <= item["base"] <= 100000
    for cp in of(stack, "aws:ecs/capacityProvider:CapacityProvider"):
        asg = integral(cp.inputs["autoScalingGroupProvider"])
        ms = asg["managedScaling"]
        assert ms["status"] in status and asg["managedDraining"] in draining
        assert asg["managedTerminationProtection"] in protection
        assert cap_lo <= ms["targetCapacity"] <= cap_hi
        assert step_lo <= ms["minimumScalingStepSize"] <= ms["maximumScalingStepSize"] <= step_hi
    for cluster in of(stack, "aws:ecs/cluster:Cluster"):
        for setting in cluster.inputs.get("settings", []):
            assert setting["name"] in enum("ecs", "ClusterSettingName")
            assert setting["value"] in ("enabled", "disabled", "enhanced")


@pytest.mark.parametrize("stack", STACKS)
def test_autoscaling_policies(stack: str) -> None:
    for target in of(stack, "aws:appautoscaling/target:Target"):
        t = integral(target.inputs)
        assert t["serviceNamespace"] in enum("application-autoscaling", "ServiceNamespace")
        assert t["scalableDimension"] in enum("application-autoscaling", "ScalableDimension")
        assert 0 <= t["minCapacity"] <= t["maxCapacity"]
    for policy in of(stack, "aws:appautoscaling/policy:Policy"):
        p = policy.inputs
        assert p["policyType"] in enum("application-autoscaling", "PolicyType")
        spec = p["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
        assert spec["predefinedMetricType"] in enum("application-autoscaling", "MetricType"), policy.name
        if spec["predefinedMetricType"] == "ALBRequestCountPerTarget":
            assert spec.get("resourceLabel"), f"{policy.name}: ALBRequestCountPerTarget needs a resource label"


@pytest.mark.parametrize("stack", STACKS)
def test_log_groups_and_schedules(stack: str) -> None:
    for group in of(stack, "aws:cloudwatch/logGroup:LogGroup"):
        days = integral(group.inputs.get("retentionInDays"))
        assert days in retention_days(), f"{stack} {group.name}: retention {days} is not a value CloudWatch accepts"
        assert re.fullmatch(r"[\.\-_/#A-Za-z0-9]{1,512}", group.inputs["name"]), group.name
    for schedule in of(stack, "aws:scheduler/schedule:Schedule"):
        s = integral(schedule.inputs)
        lo, hi = limits("scheduler", "Name")
        assert lo <= len(s["name"]) <= hi and re.fullmatch(r"[0-9a-zA-Z\-_.]+", s["name"]), s["name"]
        assert s["state"] in enum("scheduler", "ScheduleState")
        assert s["flexibleTimeWindow"]["mode"] in enum("scheduler", "FlexibleTimeWindowMode")
        ecs = s["target"]["ecsParameters"]
        assert ecs.get("propagateTags", "TASK_DEFINITION") in enum("scheduler", "PropagateTags")
        assert 1 <= ecs["taskCount"] <= 10


# ---- IAM ---------------------------------------------------------------------------------------

def policy_documents(stack: str) -> list[tuple[str, str]]:
    docs = []
    for reg in produced(stack):
        for key in ("assumeRolePolicy", "policy"):
            if isinstance(reg.inputs.get(key), str) and reg.type.startswith(("aws:iam/", "aws:s3/")):
                docs.append((f"{reg.name}.{key}", reg.inputs[key]))
    return docs


@pytest.mark.parametrize("stack", STACKS)
def test_iam_role_names(stack: str) -> None:
    lo, hi = limits("iam", "roleNameType")
    for role in of(stack, "aws:iam/role:Role"):
        name, ok = _name_ok(role, hi)
        assert ok and len(name) >= lo, f"{stack}: IAM role name {name!r} would exceed {hi} characters"
        assert re.fullmatch(r"[\w+=,.@-]+", name), name


@pytest.mark.parametrize("stack", STACKS)
def test_policy_documents_use_real_actions(stack: str) -> None:
    from parliament import analyze_policy_string

    docs = policy_documents(stack)
    assert docs
    bad_kinds = ("UNKNOWN_ACTION", "UNKNOWN_PREFIX", "MALFORMED", "INVALID", "UNKNOWN_PRINCIPAL")
    for where, text in docs:
        doc = json.loads(text)  # parses as JSON
        assert doc.get("Version") == "2012-10-17" and doc.get("Statement"), where
        findings = analyze_policy_string(text, include_community_auditors=False).findings
        bad = [f"{f.issue} {f.detail}" for f in findings if f.issue.startswith(bad_kinds)
               and not (where.endswith(".assumeRolePolicy") and "neither Resource" in str(f.detail))]  # trust policy
        assert not bad, f"{stack} {where}: {bad}"


def test_parliament_flags_an_unknown_action() -> None:
    from parliament import analyze_policy_string

    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameterz", "Resource": "*"}]}
    issues = {f.issue for f in analyze_policy_string(json.dumps(doc)).findings}
    assert "UNKNOWN_ACTION" in issues


# ---- config values AWS rejects at `up` ---------------------------------------------------------

def _dev_with(path: str, value: Any) -> dict[str, Any]:
    config = yaml.safe_load(STACK_FILES["dev"].read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("ecs-platform:")}
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    node[last] = value
    return raw


@pytest.mark.parametrize(("path", "value"), [
    ("services.api.routing.path_patterns", ["/api v1/*"]),  # space: not a path pattern character
    ("services.api.routing.path_patterns", ["/" + "a" * 128]),  # 129 characters
    ("services.api.routing.host_headers", ["localhost"]),  # no "."
    ("services.api.health_check.matcher", "100"),  # ALB takes 200..499
    ("services.api.health_check.matcher", "200-599"),
    ("services.api.image", "public.ecr.aws/docker/library/python:3.12-slim\n"),  # re `$` before a newline
    ("services.api.secrets", {"DB": "arn:aws:ssm:eu-west-1:123456789012:parameter/db\n"}),
])
def test_config_rejects_what_aws_rejects(path: str, value: Any) -> None:
    from components.config import ConfigError, parse_stack_config

    with pytest.raises(ConfigError):
        parse_stack_config(_dev_with(path, value))


# ---- issue 19: services, alarms, Service Connect, security group rules, lifecycle ----------------

def create_service_input(inputs: dict[str, Any]) -> dict[str, Any]:
    """CreateService's input from an ecs Service's inputs (the provider's names mapped to the API's)."""
    i = integral(inputs)
    deployment: dict[str, Any] = {"deploymentCircuitBreaker": i["deploymentCircuitBreaker"],
                                  "maximumPercent": i["deploymentMaximumPercent"],
                                  "minimumHealthyPercent": i["deploymentMinimumHealthyPercent"]}
    if "alarms" in i:
        deployment["alarms"] = i["alarms"]
    params: dict[str, Any] = {
        "cluster": i["cluster"], "serviceName": i["name"], "taskDefinition": i["taskDefinition"],
        "desiredCount": i["desiredCount"], "deploymentConfiguration": deployment,
        "capacityProviderStrategy": i["capacityProviderStrategies"],
        "enableECSManagedTags": i["enableEcsManagedTags"], "propagateTags": i["propagateTags"],
    }
    for ours, theirs in (("loadBalancers", "loadBalancers"), ("orderedPlacementStrategies", "placementStrategy"),
                         ("healthCheckGracePeriodSeconds", "healthCheckGracePeriodSeconds"),
                         ("enableExecuteCommand", "enableExecuteCommand")):
        if ours in i:
            params[theirs] = i[ours]
    if "tags" in i:
        params["tags"] = ecs_tags(i["tags"])
    if "networkConfiguration" in i:
        net = i["networkConfiguration"]
        params["networkConfiguration"] = {"awsvpcConfiguration": {
            "subnets": net["subnets"], "securityGroups": net["securityGroups"],
            "assignPublicIp": "ENABLED" if net.get("assignPublicIp") else "DISABLED"}}
    if "serviceConnectConfiguration" in i:
        sc = copy.deepcopy(i["serviceConnectConfiguration"])
        for service in sc.get("services", []):
            service["clientAliases"] = service.pop("clientAlias")
        params["serviceConnectConfiguration"] = sc
    return params


@pytest.mark.parametrize("stack", STACKS)
def test_services_match_create_service(stack: str) -> None:
    alarms = {r.inputs["name"] for r in of(stack, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    for svc in of(stack, "aws:ecs/service:Service"):
        params = create_service_input(svc.inputs)
        errors = validate_operation("ecs", "CreateService", params) + ecs_tag_problems(params.get("tags", []))
        assert not errors, f"{stack} {svc.name}:\n  " + "\n  ".join(errors)
        groups = params.get("networkConfiguration", {}).get("awsvpcConfiguration", {}).get("securityGroups", [])
        assert len(groups) <= 5, f"{stack} {svc.name}: ECS takes 5 security groups per task"
        deployment_alarms = params["deploymentConfiguration"].get("alarms")
        if deployment_alarms:
            assert set(deployment_alarms["alarmNames"]) <= alarms, f"{stack} {svc.name}: names an undeclared alarm"
        sc = params.get("serviceConnectConfiguration")
        if sc:
            ports = {m.get("name") for r in of(stack, "aws:ecs/taskDefinition:TaskDefinition")
                     if svc.inputs["taskDefinition"].endswith(r.name) for c in json.loads(r.inputs["containerDefinitions"])
                     for m in c["portMappings"]}
            for service in sc.get("services", []):
                assert service["portName"] in ports, f"{stack} {svc.name}: portName names no port mapping"
                assert len(service["clientAliases"]) == 1, f"{stack} {svc.name}: ECS takes one alias per service"
                assert re.fullmatch(r"[a-z0-9_][a-z0-9_-]{0,63}", service["discoveryName"]), service
                for alias in service["clientAliases"]:
                    assert re.fullmatch(r"[a-z0-9_][a-z0-9_.-]{0,126}", alias["dnsName"]), alias


def _documented_values(service: str, shape: str, member: str, pattern: str) -> str:
    doc = model(service).shape_for(shape).members[member].documentation
    found = re.search(pattern, re.sub(r"<[^>]+>", "", doc))
    assert found, f"{service} {shape}.{member}: documentation changed: {doc[:300]}"
    return found.group(1)


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_match_put_metric_alarm(stack: str) -> None:
    treat = {v.strip() for v in _documented_values(
        "cloudwatch", "PutMetricAlarmInput", "TreatMissingData", r"Valid Values: ([\w |]+?)\s{2}").split("|")}
    assert "notBreaching" in treat
    for alarm in of(stack, "aws:cloudwatch/metricAlarm:MetricAlarm"):
        i = integral(alarm.inputs)
        params = {"AlarmName": i["name"], "AlarmDescription": i["alarmDescription"], "Namespace": i["namespace"],
                  "MetricName": i["metricName"], "Period": i["period"], "EvaluationPeriods": i["evaluationPeriods"],
                  "DatapointsToAlarm": i["datapointsToAlarm"], "Threshold": float(i["threshold"]),
                  "ComparisonOperator": i["comparisonOperator"], "TreatMissingData": i["treatMissingData"],
                  "Dimensions": [{"Name": k, "Value": v} for k, v in i["dimensions"].items()]}
        for ours, theirs in (("statistic", "Statistic"), ("extendedStatistic", "ExtendedStatistic"),
                             ("alarmActions", "AlarmActions"), ("okActions", "OKActions")):
            if ours in i:
                params[theirs] = i[ours]
        at = f"{stack} {alarm.name}"
        errors = validate_operation("cloudwatch", "PutMetricAlarm", params)
        assert not errors, f"{at}:\n  " + "\n  ".join(errors)
        assert ("Statistic" in params) != ("ExtendedStatistic" in params), f"{at}: one of Statistic, ExtendedStatistic"
        if "ExtendedStatistic" in params:
            assert re.fullmatch(r"p\d{1,2}(\.\d+)?", params["ExtendedStatistic"]), at
        assert params["Period"] in (10, 20, 30) or params["Period"] % 60 == 0, f"{at}: period {params['Period']}"
        limit = 86400 if params["Period"] < 3600 else 604800
        assert params["Period"] * params["EvaluationPeriods"] <= limit, at
        assert params["DatapointsToAlarm"] <= params["EvaluationPeriods"], at
        assert params["TreatMissingData"] in treat, at
        assert all(a.startswith("arn:aws:sns:") for a in params.get("AlarmActions", [])), at


@pytest.mark.parametrize("stack", STACKS)
def test_namespaces_match_create_http_namespace(stack: str) -> None:
    for ns in of(stack, "aws:servicediscovery/httpNamespace:HttpNamespace"):
        params = {"Name": ns.inputs["name"], "Description": ns.inputs["description"]}
        errors = validate_operation("servicediscovery", "CreateHttpNamespace", params)
        assert not errors, f"{stack} {ns.name}: {errors}"


@cache
def rule_description_characters() -> re.Pattern:
    """EC2 documents (no pattern in the model) the characters of a rule description; the narrowest
    set, the one for rules naming a group or a prefix list, applies to every rule."""
    chars = _documented_values("ec2", "UserIdGroupPair", "Description", r"Allowed characters are a-z, A-Z, 0-9, "
                               r"spaces, and (\S+)")
    return re.compile(r"[a-zA-Z0-9 " + re.escape(chars) + r"]{0,255}")


def _permission(inputs: dict[str, Any]) -> dict[str, Any]:
    """An aws.vpc security group rule's inputs as EC2's IpPermission."""
    i = integral(inputs)
    permission: dict[str, Any] = {"IpProtocol": i["ipProtocol"]}
    if i["ipProtocol"] != "-1":
        permission.update(FromPort=i["fromPort"], ToPort=i["toPort"])
    description = i.get("description")
    if "cidrIpv4" in i:
        permission["IpRanges"] = [{"CidrIp": i["cidrIpv4"], "Description": description}]
    elif "cidrIpv6" in i:
        permission["Ipv6Ranges"] = [{"CidrIpv6": i["cidrIpv6"], "Description": description}]
    elif "prefixListId" in i:
        permission["PrefixListIds"] = [{"PrefixListId": i["prefixListId"], "Description": description}]
    else:
        permission["UserIdGroupPairs"] = [{"GroupId": i["referencedSecurityGroupId"], "Description": description}]
    return permission


@pytest.mark.parametrize("stack", STACKS)
def test_security_group_rules_match_authorize_security_group(stack: str) -> None:
    allowed = rule_description_characters()
    assert not allowed.fullmatch("Postgres' primary")  # the documented set has no apostrophe
    for type_, operation in (("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "AuthorizeSecurityGroupEgress"),
                             ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "AuthorizeSecurityGroupIngress")):
        for rule in of(stack, type_):
            permission = _permission(rule.inputs)
            errors = validate_operation("ec2", operation, {"GroupId": rule.inputs["securityGroupId"],
                                                           "IpPermissions": [permission]})
            assert not errors, f"{stack} {rule.name}: {errors}"
            assert permission["IpProtocol"] in ("tcp", "udp", "icmp", "icmpv6", "-1"), rule.name
            if "FromPort" in permission:
                assert 0 <= permission["FromPort"] <= permission["ToPort"] <= 65535, rule.name
            assert allowed.fullmatch(rule.inputs.get("description", "")), f"{stack} {rule.name}: description " \
                f"{rule.inputs.get('description')!r} has characters EC2 refuses"


@pytest.mark.parametrize("stack", STACKS)
def test_container_lifecycle_within_documented_ranges(stack: str) -> None:
    ranges = {member: tuple(int(v) for v in re.findall(r"\d+", _documented_values(
        "ecs", "HealthCheck", member, r"(?:specify|You may specify) between (\d+ and \d+)")))
        for member in ("interval", "timeout", "retries", "startPeriod")}
    stop = tuple(int(v) for v in _documented_values(
        "ecs", "ContainerDefinition", "stopTimeout", r"valid values for Fargate are (\d+-\d+) seconds").split("-"))
    for task in of(stack, "aws:ecs/taskDefinition:TaskDefinition"):
        containers = json.loads(task.inputs["containerDefinitions"])
        names = {c["name"] for c in containers}
        for c in containers:
            at = f"{stack} {task.name} {c['name']}"
            assert stop[0] <= c["stopTimeout"] <= stop[1], at
            check = c.get("healthCheck")
            if check:
                assert check["command"][0] in ("CMD", "CMD-SHELL"), at
                for member, (lo, hi) in ranges.items():
                    assert lo <= check.get(member, lo) <= hi, f"{at}: healthCheck.{member}"
            for dep in c.get("dependsOn", []):
                target = next(t for t in containers if t["name"] == dep["containerName"])
                assert dep["containerName"] in names and dep["containerName"] != c["name"], at
                if dep["condition"] == "HEALTHY":
                    assert "healthCheck" in target, f"{at}: HEALTHY needs the target's health check"
                if dep["condition"] in ("COMPLETE", "SUCCESS"):
                    assert not target["essential"], f"{at}: {dep['condition']} needs a non-essential target"
            for limit in c.get("ulimits", []):
                assert limit["softLimit"] <= limit["hardLimit"], at


@pytest.mark.parametrize("stack", STACKS)
def test_scheduled_task_tags_match_the_scheduler_model(stack: str) -> None:
    for schedule in of(stack, "aws:scheduler/schedule:Schedule"):
        ecs = schedule.inputs["target"]["ecsParameters"]
        if "tags" in ecs:
            errors = validate_shape(model("scheduler").shape_for("Tags"), [ecs["tags"]], "Tags")
            assert not errors, f"{stack} {schedule.name}: {errors}"


def test_the_new_checks_reject_broken_values() -> None:
    """Negative test: values AWS refuses fail the checks above, naming the value."""
    svc = next(r for r in of("prod", "aws:ecs/service:Service") if "serviceConnectConfiguration" in r.inputs)
    params = create_service_input(svc.inputs)
    params["deploymentConfiguration"]["alarms"].pop("rollback")
    params["propagateTags"] = "TASK"
    params["tags"] = [{"key": "team", "value": "a,b"}]
    errors = "\n".join(validate_operation("ecs", "CreateService", params) + ecs_tag_problems(params["tags"]))
    for needle in ("rollback", "'TASK'", "'a,b'"):
        assert needle in errors, (needle, errors)
    alarm = {"AlarmName": "x", "Period": 60, "EvaluationPeriods": 0, "ComparisonOperator": "Above",
             "Dimensions": [{"Name": "ClusterName"}]}
    errors = "\n".join(validate_operation("cloudwatch", "PutMetricAlarm", alarm))
    for needle in ("EvaluationPeriods", "'Above'", "Value"):
        assert needle in errors, (needle, errors)
    assert validate_operation("servicediscovery", "CreateHttpNamespace", {"Name": "arn:aws:x"})
    assert not rule_description_characters().fullmatch("web's rule")
