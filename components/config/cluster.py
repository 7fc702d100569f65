"""The `cluster` key: the ECS cluster's EC2 capacity, and the capacity provider strategies that
services and scheduled tasks choose from."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from .base import Name, Problem, Strict
from .eni import AwsvpcGroup

EC2_PROVIDER = "ec2"  # the cluster's own Auto Scaling group capacity provider, in strategies
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")

Architecture = Literal["x86_64", "arm64"]


def architecture_of(instance_type: str) -> Architecture:
    """arm64 for a Graviton family (a `g` after the generation: t4g, m7gd, c6gn), else x86_64."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if re.match(r"^[a-z]+\d+[a-z]*g[a-z]*$", family) else "x86_64"


class CapacityProviderStrategyItem(Strict):
    """One entry of a capacity provider strategy."""

    capacity_provider: str = Field(
        description="`ec2` (the cluster's Auto Scaling group), a name from cluster.additional_capacity_providers, "
        "`FARGATE` or `FARGATE_SPOT`.",
    )
    weight: int = Field(1, ge=0, le=1000, description="Relative share of tasks placed on this provider.")
    base: int = Field(0, ge=0, le=100000, description="Tasks placed here first (one entry per strategy at most).")


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

    def problems(self, at: str) -> list[Problem]:
        if self.max_healthy_percentage - self.min_healthy_percentage > 100:
            return [(f"{at}.max_healthy_percentage", "may exceed min_healthy_percentage by at most 100")]
        return []


class WarmPoolConfig(Strict):
    """Pre-initialised instances next to the group (one on-demand instance type only)."""

    pool_state: Literal["Stopped", "Running", "Hibernated"] = Field(
        "Stopped", description="State of warm instances (`Hibernated` turns on hibernation in the launch template).")
    min_size: int = Field(0, ge=0, le=1000, description="Instances kept in the pool at least.")
    max_group_prepared_capacity: int | None = Field(
        None, ge=-1, le=1000, description="Group plus pool at most; default: the group's max_size.")
    reuse_on_scale_in: bool = Field(
        False, description="Must stay false: ECS refuses ReuseOnScaleIn on a capacity provider's group.")

    def problems(self, at: str) -> list[Problem]:
        problems: list[Problem] = []
        prepared = self.max_group_prepared_capacity
        if prepared not in (None, -1) and prepared < self.min_size:
            problems.append((f"{at}.max_group_prepared_capacity", "must be at least min_size"))
        if self.reuse_on_scale_in:
            problems.append((f"{at}.reuse_on_scale_in", "ECS does not let a capacity provider's Auto Scaling group "
                             "return instances to the warm pool on scale-in (ReuseOnScaleIn): remove it"))
        return problems


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

    def problems(self, at: str, architecture: Architecture) -> list[Problem]:
        """`architecture`: the cluster's, whose launch template this group shares."""
        problems: list[Problem] = []
        if not self.min_size <= self.desired_capacity <= self.max_size:
            problems.append((f"{at}.desired_capacity", f"must lie in min_size..max_size ({self.min_size}..{self.max_size})"))
        if {architecture_of(t) for t in self.instance_types} != {architecture}:
            problems.append((f"{at}.instance_types", f"must match the cluster's architecture ({architecture}): "
                             "the groups share one launch template"))
        return problems


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
        False, description="`destroy` deletes the groups at once, instances and lifecycle hooks included "
        "(dev: true); false drains them first (up to an hour: ECS's managed draining hook).",
    )
    awsvpc_trunking: bool = Field(
        False, description="Turn on the account's `awsvpcTrunking` default (kept on destroy): instances "
        "launched afterwards hold more awsvpc tasks (m6i.large: 10 instead of 2; types ECS lists only).",
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

    def awsvpc_groups(self, at: str) -> list[AwsvpcGroup]:
        """The cluster's own group and the additional ones, for the stack's awsvpc capacity check."""
        return [AwsvpcGroup(at, list(self.instance_types), self.max_size)] + [
            AwsvpcGroup(f"{at}.additional_capacity_providers.{key}", list(extra.instance_types), extra.max_size)
            for key, extra in self.additional_capacity_providers.items()
        ]

    @property
    def architecture(self) -> Architecture:
        return architecture_of(self.instance_types[0])

    def problems(self, at: str) -> list[Problem]:
        """Group sizes, one architecture, a default strategy ECS accepts, and what a warm pool excludes."""
        problems: list[Problem] = []
        if not self.min_size <= self.desired_capacity <= self.max_size:
            problems.append((f"{at}.desired_capacity", f"must lie in min_size..max_size ({self.min_size}..{self.max_size})"))
        if len({architecture_of(t) for t in self.instance_types}) > 1:
            problems.append((f"{at}.instance_types", "mixes arm64 (Graviton) and x86_64 types: use one architecture"))
        for key, extra in self.additional_capacity_providers.items():
            extra_at = f"{at}.additional_capacity_providers.{key}"
            if key == EC2_PROVIDER:
                problems.append((extra_at, f"{EC2_PROVIDER!r} names the cluster's own group: choose another name"))
            problems += extra.problems(extra_at, self.architecture)
        strategy = self.default_strategy
        if sum(1 for i in strategy if i.base > 0) > 1:
            problems.append((f"{at}.base", "only one provider of the default strategy may have a base"))
        if not any(i.weight > 0 for i in strategy):
            problems.append((f"{at}.weight", "at least one provider of the default strategy needs a weight above 0"))
        if self.instance_refresh is not None:
            problems += self.instance_refresh.problems(f"{at}.instance_refresh")
        if self.warm_pool is not None:
            if self.uses_spot:
                problems.append((f"{at}.warm_pool", "a warm pool does not work with spot instances: "
                                 "set on_demand_percentage_above_base to 100 or remove the warm pool"))
            if len(self.instance_types) > 1:
                problems.append((f"{at}.warm_pool", "a warm pool does not work with a mixed instances policy: "
                                 "use one instance type or remove the warm pool"))
            problems += self.warm_pool.problems(f"{at}.warm_pool")
        return problems
