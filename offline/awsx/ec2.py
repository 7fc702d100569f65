"""awsx `ec2`: `Vpc` and `DefaultVpc`, expanded as awsx 3.11.0 constructs them (awsx/ec2/vpc.ts,
defaultVpc.ts, getDefaultVpc.ts), and the default-VPC lookup the ECS and LB components share.

Owns the VPC's children and their wiring: the `aws.ec2.Vpc` (child of the component), an internet
gateway (always, child of the VPC), per AZ and subnet spec (public first, then private, then
isolated) a subnet (child of the VPC), its route table (child of the subnet), the association and
the default route (children of the route table: to the internet gateway for public subnets, to a
NAT gateway for private ones unless the strategy is None), and for public subnets the NAT gateways
the strategy asks for (OnePerAz: one per AZ; Single: the first AZ's) each with an EIP unless
allocation ids are given (children of the subnet); then the VPC endpoints. Subnet layouts and
CIDR blocks come from `subnets`.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from ..properties import SIG, UNKNOWN
from . import subnets
from .construct import Args, Construct, ConstructError, Node, Out, lift, opened, plain

# The aws.ec2.Vpc inputs of awsx's VpcArgs (the rest are awsx's own and dropped by aws.ec2.Vpc).
VPC_INPUTS = (
    "assignGeneratedIpv6CidrBlock",
    "enableNetworkAddressUsageMetrics",
    "instanceTenancy",
    "ipv4IpamPoolId",
    "ipv4NetmaskLength",
    "ipv6CidrBlock",
    "ipv6CidrBlockNetworkBorderGroup",
    "ipv6IpamPoolId",
    "ipv6NetmaskLength",
    "region",
)
_ORDER = {"public": 0, "private": 1, "isolated": 2}
_ENDPOINT_KEYS = (
    "autoAccept",
    "dnsOptions",
    "ipAddressType",
    "policy",
    "resourceConfigurationArn",
    "serviceName",
    "serviceNetworkArn",
    "serviceRegion",
    "subnetConfigurations",
    "vpcEndpointType",
)


# ---- the default VPC ----------------------------------------------------------------------------------


def default_vpc(ctx: Construct) -> tuple[str, list[str], list[str]]:
    """`getDefaultVpc`: the default VPC's id and its subnets split by `mapPublicIpOnLaunch`."""
    vpc = ctx.invoke("aws:ec2/getVpc:getVpc", {"default": True})
    if not vpc.get("id"):
        raise ConstructError("unable to find default VPC for this region and account")
    ids = ctx.invoke("aws:ec2/getSubnets:getSubnets", {"filters": [{"name": "vpc-id", "values": [vpc["id"]]}]})
    public: list[str] = []
    private: list[str] = []
    for subnet_id in ids.get("ids") or []:
        subnet = ctx.invoke("aws:ec2/getSubnet:getSubnet", {"id": subnet_id})
        (public if subnet.get("mapPublicIpOnLaunch") else private).append(subnet_id)
    return vpc["id"], public, private


def subnet_vpc_id(ctx: Construct, subnet_id: Any) -> Out:
    """`aws.ec2.getSubnet({id}).vpcId` (unknown while the id is); a subnet of this stack answers
    with its own VPC, as AWS would."""
    if not isinstance(plain(subnet_id), str) or plain(subnet_id) == UNKNOWN:
        return Out(UNKNOWN)
    answer = ctx.invoke("aws:ec2/getSubnet:getSubnet", {"id": plain(subnet_id)})
    for reg in list(ctx.monitor.registrations.values()):
        if reg.type == "aws:ec2/subnet:Subnet" and reg.id == plain(subnet_id):
            return Out(reg.outputs.get("vpcId", UNKNOWN))
    return Out(answer.get("vpcId", UNKNOWN))


def default_vpc_component(ctx: Construct) -> dict[str, Any]:
    """`awsx:ec2:DefaultVpc`: no children, the default VPC's ids."""
    vpc_id, public, private = default_vpc(ctx)
    return {"vpcId": vpc_id, "publicSubnetIds": public, "privateSubnetIds": private}


# ---- Vpc ----------------------------------------------------------------------------------------------


def _validate(args: Args) -> None:
    if "ipv4IpamPoolId" in args:
        if "cidrBlock" in args and "ipv4NetmaskLength" in args:
            raise ConstructError("Only one of 'cidrBlock', 'ipv4NetmaskLength' is allowed.")
        if "cidrBlock" not in args and "ipv4NetmaskLength" not in args:
            raise ConstructError("If 'ipv4IpamPoolId' is specified, 'ipv4NetmaskLength' or 'cidrBlock' must also be specified.")
    if "availabilityZoneNames" in args and "numberOfAvailabilityZones" in args:
        raise ConstructError("Only one of [availabilityZoneNames] and [numberOfAvailabilityZones] can be specified")


def _endpoint_type(spec: dict[str, Any], strategy: str) -> str | None:
    kind = spec.get("vpcEndpointType")
    resolved = "gateway" if kind is None else (kind.lower() if isinstance(kind, str) and kind != UNKNOWN else None)
    if strategy == "Auto" and resolved is None:
        raise ConstructError(
            f'vpcEndpointStrategy "Auto" requires vpcEndpointType for endpoint "{spec.get("serviceName")}" to be '
            'omitted or a plain string. Use vpcEndpointStrategy "Legacy" for dynamic endpoint types.'
        )
    return resolved


def _dns_defaults(args: Args, strategy: str, endpoints: list[tuple[dict[str, Any], str | None]]) -> dict[str, Any]:
    hostnames, support = args.get("enableDnsHostnames"), args.get("enableDnsSupport")
    wants_dns = strategy == "Auto" and any(
        kind == "interface" and spec.get("privateDnsEnabled") in (None, True) for spec, kind in endpoints
    )
    if not wants_dns:
        return {"enableDnsHostnames": hostnames, "enableDnsSupport": support}
    for key, value in (("enableDnsHostnames", hostnames), ("enableDnsSupport", support)):
        if value is not None and plain(value) is False:
            raise ConstructError(
                f'vpcEndpointStrategy "Auto" requires {key} to be true when Interface endpoint private DNS is enabled.'
            )
    return {"enableDnsHostnames": hostnames or True, "enableDnsSupport": support or True}


def _availability_zones(ctx: Construct, args: Args) -> list[str]:
    if "availabilityZoneNames" in args:
        return list(args.prompt("availabilityZoneNames"))
    count = int(args.prompt("numberOfAvailabilityZones", 3))
    region = args.prompt("region")
    result = ctx.invoke("aws:index/getAvailabilityZones:getAvailabilityZones", {"region": region} if region else {})
    names = result.get("names")
    if not names:
        raise ConstructError(
            "Could not fetch default Availability Zones. If this is an opt-in region, please enable the region first. "
            "Alternatively, you may specify an explicit list of zones in `availabilityZoneNames`."
        )
    if len(names) < count:
        raise ConstructError(
            f"The configured region for this provider does not have at least {count} Availability Zones. Either "
            "specify an explicit list of zones in availabilityZoneNames or choose a region with at least "
            f"{count} AZs."
        )
    return list(names[:count])


def _validate_eips(strategy: str, eips: list[Any], az_count: int) -> None:
    kind = strategy.lower()
    if kind == "none" and eips:
        raise ConstructError(f"Elastic IP allocation IDs cannot be specified when NAT Gateway strategy is '{strategy}'.")
    if kind == "single" and len(eips) > 1:
        raise ConstructError(f"Exactly one Elastic IP may be specified when NAT Gateway strategy is '{strategy}'.")
    if kind == "oneperaz" and eips and len(eips) != az_count:
        raise ConstructError(
            "The number of Elastic IPs, if specified, must match the number of availability zones for the VPC "
            f"({az_count}) when NAT Gateway strategy is '{strategy}'"
        )
    if kind not in ("none", "single", "oneperaz"):
        raise ConstructError(f"Unknown NatGatewayStrategy '{strategy}'")


def _wants_nat(strategy: str, existing: int, az_index: int) -> bool:
    kind = strategy.lower()
    return (kind == "single" and existing < 1) or (kind == "oneperaz" and existing < az_index + 1)


def ipv6_subnet_cidr(vpc_cidr: str, index: int, urn: str) -> str:
    """`createIpv6SubnetCidrBlock`: the VPC's /56 with `index` in the fourth hextet's low byte. A
    VPC whose block is a placeholder (update mode) gets a made-up /56 derived from its URN."""
    try:
        network = ipaddress.IPv6Network(vpc_cidr)
    except ValueError:
        network = ipaddress.IPv6Network(f"2600:1f18:{hashlib.sha256(urn.encode()).hexdigest()[:4]}:ff00::/56")
    if network.prefixlen != 56:
        raise ConstructError(f"VPC must be a /56 block (got /{network.prefixlen})")
    hextets = network.exploded.split("/")[0].split(":")
    fourth = (int(hextets[3], 16) & 0xFF00) | index
    prefix = ":".join(h.lstrip("0") or "0" for h in hextets[:3])
    return f"{prefix}:{fourth:x}::/64"


def vpc(ctx: Construct) -> dict[str, Any]:
    """`awsx:ec2:Vpc`."""
    args, name = ctx.args, ctx.name
    _validate(args)
    endpoint_strategy = args.prompt("vpcEndpointStrategy", "Legacy")
    endpoint_specs = [opened(s) for s in _known_list(args, "vpcEndpointSpecs")]
    endpoints = [(spec, _endpoint_type(spec, endpoint_strategy)) for spec in endpoint_specs]
    dns = _dns_defaults(args, endpoint_strategy, endpoints)
    azs = _availability_zones(ctx, args)
    nat = args.sub("natGateways") or Args({})
    nat_strategy = nat.prompt("strategy", "OnePerAz")
    allocation_ids = opened(nat.value("elasticIpAllocationIds", []))
    if not isinstance(allocation_ids, list):
        raise ConstructError("'natGateways.elasticIpAllocationIds' must be a list known when the VPC is constructed")
    _validate_eips(nat_strategy, allocation_ids, len(azs))
    strategy = args.prompt("subnetStrategy", "Legacy")
    name_tag_strategy = args.prompt("subnetNameTagStrategy", "Legacy")
    if name_tag_strategy == "AvailabilityZone":
        subnets.validate_az_suffixes(azs)
    user_tags = _tags(args.value("tags"))
    shared_tags = {"Name": name, **user_tags}
    tags_deps = args.deps("tags")

    cidr_arg = args.value("cidrBlock")
    prompt_cidr = cidr_arg if isinstance(cidr_arg, str) and cidr_arg != UNKNOWN else None
    cidr_input = cidr_arg if cidr_arg is not None else (None if "ipv4IpamPoolId" in args else "10.0.0.0/16")
    if cidr_arg is None and "ipv4IpamPoolId" not in args:
        prompt_cidr = "10.0.0.0/16"
    spec_inputs = [opened(s) for s in _known_list(args, "subnetSpecs")] if "subnetSpecs" in args else None
    az_mask = args.prompt("availabilityZoneCidrMask")

    def decide(cidr: str | None) -> tuple[list[subnets.SubnetSpec], Any, Any]:
        specs, layout, parsed = subnets.decide(name, cidr, strategy, azs, spec_inputs, az_mask, name_tag_strategy)
        subnets.validate(specs, cidr, strategy, nat_strategy)
        return specs, layout, parsed

    vpc_inputs = {
        **args.items(VPC_INPUTS),
        **dns,
        "cidrBlock": args.get("cidrBlock") or cidr_input,
        "tags": Out(shared_tags, tags_deps),
    }
    if prompt_cidr is not None:
        specs, layout, parsed = decide(prompt_cidr)
        vpc_node = ctx.register("aws:ec2/vpc:Vpc", name, vpc_inputs, ctx.node)
    else:
        vpc_node = ctx.register("aws:ec2/vpc:Vpc", name, vpc_inputs, ctx.node)
        actual = plain(vpc_node.out("cidrBlock").value)
        specs, layout, parsed = decide(actual if _is_ipv4_cidr(actual) else None)

    if layout is not None and "subnetStrategy" not in args and parsed is not None and not parsed.explicit:
        ctx.warn(
            'The default subnetStrategy will change from "Legacy" to "Auto" in the next major version. Please '
            'specify the subnetStrategy explicitly. The current subnet layout can be specified via "Auto" as:\n\n'
            + subnets.layout_json(layout)
        )

    igw = ctx.register(
        "aws:ec2/internetGateway:InternetGateway",
        name,
        {"region": args.get("region"), "vpcId": vpc_node.id, "tags": Out(shared_tags, tags_deps)},
        vpc_node,
        [vpc_node],
    )
    made: dict[str, list[Node]] = {k: [] for k in ("subnets", "public", "private", "isolated", "tables", "assocs")}
    routes: list[Node] = []
    nat_gateways: list[Node] = []
    eips: list[Node] = []
    generated: list[tuple[Node, str, str]] = []  # (subnet, type, AZ) for the endpoints
    assign_generated = args.get("assignGeneratedIpv6CidrBlock")
    # The VPC's IPv6 block is computed: unknown in preview unless set (the subnets' block derives from it).
    vpc_ipv6 = vpc_node.out("ipv6CidrBlock")
    if ctx.dry_run and vpc_ipv6.value is None:
        vpc_ipv6 = Out(UNKNOWN, vpc_ipv6.deps)
    for i, az in enumerate(azs):
        subnet_index = i
        chosen = [s for s in specs if s.az_name == az and s.type != "Unused"]
        for spec in sorted(chosen, key=lambda s: _ORDER.get(s.type.lower(), 3)):
            kind = spec.type.lower()
            assign = lift(
                lambda a, v: a if a is not None else (v if v is not None else False), spec.assign_ipv6, assign_generated
            )
            index = subnet_index
            ipv6 = lift(
                lambda cidr, should, index=index: ipv6_subnet_cidr(cidr or "", index, vpc_node.urn) if should else None,
                vpc_ipv6,
                assign,
            )
            spec_tags = _tags(spec.tags)
            subnet = ctx.register(
                "aws:ec2/subnet:Subnet",
                spec.resource_name,
                {
                    "region": args.get("region"),
                    "vpcId": vpc_node.id,
                    "availabilityZone": az,
                    "mapPublicIpOnLaunch": kind == "public",
                    "cidrBlock": spec.cidr_block if spec.cidr_block is not None else UNKNOWN,
                    "assignIpv6AddressOnCreation": assign,
                    "ipv6CidrBlock": ipv6,
                    "tags": Out({**shared_tags, **spec_tags, "Name": spec.name_tag, "SubnetType": spec.type}, tags_deps),
                },
                vpc_node,
                [vpc_node],
            )
            subnet_index += len(azs)
            made["subnets"].append(subnet)
            made[kind if kind in ("public", "private") else "isolated"].append(subnet)
            generated.append((subnet, kind, az))
            table = ctx.register(
                "aws:ec2/routeTable:RouteTable",
                spec.resource_name,
                {
                    "region": args.get("region"),
                    "vpcId": vpc_node.id,
                    "tags": Out({**shared_tags, "Name": spec.name_tag, "SubnetType": spec.type}, tags_deps),
                },
                subnet,
                [subnet],
            )
            made["tables"].append(table)
            made["assocs"].append(
                ctx.register(
                    "aws:ec2/routeTableAssociation:RouteTableAssociation",
                    spec.resource_name,
                    {"region": args.get("region"), "routeTableId": table.id, "subnetId": subnet.id},
                    table,
                    [table],
                )
            )
            if kind == "public" and _wants_nat(nat_strategy, len(nat_gateways), i):
                nat_name = f"{name}-{i + 1}"
                nat_tags = Out({**user_tags, "Name": nat_name}, tags_deps)
                if not allocation_ids:
                    eips.append(
                        ctx.register(
                            "aws:ec2/eip:Eip", nat_name, {"region": args.get("region"), "tags": nat_tags}, subnet, [subnet]
                        )
                    )
                allocation = (
                    eips[i].out("allocationId")
                    if not allocation_ids
                    else Out(allocation_ids[i], nat.deps("elasticIpAllocationIds"))
                )
                nat_gateways.append(
                    ctx.register(
                        "aws:ec2/natGateway:NatGateway",
                        nat_name,
                        {"region": args.get("region"), "subnetId": subnet.id, "allocationId": allocation, "tags": nat_tags},
                        subnet,
                        [subnet],
                    )
                )
            target: dict[str, Any] | None = None
            if kind == "public":
                target = {"gatewayId": igw.id}
            elif kind == "private" and nat_strategy.lower() != "none":
                target = {"natGatewayId": (nat_gateways[0] if nat_strategy.lower() == "single" else nat_gateways[i]).id}
            if target is not None:
                routes.append(
                    ctx.register(
                        "aws:ec2/route:Route",
                        spec.resource_name,
                        {"region": args.get("region"), "routeTableId": table.id, **target, "destinationCidrBlock": "0.0.0.0/0"},
                        table,
                        [table],
                    )
                )

    vpc_endpoints = [
        _endpoint(ctx, args, spec, kind, endpoint_strategy, vpc_node, shared_tags, generated, azs, made["tables"])
        for spec, kind in endpoints
    ]
    return {
        "vpc": vpc_node,
        "vpcEndpoints": vpc_endpoints,
        "subnets": made["subnets"],
        "publicSubnets": made["public"],
        "privateSubnets": made["private"],
        "isolatedSubnets": made["isolated"],
        "internetGateway": igw,
        "routeTables": made["tables"],
        "routeTableAssociations": made["assocs"],
        "routes": routes,
        "natGateways": nat_gateways,
        "eips": eips,
        "subnetLayout": layout if layout is not None else UNKNOWN,
        "privateSubnetIds": [s.id for s in made["private"]],
        "publicSubnetIds": [s.id for s in made["public"]],
        "isolatedSubnetIds": [s.id for s in made["isolated"]],
        "vpcId": vpc_node.id,
    }


def _known_list(args: Args, key: str) -> list[Any]:
    """A list argument awsx iterates while it builds the children (its members may be computed)."""
    value = opened(args.value(key, []))
    if not isinstance(value, list) or any(not isinstance(v, dict) for v in value):
        raise ConstructError(f"'{key}' must be a list of objects known when the VPC is constructed")
    return value


def _tags(value: Any) -> dict[str, Any]:
    """A tags argument as a mapping (secret values kept); an unknown or absent one adds none."""
    value = opened(value)
    return value if isinstance(value, dict) and SIG not in value else {}


def _is_ipv4_cidr(value: Any) -> bool:
    try:
        ipaddress.IPv4Network(value, strict=False)
    except (ValueError, TypeError):
        return False
    return isinstance(value, str) and "/" in value


def _endpoint(
    ctx: Construct,
    args: Args,
    spec: dict[str, Any],
    kind: str | None,
    strategy: str,
    vpc_node: Node,
    shared_tags: dict[str, Any],
    generated: list[tuple[Node, str, str]],
    azs: list[str],
    tables: list[Node],
) -> Node:
    """One `vpcEndpointSpecs` entry: the endpoint (child of the VPC) and, for an Auto interface
    endpoint without security groups, a security group allowing HTTPS from the VPC."""
    service = spec.get("serviceName")
    if not isinstance(service, str) or service == UNKNOWN:
        raise ConstructError("vpcEndpointSpecs[].serviceName must be known: it names the endpoint resource")
    deps = args.deps("vpcEndpointSpecs")
    given = Args(spec, deps)
    if strategy == "Legacy" and kind == "interface" and "subnetIds" not in given and "subnetConfigurations" not in given:
        ctx.warn(
            f'VPC endpoint "{service}" is an Interface endpoint without subnetIds or subnetConfigurations. Specify '
            'vpcEndpointStrategy: "Auto" to use generated VPC subnets.'
        )
    if strategy == "Legacy" and kind == "gateway" and "routeTableIds" not in given:
        ctx.warn(
            f'VPC endpoint "{service}" is a Gateway endpoint without routeTableIds. Specify vpcEndpointStrategy: '
            '"Auto" to use generated VPC route tables.'
        )
    region = given.get("region") or args.get("region")
    auto_interface = strategy == "Auto" and kind == "interface"
    auto_gateway = strategy == "Auto" and kind == "gateway"
    tags = {**shared_tags, **_tags(spec.get("tags"))}
    subnet_ids: Any = given.get("subnetIds")
    if auto_interface and "subnetIds" not in given and "subnetConfigurations" not in given:
        subnet_ids = []
        for az in azs:
            for preferred in ("private", "isolated", "public"):
                match = next((s for s, t, a in generated if a == az and t == preferred), None)
                if match is not None:
                    subnet_ids.append(match.id)
                    break
    private_dns: Any = given.get("privateDnsEnabled")
    if auto_interface and private_dns is None:
        private_dns = True
    security_groups: Any = given.get("securityGroupIds")
    if auto_interface and security_groups is None:
        group = ctx.register(
            "aws:ec2/securityGroup:SecurityGroup",
            f"{service}-sg",
            {"region": region, "vpcId": vpc_node.id, "tags": tags},
            vpc_node,
            [vpc_node],
        )
        rule: dict[str, Any] = {
            "region": region,
            "type": "ingress",
            "securityGroupId": group.id,
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "cidrBlocks": [vpc_node.out("cidrBlock")],
        }
        address_type = spec.get("ipAddressType")
        if isinstance(address_type, str) and address_type.lower() in ("ipv6", "dualstack"):
            rule["ipv6CidrBlocks"] = [vpc_node.out("ipv6CidrBlock")]
        ctx.register("aws:ec2/securityGroupRule:SecurityGroupRule", f"{service}-ingress", rule, vpc_node, [group])
        security_groups = [group.id]
    route_tables: Any = given.get("routeTableIds")
    if auto_gateway and route_tables is None:
        route_tables = [t.id for t in tables]
    return ctx.register(
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        service,
        {
            **given.items(_ENDPOINT_KEYS),
            "privateDnsEnabled": private_dns,
            "region": region,
            "routeTableIds": route_tables,
            "securityGroupIds": security_groups,
            "subnetIds": subnet_ids,
            "tags": tags,
            "vpcId": vpc_node.id,
        },
        vpc_node,
        [vpc_node],
    )
