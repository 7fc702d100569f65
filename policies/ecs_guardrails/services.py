"""Rules over ECS services (and the task sets of EXTERNAL-controller services), clusters and capacity
providers."""

from __future__ import annotations

from collections.abc import Iterator

from . import ecs_launches
from .ecs_launches import external_service, strategy_config
from .resource_types import CAPACITY_PROVIDER, CLUSTER, SERVICE, TASK_SET
from .rule import ADVISORY, HIGH, LOW, MANDATORY, MEDIUM, Controls, Ctx, Rule
from .values import Unknown, as_list, get, to_bool

S = (SERVICE,)
SERVICE_TYPES = (SERVICE, TASK_SET)


def _service_names(ctx: Ctx) -> set[str]:
    """The names an exemptServiceNames entry may use: the resource name and the service's name (a task set:
    its service's name, the last part of an ARN)."""
    out = {ctx.name}
    name = ctx.get("name" if ctx.type == SERVICE else "service")
    if isinstance(name, str) and name:
        out |= {name, name.rsplit("/", 1)[-1]}
    return out


def _front_door(ctx: Ctx) -> tuple[bool | Unknown, str]:
    """Whether something other than a load balancer publishes the service, and a note for the message:
    VPC Lattice target groups always; Service Connect endpoints and Cloud Map registries unless
    allowServiceDiscovery is false."""
    lattice = ctx.get("vpcLatticeConfigurations")
    if isinstance(lattice, Unknown):
        return lattice, ""
    if any(get(c, "targetGroupArn") for c in as_list(lattice)):
        return True, ""
    sc, registry = ctx.get("serviceConnectConfiguration"), ctx.get("serviceRegistries", "registryArn")
    for v in (sc, registry):
        if isinstance(v, Unknown):
            return v, ""
    sc_on = to_bool(get(sc, "enabled")) is True
    sc_server = sc_on and bool(as_list(get(sc, "services")))
    discovery = sc_server or bool(registry)
    if discovery and not ctx.cfg.get("allowServiceDiscovery", True):
        return False, " (Service Connect and Cloud Map do not count: allowServiceDiscovery is false)"
    if discovery:
        return True, ""
    return False, " (Service Connect is client-only here: it publishes no services)" if sc_on else ""


def check_load_balancer(ctx: Ctx) -> Iterator[str]:
    exempt = {n for n in as_list(ctx.cfg.get("exemptServiceNames")) if isinstance(n, str)}
    if _service_names(ctx) & exempt:
        return
    what = "task set" if ctx.type == TASK_SET else "service"
    daemon_note = ""
    if ctx.type == SERVICE:
        external = external_service(ctx)
        if not ctx.known(external) or external:
            return  # its task sets carry the load balancers (checked on aws:ecs/taskSet:TaskSet)
        strategy = ctx.get("schedulingStrategy")
        if not ctx.known(strategy):
            return
        if isinstance(strategy, str) and strategy.strip().upper() == "DAEMON":
            if ctx.cfg.get("exemptDaemonServices", True):
                return
            daemon_note = " (a DAEMON service: exemptDaemonServices is false)"
    lbs = ctx.get("loadBalancers")
    if not ctx.known(lbs):
        return
    if not isinstance(lbs, list) or not lbs:
        door, note = _front_door(ctx)
        if not ctx.known(door) or door:
            return
        yield (
            f"the {what} has no loadBalancers entry, Service Connect server endpoint, Cloud Map registry or VPC "
            f"Lattice target group{note or daemon_note}: add loadBalancers [{{targetGroupArn, containerName, "
            "containerPort}], or publish it with Service Connect or Cloud Map, or exempt a worker via "
            "exemptServiceNames or the ecs-guardrails:exempt tag with a reason (DAEMON services are exempt "
            "while exemptDaemonServices is true)"
        )
        return
    for i, lb in enumerate(lbs):
        if not ctx.known(lb):
            continue
        if not isinstance(lb, dict):
            yield f"loadBalancers[{i}] is not an object"
            continue
        classic = lb.get("elbName") or lb.get("loadBalancerName")
        if classic and not lb.get("targetGroupArn"):
            yield f"loadBalancers[{i}] uses a classic ELB ({classic!r}): use an ALB target group (targetGroupArn)"
            continue
        for key in ("targetGroupArn", "containerName", "containerPort"):
            if lb.get(key) is None or lb.get(key) == "":
                yield f"loadBalancers[{i}] has no {key}: set targetGroupArn, containerName and containerPort"


def check_ebs_encrypted(ctx: Ctx) -> Iterator[str]:
    ebs = ctx.get("volumeConfiguration", "managedEbsVolume")
    if not ctx.known(ebs) or not isinstance(ebs, dict):
        return
    encrypted, snapshot = ebs.get("encrypted"), ebs.get("snapshotId")
    if not (ctx.known(encrypted) and ctx.known(snapshot)):
        return
    if to_bool(encrypted) is not True and not snapshot:
        yield (
            "volumeConfiguration.managedEbsVolume.encrypted is not true: the tasks' EBS volumes are encrypted "
            "only if the account turns on EBS encryption by default; set encrypted true (and kmsKeyId)"
        )


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
            "Every ECS service (EXTERNAL controller: each task set) is registered with a load balancer target "
            "group, or published with Service Connect, Cloud Map or VPC Lattice; DAEMON services are exempt."
        ),
        level=MANDATORY,
        severity=HIGH,
        resource_types=SERVICE_TYPES,
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
            },
            "exemptDaemonServices": {
                "type": "boolean",
                "default": True,
                "description": "Exempt DAEMON services (one agent task per instance, serving no requests).",
            },
            "allowServiceDiscovery": {
                "type": "boolean",
                "default": True,
                "description": "Accept a Service Connect server endpoint or a Cloud Map registry instead of a "
                "load balancer.",
            },
        },
        controls=Controls(),
    ),
    Rule(
        name="ecs-service-no-public-ip",
        description="ECS services and task sets do not assign public IPs to tasks.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=SERVICE_TYPES,
        check=ecs_launches.check_no_public_ip,
        remediation_steps=(
            "Set networkConfiguration.assignPublicIp false; use private subnets with a NAT/endpoints."
        ),
        controls=Controls(fsbp=("ECS.2", "ECS.16"), checkov=("CKV_AWS_333",)),
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
        description=(
            "ECS services (EXTERNAL controller: their task sets) use a capacity provider strategy, not a launch "
            "type."
        ),
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=SERVICE_TYPES,
        check=ecs_launches.check_capacity_strategy,
        remediation_steps=(
            "Remove launchType; set capacityProviderStrategies [{capacityProvider, weight, base}]."
        ),
        config=strategy_config(),
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
        name="ecs-service-ebs-encrypted",
        description="EBS volumes that ECS attaches to a service's tasks are encrypted.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=S,
        check=check_ebs_encrypted,
        remediation_steps="Set volumeConfiguration.managedEbsVolume.encrypted true (and a kmsKeyId if required).",
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
        controls=Controls(fsbp=("ECS.19",)),
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
