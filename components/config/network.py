"""The `network` key: a new VPC or an existing one's ids."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator

from .base import Problem, Strict


class NetworkConfig(Strict):
    """A new VPC (awsx) when `vpc_id` is absent; otherwise the given VPC and subnets."""

    vpc_id: str | None = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$", description="Existing VPC to use.")
    public_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list, description="Existing public subnets (ALB), with `vpc_id`; at least two."
    )
    private_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list, description="Existing private subnets (instances, tasks), with `vpc_id`; at least two."
    )
    cidr_block: str = Field("10.0.0.0/16", description="CIDR of a new VPC (/16 to /24).")
    availability_zones: int = Field(2, ge=2, le=6, description="AZs of a new VPC.")
    nat_gateways: Literal["single", "one_per_az"] = Field(
        "single", description="NAT gateways of a new VPC: one shared (cheap) or one per AZ (resilient)."
    )

    @field_validator("cidr_block")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value)
        except ValueError as e:
            raise ValueError(f"not an IPv4 CIDR ({e})") from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError("a VPC CIDR must be between /16 and /24")
        return value

    def problems(self, at: str) -> list[Problem]:
        """An existing VPC comes with its subnets, two AZs at least; subnets come with their VPC."""
        problems: list[Problem] = []
        if self.vpc_id:
            for key in ("public_subnet_ids", "private_subnet_ids"):
                if len(getattr(self, key)) < 2:
                    problems.append((f"{at}.{key}", "an existing VPC needs at least two subnets (two AZs)"))
        elif self.public_subnet_ids or self.private_subnet_ids:
            problems.append((f"{at}.vpc_id", "subnet ids are given, so the VPC id they belong to is required"))
        return problems
