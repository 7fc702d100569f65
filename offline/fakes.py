"""Deterministic stand-ins for what only the cloud knows: the ids and computed outputs of created
resources (`update` mode) and the values of data-source fields nobody answered.

Owns: per type, the id AWS (through the Terraform provider) gives a resource (`vpc-0...`, an ARN,
the name) and its ARN in the service's own form; per property, a plausible value of the declared
type (ARNs with the right service, region and account, ECR repository URLs and image digests,
load balancer DNS names, prefixed ids, IP addresses). A value that a rule reads must be one AWS
could return, so no policy fires on a fake that would not fire on the real value. Values derive
from a hash of the URN (or the invoke's arguments), so runs are reproducible. Identifier shapes
live in `arns`; the generated SDK classes are read through `sdk_patches`.
"""

from __future__ import annotations

import collections.abc
import typing
from collections.abc import Callable
from typing import Any

from . import arns, sdk_patches
from .arns import ACCOUNT_ID
from .properties import UNKNOWN

# ---- identity of a created resource: id and ARN ---------------------------------------------------------

# The resource part of the ARN of a type (after `arn:<partition>:<service>:<region>:<account>:`),
# from the resource's name, id and a hex/uuid seed; `service` and whether the ARN is regional.
_Form = Callable[[dict[str, str]], str]
_ARNS: dict[str, tuple[str, bool, _Form]] = {
    "ecs/cluster:Cluster": ("ecs", True, lambda v: f"cluster/{v['name']}"),
    "ecs/service:Service": ("ecs", True, lambda v: f"service/{v['cluster']}/{v['name']}"),
    "ecs/taskDefinition:TaskDefinition": ("ecs", True, lambda v: f"task-definition/{v['family']}:1"),
    "ecs/capacityProvider:CapacityProvider": ("ecs", True, lambda v: f"capacity-provider/{v['name']}"),
    "ecr/repository:Repository": ("ecr", True, lambda v: f"repository/{v['name']}"),
    "iam/role:Role": ("iam", False, lambda v: f"role{v['path']}{v['name']}"),
    "iam/policy:Policy": ("iam", False, lambda v: f"policy{v['path']}{v['name']}"),
    "iam/instanceProfile:InstanceProfile": ("iam", False, lambda v: f"instance-profile{v['path']}{v['name']}"),
    "iam/user:User": ("iam", False, lambda v: f"user{v['path']}{v['name']}"),
    "iam/group:Group": ("iam", False, lambda v: f"group{v['path']}{v['name']}"),
    "iam/openIdConnectProvider:OpenIdConnectProvider": ("iam", False, lambda v: f"oidc-provider/{v['name']}"),
    "lb/loadBalancer:LoadBalancer": (
        "elasticloadbalancing",
        True,
        lambda v: f"loadbalancer/{v['lbkind']}/{v['name']}/{v['hex']}",
    ),
    "lb/targetGroup:TargetGroup": ("elasticloadbalancing", True, lambda v: f"targetgroup/{v['name']}/{v['hex']}"),
    "lb/listener:Listener": ("elasticloadbalancing", True, lambda v: f"listener/app/{v['name']}/{v['hex']}/{v['hex2']}"),
    "lb/listenerRule:ListenerRule": (
        "elasticloadbalancing",
        True,
        lambda v: f"listener-rule/app/{v['name']}/{v['hex']}/{v['hex2']}/{v['hex3']}",
    ),
    "cloudwatch/logGroup:LogGroup": ("logs", True, lambda v: f"log-group:{v['name']}"),
    "cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch", True, lambda v: f"alarm:{v['name']}"),
    "cloudwatch/eventRule:EventRule": ("events", True, lambda v: f"rule/{v['name']}"),
    "cloudwatch/eventBus:EventBus": ("events", True, lambda v: f"event-bus/{v['name']}"),
    "scheduler/schedule:Schedule": ("scheduler", True, lambda v: f"schedule/{v['group']}/{v['name']}"),
    "scheduler/scheduleGroup:ScheduleGroup": ("scheduler", True, lambda v: f"schedule-group/{v['name']}"),
    "autoscaling/group:Group": (
        "autoscaling",
        True,
        lambda v: f"autoScalingGroup:{v['uuid']}:autoScalingGroupName/{v['name']}",
    ),
    "autoscaling/policy:Policy": (
        "autoscaling",
        True,
        lambda v: f"scalingPolicy:{v['uuid']}:autoScalingGroupName/{v['asg']}:policyName/{v['name']}",
    ),
    "appautoscaling/policy:Policy": (
        "autoscaling",
        True,
        lambda v: f"scalingPolicy:{v['uuid']}:resource/{v['resourceId']}:policyName/{v['name']}",
    ),
    "kms/key:Key": ("kms", True, lambda v: f"key/{v['id']}"),
    "kms/alias:Alias": ("kms", True, lambda v: v["name"]),
    "secretsmanager/secret:Secret": ("secretsmanager", True, lambda v: f"secret:{v['name']}-{v['suffix']}"),
    "ssm/parameter:Parameter": ("ssm", True, lambda v: f"parameter/{v['name'].lstrip('/')}"),
    "sns/topic:Topic": ("sns", True, lambda v: v["name"]),
    "sqs/queue:Queue": ("sqs", True, lambda v: v["name"]),
    "lambda/function:Function": ("lambda", True, lambda v: f"function:{v['name']}"),
    "acm/certificate:Certificate": ("acm", True, lambda v: f"certificate/{v['uuid']}"),
    "wafv2/webAcl:WebAcl": ("wafv2", True, lambda v: f"regional/webacl/{v['name']}/{v['uuid']}"),
    "servicediscovery/privateDnsNamespace:PrivateDnsNamespace": ("servicediscovery", True, lambda v: f"namespace/{v['id']}"),
    "servicediscovery/httpNamespace:HttpNamespace": ("servicediscovery", True, lambda v: f"namespace/{v['id']}"),
    "servicediscovery/service:Service": ("servicediscovery", True, lambda v: f"service/{v['id']}"),
    "efs/fileSystem:FileSystem": ("elasticfilesystem", True, lambda v: f"file-system/{v['id']}"),
    "efs/accessPoint:AccessPoint": ("elasticfilesystem", True, lambda v: f"access-point/{v['id']}"),
    "rds/instance:Instance": ("rds", True, lambda v: f"db:{v['name']}"),
    "rds/subnetGroup:SubnetGroup": ("rds", True, lambda v: f"subgrp:{v['name']}"),
    "route53/zone:Zone": ("route53", False, lambda v: f"hostedzone/{v['id']}"),
}
# The same forms under the `alb` aliases of the `lb` module.
_ARNS.update({k.replace("lb/", "alb/", 1): f for k, f in list(_ARNS.items()) if k.startswith("lb/")})

# EC2-family resources: ARN `<kind>/<id>`.
_EC2_KINDS = {
    "ec2/vpc:Vpc": "vpc",
    "ec2/subnet:Subnet": "subnet",
    "ec2/securityGroup:SecurityGroup": "security-group",
    "ec2/internetGateway:InternetGateway": "internet-gateway",
    "ec2/natGateway:NatGateway": "natgateway",
    "ec2/routeTable:RouteTable": "route-table",
    "ec2/eip:Eip": "elastic-ip",
    "ec2/launchTemplate:LaunchTemplate": "launch-template",
    "ec2/instance:Instance": "instance",
    "ec2/networkInterface:NetworkInterface": "network-interface",
    "ec2/networkAcl:NetworkAcl": "network-acl",
    "ec2/vpcEndpoint:VpcEndpoint": "vpc-endpoint",
    "ec2/keyPair:KeyPair": "key-pair",
    "ec2/volume:Volume": "volume",
    "ec2/flowLog:FlowLog": "vpc-flow-log",
    "vpc/securityGroupIngressRule:SecurityGroupIngressRule": "security-group-rule",
    "vpc/securityGroupEgressRule:SecurityGroupEgressRule": "security-group-rule",
    "ec2transitgateway/transitGateway:TransitGateway": "transit-gateway",
}

# The Terraform id of a type, where it is not the prefixed id: "arn", or the input naming it.
_ID_IS_ARN = frozenset(
    {
        "ecs/cluster:Cluster",
        "ecs/service:Service",
        "ecs/capacityProvider:CapacityProvider",
        "lb/loadBalancer:LoadBalancer",
        "lb/targetGroup:TargetGroup",
        "lb/listener:Listener",
        "lb/listenerRule:ListenerRule",
        "alb/loadBalancer:LoadBalancer",
        "alb/targetGroup:TargetGroup",
        "alb/listener:Listener",
        "alb/listenerRule:ListenerRule",
        "iam/policy:Policy",
        "secretsmanager/secret:Secret",
        "sns/topic:Topic",
        "acm/certificate:Certificate",
        "iam/openIdConnectProvider:OpenIdConnectProvider",
    }
)
_ID_IS_INPUT = {
    "ecs/taskDefinition:TaskDefinition": "family",
    "s3/bucket:Bucket": "bucket",
    "s3/bucketV2:BucketV2": "bucket",
}


# ARN service names of modules whose name is not the service's.
_SERVICES = {
    "lb": "elasticloadbalancing",
    "alb": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "appautoscaling": "application-autoscaling",
    "efs": "elasticfilesystem",
    "vpc": "ec2",
    "ec2transitgateway": "ec2",
}


def _token(type_: str) -> str:
    """The type token after the package; a data source's (`ecr/getRepository:getRepository`) as the
    resource it looks up (`ecr/repository:Repository`), whose id and ARN forms it shares."""
    token = type_.split(":", 1)[1] if ":" in type_ else type_
    module, _, member = token.rpartition(":")
    if member.startswith("get") and member[3:4].isupper():
        kind = member[3:]
        return f"{module.split('/', 1)[0]}/{kind[:1].lower()}{kind[1:]}:{kind}"
    return token


def _known_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value and value != UNKNOWN else None


def _last_segment(value: Any, default: str) -> str:
    text = _known_str(value)
    return text.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1] if text else default


def resource_name(type_: str, name: str, inputs: dict[str, Any]) -> str:
    """The name AWS knows the resource by: the (checked, so autonamed) `name` input, else the
    type's own naming input, else the Pulumi name."""
    for key in ("name", "family", "bucket", "identifier", "clusterName", "functionName", "domainName", "keyName"):
        if value := _known_str(inputs.get(key)):
            return value
    return name


def _arn_values(type_: str, name: str, urn: str, inputs: dict[str, Any], rid: str) -> dict[str, str]:
    path = _known_str(inputs.get("path")) or "/"
    load_balancer_type = inputs.get("loadBalancerType")
    return {
        "name": resource_name(type_, name, inputs),
        "family": _known_str(inputs.get("family")) or name,
        "path": path if path.endswith("/") else path + "/",
        "cluster": _last_segment(inputs.get("cluster"), "default"),
        "group": _known_str(inputs.get("groupName")) or "default",
        "asg": _known_str(inputs.get("autoscalingGroupName")) or name,
        "resourceId": _known_str(inputs.get("resourceId")) or f"ecs/service/default/{name}",
        "lbkind": "net" if load_balancer_type == "network" else "gwy" if load_balancer_type == "gateway" else "app",
        "id": rid,
        "hex": arns.digest(urn, "arn", n=16),
        "hex2": arns.digest(urn, "arn2", n=16),
        "hex3": arns.digest(urn, "arn3", n=16),
        "uuid": arns.stable_uuid(urn),
        "suffix": arns.upper_id(urn, n=6).lower()[:6],
    }


def _prefixed_id(type_: str, urn: str) -> str | None:
    return arns.resource_id(_token(type_), urn)


def resource_arn(type_: str, name: str, urn: str, inputs: dict[str, Any], region: str) -> str:
    """The ARN of a created resource, in its service's form."""
    token = _token(type_)
    rid = _prefixed_id(type_, urn) or ""
    if token in _EC2_KINDS:
        return arns.arn("ec2", region, f"{_EC2_KINDS[token]}/{rid}")
    form = _ARNS.get(token)
    values = _arn_values(type_, name, urn, inputs, rid)
    if form is not None:
        service, regional, resource = form
        if service == "route53":
            return f"arn:{arns.partition(region)}:route53:::{resource(values)}"
        return arns.arn(service, region, resource(values), regional=regional)
    if token.startswith("s3/"):
        return f"arn:{arns.partition(region)}:s3:::{values['name']}"
    module = token.split("/", 1)[0] if "/" in token else "resource"
    service, kind = _SERVICES.get(module, module), _kebab(token.rsplit(":", 1)[-1])
    return arns.arn(service, region, f"{kind}/{values['name']}")


def fake_id(type_: str, name: str, urn: str, inputs: dict[str, Any] | None = None, region: str = "us-east-1") -> str:
    """The id the provider gives a created resource: AWS's prefixed id (`vpc-0...`), the ARN, the
    name, or for a provider a UUID."""
    if type_.startswith("pulumi:providers:"):
        return arns.stable_uuid(urn)
    inputs = inputs or {}
    token = _token(type_)
    if prefixed := _prefixed_id(type_, urn):
        return prefixed
    if token in _ID_IS_ARN:
        return resource_arn(type_, name, urn, inputs, region)
    if token in _ID_IS_INPUT and (value := _known_str(inputs.get(_ID_IS_INPUT[token]))):
        return value
    if token == "sqs/queue:Queue":
        return f"https://sqs.{region}.{arns.dns_suffix(region)}/{ACCOUNT_ID}/{resource_name(type_, name, inputs)}"
    if _known_str(inputs.get("name")):
        return resource_name(type_, name, inputs)
    return f"{name}-{arns.digest(urn)}"


# ---- one plausible value per property ---------------------------------------------------------------------

_ID_STEMS = (  # the prefix of an `<x>Id` property, by what x names
    ("subnet", "subnet"),
    ("securitygroup", "sg"),
    ("routetable", "rtb"),
    ("networkacl", "acl"),
    ("natgateway", "nat"),
    ("internetgateway", "igw"),
    ("networkinterface", "eni"),
    ("allocation", "eipalloc"),
    ("association", "eipassoc"),
    ("dhcpoptions", "dopt"),
    ("image", "ami"),
    ("instance", "i"),
    ("launchtemplate", "lt"),
    ("vpcendpoint", "vpce"),
    ("vpc", "vpc"),
    ("volume", "vol"),
    ("snapshot", "snap"),
    ("transitgateway", "tgw"),
)


def _kebab(camel: str) -> str:
    out = []
    for i, ch in enumerate(camel):
        if ch.isupper() and i and not camel[i - 1].isupper():
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


def _id_for(prop: str, seed: str, region: str) -> str:
    stem = prop[:-2].lower()
    if stem in ("owner", "registry", "account", "caller"):
        return ACCOUNT_ID
    if stem in ("hostedzone", "zone", "canonicalhostedzone"):
        return "Z" + arns.upper_id(seed, prop)
    if stem in ("key", "kmskey"):
        return arns.stable_uuid(seed, prop)
    if stem == "unique":
        return "AROA" + arns.upper_id(seed, prop, n=17)
    if stem in ("availabilityzone", "zoneid"):
        return arns.availability_zones(region)[0][1]
    for key, prefix in _ID_STEMS:
        if key in stem:
            return f"{prefix}-0{arns.digest(seed, prop, n=16)}"
    return arns.digest(seed, prop, n=17)


def _string_for(prop: str, kind: str, name: str, seed: str, region: str, inputs: dict[str, Any]) -> str:
    """A plausible string for a property of a resource (or data-source result) of type `kind`."""
    low = prop.lower()
    if prop == "repositoryUrl":
        return f"{arns.ecr_registry(region)}/{resource_name(kind, name, inputs)}"
    if prop in ("repoDigest", "imageUri", "ref", "baseImageName", "registryServer"):
        return _image_reference(prop, name, seed, region, inputs)
    if prop in ("imageDigest", "digest"):
        return arns.sha256_digest(seed)
    if prop == "dnsName":
        return arns.elb_dns_name(
            resource_name(kind, name, inputs),
            region,
            seed,
            internal=inputs.get("internal") is True,
            network=inputs.get("loadBalancerType") == "network",
        )
    if prop == "arnSuffix":  # the part after `loadbalancer/` or the whole `targetgroup/...`
        full = resource_arn(kind, name, seed, inputs, region).split(":", 5)[-1]
        return full.split("/", 1)[1] if full.startswith("loadbalancer/") else full
    if prop == "arn":
        return resource_arn(kind, name, seed, inputs, region)
    if prop == "arnWithoutRevision":
        return resource_arn(kind, name, seed, inputs, region).rsplit(":", 1)[0]
    if prop.endswith("Arn"):
        service = _kebab(prop[:-3]).split("-")[0] or "iam"
        return arns.arn(service, region, f"{_kebab(prop[:-3])}/{name}-{arns.digest(seed, prop)}")
    if prop.endswith("Id"):
        return _id_for(prop, seed, region)
    if prop in ("name", "namePrefix") or prop.endswith("Name"):
        return f"{name}-{arns.digest(seed, prop, n=7)}"
    if prop in ("region",):
        return region
    if prop == "url" and kind.endswith("sqs/queue:Queue"):
        return fake_id(kind, name, seed, inputs, region)
    if prop in ("endpoint", "address"):
        host = f"{resource_name(kind, name, inputs)}.{arns.digest(seed, n=12)}.{region}.rds.{arns.dns_suffix(region)}"
        return f"{host}:3306" if prop == "endpoint" else host
    if low.endswith("privateip") or prop == "privateIp":
        return f"10.0.{int(arns.digest(seed, prop, n=2), 16) % 250}.{int(arns.digest(seed, prop, 'b', n=2), 16) % 250 + 4}"
    if low.endswith("publicip"):
        return f"203.0.113.{int(arns.digest(seed, prop, n=2), 16) % 250 + 1}"
    if low.endswith("publicdns"):
        return f"ec2-203-0-113-1.{region}.compute.{arns.dns_suffix(region)}"
    if low.endswith("privatedns"):
        return f"ip-10-0-0-4.{region}.compute.internal"
    if prop in ("createDate", "createdAt", "creationDate", "lastModified", "expiresAt", "createdTime"):
        return "2026-01-01T00:00:00Z"
    if prop == "cidrBlock":
        return "10.0.0.0/16"
    if prop in ("availabilityZone",):
        return arns.availability_zones(region)[0][0]
    return f"{name}-{prop}-{arns.digest(seed, prop)}"


def _image_reference(prop: str, name: str, seed: str, region: str, inputs: dict[str, Any]) -> str:
    """Docker image outputs from the image's name (docker `Image.imageName`, docker-build
    `Image.tags[0]`): `repoDigest`/`imageUri` the repository pinned by digest, `ref` the tag pinned
    by digest, `baseImageName` the name as given, `registryServer` its registry host."""
    tags = inputs.get("tags")
    first_tag = tags[0] if isinstance(tags, list) and tags else None
    image = _known_str(inputs.get("imageName")) or _known_str(first_tag) or f"{arns.ecr_registry(region)}/{name}"
    if prop == "baseImageName":
        return image
    if prop == "registryServer":
        return image.split("/", 1)[0] if "/" in image and "." in image.split("/", 1)[0] else "docker.io"
    pinned = arns.sha256_digest(seed)
    if "@" in image.rsplit("/", 1)[-1]:
        return image
    if prop == "ref":
        return f"{image}@{pinned}"
    last = image.rsplit("/", 1)[-1]
    repository = image.rsplit(":", 1)[0] if ":" in last else image
    return f"{repository}@{pinned}"


def plausible_value(prop: str, typ: Any, kind: str, name: str, seed: str, region: str, inputs: dict[str, Any]) -> Any:
    """A value of the declared Python type for one property; None for nested objects (left out)."""
    if typ is str or typ is typing.Any:
        return _string_for(prop, kind, name, seed, region, inputs)
    if typ is bool:
        return False
    if typ is int or typ is float:
        return 3306 if prop == "port" and "rds/" in kind else 1
    origin = typing.get_origin(typ)
    if prop == "tagsAll":
        tags = inputs.get("tags")
        return dict(tags) if isinstance(tags, dict) else {}
    if origin in (collections.abc.Mapping, dict):
        return {}
    if origin in (collections.abc.Sequence, list):
        if typing.get_args(typ) != (str,):
            return []
        if prop.endswith("Ids"):
            return [_id_for(prop[:-1], f"{seed}{i}", region) for i in range(2)]
        if prop.endswith("Arns"):
            return [_string_for(prop[:-1], kind, name, f"{seed}{i}", region, inputs) for i in range(2)]
        return []
    return None


def computed_outputs(type_: str, name: str, urn: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """Values for every output the class declares that the inputs do not already provide."""
    cls = sdk_patches.resource_class(type_)
    if cls is None:
        return {}
    result: dict[str, Any] = {}
    for prop, typ in sdk_patches.output_types(cls).items():
        if prop in inputs or prop in ("id", "urn"):
            continue
        value = plausible_value(prop, typ, type_, name, urn, region, inputs)
        if value is not None:
            result[prop] = value
    return result
