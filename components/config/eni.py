"""How many awsvpc tasks an EC2 container instance holds, and the cluster-wide check that the
Auto Scaling groups can place every awsvpc task the services and scheduled tasks may run.

Each awsvpc task on EC2 takes an elastic network interface (ENI) of its instance; the instance's
primary ENI counts against the limit, so an instance holds `maximum ENIs - 1` such tasks. With the
`awsvpcTrunking` account setting, instances launched afterwards get a trunk ENI and many more
task ENIs, on the instance types ECS lists.

Sources (read 2026; add a type here, with both numbers from these sources, to use it with awsvpc):
- tasks without trunking: EC2 `DescribeInstanceTypes` NetworkInfo.MaximumNetworkInterfaces minus
  one, as recorded in aws/amazon-vpc-resource-controller-k8s `pkg/aws/vpc/limits.go` (generated
  from that API on 2026-03-20);
- tasks with trunking: the Amazon ECS Developer Guide, "Elastic network interface trunking",
  table "Supported Amazon EC2 instance types" (awsdocs/amazon-ecs-developer-guide,
  doc_source/container-instance-eni.md). Types that table does not list count without trunking:
  burstable families (t3, t3a, t4g) are not supported; m7i, m7a, c7i and r7i are newer than the
  copy read, so their trunking limit is not claimed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..aws_limits import instance_type
from .base import Problem


@dataclass(frozen=True)
class AwsvpcTaskLimit:
    """awsvpc tasks one instance holds: without trunking, and with it (None: not documented)."""

    without_trunking: int
    with_trunking: int | None

    def tasks(self, trunking: bool) -> int:
        return self.with_trunking if trunking and self.with_trunking is not None else self.without_trunking


def _family(name: str, sizes: dict[str, tuple[int, int | None]]) -> dict[str, AwsvpcTaskLimit]:
    return {f"{name}.{size}": AwsvpcTaskLimit(*limits) for size, limits in sizes.items()}


# (maximum ENIs - 1, ECS trunking task limit) per size; the same for every family listed with it.
_BURSTABLE = {"nano": (1, None), "micro": (1, None), "small": (2, None), "medium": (2, None),
              "large": (2, None), "xlarge": (3, None), "2xlarge": (3, None)}
_NITRO = {"large": (2, 10), "xlarge": (3, 20), "2xlarge": (3, 40), "4xlarge": (7, 60)}
_GRAVITON = {"medium": (1, 4), **_NITRO}
_UNLISTED = {size: (tasks, None) for size, (tasks, _) in _NITRO.items()}

AWSVPC_TASK_LIMITS: dict[str, AwsvpcTaskLimit] = {
    **_family("t3", _BURSTABLE),
    **_family("t3a", {**_BURSTABLE, "small": (1, None)}),  # t3a.small: 2 ENIs (t3.small: 3)
    **_family("t4g", _BURSTABLE),
    **{k: v for f in ("m5", "m5a", "m6a", "m6i", "c5", "c6a", "c6i", "r5", "r6i") for k, v in _family(f, _NITRO).items()},
    **{k: v for f in ("m6g", "m7g", "c6g", "c7g", "r6g", "r7g") for k, v in _family(f, _GRAVITON).items()},
    **{k: v for f in ("m7i", "m7a", "c7i", "r7i") for k, v in _family(f, _UNLISTED).items()},
    "m7a.medium": AwsvpcTaskLimit(1, None),
}


@dataclass(frozen=True)
class AwsvpcGroup:
    """One Auto Scaling group of the cluster as the check sees it."""

    at: str  # its key path, e.g. `cluster` or `cluster.additional_capacity_providers.spot`
    instance_types: list[str]
    max_size: int


def awsvpc_capacity_problems(groups: list[AwsvpcGroup], trunking: bool, demand: dict[str, int],
                             trunking_key: str) -> list[Problem]:
    """`demand`: awsvpc tasks on EC2 at their peak, by key path (a service's autoscaling maximum or
    desired count with its deployment's maximum_percent headroom; a scheduled task's task_count).
    A group may launch any of its types, so each instance counts with its group's smallest limit."""
    need = sum(demand.values())
    if need == 0:
        return []
    problems: list[Problem] = []
    holds: list[tuple[AwsvpcGroup, int]] = []
    uncatalogued = False
    for group in groups:
        # A type the AWS limits catalogue lacks is reported once, by that check (stack.py): not here again;
        # its group's capacity is then unknown, and the config already refused.
        if any(instance_type(t) is None for t in group.instance_types):
            uncatalogued = True
            continue
        unknown = [t for t in group.instance_types if t not in AWSVPC_TASK_LIMITS]
        if unknown:
            problems.append((f"{group.at}.instance_types", f"no awsvpc task limit known for {', '.join(unknown)}: "
                             "add the type to components/config/eni.py (EC2 maximum ENIs, ECS trunking table)"))
            continue
        per_instance = min(AWSVPC_TASK_LIMITS[t].tasks(trunking) for t in group.instance_types)
        holds.append((group, per_instance))
    if problems or uncatalogued:
        return problems
    capacity = sum(group.max_size * per_instance for group, per_instance in holds)
    if need <= capacity:
        return []
    wanted = ", ".join(f"{key} {count}" for key, count in sorted(demand.items()))
    held = "; ".join(f"{g.max_size} x {min(g.instance_types, key=lambda t: AWSVPC_TASK_LIMITS[t].tasks(trunking))} "
                     f"at {per} each" for g, per in holds)
    first, per_first = holds[0]
    more = math.ceil((need - capacity) / per_first)
    trunk = "" if trunking else f", or set {trunking_key}: true with types ECS trunks (components/config/eni.py)"
    return [(f"{first.at}.max_size", f"awsvpc tasks at their peak need {need} ENIs ({wanted}) but the groups hold "
             f"{capacity} ({held}; trunking {'on' if trunking else 'off'}): raise max_size by {more}, "
             f"choose instance types with more ENIs{trunk}")]
