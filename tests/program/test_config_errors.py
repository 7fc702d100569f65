"""Bad stack config: one error per bad value naming its key path, and nothing registered."""
# ruff: noqa: E501  (the table of cases reads best one case a line)

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pytest

from components.config import ConfigError, HealthCheckConfig, ScheduledTaskConfig, parse_stack_config

from .harness import Recorder, run_program, stack_config


def dev_services() -> dict[str, Any]:
    return copy.deepcopy(stack_config("dev")["ecs-platform:services"])


def errors_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw)
    return str(caught.value).splitlines()[1:]


def with_service(**changes: Any) -> dict[str, Any]:
    services = dev_services()
    services["web"].update(changes)
    return {"services": services}


@pytest.mark.parametrize(("raw", "expected"), [
    (with_service(memory="lots"), "ecs-platform:services.web.memory: Input should be a valid integer"),
    (with_service(memory_reservation=512), "ecs-platform:services.web.memory_reservation: 512 exceeds the hard limit memory=256"),
    (with_service(memroy=256), "ecs-platform:services.web.memroy: unknown key"),
    (with_service(image="public.ecr.aws/nginx/nginx:latest"), "ecs-platform:services.web.image: the `latest` tag is not allowed"),
    (with_service(image="nginx"), "ecs-platform:services.web.image: must be registry/repository:tag"),
    (with_service(task_cpu=256, cpu=512), "ecs-platform:services.web.task_cpu: 256 is below the containers' total cpu 512"),
    (with_service(network_mode="host"), "ecs-platform:services.web.network_mode: must be one of 'awsvpc' or 'bridge'"),
    (with_service(routing={"priority": 100, "path_patterns": ["/x"]}), "ecs-platform:services.api.routing.priority: 100 is already used by service 'web'"),
    (with_service(routing={"priority": 60000, "path_patterns": ["/x"]}), "ecs-platform:services.web.routing.priority: Input should be less than or equal to 50000"),
    (with_service(autoscaling={"min_capacity": 2, "max_capacity": 4}), "ecs-platform:services.web.desired_count: must lie in autoscaling min..max (2..4)"),
    (with_service(secrets={"DB": "plaintext"}), "ecs-platform:services.web.secrets: DB: must be an SSM parameter ARN or a Secrets Manager secret ARN"),
    (with_service(sidecars={f"s{i}": {"image": "public.ecr.aws/a/b:1", "cpu": 1, "memory": 6} for i in range(10)}),
     "ecs-platform:services.web.sidecars: a task holds at most 10 containers, this one 11"),
    ({"services": {"Web": dev_services()["web"]}}, "ecs-platform:services.Web: invalid name 'Web'"),
    ({"services": dev_services(), "clustr": {}}, "ecs-platform:clustr: unknown key"),
    ({"services": dev_services(), "cluster": {"min_size": 3, "max_size": 2, "desired_capacity": 2}},
     "ecs-platform:cluster.desired_capacity: must lie in min_size..max_size (3..2)"),
    ({"services": dev_services(), "load_balancer": {"ssl_policy": "ELBSecurityPolicy-TLS13-1-3-2021-06"}},
     "ecs-platform:load_balancer.ssl_policy: applies to HTTPS only: set certificate_arn too"),
    ({"services": dev_services(), "load_balancer": {"ssl_policy": "ELBSecurityPolicy-2016-08",
                                                   "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/8f2a6c1e-3b4d-4e5f-9a0b-1c2d3e4f5a6b"}},
     "ecs-platform:load_balancer.ssl_policy: must be one of"),
    ({"services": dev_services(), "network": {"public_subnet_ids": ["subnet-0a1b2c3d"]}},
     "ecs-platform:network.vpc_id: subnet ids are given, so the VPC id they belong to is required"),
    ({"services": dev_services(), "logs": {"retention_days": 10}}, "ecs-platform:logs.retention_days: must be one of"),
    ({}, "ecs-platform:services: required key is missing"),
])
def test_each_bad_value_names_its_key(raw: dict[str, Any], expected: str) -> None:
    errors = errors_of(raw)
    assert any(line.strip().startswith(expected) for line in errors), errors


def test_every_problem_is_reported_at_once() -> None:
    raw = with_service(memory_reservation=512, memroy=1)
    raw["cluster"] = {"root_volume_size_gb": 8}
    errors = [line.strip().split(":")[1] for line in errors_of(raw)]
    assert "services.web.memroy" in errors and "cluster.root_volume_size_gb" in errors


def test_a_model_checks_its_own_cross_field_rules_at_the_path_it_is_given() -> None:
    """Models own their rules (`problems`), so a component's config can be checked without a stack."""
    assert HealthCheckConfig(interval=5, timeout=5).problems("services.web.health_check") == [
        ("services.web.health_check.timeout", "must be less than interval (5)")]
    task = ScheduledTaskConfig(image="public.ecr.aws/a/b:1", cpu=64, memory=64, port=80,
                               schedule_expression="rate(1 hour)",
                               sidecars={"job": {"image": "public.ecr.aws/a/c:1", "cpu": 1, "memory": 6}})
    assert task.problems("scheduled_tasks.job", "job") == [
        ("scheduled_tasks.job.sidecars.job", "a sidecar cannot take the task's name (the main container's)"),
        ("scheduled_tasks.job.port", "a scheduled task takes no traffic: remove port"),
        ("scheduled_tasks.job.cpu", "the task's cpu (sum of containers, 65) must be at least 128 units"),
        ("scheduled_tasks.job.memory", "the task's memory (sum of containers, 70) must be at least 128 MiB"),
    ]


def test_program_with_bad_config_fails_before_declaring_anything() -> None:
    config = stack_config("dev")
    config["ecs-platform:services"]["web"]["memory"] = -5
    recorder = Recorder()
    with pytest.raises(Exception) as caught:
        run_program(config, "dev", recorder)
    assert "ecs-platform:services.web.memory" in str(caught.value)
    assert isinstance(caught.value, pulumi.RunError) or "RunError" in repr(caught.value)
    assert recorder.resources == []


def test_missing_region_is_named() -> None:
    config = stack_config("dev")
    del config["aws:region"]
    recorder = Recorder()
    with pytest.raises(Exception) as caught:
        run_program(config, "dev", recorder)
    assert "aws:region" in str(caught.value)
    assert recorder.resources == []
