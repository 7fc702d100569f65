"""The stack config refuses what AWS would refuse at `pulumi up` and what it can know from the config
alone: tasks larger than their instance types, schedule expressions, derived names; one line per
problem naming the `ecs-platform:` key, before any resource is declared."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import naming
from components.config import ConfigError, parse_stack_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from program.harness import Recorder, run_program, stack_config

JOB = {"image": "public.ecr.aws/a/b:1", "cpu": 256, "memory": 512, "schedule_expression": "rate(1 hour)"}


def dev_config() -> dict[str, Any]:
    """The dev stack's config with room for the scheduled tasks these tests add: dev's groups hold
    exactly its services' awsvpc tasks (a t3a.small holds 1), and the ENI capacity check
    (components/config/eni.py) is not what these tests are about."""
    config = stack_config("dev")
    config["ecs-platform:cluster"]["max_size"] = 8  # 4 for the services, 4 for up to 4 scheduled tasks
    return config


def dev_raw() -> dict[str, Any]:
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in dev_config().items() if k.startswith("ecs-platform:")}


def errors_of(raw: dict[str, Any], cluster: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw, cluster)
    return [line.strip() for line in str(caught.value).splitlines()[1:]]


def test_the_stacks_pass() -> None:
    for stack in ("dev", "prod"):
        raw = {k.split(":", 1)[1]: v for k, v in stack_config(stack).items() if k.startswith("ecs-platform:")}
        parse_stack_config(raw, naming.cluster_name("ecs-platform", stack))


# ---- the issue's examples, through the program: refused before any resource is declared -----------------

@pytest.mark.parametrize(("key", "changes", "expected"), [
    ("services", {"web": {"cpu": 4096}}, [
        "ecs-platform:services.web.cpu: the task's 4096 CPU units (the sum of its containers) exceed what t3.small "
        "(2 vCPUs: 2048 units), t3a.small (2 vCPUs: 2048 units) offer ECS tasks"]),
    ("services", {"web": {"memory": 8192, "memory_reservation": 128}}, [
        "ecs-platform:services.web.memory: the task's 8192 MiB (the sum of its containers) exceed what t3.small "
        "(2 GiB: about 1894 MiB), t3a.small (2 GiB: about 1894 MiB) offer ECS tasks"]),
    ("scheduled_tasks", {"nightly": {**JOB, "schedule_expression": "cron(61 25 * * ? *)"}}, [
        "ecs-platform:scheduled_tasks.nightly.schedule_expression: cron() minutes 61 is outside 0-59",
        "ecs-platform:scheduled_tasks.nightly.schedule_expression: cron() hours 25 is outside 0-23"]),
    ("scheduled_tasks", {"nightly": {**JOB, "schedule_expression": "cron(0 3 * * 1 *)"}}, [
        "ecs-platform:scheduled_tasks.nightly.schedule_expression: cron() sets both day-of-month (*) and "
        "day-of-week (1): one of them must be `?`"]),
])
def test_issue_examples_fail_before_any_resource_is_declared(key: str, changes: dict, expected: list[str]) -> None:
    config = dev_config()
    section = config.setdefault(f"ecs-platform:{key}", {})
    for name, values in changes.items():
        section[name] = {**section.get(name, {}), **values}
    recorder = Recorder()
    with pytest.raises(Exception) as caught:
        run_program(config, "dev", recorder)
    assert isinstance(caught.value, pulumi.RunError) or "RunError" in repr(caught.value)
    lines = [line.strip() for line in str(caught.value).splitlines()]
    for line in expected:
        assert any(found.startswith(line) for found in lines), lines
    problems = [line for line in lines if line.startswith("ecs-platform:")]
    assert len(problems) == len(expected), problems  # one line per problem, nothing else
    assert recorder.resources == []


# ---- task size against the instance types ---------------------------------------------------------------

def test_a_task_size_names_task_cpu_and_task_memory_when_set() -> None:
    raw = dev_raw()
    raw["services"]["web"].update(task_cpu=4096, task_memory=4096)
    errors = errors_of(raw)
    assert any(e.startswith("ecs-platform:services.web.task_cpu: the task's 4096 CPU units exceed") for e in errors)
    assert any(e.startswith("ecs-platform:services.web.task_memory: the task's 4096 MiB exceed") for e in errors)


def test_the_largest_task_that_fits_passes_and_one_unit_more_fails() -> None:
    raw = dev_raw()
    raw["services"]["web"].update(cpu=2048, memory=1894)  # t3.small: 2048 units, about 1894 MiB
    parse_stack_config(raw)
    raw["services"]["web"]["memory"] = 1895
    assert [e.split(":")[1] for e in errors_of(raw)] == ["services.web.memory"]


def test_sidecars_and_the_service_connect_proxy_count() -> None:
    raw = dev_raw()
    sidecar = {"image": "public.ecr.aws/a/b:1", "cpu": 768, "memory": 128}
    raw["services"]["web"].update(cpu=1024, sidecars={"otel": sidecar}, service_connect={})
    parse_stack_config(raw)  # 1024 + 768 + 256 (the proxy) = 2048 units: a t3.small's
    sidecar["cpu"] = 769
    assert [e.split(": ", 1)[1].split(" (")[0] for e in errors_of(raw)] == ["the task's 2049 CPU units"]


def test_only_the_providers_a_strategy_uses_count() -> None:
    raw = dev_raw()
    raw["cluster"]["additional_capacity_providers"] = {"big": {"instance_types": ["m6i.2xlarge"]}}
    raw["services"]["web"].update(cpu=4096, memory=4096)
    # The default strategy uses both groups: the task does not fit the small one.
    assert any(e.startswith("ecs-platform:services.web.cpu") and "m6i" not in e for e in errors_of(raw))
    # Its own strategy on the big group only: it fits.
    raw["services"]["web"]["capacity_provider_strategy"] = [{"capacity_provider": "big"}]
    parse_stack_config(raw)
    # A provider with weight 0 and no base places nothing.
    raw["services"]["web"]["capacity_provider_strategy"] = [{"capacity_provider": "big"},
                                                            {"capacity_provider": "ec2", "weight": 0}]
    parse_stack_config(raw)


def test_fargate_tasks_are_not_checked_against_instance_types() -> None:
    raw = dev_raw()
    raw["services"]["web"].update(cpu=4096, memory=8192, writable_paths=[], read_only_root_filesystem=False,
                                  capacity_provider_strategy=[{"capacity_provider": "FARGATE"}])
    parse_stack_config(raw)  # 4 vCPUs and 8 GiB: a Fargate size, far above a t3.small


def test_scheduled_tasks_are_checked_too() -> None:
    raw = dev_raw()
    raw["scheduled_tasks"] = {"report": {**JOB, "memory": 4096}}
    assert any(e.startswith("ecs-platform:scheduled_tasks.report.memory: the task's 4096 MiB") for e in errors_of(raw))


def test_an_instance_type_the_catalogue_lacks_is_an_error_not_a_silent_pass() -> None:
    raw = dev_raw()
    raw["cluster"]["instance_types"] = ["t3.small", "x9z.huge"]
    raw["cluster"]["additional_capacity_providers"] = {"spot": {"instance_types": ["t3.smal"]}}
    errors = errors_of(raw)
    assert any(e.startswith("ecs-platform:cluster.instance_types.1: 'x9z.huge' is not in the AWS limits catalogue")
               for e in errors), errors
    assert any(e.startswith("ecs-platform:cluster.additional_capacity_providers.spot.instance_types.0: 't3.smal'")
               for e in errors), errors


# ---- schedule expressions -------------------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ("rate(1 hours)", "rate(1 hours) takes the singular unit: rate(1 hour)"),
    ("rate(2 day)", "rate(2 day) takes the plural unit: rate(2 days)"),
    ("cron(0 3 ? * ? *)", "cron() day-of-month and day-of-week are both `?`"),
    ("at(2026-13-01T03:00:00)", "at(2026-13-01T03:00:00) is not a calendar date and time"),
    ("every day", "must be rate(<n> minute[s]|hour[s]|day[s]) or cron(<6 fields>) or at(yyyy-mm-ddThh:mm:ss)"),
])
def test_schedule_expressions_name_the_key(expression: str, expected: str) -> None:
    raw = dev_raw()
    raw["scheduled_tasks"] = {"job": {**JOB, "schedule_expression": expression}}
    errors = errors_of(raw)
    assert len(errors) == 1 and errors[0].startswith(f"ecs-platform:scheduled_tasks.job.schedule_expression: {expected}")


def test_valid_schedule_expressions_pass() -> None:
    raw = dev_raw()
    raw["scheduled_tasks"] = {f"job{i}": {**JOB, "schedule_expression": e} for i, e in enumerate(
        ["rate(1 minute)", "cron(0/15 10-16 ? * MON-FRI *)", "cron(0 12 ? JAN,JUL 3#2 *)", "at(2026-12-01T03:00:00)"])}
    parse_stack_config(raw)


# ---- names derived from the config's names and the stack's ----------------------------------------------

def test_a_service_name_that_makes_a_security_group_name_ec2_refuses() -> None:
    raw = dev_raw()
    raw["services"]["sg-api"] = raw["services"].pop("api")
    assert errors_of(raw) == [
        "ecs-platform:services.sg-api: makes the EC2 security group name 'sg-api-sg-<7 random characters>', which "
        "begins with `sg-` (the form of security group ids): choose another name"]
    raw["services"]["sg"] = raw["services"].pop("sg-api")
    assert [e.split(":")[1] for e in errors_of(raw)] == ["services.sg"]


def test_a_schedule_name_over_64_characters_names_the_task() -> None:
    raw = dev_raw()
    raw["scheduled_tasks"] = {"cleanup-reports-old1": JOB}  # the longest name the config takes: 20
    parse_stack_config(raw)  # without the stack's name, nothing to check
    parse_stack_config(raw, naming.cluster_name("ecs-platform", "s" * 30))  # 13 + 30 + 1 + 20 = 64
    assert errors_of(raw, naming.cluster_name("ecs-platform", "s" * 31)) == [
        "ecs-platform:scheduled_tasks.cleanup-reports-old1: makes the EventBridge Scheduler schedule name "
        f"'ecs-platform-{'s' * 31}-cleanup-reports-old1', which is 65 characters long (at most 64): choose another name"]


def test_a_stack_name_with_a_period_is_refused_once() -> None:
    raw = dev_raw()
    raw["scheduled_tasks"] = {"job": JOB}
    assert errors_of(raw, naming.cluster_name("ecs-platform", "dev.eu")) == [
        "the stack's name makes the ECS cluster name 'ecs-platform-dev.eu', which has characters not allowed here "
        "('.'; allowed: letters, digits, underscores and hyphens): rename the stack"]


def test_the_program_refuses_a_stack_name_aws_would_refuse() -> None:
    recorder = Recorder()
    with pytest.raises(Exception) as caught:
        run_program(stack_config("dev"), "dev.eu", recorder)
    assert "the stack's name makes the ECS cluster name 'ecs-platform-dev.eu'" in str(caught.value)
    assert recorder.resources == []


# ---- container limits -----------------------------------------------------------------------------------

def test_an_environment_variable_the_kernel_refuses() -> None:
    raw = dev_raw()
    raw["services"]["api"]["environment"]["BIG"] = "x" * (131072 - len("BIG=") - 1)
    parse_stack_config(raw)
    raw["services"]["api"]["environment"]["BIG"] += "x"
    assert errors_of(raw) == [
        "ecs-platform:services.api.environment.BIG: 131073 bytes as NAME=value: the kernel refuses to start a "
        "process with a variable over 131072 bytes (use a file or a secret)"]
