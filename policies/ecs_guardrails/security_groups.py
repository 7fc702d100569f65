"""Rules over security group ingress: inline (aws:ec2/securityGroup), aws:ec2/securityGroupRule and
aws:vpc/securityGroupIngressRule. The normaliser is shared with the stack checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .resource_types import SG, SG_INGRESS, SG_RULE
from .rule import CRITICAL, HIGH, MANDATORY, Controls, Ctx, Rule
from .values import Unknown, as_list, get, to_int

PUBLIC = ("0.0.0.0/0", "::/0")
TYPES = (SG, SG_RULE, SG_INGRESS)


@dataclass
class Ingress:
    """One ingress permission: ports lo..hi (all when all_traffic); sources are CIDRs and SG ids."""

    label: str
    lo: int
    hi: int
    cidrs: list[Any] = field(default_factory=list)
    groups: list[Any] = field(default_factory=list)
    unknown: bool = False

    def covers(self, lo: int, hi: int) -> bool:
        return self.lo <= lo and hi <= self.hi

    def public(self) -> bool:
        return any(c in PUBLIC for c in self.cidrs)


def _ports(proto: Any, lo: Any, hi: Any) -> tuple[int, int, bool]:
    """(lo, hi, unknown); protocol -1/all means every port."""
    if isinstance(proto, Unknown) or isinstance(lo, Unknown) or isinstance(hi, Unknown):
        return 0, 65535, True
    if str(proto).lower() in ("-1", "all"):
        return 0, 65535, False
    if str(proto).lower() in ("icmp", "icmpv6", "1", "58"):
        return -1, -2, False  # no TCP/UDP ports: covers nothing
    a, b = to_int(lo), to_int(hi)
    if a is None and b is None:
        return 0, 65535, False
    a = a if a is not None else b
    b = b if b is not None else a
    if a is not None and a < 0:  # icmp "-1"
        return 0, 65535, False
    return min(a, b), max(a, b), False  # type: ignore[type-var]


def ingress_rules(rtype: str, props: dict[str, Any]) -> list[Ingress]:
    out: list[Ingress] = []
    if rtype == SG:
        for i, r in enumerate(as_list(get(props, "ingress"))):
            lo, hi, unk = _ports(get(r, "protocol"), get(r, "fromPort"), get(r, "toPort"))
            groups = as_list(get(r, "securityGroups")) + (["self"] if get(r, "self") is True else [])
            out.append(
                Ingress(
                    f"ingress[{i}]",
                    lo,
                    hi,
                    as_list(get(r, "cidrBlocks")) + as_list(get(r, "ipv6CidrBlocks")),
                    groups,
                    unk,
                )
            )
    elif rtype == SG_RULE:
        if get(props, "type") != "ingress":
            return out
        lo, hi, unk = _ports(get(props, "protocol"), get(props, "fromPort"), get(props, "toPort"))
        groups = [get(props, "sourceSecurityGroupId")] if get(props, "sourceSecurityGroupId") else []
        out.append(
            Ingress(
                "rule",
                lo,
                hi,
                as_list(get(props, "cidrBlocks")) + as_list(get(props, "ipv6CidrBlocks")),
                groups + (["self"] if get(props, "self") is True else []),
                unk,
            )
        )
    elif rtype == SG_INGRESS:
        lo, hi, unk = _ports(get(props, "ipProtocol"), get(props, "fromPort"), get(props, "toPort"))
        cidrs = [c for c in (get(props, "cidrIpv4"), get(props, "cidrIpv6")) if c]
        groups = [get(props, "referencedSecurityGroupId")] if get(props, "referencedSecurityGroupId") else []
        out.append(Ingress("rule", lo, hi, cidrs, groups, unk))
    return out


def _fmt(r: Ingress) -> str:
    ports = (
        "all ports"
        if (r.lo, r.hi) == (0, 65535)
        else (f"port {r.lo}" if r.lo == r.hi else f"ports {r.lo}-{r.hi}")
    )
    where = "" if r.label == "rule" else f"{r.label} "
    return f"{where}({ports} from {', '.join(c for c in r.cidrs if c in PUBLIC)})"


def check_admin_ports(ctx: Ctx) -> Iterator[str]:
    ports = [p for p in (to_int(x) for x in as_list(ctx.cfg.get("adminPorts"))) if p is not None]
    for r in ingress_rules(ctx.type, ctx.props):
        if r.unknown or not r.public():
            continue
        hit = [p for p in ports if r.covers(p, p)]
        if hit:
            yield (
                f"ingress {_fmt(r)} opens {', '.join(map(str, hit))} to the internet: use SSM "
                "Session Manager or "
                "restrict the source to a known CIDR"
            )


def check_public_ingress(ctx: Ctx) -> Iterator[str]:
    allowed = {p for p in (to_int(x) for x in as_list(ctx.cfg.get("allowedPublicPorts"))) if p is not None}
    for r in ingress_rules(ctx.type, ctx.props):
        if r.unknown or not r.public():
            continue
        if not (r.hi - r.lo < 1024 and all(p in allowed for p in range(r.lo, r.hi + 1))):
            yield (
                f"ingress {_fmt(r)} is open to the internet beyond ports {sorted(allowed)}: "
                "restrict the source "
                "to the load balancer's security group or a known CIDR"
            )


RULES = [
    Rule(
        name="sg-no-admin-ports-from-internet",
        description="No SSH (22) or RDP (3389) ingress from 0.0.0.0/0 or ::/0.",
        level=MANDATORY,
        severity=CRITICAL,
        resource_types=TYPES,
        check=check_admin_ports,
        remediation_steps="Remove the rule; use SSM Session Manager for shell access.",
        config={
            "adminPorts": {
                "type": "array",
                "items": {"type": "integer"},
                "default": [22, 3389],
                "description": "Ports that must never be open to the internet.",
            }
        },
        controls=Controls(fsbp=("EC2.13", "EC2.14"), checkov=("CKV_AWS_24", "CKV_AWS_25")),
    ),
    Rule(
        name="sg-no-public-ingress",
        description=(
            "No 0.0.0.0/0 or ::/0 ingress except the allowed ports (80/443 for load balancers; see "
            "sg-public-ingress-only-on-load-balancers)."
        ),
        level=MANDATORY,
        severity=HIGH,
        resource_types=TYPES,
        check=check_public_ingress,
        remediation_steps="Restrict the source to a security group or a known CIDR.",
        config={
            "allowedPublicPorts": {
                "type": "array",
                "items": {"type": "integer"},
                "default": [80, 443],
                "description": "Ports that may be open to the internet.",
            }
        },
        controls=Controls(fsbp=("EC2.18", "EC2.19"), cdk_nag=("AwsSolutions-EC23",)),
    ),
]
