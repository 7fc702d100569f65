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
EC2_PROVIDER = "ec2"  # the cluster's own Auto Scaling group capacity provider, in strategies
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")

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
# ECS tag values (botocore ecs TagValue): letters, digits, spaces and _ . : / = + - @, at most 256.
TAG_VALUE_EXTRA = set("_.:/=+-@")
SCHEDULE = re.compile(
    r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\((\S+ ){5}\S+\)"
    r"|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$"
)
PATH_PATTERN = r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]{1,128}$"
HOST_HEADER = r"^[A-Za-z0-9\-.*?]*\.[A-Za-z]+$"
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


class InstanceRefreshConfig(Strict):
    """Rolling instance refresh, started by every launch template (or instance mix) change."""

    min_healthy_percentage: int = Field(
        100, ge=0, le=100, description="Capacity kept in service during the refresh, % of desired.")
    max_healthy_percentage: int = Field(
        200, ge=100, le=200, description="Capacity allowed during the refresh (> 100 launches replacements "
        "first); at most min_healthy_percentage + 100.")
    instance_warmup: int | None = Field(
        None, ge=0, description="Seconds before a new instance counts as healthy; default: the group's warmup.")
    skip_matching: bool = Field(True, description="Leave instances that already match the new template.")
    scale_in_protected_instances: Literal["Refresh", "Ignore", "Wait"] = Field(
        "Refresh", description="Scale-in protected instances (all of them, with managed termination protection): "
        "`Refresh` replaces them (ECS managed draining moves their tasks first).",
    )
    auto_rollback: bool = Field(False, description="Roll back to the previous template when the refresh fails.")


class WarmPoolConfig(Strict):
    """Pre-initialised instances next to the group (one on-demand instance type only)."""

    pool_state: Literal["Stopped", "Running", "Hibernated"] = Field(
        "Stopped", description="State of warm instances (`Hibernated` turns on hibernation in the launch template).")
    min_size: int = Field(0, ge=0, le=1000, description="Instances kept in the pool at least.")
    max_group_prepared_capacity: int | None = Field(
        None, ge=-1, le=1000, description="Group plus pool at most; default: the group's max_size.")
    reuse_on_scale_in: bool = Field(False, description="Return scaled-in instances to the pool instead of terminating.")


class AdditionalCapacityConfig(Strict):
    """Another Auto Scaling group with its own capacity provider (e.g. a spot group next to the
    on-demand one). It uses the cluster's launch template, so its types share its architecture."""

    instance_types: list[Annotated[str, Field(pattern=INSTANCE_TYPE.pattern)]] = Field(
        min_length=1, max_length=20, description="EC2 instance types (overrides of the cluster's launch template).")
    min_size: int = Field(0, ge=0, le=1000, description="Auto Scaling group minimum.")
    max_size: int = Field(4, ge=1, le=1000, description="Auto Scaling group maximum.")
    desired_capacity: int = Field(0, ge=0, le=1000, description="Initial instances; managed scaling owns it after.")
    target_capacity_percent: int = Field(100, ge=1, le=100, description="Managed scaling target utilisation.")
    on_demand_base_capacity: int = Field(0, ge=0, le=1000, description="On-demand instances before any spot.")
    on_demand_percentage_above_base: int = Field(
        100, ge=0, le=100, description="On-demand share above the base, %; 0: all spot.")
    spot_allocation_strategy: Literal[
        "price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price",
    ] = Field("price-capacity-optimized", description="How spot capacity is chosen among instance_types.")
    capacity_rebalance: bool = Field(True, description="Replace at-risk spot instances early (with spot only).")
    weight: int = Field(1, ge=0, le=1000, description="Weight in the cluster's default strategy.")
    base: int = Field(0, ge=0, le=100000, description="Base in the cluster's default strategy (one provider at most).")

    @property
    def uses_spot(self) -> bool:
        return self.on_demand_percentage_above_base < 100


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
    on_demand_base_capacity: int = Field(
        0, ge=0, le=1000, description="On-demand instances before any spot (with spot only).")
    on_demand_percentage_above_base: int = Field(
        100, ge=0, le=100, description="On-demand share above the base, %; below 100 adds spot instances "
        "(mixed instances policy, capacity rebalancing, spot draining in the agent).",
    )
    spot_allocation_strategy: Literal[
        "price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price",
    ] = Field("price-capacity-optimized", description="How spot capacity is chosen among instance_types.")
    capacity_rebalance: bool = Field(
        True, description="Replace spot instances at an elevated interruption risk early (with spot only).")
    instance_refresh: InstanceRefreshConfig | None = Field(
        None, description="Roll instances on launch template change; absent: only new instances get it.")
    warm_pool: WarmPoolConfig | None = Field(None, description="Warm pool; absent: none.")
    weight: int = Field(1, ge=0, le=1000, description="Weight of this group's provider (`ec2`) in the default strategy.")
    base: int = Field(0, ge=0, le=100000, description="Base of `ec2` in the default strategy (one provider at most).")
    additional_capacity_providers: dict[Name, AdditionalCapacityConfig] = Field(
        default_factory=dict, description="More Auto Scaling group providers by name, in the default strategy "
        "with their weights; services without a strategy use that default strategy.",
    )

    @property
    def provider_names(self) -> list[str]:
        """The names a capacity provider strategy may use."""
        return [EC2_PROVIDER, *self.additional_capacity_providers, *FARGATE_PROVIDERS]

    @property
    def default_strategy(self) -> list[CapacityProviderStrategyItem]:
        """The cluster's default strategy: `ec2` and every additional provider with its weight and base."""
        return [CapacityProviderStrategyItem(capacity_provider=EC2_PROVIDER, weight=self.weight, base=self.base)] + [
            CapacityProviderStrategyItem(capacity_provider=key, weight=extra.weight, base=extra.base)
            for key, extra in self.additional_capacity_providers.items()
        ]

    @property
    def uses_spot(self) -> bool:
        return self.on_demand_percentage_above_base < 100

    @property
    def architecture(self) -> Literal["x86_64", "arm64"]:
        return "arm64" if _is_graviton(self.instance_types[0]) else "x86_64"


class AccessLogsConfig(Strict):
    """ALB access logs to an S3 bucket the stack creates (SSE-S3, the only encryption ALB log
    delivery supports; public access blocked; bucket-owner-enforced; objects expire)."""

    prefix: str | None = Field(
        "alb", pattern=r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$",
        description="Key prefix of the log objects (without AWSLogs, no leading or trailing /); "
        "null: none (logs go to AWSLogs/<account>/ at the bucket's root).",
    )
    expiration_days: int = Field(90, ge=1, le=36500, description="Days before log objects are deleted.")
    force_destroy: bool = Field(
        False, description="Let `pulumi destroy` delete the bucket with its logs (dev stacks: true).")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and "AWSLogs" in value:
            raise ValueError("ELB adds AWSLogs/<account>/ itself: the prefix must not contain AWSLogs")
        return value


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
    access_logs: AccessLogsConfig | None = Field(None, description="Access logs to a new S3 bucket; absent: off.")
    web_acl_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[\w-]{1,128}/[0-9a-f-]{36}$",
        description="Regional WAFv2 web ACL to associate with the ALB (managed elsewhere).",
    )

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
    retain_on_delete: bool = Field(
        False, description="Keep the log groups (and their logs) in AWS when the stack or a service is deleted (prod: true)."
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


class HealthCheckConfig(Strict):
    """The target group's health check."""

    path: str = Field("/", pattern=r"^/[^\s]{0,1023}$", description="HTTP path checked.")
    matcher: str = Field("200-399", pattern=r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$",
                         description="Healthy HTTP codes within 200-499: `200`, `200,301` or `200-399`.")
    interval: int = Field(15, ge=5, le=300, description="Seconds between checks.")
    timeout: int = Field(5, ge=2, le=120, description="Seconds before a check fails (< interval).")
    healthy_threshold: int = Field(2, ge=2, le=10, description="Successes to become healthy.")
    unhealthy_threshold: int = Field(3, ge=2, le=10, description="Failures to become unhealthy.")

    @field_validator("matcher")
    @classmethod
    def _matcher(cls, value: str) -> str:
        for part in value.split(","):
            low, _, high = part.partition("-")
            if not 200 <= int(low) <= int(high or low) <= 499:
                raise ValueError(f"{part!r}: an ALB health check accepts codes (or ranges) within 200-499")
        return value


class RoutingConfig(Strict):
    """The listener rule sending requests to the service."""

    priority: int = Field(ge=1, le=50000, description="Listener rule priority, unique in the stack (lower wins).")
    path_patterns: list[Annotated[str, Field(pattern=PATH_PATTERN)]] = Field(
        default_factory=list, description="Path patterns, e.g. /api/* (ELB: at most 128 of A-Z a-z 0-9 _-.$/~\"'@:+&*?).")
    host_headers: list[Annotated[str, Field(pattern=HOST_HEADER, max_length=128)]] = Field(
        default_factory=list, description="Host headers, e.g. api.example.com (a '.' and letters after the last one).")


class StickinessConfig(Strict):
    """Sticky sessions on the service's target group."""

    type: Literal["lb_cookie", "app_cookie"] = Field(
        "lb_cookie", description="`lb_cookie`: the ALB's cookie; `app_cookie`: the application's cookie_name.")
    duration_seconds: int = Field(86400, ge=1, le=604800, description="How long a client sticks to a target.")
    cookie_name: str | None = Field(
        None, pattern=r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,255}$",
        description="The application's cookie (app_cookie only; not starting with AWSALB).",
    )

    @field_validator("cookie_name")
    @classmethod
    def _cookie(cls, value: str | None) -> str | None:
        if value is not None and value.startswith(("AWSALB", "AWSALBAPP", "AWSALBTG")):
            raise ValueError("names starting with AWSALB are reserved by the load balancer")
        return value


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


class CapacityProviderStrategyItem(Strict):
    """One entry of a capacity provider strategy."""

    capacity_provider: str = Field(
        description="`ec2` (the cluster's Auto Scaling group), a name from cluster.additional_capacity_providers, "
        "`FARGATE` or `FARGATE_SPOT`.",
    )
    weight: int = Field(1, ge=0, le=1000, description="Relative share of tasks placed on this provider.")
    base: int = Field(0, ge=0, le=100000, description="Tasks placed here first (one entry per strategy at most).")


class ServiceConfig(ContainerConfig):
    """One ECS service (ALB-fronted, or a worker without a load balancer); its main container is
    named after the service."""

    kind: Literal["web", "worker"] = Field(
        "web", description="`web`: behind the ALB (needs container_port and routing). `worker`: no load "
        "balancer, target group, listener rule or ingress; needs worker_reason.",
    )
    worker_reason: str | None = Field(
        None, min_length=3, max_length=256,
        description="Why a worker runs without a load balancer and who approved it (kind: worker only). "
        "Becomes the policy pack's exemption tags on the ECS service.",
    )
    container_port: int | None = Field(
        None, ge=1, le=65535, description="Port the main container serves HTTP on (web: required; worker: absent).",
    )
    task_cpu: int | None = Field(None, ge=128, le=196608, description="Task CPU units; default: sum of containers.")
    task_memory: int | None = Field(None, ge=128, le=1048576, description="Task memory MiB; default: sum.")
    desired_count: int = Field(1, ge=0, le=5000, description="Tasks to run (initial count with autoscaling).")
    network_mode: Literal["awsvpc", "bridge"] = Field("awsvpc", description="awsvpc (own ENI) or bridge.")
    routing: RoutingConfig | None = Field(None, description="Listener rule (web: required; worker: absent).")
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig)
    autoscaling: AutoscalingConfig | None = Field(None, description="Task autoscaling; absent: fixed count.")
    stickiness: StickinessConfig | None = Field(None, description="Sticky sessions (web only); absent: off.")
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)
    sidecars: dict[Name, ContainerConfig] = Field(default_factory=dict, description="Other containers of the task.")
    secrets_kms_key_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$",
        description="Customer KMS key of the secrets (grants kms:Decrypt to the execution role).",
    )
    capacity_provider_strategy: list[CapacityProviderStrategyItem] | None = Field(
        None, min_length=1, max_length=20,
        description="Where tasks run; absent: the cluster's default strategy (`ec2`, weight 1, plus any "
        "additional providers). Either EC2 providers or FARGATE / FARGATE_SPOT, not both; Fargate needs "
        "awsvpc, a Fargate task size and no writable_paths.",
    )
    enable_execute_command: bool = Field(
        False, description="ECS Exec: ssmmessages permissions on the task role, sessions logged to the "
        "cluster's exec log group. Needs read_only_root_filesystem: false on every container.",
    )

    @field_validator("worker_reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if value is not None and not all(ch.isalnum() or ch == " " or ch in TAG_VALUE_EXTRA for ch in value):
            raise ValueError("an ECS tag value: letters, digits, spaces and _ . : / = + - @ only (no commas)")
        return value


class RetryConfig(Strict):
    """EventBridge Scheduler's retries when RunTask fails (e.g. no capacity)."""

    maximum_retry_attempts: int = Field(2, ge=0, le=185, description="Retries of a failed invocation.")
    maximum_event_age_seconds: int = Field(3600, ge=60, le=86400, description="Give up after this many seconds.")


class ScheduledTaskConfig(ContainerConfig):
    """A task run on a schedule by EventBridge Scheduler on the cluster (no load balancer); its main
    container is named after the task. Logs and limits as for services."""

    schedule_expression: str = Field(
        description="`rate(5 minutes)`, `cron(0 3 * * ? *)` or a one-off `at(2026-12-01T03:00:00)`.")
    schedule_timezone: str = Field("UTC", description="IANA time zone of cron and at expressions.")
    enabled: bool = Field(True, description="Schedule state; false pauses it (ENABLED / DISABLED).")
    flexible_window_minutes: int | None = Field(
        None, ge=1, le=1440, description="Let the scheduler start up to this many minutes late; absent: on time.")
    task_count: int = Field(1, ge=1, le=10, description="Tasks started per invocation.")
    task_cpu: int | None = Field(None, ge=128, le=196608, description="Task CPU units; default: sum of containers.")
    task_memory: int | None = Field(None, ge=128, le=1048576, description="Task memory MiB; default: sum.")
    network_mode: Literal["awsvpc", "bridge"] = Field("awsvpc", description="awsvpc (own ENI) or bridge.")
    capacity_provider_strategy: list[CapacityProviderStrategyItem] | None = Field(
        None, min_length=1, max_length=20,
        description="Where the task runs; absent: the cluster's default strategy. As for services.",
    )
    retry: RetryConfig = Field(default_factory=RetryConfig)
    sidecars: dict[Name, ContainerConfig] = Field(default_factory=dict, description="Other containers of the task.")
    secrets_kms_key_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$",
        description="Customer KMS key of the secrets (grants kms:Decrypt to the execution role).",
    )

    @field_validator("schedule_expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        if not SCHEDULE.fullmatch(value):
            raise ValueError("must be rate(<n> minute[s]|hour[s]|day[s]), cron(<6 fields>) or at(yyyy-mm-ddThh:mm:ss)")
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        import zoneinfo
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. UTC, Europe/Dublin)") from None
        return value


class StackConfig(Strict):
    """The whole stack config (`ecs-platform:*` keys)."""

    network: NetworkConfig = Field(default_factory=NetworkConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    load_balancer: LoadBalancerConfig = Field(default_factory=LoadBalancerConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    services: dict[Name, ServiceConfig] = Field(min_length=1, description="Services by name.")
    scheduled_tasks: dict[Name, ScheduledTaskConfig] = Field(
        default_factory=dict, description="Scheduled tasks by name (names differ from the services').")

    @property
    def fargate_providers(self) -> list[str]:
        tasks = [*self.services.values(), *self.scheduled_tasks.values()]
        used = {i.capacity_provider for t in tasks for i in t.capacity_provider_strategy or []}
        return [p for p in FARGATE_PROVIDERS if p in used]

    @property
    def uses_execute_command(self) -> bool:
        return any(s.enable_execute_command for s in self.services.values())

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
    for key, extra in cl.additional_capacity_providers.items():
        at = f"cluster.additional_capacity_providers.{key}"
        if key == EC2_PROVIDER:
            problems.append((at, f"{EC2_PROVIDER!r} names the cluster's own group: choose another name"))
        if not extra.min_size <= extra.desired_capacity <= extra.max_size:
            problems.append((f"{at}.desired_capacity",
                             f"must lie in min_size..max_size ({extra.min_size}..{extra.max_size})"))
        if {_is_graviton(t) for t in extra.instance_types} != {_is_graviton(cl.instance_types[0])}:
            problems.append((f"{at}.instance_types", f"must match the cluster's architecture ({cl.architecture}): "
                             "the groups share one launch template"))
    strategy = cl.default_strategy
    if sum(1 for i in strategy if i.base > 0) > 1:
        problems.append(("cluster.base", "only one provider of the default strategy may have a base"))
    if not any(i.weight > 0 for i in strategy):
        problems.append(("cluster.weight", "at least one provider of the default strategy needs a weight above 0"))
    refresh = cl.instance_refresh
    if refresh and refresh.max_healthy_percentage - refresh.min_healthy_percentage > 100:
        problems.append(("cluster.instance_refresh.max_healthy_percentage",
                         "may exceed min_healthy_percentage by at most 100"))
    if cl.warm_pool is not None:
        if cl.uses_spot:
            problems.append(("cluster.warm_pool", "a warm pool does not work with spot instances: "
                             "set on_demand_percentage_above_base to 100 or remove the warm pool"))
        if len(cl.instance_types) > 1:
            problems.append(("cluster.warm_pool", "a warm pool does not work with a mixed instances policy: "
                             "use one instance type or remove the warm pool"))
        prepared = cl.warm_pool.max_group_prepared_capacity
        if prepared not in (None, -1) and prepared < cl.warm_pool.min_size:
            problems.append(("cluster.warm_pool.max_group_prepared_capacity", "must be at least min_size"))

    if cfg.load_balancer.certificate_arn is None and cfg.load_balancer.ssl_policy != "ELBSecurityPolicy-TLS13-1-2-2021-06":
        problems.append(("load_balancer.ssl_policy", "applies to HTTPS only: set certificate_arn too"))

    providers = cfg.cluster.provider_names
    priorities: dict[int, str] = {}
    for name, svc in cfg.services.items():
        at = f"services.{name}"
        problems += _service_checks(at, name, svc)
        for index, item in enumerate(svc.capacity_provider_strategy or []):
            if item.capacity_provider not in providers:
                problems.append((f"{at}.capacity_provider_strategy.{index}.capacity_provider",
                                 f"unknown capacity provider {item.capacity_provider!r}: use one of {providers}"))
        if svc.routing is None:
            continue
        other = priorities.setdefault(svc.routing.priority, name)
        if other != name:
            problems.append((f"{at}.routing.priority", f"{svc.routing.priority} is already used by service {other!r}"))
    for name, task in cfg.scheduled_tasks.items():
        at = f"scheduled_tasks.{name}"
        if name in cfg.services:
            problems.append((at, f"a service is named {name!r} too: their log groups and families would collide"))
        problems += _container_checks(at, name, task, False)
        problems += _strategy_checks(at, task, *_task_size(name, task))
        for index, item in enumerate(task.capacity_provider_strategy or []):
            if item.capacity_provider not in providers:
                problems.append((f"{at}.capacity_provider_strategy.{index}.capacity_provider",
                                 f"unknown capacity provider {item.capacity_provider!r}: use one of {providers}"))
    return problems


def _task_size(name: str, task: ServiceConfig | ScheduledTaskConfig) -> tuple[int, int]:
    """The containers' total cpu and memory."""
    containers: list[ContainerConfig] = [task, *task.sidecars.values()]
    return sum(c.cpu for c in containers), sum(c.memory for c in containers)


def _container_checks(at: str, name: str, task: ServiceConfig | ScheduledTaskConfig,
                      execute_command: bool) -> list[tuple[str, str]]:
    """Rules on a task's containers and size shared by services and scheduled tasks."""
    problems: list[tuple[str, str]] = []
    kind = "service" if isinstance(task, ServiceConfig) else "task"
    containers: dict[str, ContainerConfig] = {name: task, **task.sidecars}
    if len(containers) > MAX_CONTAINERS:
        problems.append((f"{at}.sidecars", f"a task holds at most {MAX_CONTAINERS} containers, this one {len(containers)}"))
    if name in task.sidecars:
        problems.append((f"{at}.sidecars.{name}", f"a sidecar cannot take the {kind}'s name (the main container's)"))
    for cname, c in containers.items():
        cat = at if cname == name else f"{at}.sidecars.{cname}"
        if c.memory_reservation is not None and c.memory_reservation > c.memory:
            problems.append((f"{cat}.memory_reservation", f"{c.memory_reservation} exceeds the hard limit memory={c.memory}"))
        if c.writable_paths and not c.read_only_root_filesystem:
            problems.append((f"{cat}.writable_paths", "only needed with read_only_root_filesystem: true"))
        if execute_command and c.read_only_root_filesystem:
            problems.append((f"{cat}.read_only_root_filesystem", "ECS Exec (enable_execute_command) does not "
                             "work with a read-only root filesystem: set it false or turn ECS Exec off"))
    if isinstance(task, ScheduledTaskConfig) and task.port is not None:
        problems.append((f"{at}.port", "a scheduled task takes no traffic: remove port"))
    cpu, memory = _task_size(name, task)
    if task.task_cpu is not None and cpu > task.task_cpu:
        problems.append((f"{at}.task_cpu", f"{task.task_cpu} is below the containers' total cpu {cpu}"))
    if task.task_memory is not None and memory > task.task_memory:
        problems.append((f"{at}.task_memory", f"{task.task_memory} is below the containers' total memory {memory}"))
    if task.task_cpu is None and cpu < 128:
        problems.append((f"{at}.cpu", f"the task's cpu (sum of containers, {cpu}) must be at least 128 units"))
    if task.task_memory is None and memory < 128:
        problems.append((f"{at}.memory", f"the task's memory (sum of containers, {memory}) must be at least 128 MiB"))
    return problems


def _service_checks(at: str, name: str, svc: ServiceConfig) -> list[tuple[str, str]]:
    problems = _container_checks(at, name, svc, svc.enable_execute_command)
    if svc.port is not None:
        problems.append((f"{at}.port", "use container_port for the service's main container"))
    problems += _kind_checks(at, svc)
    ports = [p for p in [svc.container_port] + [c.port for c in svc.sidecars.values()] if p is not None]
    if len(ports) != len(set(ports)):
        problems.append((f"{at}.sidecars", f"container ports must differ within a task: {sorted(ports)}"))
    cpu, memory = _task_size(name, svc)
    routing = svc.routing
    values = len(routing.path_patterns) + len(routing.host_headers) if routing else None
    if values == 0:
        problems.append((f"{at}.routing", "needs path_patterns or host_headers"))
    elif values is not None and values > 5:
        problems.append((f"{at}.routing", "a listener rule takes at most 5 path and host values in all"))
    problems += _strategy_checks(at, svc, cpu, memory)
    sticky = svc.stickiness
    if sticky is not None and (sticky.type == "app_cookie") != (sticky.cookie_name is not None):
        problems.append((f"{at}.stickiness.cookie_name", "required with type app_cookie, and only with it"))
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


def _strategy_checks(at: str, svc: ServiceConfig | ScheduledTaskConfig, cpu: int, memory: int) -> list[tuple[str, str]]:
    """A strategy ECS accepts; Fargate's own rules (awsvpc, task sizes, no tmpfs)."""
    problems: list[tuple[str, str]] = []
    strategy = svc.capacity_provider_strategy
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
    if svc.network_mode != "awsvpc":
        problems.append((f"{at}.network_mode", "Fargate runs awsvpc tasks only"))
    task_cpu, task_memory = svc.task_cpu or cpu, svc.task_memory or memory
    allowed = fargate_memory_values(task_cpu)
    if not allowed:
        problems.append((f"{at}.task_cpu", f"{task_cpu} is not a Fargate task size: use one of "
                         f"{sorted(FARGATE_SIZES)} (set task_cpu)"))
    elif task_memory not in allowed:
        problems.append((f"{at}.task_memory", f"{task_memory} MiB does not go with Fargate cpu {task_cpu}: use "
                         f"{allowed[0]}..{allowed[-1]} ({', '.join(map(str, allowed[:4]))}, ...; set task_memory)"))
    containers: dict[str, ContainerConfig] = {"": svc, **svc.sidecars}
    for cname, c in containers.items():
        if c.writable_paths:
            cat = f"{at}.sidecars.{cname}" if cname else at
            problems.append((f"{cat}.writable_paths", "tmpfs mounts are not available on Fargate: use "
                             "read_only_root_filesystem: false, or EC2 capacity"))
    return problems


def _kind_checks(at: str, svc: ServiceConfig) -> list[tuple[str, str]]:
    """A web service needs its port and routing; a worker has neither and says why (exemption)."""
    problems: list[tuple[str, str]] = []
    if svc.kind == "web":
        for key in ("container_port", "routing"):
            if getattr(svc, key) is None:
                problems.append((f"{at}.{key}", "required key is missing (or set kind: worker for a service "
                                 "without a load balancer)"))
        if svc.worker_reason is not None:
            problems.append((f"{at}.worker_reason", "only for kind: worker"))
        return problems
    if not svc.worker_reason:
        problems.append((f"{at}.worker_reason", "a worker runs without a load balancer only with a reason "
                         "(who approved it and why): it becomes the policy pack's exemption"))
    for key in ("container_port", "routing"):
        if getattr(svc, key) is not None:
            problems.append((f"{at}.{key}", "a worker has no load balancer: remove it (or use kind: web)"))
    if "health_check" in svc.model_fields_set:
        problems.append((f"{at}.health_check", "a worker has no target group to health-check: remove it"))
    if svc.autoscaling and svc.autoscaling.requests_per_target:
        problems.append((f"{at}.autoscaling.requests_per_target", "a worker has no load balancer requests to track"))
    lb_only = ["stickiness"] if svc.stickiness is not None else []
    lb_only += [f"deployment.{key}" for key in ("deregistration_delay", "health_check_grace_period")
                if key in svc.deployment.model_fields_set]
    for key in lb_only:
        problems.append((f"{at}.{key}", "a worker has no load balancer: remove it"))
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
    return ".".join(part or "\"\"" for part in loc), message  # an empty key shows as ""


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
