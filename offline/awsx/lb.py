"""awsx `lb`: Application and Network Load Balancers, expanded as awsx 3.11.0 constructs them
(awsx/lb/applicationLoadBalancer.ts, networkLoadBalancer.ts).

An ALB component `name` has as children: unless security groups are given, a security group
`name` in the load balancer's VPC open to 0.0.0.0/0 and ::/0 (ingress: all traffic; egress: all
TCP); the `aws.lb.LoadBalancer` `name` (type application); a default target group `name` (target
type ip, port/protocol from the single listener or 80/HTTP); listeners `name-0`, `name-1`, ...
(one HTTP:80 listener by default) forwarding to the default target group. An NLB has no security
group, type network, `enableHttp2: false`, `idleTimeout: 0`, and TCP:80 defaults. Without subnets
both sit in the default VPC's public subnets.
"""

from __future__ import annotations

from typing import Any

from ..properties import UNKNOWN
from .construct import Args, Construct, ConstructError, Node, Out, known, lift, opened, reveal
from .ec2 import default_vpc, subnet_vpc_id
from .ecs import OPEN_EGRESS, OPEN_INGRESS

# awsx's own arguments; the rest of the load balancer's args are aws.lb.LoadBalancer inputs.
LB_ONLY_ARGS = (
    "subnetIds",
    "subnets",
    "defaultTargetGroup",
    "defaultTargetGroupPort",
    "defaultSecurityGroup",
    "listener",
    "listeners",
)


def _placement(ctx: Construct, args: Args) -> tuple[Any, Out]:
    """(the load balancer's `subnets` input, the VPC id) from subnets, subnet ids, subnet mappings
    or the default VPC."""
    if sum(k in args for k in ("subnetIds", "subnets", "subnetMappings")) > 1:
        raise ConstructError("Only one of [subnets], [subnetIds] or [subnetMappings] can be specified")
    if "subnets" in args:
        nodes = [ctx.referenced(ref) for ref in reveal(args.value("subnets"))]
        if not nodes:
            raise ConstructError("'subnets' is empty")
        return lift(lambda *ids: list(ids), *(n.id for n in nodes)), nodes[0].out("vpcId")
    for key, first in (("subnetIds", lambda ids: ids[0]), ("subnetMappings", lambda ms: ms[0].get("subnetId"))):
        if key in args:
            value = args.value(key)
            vpc_id = subnet_vpc_id(ctx, first(reveal(value))) if known(value) else Out(UNKNOWN)
            return (args.get("subnetIds") if key == "subnetIds" else None), Out(vpc_id.value, args.deps(key))
    vpc_id, public, _private = default_vpc(ctx)
    return public, Out(vpc_id)


def _listener_protocol(listener: Args | None, default_port: Any = None) -> dict[str, Any]:
    """`getListenerProtocol`: port and protocol, each derived from the other when only one is set."""
    if listener is not None:
        port, protocol = listener.get("port"), listener.get("protocol")
        if port is not None and protocol is not None:
            return {"port": port, "protocol": protocol}
        if port is not None:
            return {"port": port, "protocol": lift(lambda p: "HTTPS" if p == 443 else "HTTP", port)}
        if protocol is not None:
            return {"protocol": protocol, "port": lift(lambda p: 443 if p == "HTTPS" else 80, protocol)}
    return {"port": default_port if default_port is not None else 80, "protocol": "HTTP"}


def _listener_args(args: Args) -> list[Args]:
    return [Args(opened(item), args.deps("listeners")) for item in opened(args.value("listeners", []))]


def _default_protocol(args: Args) -> dict[str, Any] | None:
    """`getDefaultProtocol` (as awsx has it: none for a single `listeners` entry, the first entry's
    for several)."""
    listener = args.sub("listener")
    if "listeners" in args:
        listeners = _listener_args(args)
        if len(listeners) == 1:
            return None
        listener = listeners[0] if listeners else None
    return _listener_protocol(listener, args.get("defaultTargetGroupPort"))


def _listeners(
    ctx: Construct, args: Args, name: str, node: Node, actions: list[dict[str, Any]], lb: Node, defaults: Any
) -> list[Node]:
    """`name-0`, `name-1`, ...: `defaults(listener args or None)` gives each one's port/protocol."""
    if "listener" in args and "listeners" in args:
        raise ConstructError("Only one of [listener] and [listeners] can be specified")
    given = [args.sub("listener")] if "listener" in args else (_listener_args(args) if "listeners" in args else [None])
    nodes = []
    for i, listener in enumerate(given):
        inputs = {"defaultActions": actions, **defaults(listener), **(listener.items() if listener else {})}
        inputs["loadBalancerArn"] = lb.out("arn")
        nodes.append(ctx.register("aws:lb/listener:Listener", f"{name}-{i}", inputs, node))
    return nodes


def application_load_balancer(ctx: Construct) -> dict[str, Any]:
    """`awsx:lb:ApplicationLoadBalancer`."""
    args, name, node = ctx.args, ctx.name, ctx.node
    inputs: dict[str, Any] = dict(args.items(omit=LB_ONLY_ARGS))
    subnets, vpc_id = _placement(ctx, args)
    if subnets is not None:
        inputs["subnets"] = subnets
    if "listener" in args and "listeners" in args:
        raise ConstructError("Only one of [listener] and [listeners] can be specified")
    group_config = args.sub("defaultSecurityGroup") or Args({})
    security_group: Node | None = None
    if "securityGroups" not in args and not group_config.value("skip"):
        if "args" in group_config and "securityGroupId" in group_config:
            raise ConstructError("Only one of [defaultSecurityGroup] [args] or [securityGroupId] can be specified")
        if "securityGroupId" in group_config:
            inputs["securityGroups"] = [group_config.get("securityGroupId")]
        else:
            group_args = group_config.sub("args")
            group_inputs = (
                group_args.items()
                if group_args is not None
                else {"vpcId": vpc_id, "ingress": OPEN_INGRESS, "egress": OPEN_EGRESS}
            )
            security_group = ctx.register("aws:ec2/securityGroup:SecurityGroup", name, group_inputs, node)
            inputs["securityGroups"] = [security_group.id]
    inputs["loadBalancerType"] = "application"
    lb = ctx.register("aws:lb/loadBalancer:LoadBalancer", name, inputs, node)
    if "defaultTargetGroup" in args and "defaultTargetGroupPort" in args:
        raise ConstructError("Only one of `defaultTargetGroup` or `defaultTargetGroupPort` can be provided.")
    protocol = _default_protocol(args) or {}
    target_config = args.sub("defaultTargetGroup") or Args({})
    target_group = ctx.register(
        "aws:lb/targetGroup:TargetGroup",
        name,
        {"vpcId": vpc_id, "targetType": "ip", **protocol, **target_config.items()},
        node,
    )
    actions = [{"type": "forward", "targetGroupArn": target_group.out("arn")}]
    listeners = _listeners(
        ctx,
        args,
        name,
        node,
        actions,
        lb,
        lambda listener: protocol if listener is None or "listener" in args else _listener_protocol(listener),
    )
    outputs: dict[str, Any] = {
        "loadBalancer": lb,
        "defaultTargetGroup": target_group,
        "listeners": listeners,
        "vpcId": vpc_id,
    }
    if security_group is not None:
        outputs["defaultSecurityGroup"] = security_group
    return outputs


def network_load_balancer(ctx: Construct) -> dict[str, Any]:
    """`awsx:lb:NetworkLoadBalancer`."""
    args, name, node = ctx.args, ctx.name, ctx.node
    inputs: dict[str, Any] = dict(args.items(omit=LB_ONLY_ARGS))
    subnets, vpc_id = _placement(ctx, args)
    if subnets is not None:
        inputs["subnets"] = subnets
    if "listener" in args and "listeners" in args:
        raise ConstructError("Only one of [listener] and [listeners] can be specified")
    inputs.update(loadBalancerType="network", enableHttp2=False, idleTimeout=0)
    lb = ctx.register("aws:lb/loadBalancer:LoadBalancer", name, inputs, node)
    if "defaultTargetGroup" in args and "defaultTargetGroupPort" in args:
        raise ConstructError("Only one of `defaultTargetGroup` or `defaultTargetGroupPort` can be provided.")
    target_config = args.sub("defaultTargetGroup") or Args({})
    port = args.get("defaultTargetGroupPort") or 80
    target_group = ctx.register(
        "aws:lb/targetGroup:TargetGroup",
        name,
        {"vpcId": vpc_id, "protocol": "TCP", "port": port, **target_config.items()},
        node,
    )
    actions = [{"type": "forward", "targetGroupArn": target_group.out("arn")}]
    listeners = _listeners(ctx, args, name, node, actions, lb, lambda _listener: {"protocol": "TCP", "port": 80})
    return {"loadBalancer": lb, "defaultTargetGroup": target_group, "listeners": listeners, "vpcId": vpc_id}
