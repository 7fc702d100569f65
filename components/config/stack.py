"""The whole stack config, its rules across sections, and reading it from the Pulumi config."""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import Field, ValidationError

from .. import naming
from ..aws_limits import instance_type, name_rule
from .base import NAMESPACE, ConfigError, Name, Problem, Strict
from .cluster import FARGATE_PROVIDERS, ClusterConfig
from .eni import awsvpc_capacity_problems
from .load_balancer import LoadBalancerConfig
from .logs import LogsConfig
from .network import NetworkConfig
from .reachability import connection_problems
from .scheduled_task import ScheduledTaskConfig
from .service import ServiceConfig
from .tags import TagsConfig


class StackConfig(Strict):
    """The whole stack config (`ecs-platform:*` keys)."""

    network: NetworkConfig = Field(default_factory=NetworkConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    load_balancer: LoadBalancerConfig = Field(default_factory=LoadBalancerConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    services: dict[Name, ServiceConfig] = Field(min_length=1, description="Services by name.")
    scheduled_tasks: dict[Name, ScheduledTaskConfig] = Field(
        default_factory=dict, description="Scheduled tasks by name (names differ from the services').")
    tags: TagsConfig | None = Field(
        None, description="The stack's tags: on every resource through the default AWS provider (the stack's "
        "`aws:defaultTags` must hold the same tags) and on ECS services, task definitions and scheduled tasks' "
        "tasks; absent: no tags.",
    )

    @property
    def fargate_providers(self) -> list[str]:
        tasks = [*self.services.values(), *self.scheduled_tasks.values()]
        used = {i.capacity_provider for t in tasks for i in t.capacity_provider_strategy or []}
        return [p for p in FARGATE_PROVIDERS if p in used]

    @property
    def uses_execute_command(self) -> bool:
        return any(s.enable_execute_command for s in self.services.values())

    @property
    def uses_service_connect(self) -> bool:
        return any(s.service_connect is not None for s in self.services.values())

    @property
    def stack_tags(self) -> dict[str, str]:
        """The tags ECS resources carry explicitly (those of `tags`, or none)."""
        return self.tags.as_aws() if self.tags is not None else {}

    @property
    def uses_bridge(self) -> bool:
        return any(s.network_mode == "bridge" for s in self.services.values())

    @property
    def awsvpc_demand(self) -> dict[str, int]:
        """awsvpc tasks on EC2 capacity at their peak, by key path: a service's autoscaling maximum
        (or desired count) with its deployment's maximum_percent on top (`pulumi up` may deploy every
        service at once), a scheduled task's task_count. Fargate and bridge-mode tasks take no ENI
        of an instance."""
        def on_ec2_awsvpc(task: ServiceConfig | ScheduledTaskConfig) -> bool:
            strategy = task.capacity_provider_strategy or []
            return task.network_mode == "awsvpc" and not any(i.capacity_provider in FARGATE_PROVIDERS for i in strategy)

        demand: dict[str, int] = {}
        for name, svc in self.services.items():
            if on_ec2_awsvpc(svc):
                peak = max(svc.desired_count, svc.autoscaling.max_capacity if svc.autoscaling else 0)
                demand[f"services.{name}"] = math.ceil(peak * svc.deployment.maximum_percent / 100)
        for name, task in self.scheduled_tasks.items():
            if on_ec2_awsvpc(task):
                demand[f"scheduled_tasks.{name}"] = task.task_count
        return {key: count for key, count in demand.items() if count}

    def problems(self, cluster_name: str | None = None) -> list[Problem]:
        """Every section's own rules, then those across sections: strategies name the cluster's
        providers, tasks fit the instance types they run on, listener rule priorities are unique,
        scheduled tasks and services have distinct names, connections between tasks are declared on
        both sides, Service Connect names are unique, the groups can place every awsvpc task (ENIs);
        the names derived from each task's name (and, given, the cluster's) are names AWS takes."""
        problems = self.network.problems("network")
        problems += self.cluster.problems("cluster")
        problems += instance_type_problems("cluster", self.cluster)
        problems += self.load_balancer.problems("load_balancer")
        cluster_problems = stack_name_problems(cluster_name) if cluster_name is not None else []
        problems += cluster_problems
        derived_cluster = None if cluster_problems else cluster_name  # one error, not one per task
        providers = self.cluster.provider_names
        priorities: dict[int, str] = {}
        for name, svc in self.services.items():
            at = f"services.{name}"
            problems += svc.problems(at, name)
            problems += svc.unknown_provider_problems(at, providers)
            problems += svc.capacity_problems(at, self.cluster)
            problems += svc.name_problems(at, name, derived_cluster)
            if svc.routing is None:
                continue
            other = priorities.setdefault(svc.routing.priority, name)
            if other != name:
                problems.append((f"{at}.routing.priority", f"{svc.routing.priority} is already used by service {other!r}"))
        for name, task in self.scheduled_tasks.items():
            at = f"scheduled_tasks.{name}"
            if name in self.services:
                problems.append((at, f"a service is named {name!r} too: their log groups and families would collide"))
            problems += task.problems(at, name)
            problems += task.unknown_provider_problems(at, providers)
            problems += task.capacity_problems(at, self.cluster)
            problems += task.name_problems(at, name, derived_cluster)
        if self.tags is not None:
            problems += self.tags.problems("tags")
        tasks = {name: (f"services.{name}", svc) for name, svc in self.services.items()}
        tasks.update({name: (f"scheduled_tasks.{name}", t) for name, t in self.scheduled_tasks.items()
                      if name not in self.services})
        problems += connection_problems(tasks)
        problems += self.service_connect_problems()
        problems += awsvpc_capacity_problems(self.cluster.awsvpc_groups("cluster"), self.cluster.awsvpc_trunking,
                                             self.awsvpc_demand, "cluster.awsvpc_trunking")
        return problems

    def service_connect_problems(self) -> list[Problem]:
        """Discovery names and client aliases (name and port) are unique in the stack's namespace."""
        problems: list[Problem] = []
        discovery: dict[str, str] = {}
        aliases: dict[tuple[str, int], str] = {}
        for name, svc in self.services.items():
            sc = svc.service_connect
            if sc is None or not sc.publish or svc.container_port is None:
                continue
            at = f"services.{name}.service_connect"
            found, port, dns = sc.alias(name, svc.container_port)
            other = discovery.setdefault(found, name)
            if other != name:
                problems.append((f"{at}.discovery_name", f"{found!r} is already the discovery name of service {other!r}"))
            other = aliases.setdefault((dns, port), name)
            if other != name:
                problems.append((f"{at}.client_aliases", f"{dns}:{port} is already the client alias of service {other!r}"))
        return problems


def instance_type_problems(at: str, cluster: ClusterConfig) -> list[Problem]:
    """Instance types the AWS limits catalogue lists, so that task sizes can be checked against them."""
    groups = [(f"{at}.instance_types", cluster.instance_types)] + [
        (f"{at}.additional_capacity_providers.{key}.instance_types", extra.instance_types)
        for key, extra in cluster.additional_capacity_providers.items()]
    return [(f"{key}.{index}", f"{name!r} is not in the AWS limits catalogue (components/aws_limits.yaml, listed "
             "in docs/aws-limits.md), so task sizes cannot be checked against it: use a listed type or add it "
             "there with its vCPUs and memory")
            for key, types in groups for index, name in enumerate(types) if instance_type(name) is None]


def stack_name_problems(cluster_name: str) -> list[Problem]:
    """The names derived from the stack's name alone (the ECS cluster's, ...) are names AWS takes."""
    problems: list[Problem] = []
    for rule_id, value in naming.stack_names(cluster_name):
        rule = name_rule(rule_id)
        problems += [("", f"the stack's name makes the {rule.what} {value!r}, which {reason}: rename the stack")
                     for reason in rule.problems(value)]
    return problems


def _describe(error: dict[str, Any]) -> Problem:
    """A pydantic error as (dotted key path, plain message)."""
    loc = [str(p) for p in error["loc"]]
    kind, message = error["type"], error["msg"]
    if loc and loc[-1] == "[key]":  # a map key (e.g. a service name) rather than a value
        loc.pop()
        if kind == "literal_error":  # a key from a fixed set (e.g. a ulimit name)
            message = f"{error['input']!r} is not one of {error['ctx']['expected']}"
        else:
            message = f"invalid name {error['input']!r}: lowercase letters, digits and '-', starting with a letter, at most 20"
    elif kind == "extra_forbidden":
        message = "unknown key (check the spelling against the config reference)"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "literal_error":
        message = f"must be one of {error['ctx']['expected']}"
    elif kind == "string_pattern_mismatch":
        message = f"{error['input']!r} does not match {error['ctx']['pattern']}"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    return ".".join(part or "\"\"" for part in loc), message  # an empty key shows as ""


def parse_stack_config(raw: Any, cluster_name: str | None = None) -> StackConfig:
    """Validates a raw config mapping (top-level keys without the namespace) into a StackConfig:
    field by field (pydantic), then, when every field is valid, each model's `problems()`;
    `cluster_name` (the stack's, see naming.py): check the names derived from it too."""
    if not isinstance(raw, dict):
        raise ConfigError([("", f"the {NAMESPACE} config must be a mapping of keys")])
    try:
        cfg = StackConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError([_describe(err) for err in e.errors(include_url=False)]) from None
    problems = cfg.problems(cluster_name)
    if problems:
        raise ConfigError(problems)
    return cfg


def load_stack_config() -> StackConfig:
    """Reads every `ecs-platform:*` key of the stack (structured values as JSON) and validates them;
    with `tags`, the stack's `aws:defaultTags` must hold the same tags."""
    import pulumi
    from pulumi.runtime.config import CONFIG

    config = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for full_key in CONFIG.get():
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        text = config.get(key)
        try:
            raw[key] = json.loads(text) if text is not None else None
        except ValueError:
            raw[key] = text
    cfg = parse_stack_config(raw, naming.cluster_name(pulumi.get_project(), pulumi.get_stack()))
    if cfg.tags is not None:
        problems = cfg.tags.default_tags_problems("tags", pulumi.Config("aws").get("defaultTags"))
        if problems:
            raise ConfigError(problems)
    return cfg
