"""Offline answers to data-source invokes, shaped like the responses AWS (through the provider) gives.

Owns: the built-in answers for the lookups ECS programs make (caller identity, region, partition,
availability zones, AMIs and SSM parameters such as the ECS-optimized AMI, the default VPC, its
subnets and security groups, ECR credentials, repositories and images, IAM policy documents
(computed for real, `iam_policy_document`), Secrets Manager secrets, the ELB service account,
Route 53 zones, ACM certificates, ECS clusters), the user's answers (`--invokes FILE`: token ->
result, optionally matched on arguments) and the placeholder result for an invoke nobody answers:
every field the SDK's result type declares, each with a plausible value (`fakes`), never None.
All values are deterministic (derived from the arguments); identifier shapes come from `arns`.
"""

from __future__ import annotations

import base64
import collections.abc
import json
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from . import arns, fakes, iam_policy_document
from .arns import ACCOUNT_ID

Answer = dict[str, Any]


class InvokeAnswerError(Exception):
    """The provider would fail the invoke (the message is the provider's, or says which lookup)."""


class InvokesFileError(Exception):
    """An `--invokes` file cannot be used (names the file and the entry)."""


# ---- the default VPC of a region (its subnets, its default security group) ---------------------------

DEFAULT_VPC_CIDR = "172.31.0.0/16"


def default_vpc_id(region: str) -> str:
    return f"vpc-0{arns.digest('default-vpc', region, n=16)}"


def default_subnets(region: str) -> list[dict[str, Any]]:
    """One default subnet per availability zone of `getAvailabilityZones`, all public (AWS's defaults)."""
    return [
        {
            "id": f"subnet-0{arns.digest('default-subnet', region, zone, n=16)}",
            "vpcId": default_vpc_id(region),
            "availabilityZone": zone,
            "availabilityZoneId": zone_id,
            "cidrBlock": f"172.31.{16 * i}.0/20",
            "mapPublicIpOnLaunch": True,
            "defaultForAz": True,
        }
        for i, (zone, zone_id) in enumerate(arns.availability_zones(region))
    ]


def _filter_values(args: Mapping[str, Any], name: str) -> list[str]:
    return [str(v) for f in args.get("filters") or [] if f.get("name") == name for v in f.get("values") or []]


# ---- built-in answers, one per data source ------------------------------------------------------------


class Lookup:
    """The context of one invoke: its arguments and the region it runs in (the provider's, or the
    `region` argument the v7 provider accepts on every data source)."""

    def __init__(self, token: str, args: Mapping[str, Any], region: str) -> None:
        self.token, self.args = token, args
        self.region = str(args.get("region") or region)

    def seed(self) -> str:
        return json.dumps({"token": self.token, "args": self.args}, sort_keys=True, default=str)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return arns.arn(service, self.region, resource, regional=regional)


def _caller_identity(q: Lookup) -> Answer:
    return {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:{arns.partition(q.region)}:sts::{ACCOUNT_ID}:assumed-role/offline-preview/offline",
        "userId": "AROAOFFLINEPREVIEW0000:offline",
    }


def _region(q: Lookup) -> Answer:
    region = str(q.args.get("name") or q.region)
    return {
        "id": region,
        "name": region,
        "region": region,
        "endpoint": f"ec2.{region}.{arns.dns_suffix(region)}",
        "description": region,
    }


def _partition(q: Lookup) -> Answer:
    suffix = arns.dns_suffix(q.region)
    return {
        "id": arns.partition(q.region),
        "partition": arns.partition(q.region),
        "dnsSuffix": suffix,
        "reverseDnsPrefix": ".".join(reversed(suffix.split("."))),
    }


def _availability_zones(q: Lookup) -> Answer:
    zones = arns.availability_zones(q.region)
    excluded_names = set(q.args.get("excludeNames") or [])
    excluded_ids = set(q.args.get("excludeZoneIds") or [])
    zones = [(n, z) for n, z in zones if n not in excluded_names and z not in excluded_ids]
    return {
        "id": q.region,
        "names": [n for n, _ in zones],
        "zoneIds": [z for _, z in zones],
        "groupNames": [q.region],
        "state": q.args.get("state"),
        "allAvailabilityZones": q.args.get("allAvailabilityZones"),
        "region": q.region,
    }


# The ECS-optimized AMIs' public parameters (`/aws/service/ecs/optimized-ami/<os>/.../recommended`).
_ECS_AMI_NAME = "amzn2-ami-ecs-hvm-2.0.20260101-x86_64-ebs"


def _ami_name_for_parameter(name: str) -> str:
    if "amazon-linux-2023" in name:
        arch = "arm64" if "arm64" in name else "x86_64"
        return f"al2023-ami-ecs-hvm-2023.0.20260101-kernel-6.1-{arch}"
    if "arm64" in name:
        return _ECS_AMI_NAME.replace("x86_64", "arm64")
    if "gpu" in name:
        return _ECS_AMI_NAME.replace("ecs-hvm", "ecs-gpu-hvm")
    return _ECS_AMI_NAME


def _parameter_value(name: str, region: str) -> tuple[str, str]:
    """(type, value) of a parameter: AWS's public AMI parameters answer with an AMI (or the
    `recommended` JSON document); any other parameter with a placeholder string."""
    path = name.rstrip("/")
    if path.startswith("/aws/service/ecs/optimized-ami/"):
        ami_name = _ami_name_for_parameter(path)
        image = arns.ami_id(region, ami_name)
        if path.endswith("/recommended"):
            document = {
                "ecs_agent_version": "1.90.0",
                "ecs_runtime_version": "Docker version 25.0.8",
                "image_id": image,
                "image_name": ami_name,
                "image_version": "2.0.20260101",
                "os": "Amazon Linux 2023" if "2023" in path else "Amazon Linux 2",
                "schema_version": 1,
                "source_image_name": ami_name.replace("-ecs-", "-minimal-"),
            }
            return "String", json.dumps(document, separators=(",", ":"))
        if path.endswith("/image_name"):
            return "String", ami_name
        return "String", image
    if path.startswith(("/aws/service/ami-amazon-linux-latest/", "/aws/service/ami-windows-latest/")):
        return "String", arns.ami_id(region, path)
    if path.startswith("/aws/service/"):
        return "String", f"offline-{path.rsplit('/', 1)[-1]}"
    return "String", f"offline-parameter-value-{arns.digest(region, name)}"


def _ssm_parameter(q: Lookup) -> Answer:
    name = str(q.args.get("name", ""))
    type_, value = _parameter_value(name, q.region)
    return {
        "id": name,
        "name": name,
        "value": value,
        "insecureValue": value,
        "type": type_,
        "version": 1,
        "withDecryption": q.args.get("withDecryption", True),
        "arn": q.arn("ssm", f"parameter/{name.lstrip('/')}"),
        "region": q.region,
    }


def _ami(q: Lookup) -> Answer:
    pattern = next(iter(_filter_values(q.args, "name")), None) or str(q.args.get("nameRegex") or "offline-ami-*")
    name = pattern.replace("*", "2.0.20260101", 1).replace("*", "ebs").replace("?", "0")
    architectures = _filter_values(q.args, "architecture")
    architecture = architectures[0] if architectures else ("arm64" if "arm64" in name else "x86_64")
    owners = [str(o) for o in q.args.get("owners") or []]
    owner = next((o for o in owners if o.isdigit()), "591542846629" if "ecs" in name else "137112412989")
    image = arns.ami_id(q.region, name)
    return {
        "id": image,
        "imageId": image,
        "arn": arns.arn("ec2", q.region, f"image/{image}", account=""),
        "name": name,
        "description": name,
        "architecture": architecture,
        "ownerId": owner,
        "imageOwnerAlias": "amazon" if "amazon" in owners or not owners else None,
        "owners": owners,
        "rootDeviceName": "/dev/xvda",
        "rootDeviceType": "ebs",
        "virtualizationType": "hvm",
        "hypervisor": "xen",
        "imageType": "machine",
        "state": "available",
        "public": True,
        "enaSupport": True,
        "platformDetails": "Linux/UNIX",
        "usageOperation": "RunInstances",
        "creationDate": "2026-01-01T00:00:00.000Z",
        "imageLocation": f"amazon/{name}",
        "mostRecent": q.args.get("mostRecent"),
        "filters": q.args.get("filters"),
        "blockDeviceMappings": [],
        "productCodes": [],
        "tags": {},
        "region": q.region,
    }


def _vpc(q: Lookup) -> Answer:
    wanted = q.args.get("id") or next(iter(_filter_values(q.args, "vpc-id")), None)
    vpc_id = str(wanted) if wanted else default_vpc_id(q.region)
    default = vpc_id == default_vpc_id(q.region)
    return {
        "id": vpc_id,
        "arn": q.arn("ec2", f"vpc/{vpc_id}"),
        "cidrBlock": DEFAULT_VPC_CIDR if default else "10.0.0.0/16",
        "default": default,
        "state": "available",
        "ownerId": ACCOUNT_ID,
        "instanceTenancy": "default",
        "enableDnsSupport": True,
        "enableDnsHostnames": default,
        "dhcpOptionsId": f"dopt-0{arns.digest(vpc_id, 'dopt', n=16)}",
        "mainRouteTableId": f"rtb-0{arns.digest(vpc_id, 'rtb', n=16)}",
        "cidrBlockAssociations": [],
        "tags": q.args.get("tags") or {},
        "region": q.region,
    }


def _vpcs(q: Lookup) -> Answer:
    return {"id": q.region, "ids": [default_vpc_id(q.region)], "filters": q.args.get("filters"), "region": q.region}


def _subnets(q: Lookup) -> Answer:
    vpc_ids = _filter_values(q.args, "vpc-id")
    ids = [s["id"] for s in default_subnets(q.region) if not vpc_ids or s["vpcId"] in vpc_ids]
    if vpc_ids and not ids:  # the subnets of a VPC this run does not know: two of them
        ids = [f"subnet-0{arns.digest(v, str(i), n=16)}" for v in vpc_ids for i in range(2)]
    return {"id": q.region, "ids": ids, "filters": q.args.get("filters"), "tags": q.args.get("tags"), "region": q.region}


def _subnet(q: Lookup) -> Answer:
    subnet_id = str(q.args.get("id") or next(iter(_filter_values(q.args, "subnet-id")), "") or default_subnets(q.region)[0]["id"])
    found = next((s for s in default_subnets(q.region) if s["id"] == subnet_id), None)
    if found is None:  # a subnet this run does not know: private, in a VPC of its own
        zone, zone_id = arns.availability_zones(q.region)[0]
        found = {
            "id": subnet_id,
            "vpcId": f"vpc-0{arns.digest(subnet_id, n=16)}",
            "availabilityZone": zone,
            "availabilityZoneId": zone_id,
            "cidrBlock": "10.0.0.0/24",
            "mapPublicIpOnLaunch": False,
            "defaultForAz": False,
        }
    return {
        **found,
        "arn": q.arn("ec2", f"subnet/{found['id']}"),
        "ownerId": ACCOUNT_ID,
        "state": "available",
        "availableIpAddressCount": 4091,
        "region": q.region,
    }


def _security_group(q: Lookup) -> Answer:
    name = str(q.args.get("name") or next(iter(_filter_values(q.args, "group-name")), "default"))
    group_id = str(q.args.get("id") or f"sg-0{arns.digest(q.seed(), n=16)}")
    vpc_id = str(q.args.get("vpcId") or next(iter(_filter_values(q.args, "vpc-id")), default_vpc_id(q.region)))
    return {
        "id": group_id,
        "arn": q.arn("ec2", f"security-group/{group_id}"),
        "name": name,
        "description": "default VPC security group" if name == "default" else name,
        "vpcId": vpc_id,
        "tags": q.args.get("tags") or {},
        "region": q.region,
    }


def _security_groups(q: Lookup) -> Answer:
    group = _security_group(q)
    return {
        "id": q.region,
        "ids": [group["id"]],
        "arns": [group["arn"]],
        "vpcIds": [group["vpcId"]],
        "filters": q.args.get("filters"),
        "tags": q.args.get("tags"),
        "region": q.region,
    }


def _ecr_authorization_token(q: Lookup) -> Answer:
    registry = str(q.args.get("registryId") or ACCOUNT_ID)
    password = "offline" + base64.b64encode(arns.digest(q.seed(), n=48).encode()).decode()
    return {
        "id": q.region,
        "registryId": registry,
        "proxyEndpoint": f"https://{arns.ecr_registry(q.region, registry)}",
        "userName": "AWS",
        "password": password,
        "authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
        "expiresAt": "2100-01-01T00:00:00Z",
        "region": q.region,
    }


def _ecr_repository(q: Lookup) -> Answer:
    name = str(q.args.get("name", ""))
    registry = str(q.args.get("registryId") or ACCOUNT_ID)
    return {
        "id": name,
        "name": name,
        "arn": arns.arn("ecr", q.region, f"repository/{name}", account=registry),
        "registryId": registry,
        "repositoryUrl": f"{arns.ecr_registry(q.region, registry)}/{name}",
        "imageTagMutability": "MUTABLE",
        "imageTagMutabilityExclusionFilters": [],
        "encryptionConfigurations": [{"encryptionType": "AES256", "kmsKey": ""}],
        "imageScanningConfigurations": [{"scanOnPush": False}],
        "mostRecentImageTags": ["latest"],
        "tags": {},
        "region": q.region,
    }


def _ecr_image(q: Lookup) -> Answer:
    repository = str(q.args.get("repositoryName", ""))
    registry = str(q.args.get("registryId") or ACCOUNT_ID)
    tag = q.args.get("imageTag")
    image_digest = str(q.args.get("imageDigest") or arns.sha256_digest(q.seed()))
    return {
        "id": image_digest,
        "imageDigest": image_digest,
        "imageTag": tag,
        "imageTags": [tag] if tag else ["latest"],
        "imageUri": f"{arns.ecr_registry(q.region, registry)}/{repository}@{image_digest}",
        "imagePushedAt": 1767225600,
        "imageSizeInBytes": 52428800,
        "mostRecent": q.args.get("mostRecent"),
        "registryId": registry,
        "repositoryName": repository,
        "region": q.region,
    }


def _secret(q: Lookup) -> Answer:
    given = str(q.args.get("arn") or q.args.get("name") or "")
    name = given.split(":secret:", 1)[1].rsplit("-", 1)[0] if ":secret:" in given else given
    secret_arn = given if given.startswith("arn:") else q.arn("secretsmanager", f"secret:{name}-{arns.upper_id(name, n=6)}")
    return {
        "id": secret_arn,
        "arn": secret_arn,
        "name": name,
        "description": "",
        "kmsKeyId": "",
        "policy": "",
        "tags": {},
        "createdDate": "2026-01-01T00:00:00Z",
        "lastChangedDate": "2026-01-01T00:00:00Z",
        "region": q.region,
    }


def _secret_version(q: Lookup) -> Answer:
    secret = _secret(Lookup(q.token, {"arn": q.args.get("secretId")}, q.region))
    version_id = str(q.args.get("versionId") or arns.stable_uuid(q.seed()))
    stage = str(q.args.get("versionStage") or "AWSCURRENT")
    return {
        "id": f"{secret['arn']}|{stage}",
        "arn": secret["arn"],
        "secretArn": secret["arn"],
        "secretId": q.args.get("secretId"),
        "secretString": f"offline-secret-value-{arns.digest(q.seed())}",
        "secretBinary": "",
        "versionId": version_id,
        "versionStage": stage,
        "versionStages": [stage],
        "createdDate": "2026-01-01T00:00:00Z",
        "region": q.region,
    }


# Elastic Load Balancing's account per region (access logs bucket policies), as AWS documents them.
ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-south-1": "718504428378",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-south-1": "635631232127",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}


def _elb_service_account(q: Lookup) -> Answer:
    region = str(q.args.get("region") or q.region)
    account = ELB_ACCOUNTS.get(region)
    if account is None:
        raise InvokeAnswerError(f"unsupported AWS Region: {region}")
    return {"id": account, "arn": f"arn:{arns.partition(region)}:iam::{account}:root", "region": region}


def _route53_zone(q: Lookup) -> Answer:
    name = str(q.args.get("name") or "example.com").rstrip(".")
    zone_id = str(q.args.get("zoneId") or "Z" + arns.upper_id("zone", name, n=20))
    servers = [f"ns-{100 + i}.awsdns-{10 + i}.{tld}" for i, tld in enumerate(("com", "net", "org", "co.uk"))]
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "name": name,
        "arn": f"arn:{arns.partition(q.region)}:route53:::hostedzone/{zone_id}",
        "callerReference": arns.stable_uuid("zone", name),
        "comment": "",
        "privateZone": bool(q.args.get("privateZone")),
        "vpcId": q.args.get("vpcId"),
        "nameServers": servers,
        "primaryNameServer": servers[0],
        "resourceRecordSetCount": 2,
        "linkedServiceDescription": "",
        "linkedServicePrincipal": "",
        "enableAcceleratedRecovery": False,
        "tags": q.args.get("tags") or {},
    }


def _acm_certificate(q: Lookup) -> Answer:
    domain = str(q.args.get("domain") or "example.com")
    cert_arn = q.arn("acm", f"certificate/{arns.stable_uuid('certificate', q.region, domain)}")
    return {
        "id": cert_arn,
        "arn": cert_arn,
        "domain": domain,
        "status": "ISSUED",
        "statuses": q.args.get("statuses"),
        "types": q.args.get("types"),
        "keyTypes": q.args.get("keyTypes"),
        "mostRecent": q.args.get("mostRecent"),
        "certificate": "",
        "certificateChain": "",
        "tags": {},
        "region": q.region,
    }


def _ecs_cluster(q: Lookup) -> Answer:
    name = str(q.args.get("clusterName", ""))
    cluster_arn = q.arn("ecs", f"cluster/{name}")
    return {
        "id": cluster_arn,
        "arn": cluster_arn,
        "clusterName": name,
        "status": "ACTIVE",
        "pendingTasksCount": 0,
        "runningTasksCount": 0,
        "registeredContainerInstancesCount": 0,
        "serviceConnectDefaults": [],
        "settings": [],
        "tags": {},
        "region": q.region,
    }


def _policy_document(q: Lookup) -> Answer:
    try:
        return iam_policy_document.policy_document(dict(q.args))
    except iam_policy_document.PolicyDocumentError as e:
        raise InvokeAnswerError(str(e)) from None


BUILTIN: dict[str, Callable[[Lookup], Answer]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:ssm/getParameter:getParameter": _ssm_parameter,
    "aws:ec2/getAmi:getAmi": _ami,
    "aws:ec2/getVpc:getVpc": _vpc,
    "aws:ec2/getVpcs:getVpcs": _vpcs,
    "aws:ec2/getSubnets:getSubnets": _subnets,
    "aws:ec2/getSubnet:getSubnet": _subnet,
    "aws:ec2/getSecurityGroup:getSecurityGroup": _security_group,
    "aws:ec2/getSecurityGroups:getSecurityGroups": _security_groups,
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": _ecr_authorization_token,
    "aws:ecr/getRepository:getRepository": _ecr_repository,
    "aws:ecr/getImage:getImage": _ecr_image,
    "aws:iam/getPolicyDocument:getPolicyDocument": _policy_document,
    "aws:secretsmanager/getSecret:getSecret": _secret,
    "aws:secretsmanager/getSecretVersion:getSecretVersion": _secret_version,
    "aws:elb/getServiceAccount:getServiceAccount": _elb_service_account,
    "aws:route53/getZone:getZone": _route53_zone,
    "aws:acm/getCertificate:getCertificate": _acm_certificate,
    "aws:ecs/getCluster:getCluster": _ecs_cluster,
}


def builtin_answer(token: str, args: Mapping[str, Any], region: str) -> Answer | None:
    """The built-in answer of a data source (None values dropped), or None for a token without one.

    Raises InvokeAnswerError where the provider would fail."""
    answer = BUILTIN.get(token)
    if answer is None:
        return None
    return {k: v for k, v in answer(Lookup(token, args, region)).items() if v is not None}


# ---- placeholders from the SDK's result type ---------------------------------------------------------------


Fields = Mapping[str, tuple[Any, bool]]  # engine name -> (Python type, required)


def complete(
    token: str,
    fields: Fields,
    nested: Callable[[type], Fields | None],
    args: Mapping[str, Any],
    region: str,
    answer: Answer | None,
) -> Answer:
    """`answer` with a value for each field of the result type it lacks: every field when there
    is no answer (arguments echoed back, the rest plausible values of their type from
    `fakes.plausible_value`), only the required ones otherwise, so no required field is None. A
    nested output type (`nested(cls)` gives its fields) is filled the same way; lists and maps
    of them are empty."""
    seed = Lookup(token, args, region).seed()
    name = str(args.get("name") or token.rsplit(":", 1)[-1])
    result: Answer = {k: _coerce(v, fields[k][0]) if k in fields else v for k, v in (answer or {}).items()}
    for prop, (typ, required) in fields.items():
        if result.get(prop) is not None or (answer is not None and not required):
            continue
        if prop in args and args[prop] is not None:
            result[prop] = _coerce(args[prop], typ)
            continue
        inner = nested(typ) if isinstance(typ, type) else None
        if inner is not None:
            result[prop] = complete(token, inner, nested, {}, region, None)
            continue
        value = fakes.plausible_value(prop, typ, token, name, seed, region, dict(args))
        result[prop] = value if value is not None else _empty_of(typ)
    return result


def _coerce(value: Any, typ: Any) -> Any:
    """A scalar as the provider returns it for the declared type: the bridge converts "true" to a
    boolean, numeric strings to numbers and numbers to strings (a result type's constructor
    refuses anything else)."""
    if typ is bool and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if typ in (int, float) and isinstance(value, str):
        try:
            return int(value) if typ is int else float(value)
        except ValueError:
            return value
    if typ is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _empty_of(typ: Any) -> Any:
    """An empty value of a container type; "" for anything else."""
    origin = typing.get_origin(typ) or typ
    if origin in (dict, collections.abc.Mapping):
        return {}
    if origin in (list, collections.abc.Sequence):
        return []
    return ""


# ---- the user's answers (--invokes FILE) -------------------------------------------------------------------


def load_invokes_file(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Read an `--invokes` file (YAML or JSON): a mapping of invoke tokens to a result, to
    `{args: {...}, result: {...}}` (the result when the invoke's arguments include `args`), or to
    a list of those, tried in order. Raises InvokesFileError naming the file and entry."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InvokesFileError(f"--invokes {path}: cannot read it: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise InvokesFileError(f"--invokes {path}: not valid YAML or JSON: {e}") from None
    if not isinstance(doc, dict):
        raise InvokesFileError(f"--invokes {path}: expected a mapping of invoke tokens to results")
    rules: dict[str, list[dict[str, Any]]] = {}
    for token, entry in doc.items():
        token = str(token)
        if token.count(":") != 2 or not all(token.split(":")):
            raise InvokesFileError(
                f"--invokes {path}: {token!r} is not an invoke token (package:module:function, e.g. "
                "aws:ecr/getRepository:getRepository)"
            )
        entries = entry if isinstance(entry, list) else [entry]
        rules[token] = [_rule(path, token, i, e) for i, e in enumerate(entries)]
    return rules


def _rule(path: Path, token: str, index: int, entry: Any) -> dict[str, Any]:
    where = f"--invokes {path}: {token}" + (f"[{index}]" if index else "")
    if not isinstance(entry, dict):
        raise InvokesFileError(f"{where}: expected a result (a mapping), got {type(entry).__name__}")
    if "result" in entry and set(entry) <= {"args", "result"}:
        args, result = entry.get("args"), entry["result"]
        if args is not None and not isinstance(args, dict):
            raise InvokesFileError(f"{where}: 'args' must be a mapping of argument names to values")
        if not isinstance(result, dict):
            raise InvokesFileError(f"{where}: 'result' must be a mapping of field names to values")
        return {"args": args, "result": result}
    return {"args": None, "result": entry}


def _matches(wanted: Any, given: Any) -> bool:
    """`wanted` is part of `given`: every key of a mapping matches, lists and scalars are equal
    (numbers compare as numbers: the wire has only floats)."""
    if isinstance(wanted, dict):
        return isinstance(given, dict) and all(k in given and _matches(v, given[k]) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(given, list) and len(wanted) == len(given) and all(map(_matches, wanted, given))
    if isinstance(wanted, (int, float)) and not isinstance(wanted, bool) and isinstance(given, (int, float)):
        return float(wanted) == float(given)
    return bool(wanted == given)


def user_answer(rules: Mapping[str, list[dict[str, Any]]], token: str, args: Mapping[str, Any]) -> Answer | None:
    """The first of the token's rules whose `args` the invoke's arguments include."""
    for rule in rules.get(token, ()):
        if rule["args"] is None or _matches(rule["args"], dict(args)):
            return dict(rule["result"])
    return None
