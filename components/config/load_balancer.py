"""The `load_balancer` key: the stack's one ALB, its TLS, access logs and WAF."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from .base import Problem, Strict

DEFAULT_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# ELB policies with TLS 1.3 that the policy pack accepts (names as the ELBv2 API lists them).
TlsPolicy = Literal[
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
]


class AccessLogsConfig(Strict):
    """ALB access logs to an S3 bucket the stack creates (SSE-S3, the only encryption ALB log
    delivery supports; public access blocked; bucket-owner-enforced; objects expire)."""

    prefix: str | None = Field(
        "alb", pattern=r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$",
        description="Key prefix of the log objects (without AWSLogs, no leading or trailing /); "
        "null: none (logs go to AWSLogs/<account>/ at the bucket's root).",
    )
    expiration_days: int = Field(90, ge=1, le=36500, description="Days before log objects are deleted.")
    force_destroy: bool = Field(
        False, description="Let `pulumi destroy` delete the bucket with its logs (dev stacks: true).")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and "AWSLogs" in value:
            raise ValueError("ELB adds AWSLogs/<account>/ itself: the prefix must not contain AWSLogs")
        return value


class LoadBalancerConfig(Strict):
    """The one Application Load Balancer shared by every service of the stack."""

    internal: bool = Field(False, description="Internal ALB in the private subnets instead of internet-facing.")
    ingress_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, description="CIDRs admitted on 80/443."
    )
    certificate_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$",
        description="ACM certificate: adds HTTPS on 443 and turns port 80 into a redirect.",
    )
    ssl_policy: TlsPolicy = Field(DEFAULT_TLS_POLICY, description="TLS policy of HTTPS.")
    deletion_protection: bool = Field(False, description="ALB deletion protection (prod: true).")
    idle_timeout: int = Field(60, ge=1, le=4000, description="Idle connection timeout, seconds.")
    access_logs: AccessLogsConfig | None = Field(None, description="Access logs to a new S3 bucket; absent: off.")
    web_acl_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[\w-]{1,128}/[0-9a-f-]{36}$",
        description="Regional WAFv2 web ACL to associate with the ALB (managed elsewhere).",
    )

    @field_validator("ingress_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value)
            except ValueError as e:
                raise ValueError(f"{value!r} is not a CIDR ({e})") from None
        return values

    def problems(self, at: str) -> list[Problem]:
        if self.certificate_arn is None and self.ssl_policy != DEFAULT_TLS_POLICY:
            return [(f"{at}.ssl_policy", "applies to HTTPS only: set certificate_arn too")]
        return []
