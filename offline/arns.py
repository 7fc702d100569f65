"""AWS identifiers as AWS forms them: partitions, ARNs, zone ids, resource ids, registry hosts.

Owns: the shapes of the values only the cloud assigns (an account, a partition and DNS suffix per
region, ARN layouts per service, `vpc-`/`sg-`/... id prefixes, ECR registry hosts, digests), made
deterministic from a seed (a URN, an invoke's arguments). `fakes` (update-mode outputs) and
`invokes` (data sources) both build their values here, so a lookup and a created resource agree.
Pure functions; no Pulumi state.
"""

from __future__ import annotations

import hashlib
import uuid

ACCOUNT_ID = "123456789012"

# Region prefixes outside the commercial partition (the rest is `aws`, `amazonaws.com`).
_PARTITIONS = (
    ("cn-", "aws-cn", "amazonaws.com.cn"),
    ("us-gov-", "aws-us-gov", "amazonaws.com"),
    ("us-iso-", "aws-iso", "c2s.ic.gov"),
    ("us-isob-", "aws-iso-b", "sc2s.sgov.gov"),
)

# Resource ids AWS prefixes by kind (EC2 and friends), by resource type token (after the package).
ID_PREFIXES = {
    "ec2/vpc:Vpc": "vpc",
    "ec2/subnet:Subnet": "subnet",
    "ec2/securityGroup:SecurityGroup": "sg",
    "ec2/internetGateway:InternetGateway": "igw",
    "ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": "eigw",
    "ec2/natGateway:NatGateway": "nat",
    "ec2/routeTable:RouteTable": "rtb",
    "ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "ec2/mainRouteTableAssociation:MainRouteTableAssociation": "rtbassoc",
    "ec2/eip:Eip": "eipalloc",
    "ec2/eipAssociation:EipAssociation": "eipassoc",
    "ec2/launchTemplate:LaunchTemplate": "lt",
    "ec2/instance:Instance": "i",
    "ec2/spotInstanceRequest:SpotInstanceRequest": "sir",
    "ec2/networkInterface:NetworkInterface": "eni",
    "ec2/networkAcl:NetworkAcl": "acl",
    "ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx",
    "ec2/keyPair:KeyPair": "key",
    "ec2/placementGroup:PlacementGroup": "pg",
    "ec2/volume:Volume": "vol",
    "ec2/ami:Ami": "ami",
    "ec2/flowLog:FlowLog": "fl",
    "ec2/securityGroupRule:SecurityGroupRule": "sgrule",
    "ec2/vpcDhcpOptions:VpcDhcpOptions": "dopt",
    "ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation": "vpc-cidr-assoc",
    "ec2transitgateway/transitGateway:TransitGateway": "tgw",
    "ec2transitgateway/vpcAttachment:VpcAttachment": "tgw-attach",
    "vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "efs/fileSystem:FileSystem": "fs",
    "efs/mountTarget:MountTarget": "fsmt",
    "efs/accessPoint:AccessPoint": "fsap",
    "kms/key:Key": "",  # a UUID, below
    "route53/zone:Zone": "",  # Z + 13-21 upper-case characters, below
    "servicediscovery/privateDnsNamespace:PrivateDnsNamespace": "ns",
    "servicediscovery/httpNamespace:HttpNamespace": "ns",
    "servicediscovery/service:Service": "srv",
}

# Region abbreviations in zone ids (`use1-az1`): the direction words.
_DIRECTIONS = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


def digest(*parts: str, n: int = 8) -> str:
    """`n` hex characters derived from the parts (deterministic)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:n]


def upper_id(*parts: str, n: int = 13) -> str:
    """`n` characters of A-Z0-9, as Route 53 zone ids and IAM unique ids use."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    raw = hashlib.sha256("\0".join(parts).encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in raw[:n])


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "\0".join(parts)))


def partition(region: str) -> str:
    return next((p for prefix, p, _ in _PARTITIONS if region.startswith(prefix)), "aws")


def dns_suffix(region: str) -> str:
    return next((s for prefix, _, s in _PARTITIONS if region.startswith(prefix)), "amazonaws.com")


def arn(service: str, region: str, resource: str, *, account: str = ACCOUNT_ID, regional: bool = True) -> str:
    """`arn:<partition>:<service>:<region>:<account>:<resource>`; global services (IAM, Route 53,
    S3, CloudFront) leave the region empty, S3 and Route 53 the account too."""
    scope = region if regional else ""
    return f"arn:{partition(region)}:{service}:{scope}:{account}:{resource}"


def region_code(region: str) -> str:
    """The short form of a region in availability-zone ids: us-east-1 -> use1, ap-southeast-2 -> apse2."""
    parts = region.split("-")
    if len(parts) < 3:
        return region.replace("-", "")
    area, number = parts[0], parts[-1]
    direction = "".join(_DIRECTIONS.get(p, p[:1]) for p in parts[1:-1] if p != "gov")
    return f"{area}{'gov' if 'gov' in parts else ''}{direction}{number}"


def availability_zones(region: str, count: int = 3) -> list[tuple[str, str]]:
    """(name, zone id) of the region's first zones: `us-east-1a`/`use1-az1`, ..."""
    code = region_code(region)
    return [(f"{region}{letter}", f"{code}-az{i + 1}") for i, letter in enumerate("abcdef"[:count])]


def resource_id(type_token: str, *seed: str) -> str | None:
    """An id with the prefix AWS gives the type (`vpc-0a1b...`: 17 hex characters), None for a
    type without one."""
    prefix = ID_PREFIXES.get(type_token)
    if prefix is None:
        return None
    if type_token == "kms/key:Key":
        return stable_uuid("kms", *seed)
    if type_token == "route53/zone:Zone":
        return "Z" + upper_id("zone", *seed, n=20)
    return f"{prefix}-0{digest(*seed, n=16)}"


def ami_id(*seed: str) -> str:
    return f"ami-0{digest('ami', *seed, n=16)}"


def ecr_registry(region: str, account: str = ACCOUNT_ID) -> str:
    """The registry host of an account's ECR in a region."""
    return f"{account}.dkr.ecr.{region}.{dns_suffix(region)}"


def sha256_digest(*seed: str) -> str:
    """`sha256:<64 hex>`, the form of an image digest."""
    return "sha256:" + digest("image", *seed, n=64)


def elb_dns_name(name: str, region: str, *seed: str, internal: bool = False, network: bool = False) -> str:
    """An ALB's `<name>-<number>.<region>.elb.amazonaws.com` (`internal-` for internal ones); an
    NLB's `<name>-<16 hex>.elb.<region>.amazonaws.com`."""
    prefix = f"{'internal-' if internal else ''}{name[:32].rstrip('-')}"
    if network:
        return f"{prefix}-{digest(*seed, n=16)}.elb.{region}.{dns_suffix(region)}"
    return f"{prefix}-{int(digest(*seed, n=8), 16) % 10**10}.{region}.elb.{dns_suffix(region)}"
