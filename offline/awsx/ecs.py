"""awsx `ecs`: Fargate and EC2 services and task definitions, expanded as awsx 3.11.0 constructs
them (awsx/ecs/fargateService.ts, ec2Service.ts, fargateTaskDefinition.ts, ec2TaskDefinition.ts,
containers.ts, fargateMemoryAndCpu.ts).

A task definition component (`name`) has as children: a log group `name` (no retention), a task
role `name-task` and an execution role `name-execution` with the AmazonECSTaskExecutionRolePolicy
attachment, and the `aws.ecs.TaskDefinition` `name` (family `name-<sha1(stack + definitions)>`,
network mode awsvpc; Fargate: cpu/memory the cheapest size fitting the containers). Containers
are sorted by name; each gets its port mappings resolved against their target groups and, unless
it sets one, `awslogs` logging to the log group. A service component (`name`) has the task
definition component `name` (when `taskDefinitionArgs` is given) and the `aws.ecs.Service`
`name` (launch type FARGATE/EC2 unless a capacity provider strategy is given, load balancers
from the port mappings, waitForSteadyState). A Fargate service without `networkConfiguration`
gets a security group `name-sg` in the default VPC open to 0.0.0.0/0 and ::/0 (ingress: all
traffic; egress: all TCP) and the default VPC's private subnets, or its public ones with
`assignPublicIp`.
"""

from __future__ import annotations

from typing import Any

from ..properties import UNKNOWN
from .construct import Args, Construct, ConstructError, Node, Out, lift, opened, plain, reveal
from .ec2 import default_vpc
from .log_groups import default_log_group
from .roles import EXECUTION_ROLE_POLICY, default_role, js_json, sha1_8

# The aws.ecs.TaskDefinition inputs of awsx's task definition args.
TASK_DEFINITION_INPUTS = (
    "cpu",
    "enableFaultInjection",
    "ephemeralStorage",
    "ipcMode",
    "memory",
    "pidMode",
    "placementConstraints",
    "proxyConfiguration",
    "region",
    "runtimePlatform",
    "skipDestroy",
    "tags",
    "trackLatest",
    "volumes",
)
# awsx's own service arguments; the rest of the service args are aws.ecs.Service inputs.
SERVICE_ONLY_ARGS = (
    "assignPublicIp",
    "continueBeforeSteadyState",
    "taskDefinitionArgs",
    "useClusterDefaultCapacityProviderStrategy",
)
OPEN_INGRESS = [{"fromPort": 0, "toPort": 0, "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}]
OPEN_EGRESS = [{"fromPort": 0, "toPort": 65535, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]}]

# Fargate's task sizes (vCPU, GB), in the order awsx searches them: by memory, then vCPU (awsx sorts
# its cost-ordered list in place by vCPU and then by memory when it computes the maxima).
_FARGATE_SIZES = sorted(
    [(0.25, m) for m in (0.5, 1, 2)]
    + [(0.5, m) for m in range(1, 5)]
    + [(1, m) for m in range(2, 9)]
    + [(2, m) for m in range(4, 17)]
    + [(4, m) for m in range(8, 31)]
    + [(8, m) for m in range(16, 61)]
    + [(16, m) for m in range(32, 121)]
    + [(32, m) for m in (60, 120, 244)],
    key=lambda size: (size[1], size[0]),
)


def fargate_size(definitions: list[dict[str, Any]]) -> dict[str, str]:
    """`calculateFargateMemoryAndCPU`: the first size holding the containers' cpu and memory
    (memoryReservation counts before memory)."""
    memory = sum(d.get("memoryReservation") or d.get("memory") or 0 for d in definitions)
    cpu = sum(d.get("cpu") or 0 for d in definitions)
    vcpu, gb = cpu / 1024, memory / 1024
    if vcpu > 32 or gb > 244:
        raise ConstructError(
            f"Requested resources exceed the maximum allowed for Fargate. Requested: {vcpu:g} vCPU and {gb:g}GB. "
            "Max: 32 vCPU and 244GB."
        )
    size = next((s for s in _FARGATE_SIZES if s[0] >= vcpu and s[1] >= gb), None)
    if size is None:
        raise ConstructError(f"Could not find fargate config that could satisfy: {vcpu:g} vCPU and {gb:g}GB.")
    return {"memory": f"{size[1] * 1024:g}", "cpu": f"{size[0] * 1024:g}"}


def _locale_key(name: str) -> tuple[str, str]:
    """Close to JavaScript's `localeCompare` for container names: case-insensitive, lower first."""
    return name.casefold(), name.swapcase()


def _containers(args: Args) -> dict[str, dict[str, Any]] | None:
    """`normalizeTaskDefinitionContainers`: name -> container; None when a name is unknown."""
    container, containers = args.value("container"), args.value("containers")
    if containers is not None and container is None:
        containers = opened(containers)
        if not isinstance(containers, dict):
            raise ConstructError("'containers' must be an object of container definitions")
        return dict(containers)
    if container is not None and containers is None:
        name = reveal(container).get("name") if isinstance(reveal(container), dict) else None
        if name == UNKNOWN:
            return None
        return {name or "container": container}
    raise ConstructError("Exactly one of [container] or [containers] must be provided")


def _mapping(mapping: dict[str, Any], target_group_port: Any) -> dict[str, Any]:
    """`getMappingInputs`."""
    container_port, host_port = mapping.get("containerPort"), mapping.get("hostPort")
    result = {
        "name": mapping.get("name"),
        "containerPortRange": mapping.get("containerPortRange"),
        "appProtocol": mapping.get("appProtocol"),
        "containerPort": _first(container_port, host_port, target_group_port),
        "hostPort": _first(host_port, target_group_port, container_port),
        "protocol": mapping.get("protocol"),
    }
    return {k: v for k, v in result.items() if v is not None}


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _target_group(ctx: Construct, mapping: dict[str, Any]) -> Node | None:
    ref = mapping.get("targetGroup")
    return None if ref is None else ctx.referenced(ref)


def _definition(ctx: Construct, name: str, container: dict[str, Any], log_id: Out | None, deps: tuple[str, ...]) -> Out:
    """`computeContainerDefinition`: the container with resolved port mappings, its name, and
    `awslogs` logging to the default log group unless it configures logging itself."""
    container = opened(container)
    mappings = container.get("portMappings")
    resolved: Out | None = None
    if mappings is not None:
        parts = []
        for mapping in (opened(m) for m in opened(mappings)):
            group = _target_group(ctx, mapping)
            port = group.out("port") if group is not None else Out(None)
            without_ref = {k: v for k, v in mapping.items() if k != "targetGroup"}
            parts.append(lift(_mapping, without_ref, port))
        resolved = lift(lambda *ms: list(ms), *parts)
    rest = {k: v for k, v in container.items() if k != "portMappings"}

    def build(rest: dict[str, Any], mappings: list[dict[str, Any]] | None, log: dict[str, str] | None) -> dict:
        keys = set(rest) | {"name"} | ({"portMappings"} if mappings is not None else set())
        values = {**rest, "portMappings": mappings, "name": name}
        definition = {k: values[k] for k in sorted(keys)}
        if definition.get("logConfiguration") is None and log is not None:
            definition["logConfiguration"] = {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log["logGroupName"],
                    "awslogs-region": log["logGroupRegion"],
                    "awslogs-stream-prefix": name,
                },
            }
        return definition

    return lift(build, Out(rest, deps), resolved, log_id)


def _load_balancers(ctx: Construct, containers: dict[str, Any]) -> Out:
    """`computeLoadBalancers`: one entry per port mapping with a target group."""
    entries = []
    for name, container in containers.items():
        for mapping in reveal(reveal(container).get("portMappings") or []):
            group = _target_group(ctx, mapping)
            if group is not None:
                entries.append(
                    lift(
                        lambda arn, port, name=name: (
                            {"containerName": name, "containerPort": port, "targetGroupArn": arn}
                            if arn is not None and port is not None
                            else None
                        ),
                        group.out("arn"),
                        group.out("port"),
                    )
                )
    return lift(lambda *found: [f for f in found if f is not None], *entries)


def task_definition(ctx: Construct, node: Node, name: str, args: Args, fargate: bool) -> dict[str, Any]:
    """The children of a Fargate/EC2 task definition component `node`; its outputs."""
    containers = _containers(args)
    log_id, log_group = default_log_group(ctx, name, args.sub("logGroup"), node)
    task_role_arn, task_role = default_role(ctx, f"{name}-task", args.sub("taskRole"), [], node)
    execution_role_arn, execution_role = default_role(
        ctx, f"{name}-execution", args.sub("executionRole"), [EXECUTION_ROLE_POLICY], node
    )
    if containers is None:  # a container's name is unknown: everything derived from them is
        definitions, load_balancers = Out(UNKNOWN, args.deps("container")), Out(UNKNOWN, args.deps("container"))
    else:
        key = "container" if "container" in args else "containers"
        ordered = sorted(containers.items(), key=lambda item: _locale_key(item[0]))
        parts = [_definition(ctx, n, c, log_id, args.deps(key)) for n, c in ordered]
        definitions = lift(lambda *ds: list(ds), *parts)
        load_balancers = _load_balancers(ctx, containers)
    container_string = lift(js_json, definitions)
    inputs: dict[str, Any] = dict(args.items(TASK_DEFINITION_INPUTS))
    if fargate:
        size = lift(fargate_size, definitions)
        inputs.setdefault("cpu", lift(lambda s: s["cpu"], size))
        inputs.setdefault("memory", lift(lambda s: s["memory"], size))
        inputs.update(requiresCompatibilities=["FARGATE"], networkMode="awsvpc")
    else:
        inputs.update(networkMode=args.get("networkMode") or "awsvpc", requiresCompatibilities=["EC2"])
    inputs.update(
        taskRoleArn=task_role_arn,
        executionRoleArn=execution_role_arn,
        family=args.get("family") or lift(lambda s: f"{name}-{sha1_8(ctx.stack + s)}", container_string),
        containerDefinitions=container_string,
    )
    task = ctx.register("aws:ecs/taskDefinition:TaskDefinition", name, inputs, node)
    outputs: dict[str, Any] = {
        "taskDefinition": task,
        "logGroup": log_group,
        "taskRole": task_role,
        "executionRole": execution_role,
        "loadBalancers": load_balancers,
    }
    return {k: v for k, v in outputs.items() if v is not None}


def fargate_task_definition(ctx: Construct) -> dict[str, Any]:
    """`awsx:ecs:FargateTaskDefinition`."""
    return task_definition(ctx, ctx.node, ctx.name, ctx.args, fargate=True)


def ec2_task_definition(ctx: Construct) -> dict[str, Any]:
    """`awsx:ecs:EC2TaskDefinition`."""
    return task_definition(ctx, ctx.node, ctx.name, ctx.args, fargate=False)


def _default_network(ctx: Construct, name: str, parent: Node, assign_public_ip: Out | None) -> dict[str, Any]:
    """`getDefaultNetworkConfiguration`: an open security group in the default VPC and its subnets."""
    vpc_id, public, private = default_vpc(ctx)
    group = ctx.register(
        "aws:ec2/securityGroup:SecurityGroup",
        f"{name}-sg",
        {"vpcId": vpc_id, "ingress": OPEN_INGRESS, "egress": OPEN_EGRESS},
        parent,
    )
    assign = assign_public_ip if assign_public_ip is not None else Out(False)

    def subnets(assign: Any) -> list[str]:
        if not assign and not private:
            raise ConstructError(
                "The default VPC does not have any private subnets. Set `assignPublicIp` to `true`, provide "
                "`networkConfiguration`, or add private subnets to the default VPC."
            )
        return public if assign else private

    return {"subnets": lift(subnets, assign), "assignPublicIp": assign, "securityGroups": [group.id]}


def _truthy(value: Any) -> bool:
    """JavaScript truthiness of an argument (an unknown Output is an object: truthy)."""
    value = reveal(plain(value))
    return value == UNKNOWN or isinstance(value, (list, dict)) or bool(value)


def _service(ctx: Construct, fargate: bool) -> dict[str, Any]:
    args, name, node = ctx.args, ctx.name, ctx.node
    if "taskDefinition" in args and "taskDefinitionArgs" in args:
        raise ConstructError("Only one of `taskDefinition` or `taskDefinitionArgs` can be provided.")
    if fargate and "networkConfiguration" in args and "assignPublicIp" in args:
        raise ConstructError("Only one of `networkConfiguration` or `assignPublicIp` can be provided.")
    task_identifier: Out | None = args.get("taskDefinition")
    task: dict[str, Any] | None = None
    if "taskDefinitionArgs" in args:
        kind = "awsx:ecs:FargateTaskDefinition" if fargate else "awsx:ecs:EC2TaskDefinition"
        task_node = ctx.component(kind, name, node)
        task = task_definition(ctx, task_node, name, args.sub("taskDefinitionArgs") or Args({}), fargate)
        task_identifier = task["taskDefinition"].out("arn")
    if task_identifier is None:
        raise ConstructError("Either `taskDefinition` or `taskDefinitionArgs` must be provided.")
    strategies = "capacityProviderStrategies" in args and _truthy(args.value("capacityProviderStrategies"))
    cluster_default = "useClusterDefaultCapacityProviderStrategy" in args and _truthy(
        args.value("useClusterDefaultCapacityProviderStrategy")
    )
    if strategies and cluster_default:
        raise ConstructError(
            "Only one of `capacityProviderStrategies` or `useClusterDefaultCapacityProviderStrategy` can be provided."
        )
    inputs: dict[str, Any] = {"desiredCount": 1} if fargate else {}
    inputs.update(args.items(omit=SERVICE_ONLY_ARGS))
    if fargate:
        inputs["networkConfiguration"] = args.get("networkConfiguration") or _default_network(
            ctx, name, node, args.get("assignPublicIp")
        )
    inputs.update(
        cluster=args.get("cluster"),
        launchType=None if strategies or cluster_default else ("FARGATE" if fargate else "EC2"),
        loadBalancers=args.get("loadBalancers") or (task["loadBalancers"] if task else None),
        waitForSteadyState=lift(lambda c: not c, args.get("continueBeforeSteadyState") or Out(False)),
        taskDefinition=task_identifier,
    )
    service = ctx.register("aws:ecs/service:Service", name, inputs, node)
    outputs: dict[str, Any] = {"service": service}
    if task is not None:
        outputs["taskDefinition"] = task["taskDefinition"]
    return outputs


def fargate_service(ctx: Construct) -> dict[str, Any]:
    """`awsx:ecs:FargateService`."""
    return _service(ctx, fargate=True)


def ec2_service(ctx: Construct) -> dict[str, Any]:
    """`awsx:ecs:EC2Service`."""
    return _service(ctx, fargate=False)
