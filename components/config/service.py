"""The `services` key: ECS services behind the shared ALB (`web`) or without a load balancer
(`worker`), with their routing, health check, stickiness, deployment, autoscaling, ingress from
other tasks of the stack, alarms and Service Connect."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from .. import naming
from ..aws_limits import quota
from .alarms import AlarmsConfig
from .base import Problem, Strict
from .reachability import IngressRuleConfig
from .service_connect import PROXY_CPU, PROXY_MEMORY, ServiceConnectConfig
from .task import TaskConfig

PATH_PATTERN = r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]{1,128}$"
HOST_HEADER = r"^[A-Za-z0-9\-.*?]*\.[A-Za-z]+$"
# ECS tag values (botocore ecs TagValue): letters, digits, spaces and _ . : / = + - @, at most 256.
TAG_VALUE_EXTRA = set("_.:/=+-@")
MAX_RULE_VALUES = quota("alb-condition-values-per-rule")  # path and host values of one listener rule, in all


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

    def problems(self, at: str) -> list[Problem]:
        if self.timeout >= self.interval:
            return [(f"{at}.timeout", f"must be less than interval ({self.interval})")]
        return []


class RoutingConfig(Strict):
    """The listener rule sending requests to the service."""

    priority: int = Field(ge=1, le=50000, description="Listener rule priority, unique in the stack (lower wins).")
    path_patterns: list[Annotated[str, Field(pattern=PATH_PATTERN)]] = Field(
        default_factory=list, description="Path patterns, e.g. /api/* (ELB: at most 128 of A-Z a-z 0-9 _-.$/~\"'@:+&*?).")
    host_headers: list[Annotated[str, Field(pattern=HOST_HEADER, max_length=128)]] = Field(
        default_factory=list, description="Host headers, e.g. api.example.com (a '.' and letters after the last one).")

    def problems(self, at: str) -> list[Problem]:
        """One to MAX_RULE_VALUES conditions (priority uniqueness is the stack's rule)."""
        values = len(self.path_patterns) + len(self.host_headers)
        if values == 0:
            return [(at, "needs path_patterns or host_headers")]
        if values > MAX_RULE_VALUES:
            return [(at, f"a listener rule takes at most {MAX_RULE_VALUES} path and host values in all")]
        return []


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

    def problems(self, at: str) -> list[Problem]:
        if (self.type == "app_cookie") != (self.cookie_name is not None):
            return [(f"{at}.cookie_name", "required with type app_cookie, and only with it")]
        return []


class AutoscalingConfig(Strict):
    """Application Auto Scaling of the service's task count (target tracking)."""

    min_capacity: int = Field(ge=0, le=5000, description="Fewest tasks.")
    max_capacity: int = Field(ge=1, le=5000, description="Most tasks.")
    cpu_target: float | None = Field(60.0, gt=0, le=100, description="Average CPU % to track.")
    memory_target: float | None = Field(None, gt=0, le=100, description="Average memory % to track.")
    requests_per_target: int | None = Field(None, ge=1, description="ALB requests per target to track.")

    def problems(self, at: str) -> list[Problem]:
        if not (self.cpu_target or self.memory_target or self.requests_per_target):
            return [(at, "set at least one of cpu_target, memory_target, requests_per_target")]
        return []


class DeploymentConfig(Strict):
    """Rolling deployment settings (circuit breaker with rollback is always on)."""

    minimum_healthy_percent: int = Field(100, ge=0, le=100, description="Tasks kept running during deploys.")
    maximum_percent: int = Field(200, ge=100, le=200, description="Tasks allowed during deploys.")
    health_check_grace_period: int = Field(60, ge=0, le=2147483647, description="Seconds LB checks are ignored.")
    deregistration_delay: int = Field(30, ge=0, le=3600, description="Target group draining, seconds.")
    wait_for_steady_state: bool = Field(
        True, description="`pulumi up` waits for the deployment to finish and fails when it fails (circuit "
        "breaker rollback); false returns once ECS accepts the change.")


class ServiceConfig(TaskConfig):
    """One ECS service (ALB-fronted, or a worker without a load balancer); its main container is
    named after the service."""

    KIND: ClassVar[str] = "service"

    kind: Literal["web", "worker"] = Field(
        "web", description="`web`: behind the ALB (needs container_port and routing). `worker`: no load "
        "balancer, target group, listener rule or ingress; needs worker_reason.",
    )
    worker_reason: str | None = Field(
        None, min_length=10, max_length=256,
        description="Why a worker runs without a load balancer and who approved it (kind: worker only). "
        "Becomes the policy pack's exemption tags on the ECS service; at least 10 characters, the pack's "
        "minReasonLength, and in prod a ticket id (e.g. PLAT-1234): see policies/README.md, Exemptions.",
    )
    container_port: int | None = Field(
        None, ge=1, le=65535, description="Port the main container serves HTTP on (web: required; worker: absent).",
    )
    desired_count: int = Field(1, ge=0, le=5000, description="Tasks to run (initial count with autoscaling).")
    routing: RoutingConfig | None = Field(None, description="Listener rule (web: required; worker: absent).")
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig)
    autoscaling: AutoscalingConfig | None = Field(None, description="Task autoscaling; absent: fixed count.")
    stickiness: StickinessConfig | None = Field(None, description="Sticky sessions (web only); absent: off.")
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)
    enable_execute_command: bool = Field(
        False, description="ECS Exec: ssmmessages permissions on the task role, sessions logged to the "
        "cluster's exec log group. Needs read_only_root_filesystem: false on every container.",
    )
    ingress: list[IngressRuleConfig] = Field(
        default_factory=list, max_length=50, description="Inbound rules beyond the ALB: other services or "
        "scheduled tasks of the stack that may call this one (each lists it in its egress; awsvpc only).",
        examples=[[{"source": "web"}]],
    )
    alarms: AlarmsConfig | None = Field(
        None, description="CloudWatch alarms (5xx, response time, CPU, memory) that roll a bad deployment back; "
        "absent: none.", examples=[{"sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:prod-alerts",
                                   "http_5xx": {"threshold": 20}, "memory": None}],
    )
    service_connect: ServiceConnectConfig | None = Field(
        None, description="ECS Service Connect in the stack's Cloud Map namespace (calls by name); absent: off. "
        "A derived task size (no task_cpu / task_memory) grows by 256 CPU units and 64 MiB for its proxy.",
        examples=[{"client_aliases": [{"port": 80, "dns_name": "api"}]}],
    )

    @property
    def proxy_size(self) -> tuple[int, int]:
        return (PROXY_CPU, PROXY_MEMORY) if self.service_connect is not None else (0, 0)

    def derived_names(self, name: str, cluster: str | None) -> list[naming.Named]:
        return naming.service_names(name, cluster, web=self.kind == "web")

    @field_validator("worker_reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if value is not None and not all(ch.isalnum() or ch == " " or ch in TAG_VALUE_EXTRA for ch in value):
            raise ValueError("an ECS tag value: letters, digits, spaces and _ . : / = + - @ only (no commas)")
        return value

    def problems(self, at: str, name: str) -> list[Problem]:
        """The service's own rules; `name` is its key (its main container's name). Priority uniqueness
        and the capacity providers' names are the stack's rules."""
        problems = self.all_containers_problems(at, name, self.enable_execute_command)
        problems += self.size_problems(at)
        if self.port is not None:
            problems.append((f"{at}.port", "use container_port for the service's main container"))
        problems += self.kind_problems(at)
        ports = [p for p in [self.container_port] + [c.port for c in self.sidecars.values()] if p is not None]
        if len(ports) != len(set(ports)):
            problems.append((f"{at}.sidecars", f"container ports must differ within a task: {sorted(ports)}"))
        if self.routing is not None:
            problems += self.routing.problems(f"{at}.routing")
        problems += self.strategy_problems(at)
        if self.stickiness is not None:
            problems += self.stickiness.problems(f"{at}.stickiness")
        problems += self.health_check.problems(f"{at}.health_check")
        problems += self.access_problems(at)
        if self.alarms is not None:
            problems += self.alarms.problems(f"{at}.alarms", self.kind == "web")
        if self.service_connect is not None:
            problems += self.service_connect.problems(f"{at}.service_connect", self.container_port)
        scaling = self.autoscaling
        if scaling is not None:
            if not scaling.min_capacity <= self.desired_count <= scaling.max_capacity:
                problems.append((f"{at}.desired_count",
                                 f"must lie in autoscaling min..max ({scaling.min_capacity}..{scaling.max_capacity})"))
            problems += scaling.problems(f"{at}.autoscaling")
        return problems

    def kind_problems(self, at: str) -> list[Problem]:
        """A web service needs its port and routing; a worker has neither and says why (exemption)."""
        problems: list[Problem] = []
        if self.kind == "web":
            for key in ("container_port", "routing"):
                if getattr(self, key) is None:
                    problems.append((f"{at}.{key}", "required key is missing (or set kind: worker for a service "
                                     "without a load balancer)"))
            if self.worker_reason is not None:
                problems.append((f"{at}.worker_reason", "only for kind: worker"))
            return problems
        if not self.worker_reason:
            problems.append((f"{at}.worker_reason", "a worker runs without a load balancer only with a reason "
                             "(who approved it and why): it becomes the policy pack's exemption"))
        for key in ("container_port", "routing"):
            if getattr(self, key) is not None:
                problems.append((f"{at}.{key}", "a worker has no load balancer: remove it (or use kind: web)"))
        if "health_check" in self.model_fields_set:
            problems.append((f"{at}.health_check", "a worker has no target group to health-check: remove it"))
        if self.autoscaling and self.autoscaling.requests_per_target:
            problems.append((f"{at}.autoscaling.requests_per_target", "a worker has no load balancer requests to track"))
        lb_only = ["stickiness"] if self.stickiness is not None else []
        lb_only += [f"deployment.{key}" for key in ("deregistration_delay", "health_check_grace_period")
                    if key in self.deployment.model_fields_set]
        for key in lb_only:
            problems.append((f"{at}.{key}", "a worker has no load balancer: remove it"))
        return problems
