"""The typed stack config: the one place that knows the config keys of the `ecs-platform` namespace.

Owns parsing and validation (field types, ranges, unknown keys and the cross-field rules ECS and
ELB enforce). Declares no resource; components receive these models, never raw config dicts.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

NAMESPACE = "ecs-platform"
MAX_CONTAINERS = 10

# ELB policies with TLS 1.3 that the policy pack accepts (names as the ELBv2 API lists them).
TlsPolicy = Literal[
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
]
# The values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy).
RetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")]
ARN_SECRET = re.compile(r"^arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]+:\d{12}:(parameter/|secret:).+$")
IMAGE = re.compile(r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")


class ConfigError(Exception):
    """Invalid stack config: one line per bad value, each naming its full key path."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = [f"{NAMESPACE}:{path}: {message}" if path else message for path, message in problems]
        super().__init__("invalid stack config:\n  " + "\n  ".join(lines))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(Strict):
    """A new VPC (awsx) when `vpc_id` is absent; otherwise the given VPC and subnets."""

    vpc_id: str | None = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$", description="Existing VPC to use.")
    public_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list, description="Existing public subnets (ALB), with `vpc_id`; at least two."
    )
    private_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list, description="Existing private subnets (instances, tasks), with `vpc_id`; at least two."
    )
    cidr_block: str = Field("10.0.0.0/16", description="CIDR of a new VPC (/16 to /24).")
    availability_zones: int = Field(2, ge=2, le=6, description="AZs of a new VPC.")
    nat_gateways: Literal["single", "one_per_az"] = Field(
        "single", description="NAT gateways of a new VPC: one shared (cheap) or one per AZ (resilient)."
    )

    @field_validator("cidr_block")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value)
        except ValueError as e:
            raise ValueError(f"not an IPv4 CIDR ({e})") from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError("a VPC CIDR must be between /16 and /24")
        return value


class ClusterConfig(Strict):
    """The ECS cluster and its EC2 capacity: launch template, Auto Scaling group, capacity provider."""

    instance_types: list[Annotated[str, Field(pattern=INSTANCE_TYPE.pattern)]] = Field(
        default_factory=lambda: ["t3.medium"], min_length=1, max_length=20,
        description="EC2 instance types; several make a mixed-instances group. One CPU architecture.",
    )
    min_size: int = Field(1, ge=0, le=1000, description="Auto Scaling group minimum.")
    max_size: int = Field(4, ge=1, le=1000, description="Auto Scaling group maximum.")
    desired_capacity: int = Field(1, ge=0, le=1000, description="Initial instances; managed scaling owns it after.")
    root_volume_size_gb: int = Field(30, ge=30, le=16384, description="Encrypted gp3 root volume (AMI needs 30).")
    target_capacity_percent: int = Field(100, ge=1, le=100, description="Managed scaling target utilisation.")
    container_insights: Literal["enabled", "enhanced"] = Field("enabled", description="CloudWatch Container Insights.")
    force_delete: bool = Field(
        False, description="Delete the ASG with protected instances on destroy (dev stacks: true)."
    )

    @property
    def architecture(self) -> Literal["x86_64", "arm64"]:
        return "arm64" if _is_graviton(self.instance_types[0]) else "x86_64"


class LoadBalancerConfig(Strict):
    """The one Application Load Balancer shared by every service of the stack."""

    internal: bool = Field(False, description="Internal ALB in the private subnets instead of internet-facing.")
    ingress_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, description="CIDRs admitted on 80/443."
    )
    certificate_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$",
        description="ACM certificate: adds HTTPS on 443 and turns port 80 into a redirect.",
    )
    ssl_policy: TlsPolicy = Field("ELBSecurityPolicy-TLS13-1-2-2021-06", description="TLS policy of HTTPS.")
    deletion_protection: bool = Field(False, description="ALB deletion protection (prod: true).")
    idle_timeout: int = Field(60, ge=1, le=4000, description="Idle connection timeout, seconds.")

    @field_validator("ingress_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value)
            except ValueError as e:
                raise ValueError(f"{value!r} is not a CIDR ({e})") from None
        return values


class LogsConfig(Strict):
    """CloudWatch log groups of the services."""

    retention_days: RetentionDays = Field(30, description="Log retention; a value CloudWatch accepts.")
    kms_key_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$", description="KMS key for the log groups."
    )


class ContainerConfig(Strict):
    """One container: image, limits and runtime settings (the service's main one or a sidecar)."""

    image: str = Field(description="Image pinned to a tag or digest (never `latest`).")
    cpu: int = Field(ge=1, le=196608, description="CPU units reserved (1024 = 1 vCPU).")
    memory: int = Field(ge=6, le=1048576, description="Hard memory limit, MiB.")
    memory_reservation: int | None = Field(None, ge=6, description="Soft memory limit, MiB (<= memory).")
    port: int | None = Field(None, ge=1, le=65535, description="Container port (sidecars only; services use container_port).")
    essential: bool = Field(True, description="Stop the task when this container stops.")
    command: list[str] | None = Field(None, description="Overrides the image's CMD.")
    environment: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = Field(
        default_factory=dict, description="Plain environment variables (no secrets here)."
    )
    secrets: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = Field(
        default_factory=dict, description="Env name -> SSM parameter ARN or Secrets Manager secret ARN."
    )
    read_only_root_filesystem: bool = Field(True, description="Mount the root filesystem read-only.")
    writable_paths: list[Annotated[str, Field(pattern=r"^/[\w./-]*$")]] = Field(
        default_factory=list, description="tmpfs mounts (64 MiB each) for images that write with a read-only root."
    )
    user: str | None = Field(None, pattern=r"^[\w.-]+(:[\w.-]+)?$", description="User (name or uid[:gid]) to run as.")

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not IMAGE.match(value):
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
            if not ARN_SECRET.match(arn):
                raise ValueError(f"{name}: must be an SSM parameter ARN or a Secrets Manager secret ARN")
        return values


class HealthCheckConfig(Strict):
    """The target group's health check."""

    path: str = Field("/", pattern=r"^/[^\s]{0,1023}$", description="HTTP path checked.")
    matcher: str = Field("200-399", pattern=r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$", description="Healthy codes.")
    interval: int = Field(15, ge=5, le=300, description="Seconds between checks.")
    timeout: int = Field(5, ge=2, le=120, description="Seconds before a check fails (< interval).")
    healthy_threshold: int = Field(2, ge=2, le=10, description="Successes to become healthy.")
    unhealthy_threshold: int = Field(3, ge=2, le=10, description="Failures to become unhealthy.")


class RoutingConfig(Strict):
    """The listener rule sending requests to the service."""

    priority: int = Field(ge=1, le=50000, description="Listener rule priority, unique in the stack (lower wins).")
    path_patterns: list[str] = Field(default_factory=list, description="Path patterns, e.g. /api/*.")
    host_headers: list[str] = Field(default_factory=list, description="Host headers, e.g. api.example.com.")


class AutoscalingConfig(Strict):
    """Application Auto Scaling of the service's task count (target tracking)."""

    min_capacity: int = Field(ge=0, le=5000, description="Fewest tasks.")
    max_capacity: int = Field(ge=1, le=5000, description="Most tasks.")
    cpu_target: float | None = Field(60.0, gt=0, le=100, description="Average CPU % to track.")
    memory_target: float | None = Field(None, gt=0, le=100, description="Average memory % to track.")
    requests_per_target: int | None = Field(None, ge=1, description="ALB requests per target to track.")


class DeploymentConfig(Strict):
    """Rolling deployment settings (circuit breaker with rollback is always on)."""

    minimum_healthy_percent: int = Field(100, ge=0, le=100, description="Tasks kept running during deploys.")
    maximum_percent: int = Field(200, ge=100, le=200, description="Tasks allowed during deploys.")
    health_check_grace_period: int = Field(60, ge=0, le=2147483647, description="Seconds LB checks are ignored.")
    deregistration_delay: int = Field(30, ge=0, le=3600, description="Target group draining, seconds.")


class ServiceConfig(ContainerConfig):
    """One ALB-fronted ECS service; its main container is named after the service."""

    container_port: int = Field(ge=1, le=65535, description="Port the main container serves HTTP on.")
    task_cpu: int | None = Field(None, ge=128, le=196608, description="Task CPU units; default: sum of containers.")
    task_memory: int | None = Field(None, ge=128, le=1048576, description="Task memory MiB; default: sum.")
    desired_count: int = Field(1, ge=0, le=5000, description="Tasks to run (initial count with autoscaling).")
    network_mode: Literal["awsvpc", "bridge"] = Field("awsvpc", description="awsvpc (own ENI) or bridge.")
    routing: RoutingConfig
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig)
    autoscaling: AutoscalingConfig | None = Field(None, description="Task autoscaling; absent: fixed count.")
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)
    sidecars: dict[Name, ContainerConfig] = Field(default_factory=dict, description="Other containers of the task.")
    secrets_kms_key_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$",
        description="Customer KMS key of the secrets (grants kms:Decrypt to the execution role).",
    )


class StackConfig(Strict):
    """The whole stack config (`ecs-platform:*` keys)."""

    network: NetworkConfig = Field(default_factory=NetworkConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    load_balancer: LoadBalancerConfig = Field(default_factory=LoadBalancerConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    services: dict[Name, ServiceConfig] = Field(min_length=1, description="Services by name.")

    @property
    def uses_bridge(self) -> bool:
        return any(s.network_mode == "bridge" for s in self.services.values())


def _is_graviton(instance_type: str) -> bool:
    family = instance_type.split(".", 1)[0]
    return bool(re.match(r"^[a-z]+\d+[a-z]*g[a-z]*$", family))


def _cross_checks(cfg: StackConfig) -> list[tuple[str, str]]:
    """Rules across fields that pydantic's per-field checks cannot see."""
    problems: list[tuple[str, str]] = []
    net = cfg.network
    if net.vpc_id:
        for key in ("public_subnet_ids", "private_subnet_ids"):
            if len(getattr(net, key)) < 2:
                problems.append((f"network.{key}", "an existing VPC needs at least two subnets (two AZs)"))
    elif net.public_subnet_ids or net.private_subnet_ids:
        problems.append(("network.vpc_id", "subnet ids are given, so the VPC id they belong to is required"))

    cl = cfg.cluster
    if not cl.min_size <= cl.desired_capacity <= cl.max_size:
        problems.append(("cluster.desired_capacity", f"must lie in min_size..max_size ({cl.min_size}..{cl.max_size})"))
    if len({_is_graviton(t) for t in cl.instance_types}) > 1:
        problems.append(("cluster.instance_types", "mixes arm64 (Graviton) and x86_64 types: use one architecture"))

    if cfg.load_balancer.certificate_arn is None and cfg.load_balancer.ssl_policy != "ELBSecurityPolicy-TLS13-1-2-2021-06":
        problems.append(("load_balancer.ssl_policy", "applies to HTTPS only: set certificate_arn too"))

    priorities: dict[int, str] = {}
    for name, svc in cfg.services.items():
        at = f"services.{name}"
        problems += _service_checks(at, name, svc)
        other = priorities.setdefault(svc.routing.priority, name)
        if other != name:
            problems.append((f"{at}.routing.priority", f"{svc.routing.priority} is already used by service {other!r}"))
    return problems


def _service_checks(at: str, name: str, svc: ServiceConfig) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    containers: dict[str, ContainerConfig] = {name: svc, **svc.sidecars}
    if len(containers) > MAX_CONTAINERS:
        problems.append((f"{at}.sidecars", f"a task holds at most {MAX_CONTAINERS} containers, this one {len(containers)}"))
    if name in svc.sidecars:
        problems.append((f"{at}.sidecars.{name}", "a sidecar cannot take the service's name (the main container's)"))
    for cname, c in containers.items():
        cat = at if cname == name else f"{at}.sidecars.{cname}"
        if c.memory_reservation is not None and c.memory_reservation > c.memory:
            problems.append((f"{cat}.memory_reservation", f"{c.memory_reservation} exceeds the hard limit memory={c.memory}"))
        if c.writable_paths and not c.read_only_root_filesystem:
            problems.append((f"{cat}.writable_paths", "only needed with read_only_root_filesystem: true"))
    if svc.port is not None:
        problems.append((f"{at}.port", "use container_port for the service's main container"))
    ports = [svc.container_port] + [c.port for c in svc.sidecars.values() if c.port is not None]
    if len(ports) != len(set(ports)):
        problems.append((f"{at}.sidecars", f"container ports must differ within a task: {sorted(ports)}"))
    cpu, memory = sum(c.cpu for c in containers.values()), sum(c.memory for c in containers.values())
    if svc.task_cpu is not None and cpu > svc.task_cpu:
        problems.append((f"{at}.task_cpu", f"{svc.task_cpu} is below the containers' total cpu {cpu}"))
    if svc.task_memory is not None and memory > svc.task_memory:
        problems.append((f"{at}.task_memory", f"{svc.task_memory} is below the containers' total memory {memory}"))
    if svc.task_cpu is None and cpu < 128:
        problems.append((f"{at}.cpu", f"the task's cpu (sum of containers, {cpu}) must be at least 128 units"))
    if svc.task_memory is None and memory < 128:
        problems.append((f"{at}.memory", f"the task's memory (sum of containers, {memory}) must be at least 128 MiB"))
    routing = svc.routing
    values = len(routing.path_patterns) + len(routing.host_headers)
    if values == 0:
        problems.append((f"{at}.routing", "needs path_patterns or host_headers"))
    elif values > 5:
        problems.append((f"{at}.routing", "a listener rule takes at most 5 path and host values in all"))
    hc = svc.health_check
    if hc.timeout >= hc.interval:
        problems.append((f"{at}.health_check.timeout", f"must be less than interval ({hc.interval})"))
    scaling = svc.autoscaling
    if scaling is not None:
        if not scaling.min_capacity <= svc.desired_count <= scaling.max_capacity:
            problems.append((f"{at}.desired_count",
                             f"must lie in autoscaling min..max ({scaling.min_capacity}..{scaling.max_capacity})"))
        if not (scaling.cpu_target or scaling.memory_target or scaling.requests_per_target):
            problems.append((f"{at}.autoscaling", "set at least one of cpu_target, memory_target, requests_per_target"))
    return problems


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    """A pydantic error as (dotted key path, plain message)."""
    loc = [str(p) for p in error["loc"]]
    kind, message = error["type"], error["msg"]
    if loc and loc[-1] == "[key]":  # a map key (e.g. a service name) rather than a value
        loc.pop()
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
    return ".".join(loc), message


def parse_stack_config(raw: Any) -> StackConfig:
    """Validates a raw config mapping (top-level keys without the namespace) into a StackConfig."""
    if not isinstance(raw, dict):
        raise ConfigError([("", f"the {NAMESPACE} config must be a mapping of keys")])
    try:
        cfg = StackConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError([_describe(err) for err in e.errors(include_url=False)]) from None
    problems = _cross_checks(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg


def load_stack_config() -> StackConfig:
    """Reads every `ecs-platform:*` key of the stack (structured values as JSON) and validates them."""
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
    return parse_stack_config(raw)
