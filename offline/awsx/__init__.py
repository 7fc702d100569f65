"""Offline expansion of awsx v3 components: what the awsx provider's `Construct` registers.

Emulates pulumi-awsx 3.11.0 (requirements.txt), whose `awsx/` TypeScript implementation is the
tree at pulumi/pulumi-awsx commit 1ec00c949b342126ba2a1981126e3cf0accd7dd6 (the commit whose
generated Python SDK is byte-identical to the released 3.11.0 wheel; `awsx/` is unchanged up to
the repository's head). One module per awsx area: `ec2` (Vpc, DefaultVpc; subnet layouts in
`subnets`), `ecs` (services, task definitions; their `roles` and `log_groups`), `lb`, `ecr`.

Owns: the table of emulated component types and turning a component function's result (children,
values) into what the engine answers the SDK: outputs in wire form (children as resource
references) and the property dependencies of each output. Any other remote component is not
expanded: `construct` returns None and the engine reports it as not analysed.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import ec2, ecr, ecs, lb
from .construct import Construct, ConstructError, Node, Out

if TYPE_CHECKING:
    from ..engine import RecordingMonitor, Registration

AWSX_VERSION = "3.11.0"
AWSX_COMMIT = "1ec00c949b342126ba2a1981126e3cf0accd7dd6"

COMPONENTS: dict[str, Callable[[Construct], dict[str, Any]]] = {
    "awsx:ec2:Vpc": ec2.vpc,
    "awsx:ec2:DefaultVpc": ec2.default_vpc_component,
    "awsx:ecs:FargateService": ecs.fargate_service,
    "awsx:ecs:EC2Service": ecs.ec2_service,
    "awsx:ecs:FargateTaskDefinition": ecs.fargate_task_definition,
    "awsx:ecs:EC2TaskDefinition": ecs.ec2_task_definition,
    "awsx:lb:ApplicationLoadBalancer": lb.application_load_balancer,
    "awsx:lb:NetworkLoadBalancer": lb.network_load_balancer,
    "awsx:ecr:Repository": ecr.repository,
    "awsx:ecr:Image": ecr.image,
}


@dataclass
class ConstructResult:
    outputs: dict[str, Any]  # wire form, as the SDK receives a remote component's outputs
    property_dependencies: dict[str, list[str]]


def is_emulated(type_: str) -> bool:
    return type_ in COMPONENTS


def not_analysed_message(type_: str, name: str, urn: str) -> str:
    return (
        f"{type_} '{name}' is a remote component the offline preview cannot expand: its children are not "
        f"registered and not analysed ({urn})"
    )


def _wire(value: Any, deps: dict[str, None]) -> Any:
    if isinstance(value, Node):
        deps[value.urn] = None
        return value.ref()
    if isinstance(value, Out):
        deps.update(dict.fromkeys(value.deps))
        return _wire(value.value, deps)
    if isinstance(value, list):
        return [_wire(v, deps) for v in value]
    if isinstance(value, dict):
        return {k: w for k, v in value.items() if (w := _wire(v, deps)) is not None}
    return value


def construct(monitor: RecordingMonitor, component: Registration, request: Any) -> ConstructResult | None:
    """Register the children of an emulated remote component; None for any other type.

    Raises ConstructError where awsx would fail (and for a failure of the emulation itself)."""
    build = COMPONENTS.get(component.type)
    if build is None:
        return None
    try:
        raw = build(Construct(monitor, component, request))
    except ConstructError:
        raise
    except Exception as e:  # a bug of the emulation: name it and where, not a bare traceback
        frame = traceback.extract_tb(e.__traceback__)[-1]
        raise ConstructError(f"the offline emulation failed ({type(e).__name__}: {e} at {frame.filename}:{frame.lineno})") from e
    outputs: dict[str, Any] = {}
    dependencies: dict[str, list[str]] = {}
    for key, value in raw.items():
        deps: dict[str, None] = {}
        wired = _wire(value, deps)
        if wired is not None:
            outputs[key] = wired
            dependencies[key] = list(deps)
    return ConstructResult(outputs, dependencies)


__all__ = ["AWSX_VERSION", "COMPONENTS", "ConstructError", "ConstructResult", "construct", "is_emulated"]
