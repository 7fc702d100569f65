"""What services and scheduled tasks share: containers (with their lifecycle: health check, start
order, init process, stop timeout, ulimits), and the task around them (sidecars, size, network
mode, capacity provider strategy, task role permissions, egress and extra security groups), with
the rules ECS and Fargate put on them."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from .. import naming
from ..aws_limits import instance_type, name_rule, quota
from .base import Name, Problem, Strict
from .cluster import EC2_PROVIDER, FARGATE_PROVIDERS, CapacityProviderStrategyItem, ClusterConfig
from .lifecycle import ECS_STOP_TIMEOUT, ContainerCondition, ContainerHealthCheckConfig, UlimitConfig, UlimitName
from .permissions import PermissionsConfig
from .reachability import MAX_EXTRA_SECURITY_GROUPS, EgressRuleConfig, SecurityGroupId, external_egress_problems

MAX_CONTAINERS = quota("ecs-containers-per-task-definition")
# One environment variable as the kernel takes it (`NAME=value` and a NUL), in bytes.
MAX_ENVIRONMENT_VARIABLE = quota("container-environment-variable-bytes")
ARN_SECRET = re.compile(r"^arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]+:\d{12}:(parameter/|secret:).+$")
IMAGE = re.compile(r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

# Fargate task sizes: cpu units -> the memory values (MiB) Fargate accepts with it.
FARGATE_SIZES: dict[int, range] = {
    256: range(512, 2049, 512),  # 512, 1024, 1536 is not valid: see fargate_memory_values
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}


def fargate_memory_values(cpu: int) -> list[int]:
    values = list(FARGATE_SIZES.get(cpu, range(0)))
    return [m for m in values if m != 1536] if cpu == 256 else values


class ContainerConfig(Strict):
    """One container: image, limits and runtime settings (the service's main one or a sidecar)."""

    image: str = Field(description="Image pinned to a tag or digest (never `latest`).")
    cpu: int = Field(ge=1, le=196608, description="CPU units reserved (1024 = 1 vCPU).")
    memory: int = Field(ge=6, le=1048576, description="Hard memory limit, MiB.")
    memory_reservation: int | None = Field(None, ge=6, description="Soft memory limit, MiB (<= memory).")
    port: int | None = Field(None, ge=1, le=65535, description="Container port (sidecars only; services use container_port).")
    essential: bool = Field(True, description="Stop the task when this container stops.")
    command: list[str] | None = Field(None, description="Overrides the image's CMD.")
    environment: dict[Annotated[str, Field(pattern=ENV_NAME)], str] = Field(
        default_factory=dict, description="Plain environment variables (no secrets here)."
    )
    secrets: dict[Annotated[str, Field(pattern=ENV_NAME)], str] = Field(
        default_factory=dict, description="Env name -> SSM parameter ARN or Secrets Manager secret ARN."
    )
    read_only_root_filesystem: bool = Field(True, description="Mount the root filesystem read-only.")
    writable_paths: list[Annotated[str, Field(pattern=r"^/[\w./-]*$")]] = Field(
        default_factory=list, description="tmpfs mounts (64 MiB each) for images that write with a read-only root."
    )
    user: str | None = Field(None, pattern=r"^[\w.-]+(:[\w.-]+)?$", description="User (name or uid[:gid]) to run as.")
    stop_timeout: int = Field(
        ECS_STOP_TIMEOUT, ge=2, le=120,
        description="Seconds from SIGTERM to SIGKILL when the task stops (ECS's 30 s, written out). A load-balanced "
        "task gets SIGTERM only after the target group drained it (deregistration_delay), so this is the "
        "container's own shutdown time, not the draining.", examples=[60],
    )
    container_health_check: ContainerHealthCheckConfig | None = Field(
        None, description="Health check command run in the container (ECS); absent: none (the ALB still checks "
        "web services' main container).", examples=[{"command": ["CMD", "/healthcheck"], "start_period": 30}],
    )
    depends_on: dict[Name, ContainerCondition] = Field(
        default_factory=dict, description="Containers of the task this one waits for at start (and outlives at "
        "stop): name -> START, COMPLETE, SUCCESS (those two: non-essential containers that exit) or HEALTHY "
        "(needs that container's container_health_check).", examples=[{"otel": "START"}],
    )
    init_process_enabled: bool = Field(
        True, description="Run an init process as PID 1 (reaps zombies, forwards signals such as SIGTERM).",
        examples=[False])
    ulimits: dict[UlimitName, UlimitConfig] = Field(
        default_factory=dict, description="Resource limits by name (the names ECS takes).",
        examples=[{"nofile": {"soft": 65536, "hard": 65536}}],
    )

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not IMAGE.fullmatch(value):
            raise ValueError(
                "must be registry/repository:tag or registry/repository@sha256:digest "
                "(e.g. public.ecr.aws/nginx/nginx:1.27-alpine)"
            )
        if value.endswith(":latest"):
            raise ValueError("the `latest` tag is not allowed: pin a version tag or a digest")
        return value

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, values: dict[str, str]) -> dict[str, str]:
        for name, arn in values.items():
            if not ARN_SECRET.fullmatch(arn):
                raise ValueError(f"{name}: must be an SSM parameter ARN or a Secrets Manager secret ARN")
        return values

    def container_problems(self, at: str, ecs_exec: bool = False) -> list[Problem]:
        """This container's own rules (limits that fit together); `ecs_exec`: the task runs ECS Exec
        sessions. (Not `problems`: a task config is its main container, and its `problems` checks the task.)"""
        problems: list[Problem] = []
        if self.memory_reservation is not None and self.memory_reservation > self.memory:
            problems.append((f"{at}.memory_reservation",
                             f"{self.memory_reservation} exceeds the hard limit memory={self.memory}"))
        if self.writable_paths and not self.read_only_root_filesystem:
            problems.append((f"{at}.writable_paths", "only needed with read_only_root_filesystem: true"))
        if ecs_exec and self.read_only_root_filesystem:
            problems.append((f"{at}.read_only_root_filesystem", "ECS Exec (enable_execute_command) does not "
                             "work with a read-only root filesystem: set it false or turn ECS Exec off"))
        for name, ulimit in self.ulimits.items():
            problems += ulimit.problems(f"{at}.ulimits.{name}")
        for name, value in self.environment.items():
            size = len(f"{name}={value}".encode("utf-8", "surrogatepass")) + 1
            if size > MAX_ENVIRONMENT_VARIABLE:
                problems.append((f"{at}.environment.{name}", f"{size} bytes as NAME=value: the kernel refuses to start "
                                 f"a process with a variable over {MAX_ENVIRONMENT_VARIABLE} bytes (use a file or a secret)"))
        return problems


class TaskConfig(ContainerConfig):
    """A task: its main container (these fields; named after the service or scheduled task), its
    sidecars, size, network mode and capacity. The base of ServiceConfig and ScheduledTaskConfig."""

    KIND: ClassVar[str] = "task"  # what errors call the owner of the main container's name

    sidecars: dict[Name, ContainerConfig] = Field(default_factory=dict, description="Other containers of the task.")
    task_cpu: int | None = Field(None, ge=128, le=196608, description="Task CPU units; default: sum of containers.")
    task_memory: int | None = Field(None, ge=128, le=1048576, description="Task memory MiB; default: sum.")
    network_mode: Literal["awsvpc", "bridge"] = Field("awsvpc", description="awsvpc (own ENI) or bridge.")
    capacity_provider_strategy: list[CapacityProviderStrategyItem] | None = Field(
        None, min_length=1, max_length=20,
        description="Where tasks run; absent: the cluster's default strategy (`ec2`, weight 1, plus any "
        "additional providers). Either EC2 providers or FARGATE / FARGATE_SPOT, not both; Fargate needs "
        "awsvpc, a Fargate task size and no writable_paths.",
    )
    secrets_kms_key_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$",
        description="Customer KMS key of the secrets (grants kms:Decrypt to the execution role).",
    )
    permissions: PermissionsConfig = Field(
        default_factory=PermissionsConfig, description="What the task role may do: IAM statements, managed "
        "policies; every IAM action is denied unless deny_iam is false.",
        examples=[{"statements": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::reports/*"]}]}],
    )
    egress: list[EgressRuleConfig] = Field(
        default_factory=list, max_length=50, description="Outbound rules beyond HTTPS (443) to anywhere: a port "
        "or range to CIDRs / prefix lists, or to a service of the stack by name (awsvpc only).",
        examples=[[{"port": 5432, "prefix_list_ids": ["pl-0a1b2c3d4e5f60789"], "description": "PostgreSQL"},
                   {"service": "api"}]],
    )
    security_group_ids: list[SecurityGroupId] = Field(
        default_factory=list, max_length=MAX_EXTRA_SECURITY_GROUPS,
        description="More security groups of the task's network interface, by id (awsvpc only).",
        examples=[["sg-0a1b2c3d4e5f60789"]],
    )

    @property
    def proxy_size(self) -> tuple[int, int]:
        """Cpu units and MiB added to a derived task size for a proxy ECS injects (none here)."""
        return 0, 0

    def containers(self, name: str) -> dict[str, ContainerConfig]:
        """The containers by name: the main one (`name`, the service's or task's) and the sidecars."""
        return {name: self, **self.sidecars}

    @property
    def containers_size(self) -> tuple[int, int]:
        """The containers' total cpu units and memory MiB."""
        containers: list[ContainerConfig] = [self, *self.sidecars.values()]
        return sum(c.cpu for c in containers), sum(c.memory for c in containers)

    @property
    def task_size(self) -> tuple[int, int]:
        """The task's cpu units and memory MiB: its own, or its containers' totals (plus the proxy's)."""
        cpu, memory = self.containers_size
        proxy_cpu, proxy_memory = self.proxy_size
        return self.task_cpu or cpu + proxy_cpu, self.task_memory or memory + proxy_memory

    def all_containers_problems(self, at: str, name: str, ecs_exec: bool = False) -> list[Problem]:
        """At most MAX_CONTAINERS containers, a sidecar not named like the main one, each container's rules."""
        problems: list[Problem] = []
        containers = self.containers(name)
        if len(containers) > MAX_CONTAINERS:
            problems.append((f"{at}.sidecars",
                             f"a task holds at most {MAX_CONTAINERS} containers, this one {len(containers)}"))
        if name in self.sidecars:
            problems.append((f"{at}.sidecars.{name}",
                             f"a sidecar cannot take the {self.KIND}'s name (the main container's)"))
        for cname, c in containers.items():
            problems += c.container_problems(at if cname == name else f"{at}.sidecars.{cname}", ecs_exec)
        problems += self.dependency_problems(at, name)
        return problems

    def dependency_problems(self, at: str, name: str) -> list[Problem]:
        """`depends_on` names other containers of the task, under the conditions ECS allows, without cycles."""
        problems: list[Problem] = []
        containers = self.containers(name)
        for cname, c in containers.items():
            cat = at if cname == name else f"{at}.sidecars.{cname}"
            for dep, condition in c.depends_on.items():
                key = f"{cat}.depends_on.{dep}"
                target = containers.get(dep)
                if dep == cname:
                    problems.append((key, "a container cannot wait for itself"))
                elif target is None:
                    problems.append((key, f"unknown container: use one of {sorted(containers)}"))
                elif condition == "HEALTHY" and target.container_health_check is None:
                    problems.append((key, f"HEALTHY needs a container_health_check on {dep!r}"))
                elif condition in ("COMPLETE", "SUCCESS") and target.essential:
                    problems.append((key, f"{dep!r} is essential: ECS takes {condition} only for non-essential "
                                     "containers that exit"))
        cycle = _dependency_cycle({cname: [d for d in c.depends_on if d != cname] for cname, c in containers.items()})
        if cycle:
            first = cycle[0]
            problems.append((f"{at if first == name else f'{at}.sidecars.{first}'}.depends_on",
                             f"containers wait for each other in a cycle: {' -> '.join(cycle)}"))
        return problems

    def access_problems(self, at: str) -> list[Problem]:
        """Task role permissions, egress rules and extra security groups (those need awsvpc)."""
        problems = self.permissions.problems(f"{at}.permissions")
        problems += external_egress_problems(f"{at}.egress", self.egress)
        if len(set(self.security_group_ids)) != len(self.security_group_ids):
            problems.append((f"{at}.security_group_ids", "names a security group twice"))
        if self.network_mode != "awsvpc":
            for key in ("egress", "security_group_ids", "ingress"):
                if getattr(self, key, None):
                    problems.append((f"{at}.{key}", "needs network_mode awsvpc: a bridge-mode task uses its "
                                     "instance's security group"))
        return problems

    def size_problems(self, at: str) -> list[Problem]:
        """A task size that holds the containers; without one, the containers' totals make a task ECS accepts."""
        problems: list[Problem] = []
        cpu, memory = self.containers_size
        if self.task_cpu is not None and cpu > self.task_cpu:
            problems.append((f"{at}.task_cpu", f"{self.task_cpu} is below the containers' total cpu {cpu}"))
        if self.task_memory is not None and memory > self.task_memory:
            problems.append((f"{at}.task_memory", f"{self.task_memory} is below the containers' total memory {memory}"))
        if self.task_cpu is None and cpu < 128:
            problems.append((f"{at}.cpu", f"the task's cpu (sum of containers, {cpu}) must be at least 128 units"))
        if self.task_memory is None and memory < 128:
            problems.append((f"{at}.memory", f"the task's memory (sum of containers, {memory}) must be at least 128 MiB"))
        return problems

    def strategy_problems(self, at: str) -> list[Problem]:
        """A strategy ECS accepts; Fargate's own rules (awsvpc, task sizes, no tmpfs)."""
        problems: list[Problem] = []
        strategy = self.capacity_provider_strategy
        if not strategy:
            return problems
        key = f"{at}.capacity_provider_strategy"
        names = [i.capacity_provider for i in strategy]
        if len(set(names)) != len(names):
            problems.append((key, "names a capacity provider twice"))
        fargate = [n for n in names if n in FARGATE_PROVIDERS]
        if fargate and len(fargate) != len(names):
            problems.append((key, "mixes FARGATE / FARGATE_SPOT with EC2 capacity providers: ECS takes one kind"))
        if sum(1 for i in strategy if i.base > 0) > 1:
            problems.append((key, "only one entry may have a base"))
        if not any(i.weight > 0 for i in strategy):
            problems.append((key, "at least one entry needs a weight above 0"))
        if not fargate:
            return problems
        if self.network_mode != "awsvpc":
            problems.append((f"{at}.network_mode", "Fargate runs awsvpc tasks only"))
        task_cpu, task_memory = self.task_size
        allowed = fargate_memory_values(task_cpu)
        if not allowed:
            problems.append((f"{at}.task_cpu", f"{task_cpu} is not a Fargate task size: use one of "
                             f"{sorted(FARGATE_SIZES)} (set task_cpu)"))
        elif task_memory not in allowed:
            problems.append((f"{at}.task_memory", f"{task_memory} MiB does not go with Fargate cpu {task_cpu}: use "
                             f"{allowed[0]}..{allowed[-1]} ({', '.join(map(str, allowed[:4]))}, ...; set task_memory)"))
        containers = [(at, self), *((f"{at}.sidecars.{cname}", c) for cname, c in self.sidecars.items())]
        for cat, c in containers:
            if c.writable_paths:
                problems.append((f"{cat}.writable_paths", "tmpfs mounts are not available on Fargate: use "
                                 "read_only_root_filesystem: false, or EC2 capacity"))
        return problems

    def capacity_problems(self, at: str, cluster: ClusterConfig) -> list[Problem]:
        """The task fits every instance type of the EC2 capacity providers its strategy (or the
        cluster's default one) places tasks on: ECS can never place a task on an instance that offers
        less CPU or memory (the catalogue's figures after the ECS agent's reservation). Types the
        catalogue does not list are the stack's problem (it names them at the cluster)."""
        groups = {EC2_PROVIDER: cluster.instance_types,
                  **{key: extra.instance_types for key, extra in cluster.additional_capacity_providers.items()}}
        strategy = self.capacity_provider_strategy or cluster.default_strategy
        names = dict.fromkeys(t for item in strategy if item.weight or item.base
                              for t in groups.get(item.capacity_provider, []))
        offers = [found for t in names if (found := instance_type(t)) is not None]
        cpu, memory = self.task_size
        derived = " (the sum of its containers)"
        problems: list[Problem] = []
        too_small = [o for o in offers if cpu > o.cpu_units]
        if too_small:
            key, how = ("task_cpu", "") if self.task_cpu is not None else ("cpu", derived)
            shown = _offered([f"{o.name} ({o.vcpus} vCPUs: {o.cpu_units} units)" for o in too_small])
            problems.append((f"{at}.{key}", f"the task's {cpu} CPU units{how} exceed {shown}: ECS can never place "
                             "it there; lower it or use larger instance types"))
        too_small = [o for o in offers if memory > o.memory_mib]
        if too_small:
            key, how = ("task_memory", "") if self.task_memory is not None else ("memory", derived)
            shown = _offered([f"{o.name} ({o.memory_gib:g} GiB: about {o.memory_mib} MiB)" for o in too_small])
            problems.append((f"{at}.{key}", f"the task's {memory} MiB{how} exceed {shown} after the kernel's share "
                             "(docs/aws-limits.md): ECS can never place it there; lower it or use larger instance types"))
        return problems

    def derived_names(self, name: str, cluster: str | None) -> list[naming.Named]:
        """The names AWS sees that the program derives from the task's `name` (and the cluster's)."""
        return naming.task_names(name, cluster)

    def name_problems(self, at: str, name: str, cluster: str | None) -> list[Problem]:
        """Every name derived from the task's name is one AWS takes (autonamed ones with their suffix)."""
        problems: list[Problem] = []
        for rule_id, value in self.derived_names(name, cluster):
            rule = name_rule(rule_id)
            problems += [(at, f"makes the {rule.what} {naming.shown(value)!r}, which {reason}: choose another name")
                         for reason in rule.problems(value)]
        return problems

    def unknown_provider_problems(self, at: str, providers: list[str]) -> list[Problem]:
        """Strategy entries naming none of `providers` (the cluster's)."""
        return [
            (f"{at}.capacity_provider_strategy.{index}.capacity_provider",
             f"unknown capacity provider {item.capacity_provider!r}: use one of {providers}")
            for index, item in enumerate(self.capacity_provider_strategy or [])
            if item.capacity_provider not in providers
        ]


def _offered(types: list[str]) -> str:
    return f"what {', '.join(types)} offer{'s' if len(types) == 1 else ''} ECS tasks"


def _dependency_cycle(graph: dict[str, list[str]]) -> list[str]:
    """A cycle of `graph` (container -> containers it waits for) as [a, b, ..., a], or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt in graph and nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []
