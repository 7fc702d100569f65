"""Rules over ECS services, clusters and capacity providers."""

from __future__ import annotations

from collections.abc import Iterator

from .resource_types import CAPACITY_PROVIDER, CLUSTER, SERVICE
from .rule import ADVISORY, HIGH, LOW, MANDATORY, MEDIUM, Controls, Ctx, Rule
from .values import as_list, get, to_bool

S = (SERVICE,)


def _service_name(ctx: Ctx) -> str:
    name = ctx.get("name")
    return name if isinstance(name, str) and name else ctx.name


def check_load_balancer(ctx: Ctx) -> Iterator[str]:
    if _service_name(ctx) in set(as_list(ctx.cfg.get("exemptServiceNames"))) or ctx.name in set(
        as_list(ctx.cfg.get("exemptServiceNames"))
    ):
        return
    lbs = ctx.get("loadBalancers")
    if not ctx.known(lbs):
        return
    if not isinstance(lbs, list) or not lbs:
        yield (
            "the service has no loadBalancers entry: add {targetGroupArn, containerName, containerPort}, or "
            "exempt a worker via exemptServiceNames or the ecs-guardrails:exempt tag with a reason"
        )
        return
    for i, lb in enumerate(lbs):
        if not ctx.known(lb):
            continue
        if not isinstance(lb, dict):
            yield f"loadBalancers[{i}] is not an object"
            continue
        if lb.get("elbName") and not lb.get("targetGroupArn"):
            yield f"loadBalancers[{i}] uses a classic ELB (elbName): use an ALB target group (targetGroupArn)"
            continue
        for key in ("targetGroupArn", "containerName", "containerPort"):
            if lb.get(key) is None or lb.get(key) == "":
                yield f"loadBalancers[{i}] has no {key}: set targetGroupArn, containerName and containerPort"


def check_no_public_ip(ctx: Ctx) -> Iterator[str]:
    v = ctx.get("networkConfiguration", "assignPublicIp")
    if ctx.known(v) and to_bool(v):
        yield "networkConfiguration.assignPublicIp is true: set it false and run tasks in private subnets"


def check_circuit_breaker(ctx: Ctx) -> Iterator[str]:
    cb = ctx.get("deploymentCircuitBreaker")
    if not ctx.known(cb):
        return
    if ctx.get("deploymentController", "type") in ("CODE_DEPLOY", "EXTERNAL"):
        return  # the circuit breaker only applies to the ECS deployment controller
    if not (ctx.known(get(cb, "enable")) and ctx.known(get(cb, "rollback"))):
        return
    enable, rollback = to_bool(get(cb, "enable")), to_bool(get(cb, "rollback"))
    if not enable:
        yield (
            "deploymentCircuitBreaker is not enabled: set deploymentCircuitBreaker "
            "{enable: true, rollback: true}"
        )
    elif ctx.cfg.get("requireRollback", True) and not rollback:
        yield "deploymentCircuitBreaker.rollback is false: set rollback true so failed deployments roll back"


def check_capacity_strategy(ctx: Ctx) -> Iterator[str]:
    lt, cps = ctx.get("launchType"), ctx.get("capacityProviderStrategies")
    if ctx.known(lt) and isinstance(lt, str) and lt:
        if lt.upper() in {t.upper() for t in as_list(ctx.cfg.get("allowedLaunchTypes"))}:
            return
        yield (
            f"launchType is {lt!r}: remove it and set capacityProviderStrategies (the two must not be "
            "combined)"
        )
        return
    if not ctx.known(cps):
        return
    if not as_list(cps) and not ctx.cfg.get("allowClusterDefaultStrategy"):
        yield "no capacityProviderStrategies: set a capacity provider strategy on the service"


def check_container_insights(ctx: Ctx) -> Iterator[str]:
    settings = ctx.get("settings")
    if not ctx.known(settings):
        return
    if not all(ctx.known(get(s, "name")) for s in as_list(settings)):
        return
    for s in as_list(settings):
        if get(s, "name") == "containerInsights":
            value = get(s, "value")
            if not ctx.known(value) or value in ("enabled", "enhanced"):
                return
            yield f"containerInsights is {value!r}: set it to 'enabled' or 'enhanced'"
            return
    yield "Container Insights is not configured: add settings [{name: 'containerInsights', value: 'enabled'}]"


def check_grace_period(ctx: Ctx) -> Iterator[str]:
    lbs, grace = ctx.get("loadBalancers"), ctx.get("healthCheckGracePeriodSeconds")
    if ctx.known(lbs) and as_list(lbs) and ctx.known(grace) and grace is None:
        yield (
            "the service has a load balancer but no healthCheckGracePeriodSeconds: set it (e.g. 60) so slow "
            "starting tasks are not killed by failing health checks"
        )


def _asg_provider_field(field: str, expected: str, fix: str):
    def check(ctx: Ctx) -> Iterator[str]:
        v = ctx.get("autoScalingGroupProvider", *field.split("."))
        if not ctx.known(v):
            return
        if v != expected and not (v is None and field == "managedDraining"):
            yield f"autoScalingGroupProvider.{field} is {v!r}: {fix}"

    return check


CP = (CAPACITY_PROVIDER,)

RULES = [
    Rule(
        name="ecs-service-load-balancer-required",
        description=(
            "Every ECS service is registered with a load balancer target group (targetGroupArn, "
            "containerName, containerPort)."
        ),
        level=MANDATORY,
        severity=HIGH,
        resource_types=S,
        check=check_load_balancer,
        remediation_steps=(
            "Add loadBalancers [{targetGroupArn, containerName, containerPort}]; for workers use "
            "exemptServiceNames or the exemption tags."
        ),
        config={
            "exemptServiceNames": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Service names (or resource names) without a load "
                "balancer, e.g. queue workers.",
            }
        },
        controls=Controls(),
    ),
    Rule(
        name="ecs-service-no-public-ip",
        description="ECS services do not assign public IPs to tasks.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=S,
        check=check_no_public_ip,
        remediation_steps=(
            "Set networkConfiguration.assignPublicIp false; use private subnets with a NAT/endpoints."
        ),
        controls=Controls(fsbp=("ECS.2",), checkov=("CKV_AWS_333",)),
    ),
    Rule(
        name="ecs-service-circuit-breaker",
        description="ECS services use the deployment circuit breaker with rollback.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=S,
        check=check_circuit_breaker,
        remediation_steps="Set deploymentCircuitBreaker {enable: true, rollback: true}.",
        config={
            "requireRollback": {
                "type": "boolean",
                "default": True,
                "description": "Also require rollback: true.",
            }
        },
    ),
    Rule(
        name="ecs-service-capacity-provider-strategy",
        description="ECS services use a capacity provider strategy, not a launch type.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=S,
        check=check_capacity_strategy,
        remediation_steps=(
            "Remove launchType; set capacityProviderStrategies [{capacityProvider, weight, base}]."
        ),
        config={
            "allowedLaunchTypes": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Launch types still accepted (e.g. FARGATE).",
            },
            "allowClusterDefaultStrategy": {
                "type": "boolean",
                "default": False,
                "description": "Accept services relying on the cluster's default strategy.",
            },
        },
    ),
    Rule(
        name="ecs-service-health-check-grace-period",
        description="Load-balanced services set a health check grace period.",
        level=ADVISORY,
        severity=LOW,
        resource_types=S,
        check=check_grace_period,
        remediation_steps="Set healthCheckGracePeriodSeconds to the time the application needs to start.",
    ),
    Rule(
        name="ecs-cluster-container-insights",
        description="ECS clusters have Container Insights enabled.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=(CLUSTER,),
        check=check_container_insights,
        remediation_steps="Add settings [{name: 'containerInsights', value: 'enabled'}].",
        controls=Controls(fsbp=("ECS.12",), cdk_nag=("AwsSolutions-ECS4",), checkov=("CKV_AWS_65",)),
    ),
    Rule(
        name="ecs-capacity-provider-managed-scaling",
        description="ASG capacity providers use managed scaling.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=CP,
        check=_asg_provider_field(
            "managedScaling.status", "ENABLED", "set managedScaling {status: 'ENABLED'}"
        ),
        remediation_steps="Set autoScalingGroupProvider.managedScaling.status 'ENABLED'.",
    ),
    Rule(
        name="ecs-capacity-provider-termination-protection",
        description="ASG capacity providers use managed termination protection.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=CP,
        check=_asg_provider_field(
            "managedTerminationProtection",
            "ENABLED",
            "set managedTerminationProtection 'ENABLED' (and protectFromScaleIn on the ASG)",
        ),
        remediation_steps="Set managedTerminationProtection 'ENABLED' and the ASG's protectFromScaleIn true.",
    ),
    Rule(
        name="ecs-capacity-provider-managed-draining",
        description="ASG capacity providers keep managed draining on.",
        level=ADVISORY,
        severity=MEDIUM,
        resource_types=CP,
        check=_asg_provider_field(
            "managedDraining", "ENABLED", "set managedDraining 'ENABLED' (or leave it unset)"
        ),
        remediation_steps="Set managedDraining 'ENABLED'.",
    ),
]
