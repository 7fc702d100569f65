"""Issue 22 under mocks: the config refuses what AWS would only refuse at `up` (awsvpc tasks the
groups cannot place, a warm pool ECS refuses), and the inputs that make rollouts behave (strategy
updates, steady state, the awsvpcTrunking default)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.loaders import Loader
from botocore.model import ServiceModel

from components.config import ConfigError, parse_stack_config
from components.config.eni import AWSVPC_TASK_LIMITS

from .harness import of_type, one, run_program, stack_config
from .pack import example_config


def raw_of(config: dict[str, Any]) -> dict[str, Any]:
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in config.items() if k.startswith("ecs-platform:")}


def errors_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw)
    return [line.strip() for line in str(caught.value).splitlines()[1:]]


# ---- awsvpc ENIs: what the groups can place ------------------------------------------------------

def test_prod_needs_trunking_for_its_peak() -> None:
    """web 12 x 200% + api 20 x 200% = 64 task ENIs; 12 m6i/m6a.large hold 24, or 120 with trunking."""
    raw = raw_of(stack_config("prod"))
    assert parse_stack_config(raw).awsvpc_demand == {"services.web": 24, "services.api": 40}
    raw["cluster"]["awsvpc_trunking"] = False
    assert errors_of(raw) == [
        "ecs-platform:cluster.max_size: awsvpc tasks at their peak need 64 ENIs (services.api 40, services.web 24) "
        "but the groups hold 24 (12 x m6i.large at 2 each; trunking off): raise max_size by 20, choose instance "
        "types with more ENIs, or set cluster.awsvpc_trunking: true with types ECS trunks (components/config/eni.py)"]


def test_the_old_prod_mix_could_not_place_its_tasks_even_with_trunking() -> None:
    """m7i.large: 3 ENIs; ECS's trunking table (as read) does not list it, so it counts 2."""
    raw = raw_of(stack_config("prod"))
    raw["cluster"]["instance_types"] = ["m7i.large", "m6i.large"]
    (error,) = errors_of(raw)
    assert error.startswith("ecs-platform:cluster.max_size: awsvpc tasks at their peak need 64 ENIs")
    assert "12 x m7i.large at 2 each; trunking on" in error


def test_dev_counts_its_smallest_type() -> None:
    """A mixed group may launch only t3a.small (2 ENIs: 1 task each): 2 services x 200% need 4."""
    raw = raw_of(stack_config("dev"))
    assert raw["cluster"]["max_size"] == 4
    raw["cluster"]["max_size"] = 3
    (error,) = errors_of(raw)
    assert error.startswith("ecs-platform:cluster.max_size: awsvpc tasks at their peak need 4 ENIs "
                            "(services.api 2, services.web 2) but the groups hold 3 (3 x t3a.small at 1 each")
    raw["cluster"]["instance_types"] = ["t3.small"]
    parse_stack_config(raw)  # 3 x 2


def test_deployment_headroom_and_scheduled_tasks_count() -> None:
    raw = raw_of(stack_config("dev"))
    raw["cluster"]["max_size"] = 6
    raw["services"]["web"]["deployment"] = {"maximum_percent": 100}
    raw["scheduled_tasks"] = {"report": {"image": "public.ecr.aws/nginx/nginx:1.27-alpine", "cpu": 128,
                                         "memory": 128, "task_count": 3, "schedule_expression": "rate(1 hour)"}}
    assert parse_stack_config(raw).awsvpc_demand == {"services.web": 1, "services.api": 2, "scheduled_tasks.report": 3}


def test_bridge_and_fargate_tasks_take_no_instance_eni() -> None:
    raw = raw_of(stack_config("dev"))
    raw["cluster"]["max_size"] = 1
    raw["services"]["web"]["network_mode"] = "bridge"
    raw["services"]["api"].update(task_cpu=256, task_memory=512,
                                  capacity_provider_strategy=[{"capacity_provider": "FARGATE"}])
    assert parse_stack_config(raw).awsvpc_demand == {}


def test_additional_groups_add_their_capacity() -> None:
    raw = raw_of(example_config("workloads"))
    cfg = parse_stack_config(raw)
    # web 1 x 200%, queue-worker 6 x 200%, nightly-report 1; api runs on Fargate.
    assert cfg.awsvpc_demand == {"services.web": 2, "services.queue-worker": 12, "scheduled_tasks.nightly-report": 1}
    raw["cluster"]["max_size"] = 2
    raw["cluster"]["additional_capacity_providers"]["spot"]["max_size"] = 5  # 2 x 2 + 5 x 2 = 14 < 15
    (error,) = errors_of(raw)
    assert "hold 14 (2 x m7i.large at 2 each; 5 x m7i.large at 2 each; trunking off)" in error


def test_unknown_instance_types_are_named_not_guessed() -> None:
    raw = raw_of(stack_config("dev"))
    raw["cluster"]["instance_types"] = ["t3.small", "z1d.large"]  # in neither table: one line, the catalogue's
    assert [e.split(": ", 1)[0] for e in errors_of(raw)] == ["ecs-platform:cluster.instance_types.1"]
    raw["cluster"]["instance_types"] = ["t3.small", "r5a.large"]  # in the AWS limits catalogue, not in eni.py
    assert errors_of(raw) == ["ecs-platform:cluster.instance_types: no awsvpc task limit known for r5a.large: "
                              "add the type to components/config/eni.py (EC2 maximum ENIs, ECS trunking table)"]
    for service in raw["services"].values():  # without awsvpc tasks on EC2 nothing needs the limit
        service["network_mode"] = "bridge"
    parse_stack_config(raw)


def test_the_table_holds_every_type_the_stacks_and_fuzzers_use() -> None:
    for config in (stack_config("dev"), stack_config("prod"), example_config("workloads")):
        cluster = config["ecs-platform:cluster"]
        types = cluster["instance_types"] + [t for extra in cluster.get("additional_capacity_providers", {}).values()
                                             for t in extra["instance_types"]]
        assert set(types) <= set(AWSVPC_TASK_LIMITS)
    assert AWSVPC_TASK_LIMITS["t3.medium"].tasks(trunking=False) == 2  # the default group's type
    assert AWSVPC_TASK_LIMITS["m6i.large"].tasks(trunking=True) == 10
    assert AWSVPC_TASK_LIMITS["t3.small"].tasks(trunking=True) == 2  # burstable types are not trunked


# ---- warm pool ---------------------------------------------------------------------------------

def test_example_warm_pool_no_longer_reuses_instances() -> None:
    raw = raw_of(example_config("workloads"))
    assert "reuse_on_scale_in" not in raw["cluster"]["warm_pool"]
    raw["cluster"]["warm_pool"]["reuse_on_scale_in"] = True
    assert errors_of(raw) == [
        "ecs-platform:cluster.warm_pool.reuse_on_scale_in: ECS does not let a capacity provider's Auto Scaling "
        "group return instances to the warm pool on scale-in (ReuseOnScaleIn): remove it"]


# ---- the inputs AWS receives --------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "prod", "workloads"])
def test_services_force_new_deployments_and_wait_for_steady_state(stack: str) -> None:
    config = example_config(stack) if stack == "workloads" else stack_config(stack)
    services = of_type(run_program(config, stack), "aws:ecs/service:Service")
    assert services
    for service in services:
        # The provider refuses a strategy change without forceNewDeployment; every service has one.
        assert service.inputs["capacityProviderStrategies"], service.name
        assert service.inputs["forceNewDeployment"] is True, service.name
        assert service.inputs["waitForSteadyState"] is True, service.name


def test_a_service_may_return_before_steady_state() -> None:
    config = stack_config("dev")
    config["ecs-platform:services"]["api"]["deployment"] = {"wait_for_steady_state": False}
    rec = run_program(config, "dev")
    assert one(rec, "aws:ecs/service:Service", "api-service").inputs["waitForSteadyState"] is False
    assert one(rec, "aws:ecs/service:Service", "web-service").inputs["waitForSteadyState"] is True


def test_trunking_turns_on_the_account_default_only_when_asked() -> None:
    setting = one(run_program(stack_config("prod"), "prod"), "aws:ecs/accountSettingDefault:AccountSettingDefault")
    assert (setting.name, setting.inputs) == ("cluster-awsvpc-trunking", {"name": "awsvpcTrunking", "value": "enabled"})
    ecs = ServiceModel(Loader().load_service_model("ecs", "service-2"), service_name="ecs")
    assert setting.inputs["name"] in ecs.shape_for("SettingName").enum  # PutAccountSettingDefault's Name
    assert not of_type(run_program(stack_config("dev"), "dev"), "aws:ecs/accountSettingDefault:AccountSettingDefault")
