"""awsx `Vpc` subnet layouts: which subnets a VPC gets, their names and CIDR blocks, per strategy.

Owns: the subnet specs awsx 3.11.0 derives from a VPC's CIDR block, its availability zones and the
`subnetSpecs` / `subnetStrategy` / `availabilityZoneCidrMask` / `subnetNameTagStrategy` arguments
(awsx/ec2/subnetDistributorLegacy.ts, subnetDistributorNew.ts, subnetNaming.ts, and the
validation and layout helpers of vpc.ts), as plain data. Pure functions: no resources here.

- Legacy (the default): the VPC is split evenly between the AZs (a power of two of blocks); per
  AZ, private subnets first (/19 by default), then public (/20), then isolated (/24). Without
  specs: one private and one public subnet per AZ, all private subnets listed first.
- Auto: per AZ, the specs in the given order, packed from the AZ's base (defaults: private and
  public, the AZ block split evenly); AutoMerge merges the given specs into the default pair.
- Explicit `cidrBlocks` per spec (Exact/Auto with blocks): taken as given.
CIDR arithmetic follows the JavaScript libraries awsx uses (`ip-address`, `netmask`), quirks
included (a netmask's "last" address is the last host, not the broadcast address).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .construct import ConstructError

_AZ_REGION_PREFIX = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-")
VALID_SIZES = [2 ** (32 - mask) for mask in range(0, 31)]  # index = netmask


@dataclass
class SubnetSpec:
    """One subnet to create (or an Unused gap): awsx's SubnetSpec."""

    type: str
    az_name: str
    resource_name: str
    name_tag: str
    cidr_block: str | None  # None: not known until the VPC's CIDR block is (IPAM)
    assign_ipv6: Any = None
    tags: Any = None


@dataclass
class NormalizedSpecs:
    specs: list[dict[str, Any]]
    explicit: bool


@dataclass
class Layout:
    specs: list[SubnetSpec]
    resolved: list[dict[str, Any]] = field(default_factory=list)  # the `subnetLayout` output


# ---- IPv4 arithmetic, as `ip-address` and `netmask` do it -------------------------------------------


def _ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def _dotted(value: int) -> str:
    return str(ipaddress.IPv4Address(value & 0xFFFFFFFF))


def _split(cidr: str) -> tuple[int, int]:
    """Address (as given, not masked) and prefix length of `a.b.c.d/n`."""
    address, _, mask = cidr.partition("/")
    return _ip(address), int(mask) if mask else 32


class Netmask:
    """`netmask`'s Netmask: the block containing `address` with prefix `bitmask`."""

    def __init__(self, address: str | int, bitmask: int | None = None) -> None:
        if isinstance(address, str):
            text, _, mask = address.partition("/")
            if bitmask is None:
                bitmask = int(mask) if mask else 32
            address = _ip(text)
        assert bitmask is not None
        self.bitmask = bitmask
        mask_long = (0xFFFFFFFF << (32 - bitmask)) & 0xFFFFFFFF if bitmask else 0
        self.net = address & mask_long
        self.size = 2 ** (32 - bitmask)

    @property
    def base(self) -> str:
        return _dotted(self.net)

    @property
    def first(self) -> int:
        return self.net + 1 if self.bitmask <= 30 else self.net

    @property
    def last(self) -> int:
        return self.net + self.size - 2 if self.bitmask <= 30 else self.net + self.size - 1

    @property
    def end(self) -> int:
        return self.net + self.size - 1

    def next(self) -> Netmask:
        return Netmask(self.net + self.size, self.bitmask)

    def contains(self, address: int) -> bool:
        return self.net <= address <= self.end

    def __str__(self) -> str:
        return f"{self.base}/{self.bitmask}"


def cidr_subnet(cidr: str, new_bits: int, net_num: int) -> str:
    """`cidrSubnetV4`: the `net_num`-th block of `new_bits` more bits, counted from the address."""
    address, mask = _split(cidr)
    new_mask = mask + new_bits
    if new_mask > 32:
        raise ConstructError(f"Requested {new_bits} new bits, but only {32 - mask} are available.")
    return f"{_dotted(address + 2 ** (32 - new_mask) * net_num)}/{new_mask}"


def _range(cidr: str) -> tuple[int, int]:
    address, mask = _split(cidr)
    block = Netmask(address, mask)
    return block.net, block.end


def _overlapping(a: str, b: str) -> bool:
    a_start, a_end = _range(a)
    b_start, b_end = _range(b)
    return a_start <= b_end and b_start <= a_end


def _next_block(previous: str, mask: int) -> str:
    """`nextBlock`: the first block of `mask` after the end of `previous`."""
    last = _range(previous)[1]
    return f"{_dotted(Netmask(last, mask).end + 1)}/{mask}"


def _next_netmask(previous: Netmask, bitmask: int) -> Netmask:
    return Netmask(previous.last, bitmask).next()


def new_bits(count: int) -> int:
    return 0 if count == 0 else math.ceil(math.log2(count))


def _next_pow2(n: int) -> int:
    return 1 if n == 0 else 1 << (n - 1).bit_length()


# ---- names --------------------------------------------------------------------------------------------


def az_suffix(az_name: str) -> str:
    return _AZ_REGION_PREFIX.sub("", az_name) if _AZ_REGION_PREFIX.match(az_name) else az_name


def subnet_names(vpc_name: str, spec: dict[str, Any], az_num: int, az_name: str, strategy: str) -> tuple[str, str]:
    """(resource name, Name tag): the resource name is always index-based."""
    spec_name = spec.get("name") or spec["type"].lower()
    tag_suffix = az_suffix(az_name) if strategy == "AvailabilityZone" else str(az_num)
    return f"{vpc_name}-{spec_name}-{az_num}", f"{vpc_name}-{spec_name}-{tag_suffix}"


def validate_az_suffixes(az_names: list[str]) -> None:
    seen: dict[str, str] = {}
    for az in az_names:
        suffix = az_suffix(az)
        if suffix in seen:
            raise ConstructError(
                'subnetNameTagStrategy="AvailabilityZone" requires availability zones with distinct suffixes, '
                f'but "{seen[suffix]}" and "{az}" both reduce to "{suffix}".'
            )
        seen[suffix] = az


def _spec(vpc: str, s: dict[str, Any], cidr: str | None, az: str, num: int, strategy: str) -> SubnetSpec:
    resource_name, name_tag = subnet_names(vpc, s, num, az, strategy)
    return SubnetSpec(s["type"], az, resource_name, name_tag, cidr, s.get("assignIpv6AddressOnCreation"), s.get("tags"))


# ---- spec validation and normalisation ---------------------------------------------------------------


def normalize(specs: list[dict[str, Any]] | None, az_count: int) -> NormalizedSpecs | None:
    """`validateAndNormalizeSubnetInputs`."""
    if specs is None:
        return None
    issues: list[str] = []
    by_type: dict[str, list[dict[str, Any]]] = {}
    for s in specs:
        by_type.setdefault(s["type"].lower(), []).append(s)
    for type_, group in by_type.items():
        names = [s.get("name") for s in group]
        named = [n for n in names if n is not None]
        if len(group) > 1 and (names.count(None) > 1 or len(set(named)) < len(named)):
            issues.append(
                f'Multiple subnet specs of type "{type_}" require unique names. You can have at most one unnamed '
                'subnet per type. All other subnets of the same type must have unique "name" properties to avoid '
                "duplicate resource names."
            )
    bad_sizes = [s["size"] for s in specs if s.get("size") is not None and s["size"] not in VALID_SIZES]
    if bad_sizes:
        issues.append(f"The following subnet sizes are invalid: {', '.join(map(str, bad_sizes))}.")
    if any(s.get("cidrBlocks") is not None for s in specs):
        explicit = []
        for i, s in enumerate(specs):
            blocks = s.get("cidrBlocks")
            if blocks is None:
                issues.append("If any subnet spec has explicit cidrBlocks, all subnets must have explicit cidrBlocks.")
                continue
            if len(blocks) != az_count:
                issues.append(
                    f"The number of CIDR blocks in subnetSpecs[{i}] must match the number of availability zones ({az_count})."
                )
                continue
            masks = [Netmask(b) for b in blocks]
            if s.get("cidrMask") is not None and any(m.bitmask != s["cidrMask"] for m in masks):
                issues.append(f"The cidrMask in subnetSpecs[{i}] must match all cidrBlocks or be left undefined.")
                continue
            if s.get("size") is not None and any(m.size != s["size"] for m in masks):
                issues.append(f"The size in subnetSpecs[{i}] must match all cidrBlocks or be left undefined.")
                continue
            explicit.append(s)
        if not issues:
            return NormalizedSpecs(explicit, True)
    else:
        normalized = []
        for s in specs:
            mask = s.get("cidrMask")
            if mask is None and s.get("size"):
                mask = VALID_SIZES.index(s["size"]) if s["size"] in VALID_SIZES else None
            expected = VALID_SIZES[mask] if mask else None
            if s.get("size") is not None and expected is not None and expected != s["size"]:
                issues.append(f"Subnet size {s['size']} does not match the expected size for a /{mask} subnet ({expected}).")
            normalized.append({**s, "cidrMask": mask, "size": expected})
        if not issues:
            return NormalizedSpecs(normalized, False)
    raise ConstructError("Invalid subnet specifications:\n - " + "\n - ".join(issues))


# ---- allocators ---------------------------------------------------------------------------------------


def legacy(vpc: str, cidr: str, azs: list[str], specs: list[dict[str, Any]] | None, strategy: str) -> list[SubnetSpec]:
    """`getSubnetSpecsLegacy` (the VPC call never passes an AZ CIDR mask)."""
    bits_per_az = int(math.log2(_next_pow2(len(azs))))
    bases = [cidr_subnet(cidr, bits_per_az, i) for i in range(len(azs))]
    if specs is None:
        private = [_spec(vpc, {"type": "Private"}, cidr_subnet(bases[i], 1, 0), az, i + 1, strategy) for i, az in enumerate(azs)]
        public = [
            _spec(vpc, {"type": "Public"}, cidr_subnet(cidr_subnet(p.cidr_block or "", 0, 1), 1, 0), az, i + 1, strategy)
            for i, (az, p) in enumerate(zip(azs, private, strict=True))
        ]
        return private + public
    base_mask = _split(bases[0])[1]
    bits_per_subnet = 0 if len(specs) == 1 else 1
    out: list[SubnetSpec] = []
    for i, az in enumerate(azs):
        current = f"{_dotted(_split(bases[i])[0] - 1)}/32"  # one address before the AZ's block
        made: dict[str, list[SubnetSpec]] = {"private": [], "public": [], "isolated": []}
        for kind, floor in (("private", 19), ("public", 20), ("isolated", 24)):
            # Each kind starts after the last subnet of the kinds before it (or at the AZ's base).
            if kind == "private":
                previous: list[SubnetSpec] = []
            elif kind == "public":
                previous = made["private"]
            else:
                previous = made["public"] or made["private"]
            for j, s in enumerate(x for x in specs if x["type"].lower() == kind):
                mask = s["cidrMask"] if s.get("cidrMask") is not None else max(base_mask + bits_per_subnet, floor)
                base_cidr = previous[-1].cidr_block if previous else bases[i]
                assert base_cidr is not None
                split_base = cidr_subnet(base_cidr, 0, 1) if previous else bases[i]
                candidate = cidr_subnet(split_base, mask - _split(base_cidr)[1], j)
                if _overlapping(current, candidate):
                    candidate = _next_block(current, mask)
                made[kind].append(_spec(vpc, {**s, "type": kind.capitalize()}, candidate, az, i + 1, strategy))
                current = candidate
        out += made["private"] + made["public"] + made["isolated"]
    return out


def _default_specs(az_bitmask: int) -> list[dict[str, Any]]:
    if az_bitmask > 26:
        raise ConstructError(
            f"Automatic subnet creation requires a VPC with at least /26 available per AZ, but only /{az_bitmask} is "
            "available.If you do need very small subnets, please specify them explicitly."
        )
    widest = max(az_bitmask, 16)
    return [{"type": "Private", "cidrMask": widest + 1}, {"type": "Public", "cidrMask": widest + 2}]


_BARE = [{"type": "Private"}, {"type": "Public"}]


def merge_with_defaults(user: list[dict[str, Any]], defaults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`mergeWithDefaultSubnetSpecs` (AutoMerge)."""
    overrides: dict[str, dict[str, Any]] = {}
    extra = []
    for s in user:
        kind = s["type"].lower()
        if any(d["type"].lower() == kind for d in defaults) and s.get("name") is None:
            if kind in overrides:
                raise ConstructError(
                    f'Multiple subnet specs of type "{kind}" require unique names. You can have at most one unnamed '
                    'subnet per type. All other subnets of the same type must have unique "name" properties to '
                    "avoid duplicate resource names."
                )
            overrides[kind] = s
        else:
            extra.append(s)
    merged = [{**d, **{k: v for k, v in overrides.get(d["type"].lower(), {}).items() if v is not None}} for d in defaults]
    return merged + extra


def _allocate(vpc: str, cidr: str, azs: list[str], specs: list[dict[str, Any]] | None, az_mask: int | None) -> dict:
    vpc_block = Netmask(cidr)
    az_bitmask = az_mask if az_mask is not None else vpc_block.bitmask + new_bits(len(azs))
    specs = specs if specs is not None else _default_specs(az_bitmask)
    if not specs:
        raise ConstructError("No subnets specified")
    default_mask = az_bitmask + new_bits(len(specs))
    az_size = Netmask(vpc_block.net, az_bitmask).size
    total = sum(Netmask(vpc_block.net, _mask(s, default_mask)).size for s in specs)
    if total > az_size:
        raise ConstructError(
            f"Subnets are too large for VPC. VPC has {az_size} addresses, but subnets require {total} addresses."
        )
    allocation: dict[str, str] = {}
    az_block = Netmask(vpc_block.net, az_bitmask)
    for az_index in range(len(azs)):
        current: Netmask | None = None
        for index, s in enumerate(specs):
            mask = _mask(s, default_mask)
            current = Netmask(az_block.net, mask) if current is None else _next_netmask(current, mask)
            allocation[_allocation_id(vpc, s, az_index + 1, index)] = str(current)
        az_block = az_block.next()
    return allocation


def _mask(spec: dict[str, Any], default: int) -> int:
    return spec["cidrMask"] if spec.get("cidrMask") is not None else default


def _allocation_id(vpc: str, spec: dict[str, Any], az_num: int, index: int) -> str:
    return f"{vpc}-{spec.get('name') or spec['type'].lower()}-{az_num}#{index}"


def auto(
    vpc: str,
    cidr: str | None,
    azs: list[str],
    specs: list[dict[str, Any]] | None,
    az_mask: int | None,
    strategy: str,
    merge: bool = False,
) -> list[SubnetSpec]:
    """`getSubnetSpecs` / `getSubnetSpecsAutoMerge`; `cidr` None: blocks unknown (IPAM)."""
    if merge:
        alloc_specs: list[dict[str, Any]] | None = None
        if cidr is not None:
            az_bitmask = az_mask if az_mask is not None else Netmask(cidr).bitmask + new_bits(len(azs))
            alloc_specs = merge_with_defaults(specs or [], _default_specs(az_bitmask))
        named = merge_with_defaults(specs or [], _BARE)
    else:
        alloc_specs, named = specs, specs if specs is not None else _BARE
    allocation = _allocate(vpc, cidr, azs, alloc_specs, az_mask) if cidr is not None else None
    return [
        _spec(vpc, s, allocation[_allocation_id(vpc, s, i + 1, j)] if allocation else None, az, i + 1, strategy)
        for i, az in enumerate(azs)
        for j, s in enumerate(named)
    ]


def explicit(vpc: str, azs: list[str], specs: list[dict[str, Any]], strategy: str) -> list[SubnetSpec]:
    return [_spec(vpc, s, s["cidrBlocks"][i], az, i + 1, strategy) for i, az in enumerate(azs) for s in specs]


# ---- validation of the result ---------------------------------------------------------------------------


def validate(specs: list[SubnetSpec], vpc_cidr: str | None, strategy: str, nat_strategy: str) -> None:
    """Overlaps, gaps (Exact), and a NAT gateway strategy the layout can host."""
    known = [s for s in specs if s.cidr_block is not None]
    if len(known) == len(specs):
        overlapping = [
            s
            for s in specs
            if any(
                o is not s
                and (
                    ipaddress.ip_network(s.cidr_block or "", strict=False).subnet_of(
                        ipaddress.ip_network(o.cidr_block or "", strict=False)
                    )
                    or ipaddress.ip_network(o.cidr_block or "", strict=False).subnet_of(
                        ipaddress.ip_network(s.cidr_block or "", strict=False)
                    )
                )
                for o in specs
            )
        ]
        if overlapping:
            lines = "".join(f"{i + 1}. {s.resource_name}: {s.cidr_block}\n" for i, s in enumerate(overlapping))
            raise ConstructError(
                "The following subnets overlap with at least one other subnet. Make the CIDR for the VPC larger, "
                "reduce the size of the subnets per AZ, or use less Availability Zones:\n\n" + lines
            )
        if strategy == "Exact" and vpc_cidr is not None:
            _validate_no_gaps(vpc_cidr, specs)
    kinds = {s.type.lower() for s in specs}
    if nat_strategy.lower() in ("oneperaz", "single") and not ("public" in kinds and kinds & {"private", "isolated"}):
        raise ConstructError(
            "If NAT Gateway strategy is 'OnePerAz' or 'Single', public subnets must be declared to host the NAT "
            "Gateway resource, along with private or isolated subnets to route through it."
        )


def _validate_no_gaps(vpc_cidr: str, specs: list[SubnetSpec]) -> None:
    vpc = Netmask(vpc_cidr)
    gaps = []
    previous: SubnetSpec | None = None
    for s in specs:
        block = Netmask(s.cidr_block or "")
        if previous is None:
            if block.net != vpc.net:
                gaps.append(f"{s.resource_name} ({s.cidr_block}) does not start at the beginning of the VPC ({vpc_cidr})")
        elif block.net != Netmask(previous.cidr_block or "").next().net:
            gaps.append(f"{previous.resource_name} ({previous.cidr_block}) <=> {s.resource_name} ({s.cidr_block})")
        previous = s
    if previous is not None and Netmask(previous.cidr_block or "").last != vpc.last:
        end = _dotted(Netmask(previous.cidr_block or "").last)
        gaps.append(f"{previous.resource_name} (ending {end}) ends before VPC ends (at {_dotted(vpc.last)}}})")
    if gaps:
        raise ConstructError(f"There are gaps in the subnet ranges. Please fix the following gaps: {', '.join(gaps)}")


# ---- the subnetLayout output ----------------------------------------------------------------------------


def _gaps(a: Netmask, b: Netmask) -> list[Netmask]:
    """`findSubnetGap`: the widest blocks filling the space between two blocks."""
    start, end = (a, b) if a.net < b.net else (b, a)
    gaps: list[Netmask] = []
    previous, nxt = a, start.next()
    while nxt.net < end.net:
        while True:
            wider = Netmask(nxt.net, nxt.bitmask - 1)
            if wider.contains(previous.last) or wider.contains(end.first):
                break
            nxt = wider
        gaps.append(nxt)
        previous, nxt = nxt, nxt.next()
    return gaps


def layout_from_specs(specs: list[SubnetSpec], az_count: int) -> list[dict[str, Any]]:
    """`extractSubnetSpecInputFromLegacyLayout`: the first `len/AZs` specs as spec inputs, gaps Unused."""
    out: list[dict[str, Any]] = []
    previous: Netmask | None = None
    for s in specs[: len(specs) // az_count]:
        block = Netmask(s.cidr_block or "")
        if previous is not None:
            out += [{"type": "Unused", "cidrMask": g.bitmask} for g in _gaps(previous, block)]
        # awsx records a custom spec name as `subnetName`, a key the layout output then drops.
        entry: dict[str, Any] = {"type": s.type, "cidrMask": block.bitmask}
        out.append(entry)
        previous = block
    return out


def resolved(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`toResolvedSubnetSpecOutputs`: name, cidrBlocks, cidrMask, size (when truthy) and type."""
    result = []
    for s in specs:
        entry = {k: s[k] for k in ("name", "cidrBlocks", "cidrMask", "size") if s.get(k)}
        entry["type"] = s["type"]
        result.append(entry)
    return result


def layout_json(layout: list[dict[str, Any]]) -> str:
    """`pulumi.jsonStringify` of the layout (as awsx's strategy warning prints it)."""
    return json.dumps(layout, separators=(",", ":"))


# ---- the whole decision ---------------------------------------------------------------------------------


def decide(
    vpc_name: str,
    cidr: str | None,
    strategy: str,
    azs: list[str],
    subnet_specs: list[dict[str, Any]] | None,
    az_cidr_mask: int | None,
    name_tag_strategy: str,
) -> tuple[list[SubnetSpec], list[dict[str, Any]] | None, NormalizedSpecs | None]:
    """`decideSubnetSpecs`: the specs, the `subnetLayout` output (None while the CIDR is unknown)
    and the normalized inputs."""
    if strategy == "AutoMerge" and subnet_specs is not None and any(s.get("cidrBlocks") is not None for s in subnet_specs):
        raise ConstructError(
            'subnetStrategy="AutoMerge" does not support subnetSpecs with explicit cidrBlocks. Use '
            'subnetStrategy="Auto" or "Exact" to fully specify the subnet layout.'
        )
    parsed = normalize(subnet_specs, len(azs))
    normalized = parsed.specs if parsed else None
    if (parsed is None and strategy not in ("Auto", "AutoMerge")) or strategy == "Legacy":
        if cidr is None:
            raise ConstructError(
                'Dynamically allocated cidrBlock ranges are not supported with subnetStrategy="Legacy". "Try using '
                'subnetStrategy="Auto"'
            )
        specs = legacy(vpc_name, cidr, azs, normalized, name_tag_strategy)
    elif parsed is not None and parsed.explicit:
        specs = explicit(vpc_name, azs, parsed.specs, name_tag_strategy)
    else:
        specs = auto(vpc_name, cidr, azs, normalized, az_cidr_mask, name_tag_strategy, merge=strategy == "AutoMerge")
    if strategy in ("Legacy", "AutoMerge") or normalized is None:
        layout = resolved(layout_from_specs(specs, len(azs))) if all(s.cidr_block is not None for s in specs) else None
    else:
        layout = resolved(normalized)
    return specs, layout, parsed
