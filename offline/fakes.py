"""Deterministic stand-ins for what only the cloud knows: invoke results and computed outputs.

Owns: answers to the data-source invokes programs make (SSM parameters such as the ECS AMI,
availability zones, region, caller identity, partition, IAM policy documents) and, for `update`
mode, plausible values (ARNs, ids, names) for every computed output the generated SDK class of a
resource declares. Values derive from a hash of the URN, so runs are reproducible.
"""

from __future__ import annotations

import collections.abc
import hashlib
import json
import typing
from typing import Any

from . import sdk_patches

ACCOUNT_ID = "123456789012"
AMI_ID = "ami-0abcdef1234567890"

_ID_PREFIXES = {
    "ec2/vpc:Vpc": "vpc",
    "ec2/subnet:Subnet": "subnet",
    "ec2/securityGroup:SecurityGroup": "sg",
    "ec2/internetGateway:InternetGateway": "igw",
    "ec2/natGateway:NatGateway": "nat",
    "ec2/routeTable:RouteTable": "rtb",
    "ec2/eip:Eip": "eipalloc",
    "ec2/launchTemplate:LaunchTemplate": "lt",
    "vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
}


def short_hash(*parts: str, n: int = 8) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:n]


def _service(type_: str) -> str:
    return type_.split(":")[1].split("/")[0] if type_.count(":") == 2 else "resource"


def fake_id(type_: str, name: str, urn: str) -> str:
    token = type_.split(":", 1)[1] if ":" in type_ else type_
    prefix = _ID_PREFIXES.get(token)
    if prefix:
        return f"{prefix}-{short_hash(urn, n=17)}"
    if type_.startswith("pulumi:providers:"):
        h = short_hash(urn, n=32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return f"{name}-{short_hash(urn)}"


def fake_arn(type_: str, name: str, urn: str, region: str) -> str:
    service = _service(type_)
    kind = type_.rsplit(":", 1)[-1].lower()
    scope = "" if service in ("iam", "s3") else region
    return f"arn:aws:{service}:{scope}:{ACCOUNT_ID}:{kind}/{name}-{short_hash(urn)}"


# ---- invokes ---------------------------------------------------------------------------------------


def _policy_document(args: dict[str, Any]) -> dict[str, Any]:
    statements = []
    for st in args.get("statements") or []:
        out: dict[str, Any] = {}
        if st.get("sid"):
            out["Sid"] = st["sid"]
        out["Effect"] = st.get("effect", "Allow")
        for key, aws_key in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
            if st.get(key):
                vals = st[key]
                out[aws_key] = vals[0] if len(vals) == 1 else vals
        for key, aws_key in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if st.get(key):
                out[aws_key] = {
                    p["type"]: (p["identifiers"][0] if len(p["identifiers"]) == 1 else p["identifiers"])
                    for p in st[key]
                }
        conds: dict[str, dict[str, Any]] = {}
        for c in st.get("conditions") or []:
            vals = c.get("values") or []
            conds.setdefault(c["test"], {})[c["variable"]] = vals[0] if len(vals) == 1 else vals
        if conds:
            out["Condition"] = conds
        statements.append(out)
    doc = json.dumps({"Version": args.get("version", "2012-10-17"), "Statement": statements}, indent=2)
    return {
        "json": doc,
        "minifiedJson": json.dumps(json.loads(doc), separators=(",", ":")),
        "id": short_hash(doc),
    }


def invoke_result(token: str, args: dict[str, Any], region: str) -> dict[str, Any] | None:
    """A deterministic answer for a known data source, or None when the token is unknown."""
    if token == "aws:ssm/getParameter:getParameter":
        name = str(args.get("name", ""))
        value = (
            json.dumps({"image_id": AMI_ID, "image_name": "amzn2-ami-ecs-offline"})
            if name.rstrip("/").endswith("recommended")
            else AMI_ID
            if "ami" in name
            else "offline-value"
        )
        return {
            "id": name,
            "name": name,
            "value": value,
            "insecureValue": value,
            "type": "String",
            "version": 1,
            "withDecryption": bool(args.get("withDecryption", True)),
            "arn": f"arn:aws:ssm:{region}:{ACCOUNT_ID}:parameter/{name.lstrip('/')}",
        }
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        names = [f"{region}{s}" for s in "abc"]
        return {
            "id": region,
            "names": names,
            "zoneIds": [f"use1-az{i}" for i in (1, 2, 4)],
            "groupNames": [region],
            "state": args.get("state", "available"),
            "allAvailabilityZones": args.get("allAvailabilityZones", False),
        }
    if token == "aws:index/getRegion:getRegion":
        return {
            "id": region,
            "name": region,
            "region": region,
            "endpoint": f"ec2.{region}.amazonaws.com",
            "description": region,
        }
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "id": ACCOUNT_ID,
            "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline",
            "userId": "AIDAOFFLINEPREVIEW",
        }
    if token == "aws:index/getPartition:getPartition":
        return {
            "id": "aws",
            "partition": "aws",
            "dnsSuffix": "amazonaws.com",
            "reverseDnsPrefix": "com.amazonaws",
        }
    if token == "aws:ec2/getAmi:getAmi":
        return {"id": AMI_ID, "imageId": AMI_ID, "name": "offline-ami", "architecture": "x86_64"}
    if token == "aws:iam/getPolicyDocument:getPolicyDocument":
        return _policy_document(args)
    return _lookup_result(token, args, region)


# ---- the default VPC, subnets by id, ECR credentials (awsx's own lookups use them too) ----------------

DEFAULT_VPC_CIDR = "172.31.0.0/16"


def default_vpc_id(region: str) -> str:
    return f"vpc-{short_hash('default-vpc', region, n=17)}"


def default_subnets(region: str) -> list[dict[str, Any]]:
    """One default subnet per availability zone of `getAvailabilityZones`, all public (AWS's defaults)."""
    return [
        {
            "id": f"subnet-{short_hash('default-subnet', region, zone, n=17)}",
            "vpcId": default_vpc_id(region),
            "availabilityZone": f"{region}{zone}",
            "cidrBlock": f"172.31.{16 * i}.0/20",
            "mapPublicIpOnLaunch": True,
            "defaultForAz": True,
        }
        for i, zone in enumerate("abc")
    ]


def _lookup_result(token: str, args: dict[str, Any], region: str) -> dict[str, Any] | None:
    if token == "aws:ec2/getVpc:getVpc":
        vpc_id = default_vpc_id(region) if args.get("default") or "id" not in args else str(args["id"])
        default = vpc_id == default_vpc_id(region)
        return {
            "id": vpc_id,
            "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:vpc/{vpc_id}",
            "cidrBlock": DEFAULT_VPC_CIDR if default else "10.0.0.0/16",
            "default": default,
            "state": "available",
            "ownerId": ACCOUNT_ID,
        }
    if token == "aws:ec2/getSubnets:getSubnets":
        vpc_ids = [v for f in args.get("filters") or [] if f.get("name") == "vpc-id" for v in f.get("values") or []]
        ids = [s["id"] for s in default_subnets(region) if not vpc_ids or s["vpcId"] in vpc_ids]
        return {"id": region, "ids": ids, **({"filters": args["filters"]} if args.get("filters") else {})}
    if token == "aws:ec2/getSubnet:getSubnet":
        subnet_id = str(args.get("id", ""))
        found = next((s for s in default_subnets(region) if s["id"] == subnet_id), None)
        if found is None:  # a subnet this run does not know: in a VPC of its own
            found = {"id": subnet_id, "vpcId": f"vpc-{short_hash(subnet_id, n=17)}", "mapPublicIpOnLaunch": False}
        return {**found, "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:subnet/{found['id']}", "ownerId": ACCOUNT_ID}
    if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
        registry = str(args.get("registryId") or ACCOUNT_ID)
        return {
            "id": region,
            "registryId": registry,
            "proxyEndpoint": f"https://{registry}.dkr.ecr.{region}.amazonaws.com",
            "userName": "AWS",
            "password": "offline-ecr-password",
            "authorizationToken": "QVdTOm9mZmxpbmUtZWNyLXBhc3N3b3Jk",
            "expiresAt": "2100-01-01T00:00:00Z",
        }
    return None


# ---- computed outputs for update mode ---------------------------------------------------------------


def _id_prefix(stem: str) -> str:
    low = stem.lower()
    for key, prefix in (
        ("subnet", "subnet"),
        ("securitygroup", "sg"),
        ("vpc", "vpc"),
        ("routetable", "rtb"),
        ("natgateway", "nat"),
        ("internetgateway", "igw"),
        ("image", "ami"),
    ):
        if key in low:
            return prefix
    return low or "id"


def _value_for(prop: str, typ: Any, type_: str, name: str, urn: str, region: str, inputs: dict) -> Any:
    origin = typing.get_origin(typ)
    if typ is str:
        if prop == "repositoryUrl":
            return f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{inputs.get('name') or name}"
        if prop == "repoDigest":  # docker images: the pushed name pinned by digest
            image = str(inputs.get("imageName") or name)
            if ":" in image.rsplit("/", 1)[-1]:  # drop the tag
                image = image.rsplit(":", 1)[0]
            return f"{image}@sha256:{short_hash(urn + prop, n=64)}"
        if prop == "dnsName":
            return f"{name}-{short_hash(urn, n=9)}.{region}.elb.amazonaws.com"
        if prop == "arn" or prop.endswith("Arn"):
            return fake_arn(type_, name, urn + prop, region)
        if prop == "name" or prop.endswith("Name"):
            return f"{name}-{short_hash(urn + prop, n=7)}"
        if prop.endswith("Id"):
            return f"{_id_prefix(prop[:-2])}-{short_hash(urn + prop, n=17)}"
        if prop == "dnsName":
            return f"{name}-{short_hash(urn, n=9)}.{region}.elb.amazonaws.com"
        if prop == "region":
            return region
        return f"{name}-{prop}-{short_hash(urn + prop)}"
    if typ is bool:
        return False
    if typ in (int, float):
        return 1
    if prop == "tagsAll":
        return dict(inputs.get("tags") or {})
    if origin is collections.abc.Sequence and typing.get_args(typ) == (str,):
        prefix = _id_prefix(prop[:-3]) if prop.endswith("Ids") else prop.rstrip("s").lower()
        return [f"{prefix}-{short_hash(urn + prop + str(i), n=17)}" for i in range(2)]
    return None  # nested output types, maps and lists of objects stay absent


def computed_outputs(type_: str, name: str, urn: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """Values for every output the class declares that the inputs do not already provide."""
    cls = sdk_patches.resource_class(type_)
    if cls is None:
        return {}
    result: dict[str, Any] = {}
    for prop, typ in sdk_patches.output_types(cls).items():
        if prop in inputs or prop in ("id", "urn"):
            continue
        value = _value_for(prop, typ, type_, name, urn, region, inputs)
        if value is not None:
            result[prop] = value
    return result
