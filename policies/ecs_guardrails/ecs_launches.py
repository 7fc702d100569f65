"""Where ECS tasks are launched: the launch settings (launch type, capacity provider strategy, awsvpc network
configuration, Fargate platform version) of services, task sets, EventBridge rule targets (ecsTarget),
EventBridge Scheduler schedules (target.ecsParameters) and EventBridge Pipes (targetParameters.
ecsTaskParameters). The run-task rules live here; `services` applies the same readers to services and task
sets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .resource_types import EVENT_TARGET, EXPRESS_SERVICE, PIPE, SCHEDULE, SERVICE, TASK_SET
from .rule import HIGH, MANDATORY, MEDIUM, Controls, Ctx, Rule
from .values import Unknown, as_list, get, to_bool

# Where each type keeps its launch settings (services and task sets: at the top level).
LAUNCH_PATHS: dict[str, tuple[str, ...]] = {
    SERVICE: (),
    TASK_SET: (),
    EVENT_TARGET: ("ecsTarget",),
    SCHEDULE: ("target", "ecsParameters"),
    PIPE: ("targetParameters", "ecsTaskParameters"),
}
RUN_TASK_TYPES = (EVENT_TARGET, SCHEDULE, PIPE)
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def launch_settings(ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
    """(property path prefix for messages, the block holding the launch settings); None when the resource
    launches no ECS task (a target of another kind) or the block is unknown (recorded)."""
    path = LAUNCH_PATHS.get(ctx.type, ())
    if not path:
        return "", ctx.props
    block = ctx.get(*path)
    if not ctx.known(block) or not isinstance(block, dict):
        return None
    return ".".join(path) + ".", block


def _deployment_controller(ctx: Ctx) -> str | Unknown | None:
    dc = ctx.get("deploymentController", "type") if ctx.type == SERVICE else None
    return dc if isinstance(dc, Unknown) else (dc.strip().upper() if isinstance(dc, str) else None)


def external_service(ctx: Ctx) -> bool | Unknown:
    """An EXTERNAL deployment controller: its task sets, not the service, carry launch and load balancer
    settings (created here as aws:ecs/taskSet:TaskSet, or by the external controller)."""
    dc = _deployment_controller(ctx)
    return dc if isinstance(dc, Unknown) else dc == "EXTERNAL"


def check_no_public_ip(ctx: Ctx) -> Iterator[str]:
    found = launch_settings(ctx)
    if found is None:
        return
    prefix, block = found
    if ctx.type == PIPE:
        key = "networkConfiguration.awsVpcConfiguration.assignPublicIp"
        value = get(block, "networkConfiguration", "awsVpcConfiguration", "assignPublicIp")
        public = isinstance(value, str) and value.strip().upper() == "ENABLED"
        fix = "set it 'DISABLED'"
    else:
        key = "networkConfiguration.assignPublicIp"
        value = get(block, "networkConfiguration", "assignPublicIp")
        public = to_bool(value) is True
        fix = "set it false"
    if ctx.known(value) and public:
        yield (
            f"{prefix}{key} is {value!r}: the tasks get public IP addresses; {fix} and run them in private "
            "subnets (with a NAT gateway or VPC endpoints for egress)"
        )


def check_capacity_strategy(ctx: Ctx) -> Iterator[str]:
    if ctx.type == SERVICE:
        external = external_service(ctx)
        if not ctx.known(external) or external:
            return  # EXTERNAL: the task sets choose the capacity
    found = launch_settings(ctx)
    if found is None:
        return
    prefix, block = found
    lt, cps = get(block, "launchType"), get(block, "capacityProviderStrategies")
    if ctx.known(lt) and isinstance(lt, str) and lt:
        if lt.upper() in {t.upper() for t in as_list(ctx.cfg.get("allowedLaunchTypes")) if isinstance(t, str)}:
            return
        yield (
            f"{prefix}launchType is {lt!r}: remove it and set {prefix}capacityProviderStrategies (the two "
            "must not be combined); a launch type bypasses the capacity providers' managed scaling"
        )
        return
    if not ctx.known(cps):
        return
    if not as_list(cps) and not ctx.cfg.get("allowClusterDefaultStrategy"):
        yield f"no {prefix}capacityProviderStrategies: set a capacity provider strategy"


def _runs_on_fargate(ctx: Ctx, block: dict[str, Any]) -> bool | Unknown:
    lt = get(block, "launchType")
    if isinstance(lt, Unknown):
        return lt
    if isinstance(lt, str) and lt.strip().upper() == "FARGATE":
        return True
    cps = get(block, "capacityProviderStrategies")
    if isinstance(cps, Unknown):
        return cps
    # A provider name that is unknown during preview is the output of a capacity provider in the program:
    # never FARGATE or FARGATE_SPOT, which are AWS's own names given as literals.
    return any(
        isinstance(get(s, "capacityProvider"), str) and get(s, "capacityProvider").strip().upper() in FARGATE_PROVIDERS
        for s in as_list(cps)
    )


def _version(text: str) -> tuple[int, ...] | None:
    return tuple(int(p) for p in text.split(".")) if re.fullmatch(r"\d+(\.\d+){0,2}", text) else None


def check_fargate_platform_version(ctx: Ctx) -> Iterator[str]:
    found = launch_settings(ctx)
    if found is None:
        return
    prefix, block = found
    fargate = _runs_on_fargate(ctx, block)
    if not ctx.known(fargate) or not fargate:
        return
    pv = get(block, "platformVersion")
    if not ctx.known(pv) or pv is None or (isinstance(pv, str) and pv.strip().upper() in ("", "LATEST")):
        return  # unset means LATEST
    latest_text = str(ctx.cfg.get("latestLinuxVersion") or "1.4.0")
    latest, have = _version(latest_text), _version(pv.strip()) if isinstance(pv, str) else None
    if have is None:
        yield f"{prefix}platformVersion {pv!r} is not LATEST or a version like 1.4.0: use LATEST"
    elif latest is not None and have < latest:
        yield (
            f"{prefix}platformVersion is {pv!r}, older than the latest Fargate platform version {latest_text}: "
            "use LATEST (or leave it unset); Windows tasks, whose versions are numbered apart, should use "
            "LATEST too"
        )


def check_express_network(ctx: Ctx) -> Iterator[str]:
    configs = ctx.get("networkConfigurations")
    if not ctx.known(configs):
        return
    subnets = [get(c, "subnets") for c in as_list(configs)]
    if any(isinstance(v, Unknown) for v in subnets):
        ctx.known(next(v for v in subnets if isinstance(v, Unknown)))
        return
    if not any(as_list(v) for v in subnets):
        yield (
            "the Express service names no networkConfigurations subnets: ECS then runs it in the account's default "
            "VPC with security groups of its own; set networkConfigurations [{subnets, securityGroups}] to the "
            "platform's private subnets"
        )


def strategy_config() -> dict[str, dict[str, Any]]:
    """The knobs of the capacity-provider-strategy rules (a fresh copy per rule)."""
    return {
        "allowedLaunchTypes": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Launch types still accepted (e.g. FARGATE).",
        },
        "allowClusterDefaultStrategy": {
            "type": "boolean",
            "default": False,
            "description": "Accept launches relying on the cluster's default strategy.",
        },
    }


RULES = [
    Rule(
        name="ecs-run-task-no-public-ip",
        description=(
            "EventBridge rule targets, Scheduler schedules and Pipes that run ECS tasks do not assign them "
            "public IPs."
        ),
        level=MANDATORY,
        severity=HIGH,
        resource_types=RUN_TASK_TYPES,
        check=check_no_public_ip,
        remediation_steps=(
            "Set the target's networkConfiguration assignPublicIp false (Pipes: 'DISABLED'); use private subnets."
        ),
        controls=Controls(),
    ),
    Rule(
        name="ecs-run-task-capacity-provider-strategy",
        description=(
            "EventBridge rule targets, Scheduler schedules and Pipes that run ECS tasks use a capacity provider "
            "strategy, not a launch type."
        ),
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=RUN_TASK_TYPES,
        check=check_capacity_strategy,
        remediation_steps="Remove launchType; set capacityProviderStrategies [{capacityProvider, weight, base}].",
        config=strategy_config(),
    ),
    Rule(
        name="ecs-fargate-platform-version",
        description=(
            "Fargate services, task sets and scheduled or event-driven tasks run on the latest platform version "
            "(LATEST or unset)."
        ),
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=tuple(LAUNCH_PATHS),
        check=check_fargate_platform_version,
        remediation_steps="Set platformVersion 'LATEST' or leave it unset.",
        config={
            "latestLinuxVersion": {
                "type": "string",
                "pattern": r"^\d+(\.\d+){0,2}$",
                "default": "1.4.0",
                "description": "The latest Fargate Linux platform version; older pinned versions fail.",
            }
        },
        controls=Controls(
            fsbp=("ECS.10",),
            checkov=("CKV_AWS_332",),
            relation={
                "ECS.10": "stricter for Windows: a pinned Windows version fails unless it is at least "
                "latestLinuxVersion (the service does not show the task's OS); use LATEST",
                "CKV_AWS_332": "partial: also reads task sets and scheduled tasks; a pinned version equal to the "
                "latest (1.4.0) passes",
            },
        ),
    ),
    Rule(
        name="ecs-express-service-network",
        description="ECS Express services run in named subnets, not the account's default VPC.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=(EXPRESS_SERVICE,),
        check=check_express_network,
        remediation_steps="Set networkConfigurations [{subnets: <private subnets>, securityGroups: [...]}].",
    ),
]
