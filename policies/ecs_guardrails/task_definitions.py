"""Rules over ECS container definitions and task-level settings: aws:ecs/taskDefinition:TaskDefinition
(containerDefinitions is one JSON string), aws:ecs/daemonTaskDefinition:DaemonTaskDefinition (structured
container blocks) and the primary container of aws:ecs/expressGatewayService:ExpressGatewayService; the
plaintext-secrets rule also reads the container overrides an aws:pipes/pipe:Pipe launches tasks with."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

from .resource_types import DAEMON_TASK_DEF, EXPRESS_SERVICE, PIPE, TASK_DEF
from .rule import ADVISORY, CRITICAL, HIGH, LOW, MANDATORY, MEDIUM, Controls, Ctx, Rule
from .values import Malformed, Unknown, as_dict, as_list, get, parse_json, to_bool, to_int, unwrap

T = (TASK_DEF,)  # task-definition-only settings: networkMode, pidMode, ipcMode, EFS volumes
TD_TYPES = (TASK_DEF, DAEMON_TASK_DEF)  # full container definitions with task-level cpu/memory
IMAGE_TYPES = (TASK_DEF, DAEMON_TASK_DEF, EXPRESS_SERVICE)  # anything that names images and roles


def _container_label(c: dict[str, Any], i: int) -> str:
    name = c.get("name")
    return f"container '{name}'" if isinstance(name, str) and name else f"container #{i}"


def _structured(c: dict[str, Any]) -> dict[str, Any]:
    """A structured container block in the task definition JSON's key names (environments -> environment)."""
    if "environments" in c and "environment" not in c:
        return {**c, "environment": c["environments"]}
    return c


def containers(ctx: Ctx) -> list[tuple[str, dict[str, Any]]] | None:
    """[(display name, container)] of the resource; None when unknown; Malformed when invalid."""
    if ctx.type == EXPRESS_SERVICE:
        pc = ctx.get("primaryContainer")
        if not ctx.known(pc):
            return None
        if not isinstance(pc, dict):
            raise Malformed("primaryContainer is missing or not an object: declare the service's container")
        return [("the primary container", _structured(pc))]
    raw = ctx.get("containerDefinitions")
    if not ctx.known(raw):
        return None
    if raw is None:
        raise Malformed("containerDefinitions is missing: declare the task's containers")
    if ctx.type == DAEMON_TASK_DEF:
        if not isinstance(raw, list):
            raise Malformed("containerDefinitions must be a list of container blocks")
        out = []
        for i, c in enumerate(raw):
            if not ctx.known(c):
                continue
            if not isinstance(c, dict):
                raise Malformed(f"containerDefinitions[{i}] is not an object")
            out.append((_container_label(c, i), _structured(c)))
        return out
    doc = unwrap(parse_json(raw, "containerDefinitions"), ".containerDefinitions")
    if not isinstance(doc, list):
        raise Malformed("containerDefinitions must be a JSON list of container objects")
    out = []
    for i, c in enumerate(doc):
        if not isinstance(c, dict):
            raise Malformed(f"containerDefinitions[{i}] is not a JSON object")
        out.append((_container_label(c, i), c))
    return out


def windows(ctx: Ctx) -> bool | Unknown:
    """Whether the task runs Windows containers (runtimePlatform.operatingSystemFamily WINDOWS_*)."""
    family = ctx.get("runtimePlatform", "operatingSystemFamily")
    if isinstance(family, Unknown):
        return family
    return isinstance(family, str) and family.strip().upper().startswith("WINDOWS")


def runs_on_fargate(ctx: Ctx) -> bool | Unknown:
    """Whether the task definition may run on Fargate (requiresCompatibilities names FARGATE)."""
    compat = ctx.get("requiresCompatibilities")
    if isinstance(compat, Unknown):
        return compat
    items = as_list(compat)
    if any(isinstance(c, str) and c.strip().upper() == "FARGATE" for c in items):
        return True
    return next((c for c in items if isinstance(c, Unknown)), False)


def _task_units(value: Any, unit: str) -> int | None:
    """Task-level cpu/memory: "512", 512, "1 vCPU", "2 GB"."""
    n = to_int(value)
    if n is not None:
        return n
    if isinstance(value, str):
        m = re.fullmatch(rf"\s*(\d+(?:\.\d+)?)\s*{unit}\s*", value, re.IGNORECASE)
        if m:
            return int(float(m.group(1)) * 1024)
    return None


# --- the organisation's rules --------------------------------------------------------------------------


def _container_cpu_required(ctx: Ctx) -> bool | Unknown:
    """Whether every container must reserve its own cpu: when the task sets no task-level cpu, or runs Windows
    containers (ECS ignores task-level cpu and memory for those)."""
    win = windows(ctx)
    if win is True or ctx.get("cpu") is None:
        return True
    return win if isinstance(win, Unknown) else False


def check_resource_limits(ctx: Ctx) -> Iterator[str]:
    cs = containers(ctx)
    if cs is None:
        return
    max_cpu, max_mem = to_int(ctx.cfg.get("maxContainerCpu")), to_int(ctx.cfg.get("maxContainerMemory"))
    soft_ok = bool(ctx.cfg.get("allowSoftMemoryLimit"))
    cpu_required = _container_cpu_required(ctx)
    win = windows(ctx) is True
    min_cpu = 1 if win else 2  # Linux: null, 0 and 1 become 2 shares; Windows: 0 is 1% of a CPU
    total_cpu = total_mem = 0
    for who, c in cs:
        cpu_raw, mem_raw, res_raw = c.get("cpu"), c.get("memory"), c.get("memoryReservation")
        if not all([ctx.known(cpu_raw), ctx.known(mem_raw), ctx.known(res_raw)]):
            continue
        cpu, mem, res = to_int(cpu_raw), to_int(mem_raw), to_int(res_raw)
        if cpu_raw is not None and (cpu is None or cpu < 0):
            yield f"{who} has cpu {cpu_raw!r}, which is not a non-negative integer: set cpu units like 256"
        elif (cpu is None or cpu < min_cpu) and cpu_required is True:
            why = "ECS ignores the task-level cpu for Windows containers" if win else "the task sets no task-level cpu"
            got = "declares no 'cpu'" if cpu_raw is None else f"has cpu {cpu}, which reserves no CPU"
            yield f"{who} {got} and {why}: set cpu units (e.g. 256) on the container"
        elif (cpu is None or cpu < min_cpu) and isinstance(cpu_required, Unknown):
            ctx.known(cpu_required)
        if mem_raw is not None and (mem is None or mem <= 0):
            yield f"{who} has memory {mem_raw!r}, which is not a positive integer (MiB)"
        if res_raw is not None and (res is None or res <= 0):
            yield f"{who} has memoryReservation {res_raw!r}, which is not a positive integer (MiB)"
        if mem_raw is None:
            if res_raw is None:
                yield f"{who} declares no memory limit: set 'memory' (hard limit, MiB)"
            elif not soft_ok:
                yield (
                    f"{who} sets only memoryReservation (soft limit): set 'memory' (hard limit) too, "
                    "or allow soft-only limits with allowSoftMemoryLimit"
                )
        if mem and res and res > mem:
            yield (
                f"{who} has memoryReservation {res} above memory {mem}: keep the reservation <= "
                "the hard limit"
            )
        if cpu is not None and max_cpu is not None and cpu > max_cpu:
            yield f"{who} has cpu {cpu} above the maximum {max_cpu}: lower it or raise maxContainerCpu"
        limit = mem or res
        if limit and max_mem is not None and limit > max_mem:
            yield (
                f"{who} has memory {limit} MiB above the maximum {max_mem}: lower it or raise "
                "maxContainerMemory"
            )
        total_cpu += cpu or 0
        total_mem += limit or 0
    for prop, unit, total in (("cpu", "vcpu", total_cpu), ("memory", "gb", total_mem)):
        raw = ctx.get(prop)
        if raw is None or not ctx.known(raw):
            continue
        task = _task_units(raw, unit)
        if task is None:
            yield f'task {prop} {raw!r} is not a number: use a string of an integer like "512"'
        elif total > task:
            yield (
                f"containers' {prop} adds up to {total}, above the task-level {prop} {task}: "
                f"lower the containers' {prop} or raise the task's"
            )


def check_logging(ctx: Ctx) -> Iterator[str]:
    cs = containers(ctx)
    if cs is None:
        return
    allowed = [d for d in as_list(ctx.cfg.get("allowedLogDrivers")) if isinstance(d, str)]
    fargate = runs_on_fargate(ctx)
    for who, c in cs:
        lc = c.get("logConfiguration")
        if not ctx.known(lc):
            continue
        if lc is None:
            yield (
                f"{who} has no logConfiguration: set logDriver 'awslogs' with awslogs-group and "
                "awslogs-region options"
            )
            continue
        if not isinstance(lc, dict):
            yield f"{who} has a logConfiguration that is not an object"
            continue
        driver = lc.get("logDriver")
        if not ctx.known(driver):
            continue
        if driver not in allowed:
            yield f"{who} uses log driver {driver!r}; use one of {', '.join(allowed)}"
            continue
        if driver == "awslogs":
            opts = lc.get("options")
            if not ctx.known(opts):
                continue
            opts = as_dict(opts)
            for key in ("awslogs-group", "awslogs-region"):
                v = opts.get(key)
                if not ctx.known(v):
                    continue
                if not isinstance(v, str) or not v.strip():
                    yield f"{who} uses awslogs without the '{key}' option: set it in logConfiguration.options"
            prefix = opts.get("awslogs-stream-prefix")
            if not ctx.known(prefix) or (isinstance(prefix, str) and prefix.strip()):
                continue
            if fargate is True:
                yield (
                    f"{who} uses awslogs without 'awslogs-stream-prefix', which Fargate requires (the task "
                    "definition can run on Fargate): set it in logConfiguration.options, e.g. the service name"
                )
            elif isinstance(fargate, Unknown):
                ctx.known(fargate)


# --- field controls --------------------------------------------------------------------------------------


def check_max_containers(ctx: Ctx) -> Iterator[str]:
    cs = containers(ctx)
    if cs is None:
        return
    limit = min(to_int(ctx.cfg.get("maxContainers")) or 10, 10)
    if len(cs) > limit:
        yield f"the task has {len(cs)} containers; at most {limit} are allowed: split it into several tasks"


def check_privileged(ctx: Ctx) -> Iterator[str]:
    for who, c in containers(ctx) or []:
        if to_bool(c.get("privileged")):
            yield (
                f"{who} is privileged: remove 'privileged: true' and grant specific "
                "linuxParameters.capabilities"
            )


def _mode_check(prop: str, what: str) -> Any:
    def check(ctx: Ctx) -> Iterator[str]:
        v = ctx.get(prop)
        if ctx.known(v) and isinstance(v, str) and v.lower() == "host":
            yield f"{prop} is 'host', which shares the host's {what}: use {_fix[prop]}"

    return check


_fix = {
    "networkMode": "networkMode 'awsvpc' (or 'bridge')",
    "pidMode": "'task' or leave pidMode unset",
    "ipcMode": "'task' or 'none', or leave ipcMode unset",
}

def _linux_root(user: Any) -> bool:
    """Root when unset or blank, or when the user part of user[:group] is root or uid 0 (the group is not
    what grants root)."""
    if not isinstance(user, str) or not user.strip():
        return True
    name = user.split(":", 1)[0].strip()
    return name.lower() == "root" or (name.isdigit() and int(name) == 0)


def _windows_admin(user: Any) -> bool:
    """Windows containers run as ContainerAdministrator unless 'user' names another account."""
    return not isinstance(user, str) or not user.strip() or user.strip().lower() == "containeradministrator"


def check_non_root(ctx: Ctx) -> Iterator[str]:
    cs = containers(ctx)
    win = windows(ctx)
    for who, c in cs or []:
        user = c.get("user")
        if not ctx.known(user):
            continue
        linux_bad, windows_bad = _linux_root(user), _windows_admin(user)
        if isinstance(win, Unknown):
            if linux_bad != windows_bad:
                ctx.known(win)
                continue
            win_now = False
        else:
            win_now = win
        if win_now and windows_bad:
            yield (
                f"{who} runs as ContainerAdministrator (Windows' default when 'user' is unset): set 'user' to "
                "a non-administrator account such as ContainerUser"
            )
        elif not win_now and linux_bad:
            yield f"{who} runs as root: set 'user' to a non-root uid (e.g. \"1000\" or \"1000:1000\")"


def check_readonly_root(ctx: Ctx) -> Iterator[str]:
    for who, c in containers(ctx) or []:
        ro = c.get("readonlyRootFilesystem")
        if ctx.known(ro) and to_bool(ro) is not True:
            yield f"{who} has a writable root filesystem: set readonlyRootFilesystem true and mount volumes"


_AWS_KEY = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")
# scheme://user:password@host: a password in a URL's userinfo (RFC 3986); the user part may be empty.
_URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*)://[^/?#\s:@]*:[^/?#\s@]+@([^/?#\s]*)", re.IGNORECASE)
ECS8_SECRET_KEYS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"]


def _environments(ctx: Ctx) -> Iterator[tuple[str, Any]]:
    """(container label, its environment list) of every container the resource declares or overrides."""
    if ctx.type == PIPE:
        overrides = ctx.get("targetParameters", "ecsTaskParameters", "overrides", "containerOverrides")
        if not ctx.known(overrides):
            return
        for i, o in enumerate(as_list(overrides)):
            name = get(o, "name")
            who = f"container override '{name}'" if isinstance(name, str) and name else f"container override #{i}"
            yield who, get(o, "environments")
        return
    for who, c in containers(ctx) or []:
        yield who, c.get("environment")


def _secret_problem(name: Any, value: Any, label: str, cfg: dict[str, Any]) -> str | None:
    """What makes one environment variable a plaintext secret, or None."""
    secret_keys = {k.strip().upper() for k in as_list(cfg.get("secretKeys")) if isinstance(k, str)}
    if isinstance(name, str) and name.strip().upper() in secret_keys:
        return f"sets {label}, a credential variable (FSBP ECS.8's secretKeys), as plaintext whatever its value"
    if not isinstance(value, str) or not value:
        return None
    if _AWS_KEY.search(value):
        return f"has an AWS access key in environment variable {label}"
    url = _URL_CREDENTIALS.search(value)
    if url:
        return f"has a password in the URL in {label} ({url.group(1)}://***@{url.group(2)})"
    if isinstance(name, str) and name in {n for n in as_list(cfg.get("allowedNames")) if isinstance(n, str)}:
        return None
    pattern = re.compile(str(cfg.get("secretNamePattern") or "$^"), re.IGNORECASE)
    if isinstance(name, str) and pattern.search(name):
        return f"passes {label} as a plaintext environment variable"
    if isinstance(name, str) and "AWS_SECRET" in name.upper() and _AWS_SECRET.search(value):
        return f"has an AWS secret key in {label}"
    return None


def check_plaintext_secrets(ctx: Ctx) -> Iterator[str]:
    for who, envs in _environments(ctx):
        if not ctx.known(envs):
            continue
        for i, env in enumerate(as_list(envs)):
            name, value = get(env, "name"), get(env, "value")
            label = name if isinstance(name, str) else f"environment[{i}]"
            problem = _secret_problem(name, value, label, ctx.cfg)
            if problem:
                yield (
                    f"{who} {problem}: move it to 'secrets' with valueFrom (Secrets Manager or SSM "
                    "Parameter Store)"
                )


def image_parts(image: str) -> tuple[str, str, str | None, str | None]:
    """(registry, repository, tag, digest) with Docker's defaults (docker.io for unqualified names)."""
    rest, _, digest_part = image.partition("@")
    digest = digest_part or None
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        return first, remainder, tag, digest
    return "docker.io", rest, tag, digest


def check_image_pinned(ctx: Ctx) -> Iterator[str]:
    need_digest = bool(ctx.cfg.get("requireDigest"))
    for who, c in containers(ctx) or []:
        image = c.get("image")
        if not ctx.known(image):
            continue
        if not isinstance(image, str) or not image.strip():
            yield f"{who} has no image: set 'image' to repository:tag or repository@sha256:digest"
            continue
        _, _, tag, digest = image_parts(image.strip())
        if digest:
            continue
        if need_digest:
            yield f"{who} image {image!r} is not pinned by digest: use repository@sha256:<digest>"
        elif tag is None:
            yield f"{who} image {image!r} has no tag (defaults to 'latest'): pin a version tag or digest"
        elif tag.lower() == "latest":
            yield f"{who} image {image!r} uses the mutable 'latest' tag: pin a version tag or digest"


def check_image_registry(ctx: Ctx) -> Iterator[str]:
    patterns = [p for p in as_list(ctx.cfg.get("allowedRegistries")) if isinstance(p, str)]
    if not patterns:
        return
    for who, c in containers(ctx) or []:
        image = c.get("image")
        if not isinstance(image, str) or not image.strip():
            continue
        registry = image_parts(image.strip())[0]
        if not any(fnmatch.fnmatchcase(registry, p) for p in patterns):
            yield (
                f"{who} image {image!r} comes from registry {registry!r}, which is not allowed: "
                f"use one of {', '.join(patterns)}"
            )


def check_separate_roles(ctx: Ctx) -> Iterator[str]:
    exe, task = ctx.get("executionRoleArn"), ctx.get("taskRoleArn")
    if any(v is None or (isinstance(v, str) and not v.strip()) for v in (exe, task)):
        return  # one role only: the two can never be the same, whatever the other is
    if not (ctx.known(exe) and ctx.known(task)):
        return
    if isinstance(exe, str) and exe and exe == task:
        yield (
            "executionRoleArn and taskRoleArn are the same role: give the task its own role so the "
            "application does not get the agent's permissions (ECR pull, secrets, logs)"
        )


def check_bridge_host_ports(ctx: Ctx) -> Iterator[str]:
    mode = ctx.get("networkMode")
    if not ctx.known(mode) or mode != "bridge":
        return
    for who, c in containers(ctx) or []:
        for pm in as_list(c.get("portMappings")):
            host, port = to_int(get(pm, "hostPort")), get(pm, "containerPort")
            if host:
                yield (
                    f"{who} maps containerPort {port} to static hostPort {host} in bridge mode: set "
                    "hostPort 0 "
                    "(dynamic) so several tasks fit on an instance and deployments can roll"
                )


def check_efs_transit(ctx: Ctx) -> Iterator[str]:
    vols = ctx.get("volumes")
    if not ctx.known(vols):
        return
    for i, v in enumerate(as_list(vols)):
        efs = get(v, "efsVolumeConfiguration")
        if isinstance(efs, dict) and efs:
            te = efs.get("transitEncryption")
            if ctx.known(te) and te != "ENABLED":
                name = get(v, "name", default=f"#{i}")
                yield f"EFS volume '{name}' has transitEncryption {te!r}: set it to 'ENABLED'"


RULES = [
    Rule(
        name="ecs-container-resource-limits",
        description=(
            "Every container declares a memory limit, and cpu unless the task sets a task-level cpu (Windows: "
            "always); within the maxima and the task-level totals."
        ),
        level=MANDATORY,
        severity=HIGH,
        resource_types=TD_TYPES,
        check=check_resource_limits,
        remediation_steps=(
            "Set 'memory' (hard limit, MiB) on every container, and 'cpu' per container unless the task sets a "
            "task-level cpu (Windows containers: always); keep their sums within the task's cpu and memory."
        ),
        config={
            "maxContainerCpu": {
                "type": "integer",
                "minimum": 0,
                "default": 4096,
                "description": "Maximum cpu units per container.",
            },
            "maxContainerMemory": {
                "type": "integer",
                "minimum": 1,
                "default": 30720,
                "description": "Maximum memory (MiB) per container.",
            },
            "allowSoftMemoryLimit": {
                "type": "boolean",
                "default": False,
                "description": "Accept memoryReservation without a hard memory.",
            },
        },
    ),
    Rule(
        name="ecs-container-logging-required",
        description=(
            "Every container sends its logs through an allowed log driver; awslogs names a group and region, "
            "and a stream prefix when the task can run on Fargate."
        ),
        level=MANDATORY,
        severity=HIGH,
        resource_types=TD_TYPES,
        check=check_logging,
        remediation_steps=(
            "Set logConfiguration {logDriver: 'awslogs', options: {awslogs-group, awslogs-region, "
            "awslogs-stream-prefix}} on every container."
        ),
        config={
            "allowedLogDrivers": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["awslogs", "awsfirelens"],
                "description": "Log drivers containers may use.",
            }
        },
        controls=Controls(
            fsbp=("ECS.9",),
            cdk_nag=("AwsSolutions-ECS7",),
            relation={
                "ECS.9": "stricter: allowed drivers only; awslogs needs group, region and, on Fargate, a stream prefix",
                "AwsSolutions-ECS7": "stricter: as for ECS.9",
            },
        ),
    ),
    Rule(
        name="ecs-task-max-containers",
        description="A task definition has at most 10 containers (or a lower configured maximum).",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=TD_TYPES,
        check=check_max_containers,
        remediation_steps="Split the containers over several task definitions.",
        config={
            "maxContainers": {
                "type": "integer",
                "minimum": 1,
                "maximum": 10,
                "default": 10,
                "description": "Maximum containers per task (AWS allows 10).",
            }
        },
    ),
    Rule(
        name="ecs-container-no-privileged",
        description="No container runs privileged.",
        level=MANDATORY,
        severity=CRITICAL,
        resource_types=TD_TYPES,
        check=check_privileged,
        remediation_steps="Remove privileged: true; add only the Linux capabilities the container needs.",
        controls=Controls(
            fsbp=("ECS.4",),
            checkov=("CKV_AWS_334",),
            relation={"CKV_AWS_334": "same intent; checkov reads a `privilege` key that ECS does not have"},
        ),
    ),
    Rule(
        name="ecs-task-no-host-network",
        description="The task does not use the host network mode.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=T,
        check=_mode_check("networkMode", "network stack"),
        remediation_steps="Use networkMode 'awsvpc' or 'bridge'.",
        controls=Controls(
            fsbp=("ECS.17", "ECS.1"),
            cdk_nag=("ECSTaskDefinitionUserForHostMode",),
            relation={
                "ECS.1": "stricter: host mode refused outright, not only without privileged/non-root user; "
                "ECS.1 retired March 2026",
                "ECSTaskDefinitionUserForHostMode": "stricter: host mode refused outright",
            },
        ),
    ),
    Rule(
        name="ecs-task-no-host-pid",
        description="The task does not share the host's process namespace.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=T,
        check=_mode_check("pidMode", "process namespace"),
        remediation_steps="Remove pidMode 'host'.",
        controls=Controls(
            fsbp=("ECS.3",),
            checkov=("CKV_AWS_335",),
            relation={
                "CKV_AWS_335": "same intent; checkov reads pidMode inside container definitions, where ECS "
                "ignores it (it is a task-level field)"
            },
        ),
    ),
    Rule(
        name="ecs-task-no-host-ipc",
        description="The task does not share the host's IPC namespace.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=T,
        check=_mode_check("ipcMode", "IPC namespace"),
        remediation_steps="Remove ipcMode 'host'.",
    ),
    Rule(
        name="ecs-container-non-root-user",
        description=(
            "Linux containers run as a non-root user (uid 0 or root, whatever the group, is root); Windows "
            "containers as an account other than ContainerAdministrator."
        ),
        level=ADVISORY,
        severity=MEDIUM,
        resource_types=TD_TYPES,
        check=check_non_root,
        remediation_steps=(
            "Set 'user' to a non-root uid[:gid] the image supports (Windows: a non-administrator account such "
            "as ContainerUser)."
        ),
        controls=Controls(fsbp=("ECS.20", "ECS.21")),
    ),
    Rule(
        name="ecs-container-readonly-root-fs",
        description="Every container has a read-only root filesystem.",
        level=ADVISORY,
        severity=MEDIUM,
        resource_types=TD_TYPES,
        check=check_readonly_root,
        remediation_steps=(
            "Set readonlyRootFilesystem true; mount writable paths as volumes (note: ECS Exec needs a "
            "writable fs)."
        ),
        controls=Controls(fsbp=("ECS.5",), checkov=("CKV_AWS_336",)),
    ),
    Rule(
        name="ecs-container-no-plaintext-secrets",
        description=(
            "No credentials in container environment variables: ECS.8's secret keys, AWS keys, passwords in "
            "URLs, secret-like names (PASSWORD, SECRET, TOKEN, ...)."
        ),
        level=MANDATORY,
        severity=CRITICAL,
        resource_types=(*IMAGE_TYPES, PIPE),
        check=check_plaintext_secrets,
        remediation_steps=(
            "Move the value to Secrets Manager or SSM and reference it in the container's 'secrets'."
        ),
        config={
            "secretKeys": {
                "type": "array",
                "items": {"type": "string"},
                "default": ECS8_SECRET_KEYS,
                "description": "Variable names (any case) refused whatever their value, as FSBP ECS.8's "
                "secretKeys; allowedNames does not exempt them.",
            },
            "secretNamePattern": {
                "type": "string",
                "default": "PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY",
                "description": "Regex (case-insensitive) of variable names that hold secrets.",
            },
            "allowedNames": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Variable names secretNamePattern does not flag (e.g. TOKEN_TTL).",
            },
        },
        controls=Controls(
            fsbp=("ECS.8",),
            cdk_nag=("AwsSolutions-ECS2",),
            relation={
                "ECS.8": "stricter: ECS.8's secretKeys always, plus AWS keys, URL passwords and secret-like names",
                "AwsSolutions-ECS2": "partial: only secret-like variables fail, not every environment variable",
            },
        ),
    ),
    Rule(
        name="ecs-container-image-pinned",
        description="Every image is pinned to a version tag or digest (no 'latest', no untagged).",
        level=MANDATORY,
        severity=HIGH,
        resource_types=IMAGE_TYPES,
        check=check_image_pinned,
        remediation_steps="Reference images as repository:1.2.3 or repository@sha256:<digest>.",
        config={
            "requireDigest": {
                "type": "boolean",
                "default": False,
                "description": "Require digests rather than tags.",
            }
        },
    ),
    Rule(
        name="ecs-container-image-registry",
        description="Images come from allowed registries (glob patterns on the registry host).",
        level=MANDATORY,
        severity=HIGH,
        resource_types=IMAGE_TYPES,
        check=check_image_registry,
        remediation_steps="Mirror the image into an allowed registry (e.g. your ECR).",
        config={
            "allowedRegistries": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["*.dkr.ecr.*.amazonaws.com", "public.ecr.aws"],
                "description": "Registry host globs; docker.io for Docker Hub; empty allows all.",
            }
        },
    ),
    Rule(
        name="ecs-task-separate-roles",
        description="The task role differs from the execution role (a task with only one of them passes).",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=IMAGE_TYPES,
        check=check_separate_roles,
        remediation_steps="Create a dedicated task role with only the application's permissions.",
        controls=Controls(checkov=("CKV_AWS_249",)),
    ),
    Rule(
        name="ecs-bridge-dynamic-host-ports",
        description="Bridge-mode containers use dynamic host ports (hostPort 0).",
        level=ADVISORY,
        severity=LOW,
        resource_types=T,
        check=check_bridge_host_ports,
        remediation_steps="Set hostPort 0 (or omit it) in bridge mode.",
    ),
    Rule(
        name="ecs-task-efs-transit-encryption",
        description="EFS volumes of a task use transit encryption.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=T,
        check=check_efs_transit,
        remediation_steps="Set efsVolumeConfiguration.transitEncryption 'ENABLED'.",
        controls=Controls(fsbp=("ECS.18",), checkov=("CKV_AWS_97",)),
    ),
]
