"""The aws provider's `Check` and its planned outputs, emulated for the offline preview.

Owns: what the real engine hands a pack in place of the program's raw inputs for an `aws:*` custom
resource (the provider's checked inputs) and, in preview, what it records as the resource's
outputs (the provider's plan). Knows nothing about monitors, packs or reports.

Facts, from pulumi-aws v7 (`provider/autonaming.go`, `provider/resource_overrides.go`, the legacy
alias table that configures `aws_lb_target_group`) and pulumi-terraform-bridge
(`info/autonaming.go`, `applyDefaults` in `schema.go`):
- every resource whose Terraform schema has an input `name` gets `AutoName("name", 255, "-")`:
  `<resource name>-<7 random hex>`; a handful override the field, length, separator or charset
  (table `_AUTONAMES`); Route 53 records and Directory Service directories are not autonamed;
- the bridge fails Check, it never truncates, when the name plus separator plus random part is
  longer than the maximum (`name 'x-' plus 7 random chars is longer than maximum length 32`);
- no default is applied to a property when one it conflicts with is set (`namePrefix`);
- a few Pulumi-side defaults (`description: "Managed by Pulumi"` on security groups, ...);
- policy documents given as objects become JSON strings (`TransformJSONDocument`: Go's
  `json.Marshal`, keys sorted, `<`, `>`, `&` escaped), as the resource's outputs hold them.
The random part is derived from the URN here, so reports are reproducible. Terraform schema
defaults (e.g. `enableDnsSupport: true`) are not emulated: they need the provider's schema.

In preview the plan keeps every checked input and marks each output-only property (one the
generated SDK class declares as an output but not as an input: `arn`, `id`-like values...) as
unknown; `tagsAll` is the checked one (see `tags_all`), else the known `tags` when those are known.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from dataclasses import dataclass
from typing import Any

from . import sdk_patches
from .properties import SIG, UNKNOWN, contains_unknown

MANAGED_BY_PULUMI = "Managed by Pulumi"
_HEX = "0123456789abcdef"
_LOWER = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class AutoName:
    """How one property is autonamed (tfbridge AutoNameOptions)."""

    field: str = "name"
    maxlen: int = 255
    separator: str = "-"
    randlen: int = 7
    charset: str = _HEX
    lowercase: bool = False
    fifo_flag: str = ""  # the boolean input that appends ".fifo" (SQS queues, SNS topics)
    prefix: str = ""  # prepended unless present (KMS aliases: "alias/")


# Overrides of the generic `name` rule (pulumi-aws v7), by type token; None: not autonamed.
_AUTONAMES: dict[str, AutoName | None] = {
    "aws:lb/targetGroup:TargetGroup": AutoName(maxlen=32),
    "aws:iam/role:Role": AutoName(maxlen=64),
    "aws:cloudwatch/eventRule:EventRule": AutoName(maxlen=64),
    "aws:cloudwatch/eventTarget:EventTarget": AutoName(field="targetId"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": AutoName(),
    "aws:lambda/function:Function": AutoName(maxlen=64),
    "aws:lambda/permission:Permission": AutoName(field="statementId", maxlen=100),
    "aws:elasticbeanstalk/environment:Environment": AutoName(maxlen=40),
    "aws:s3/bucket:Bucket": AutoName(field="bucket", maxlen=63, lowercase=True),
    "aws:sqs/queue:Queue": AutoName(maxlen=80, fifo_flag="fifoQueue"),
    "aws:sns/topic:Topic": AutoName(maxlen=80, fifo_flag="fifoTopic"),
    "aws:kms/alias:Alias": AutoName(maxlen=238, prefix="alias/"),
    "aws:ec2/keyPair:KeyPair": AutoName(field="keyName"),
    "aws:efs/fileSystem:FileSystem": AutoName(field="creationToken"),
    "aws:eks/nodeGroup:NodeGroup": AutoName(field="nodeGroupName"),
    "aws:eks/fargateProfile:FargateProfile": AutoName(field="fargateProfileName"),
    "aws:elasticache/cluster:Cluster": AutoName(field="clusterId", maxlen=50, lowercase=True),
    "aws:elasticache/replicationGroup:ReplicationGroup": AutoName(field="replicationGroupId", maxlen=40, lowercase=True),
    "aws:elasticsearch/domain:Domain": AutoName(field="domainName", maxlen=28, lowercase=True),
    "aws:opensearch/domain:Domain": AutoName(field="domainName"),
    "aws:mq/broker:Broker": AutoName(field="brokerName", maxlen=55),
    "aws:msk/cluster:Cluster": AutoName(field="clusterName"),
    "aws:msk/serverlessCluster:ServerlessCluster": AutoName(field="clusterName"),
    "aws:rds/instance:Instance": AutoName(field="identifier"),
    "aws:iot/topicRule:TopicRule": AutoName(separator="_"),
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": AutoName(separator="_"),
    "aws:appsync/function:Function": AutoName(separator="_"),
    "aws:appsync/dataSource:DataSource": AutoName(separator="_"),
    "aws:athena/database:Database": AutoName(separator="_"),
    "aws:codedeploy/deploymentConfig:DeploymentConfig": AutoName(field="deploymentConfigName", maxlen=100, separator="_"),
    "aws:glue/catalogDatabase:CatalogDatabase": AutoName(separator="_", randlen=8, charset=_LOWER, lowercase=True, maxlen=0),
    "aws:glue/catalogTable:CatalogTable": AutoName(separator="_", randlen=8, charset=_LOWER, lowercase=True, maxlen=0),
    "aws:lex/bot:Bot": AutoName(separator="_", randlen=8, charset=_LOWER, maxlen=0),
    "aws:lex/botAlias:BotAlias": AutoName(separator="_", randlen=8, charset=_LOWER, maxlen=0),
    "aws:lex/intent:Intent": AutoName(separator="_", randlen=8, charset=_LOWER, maxlen=0),
    "aws:lex/slotType:SlotType": AutoName(separator="_", randlen=8, charset=_LOWER, maxlen=0),
    "aws:s3/bucketObjectv2:BucketObjectv2": AutoName(field="key", randlen=0, maxlen=0),
    "aws:s3/bucketObject:BucketObject": AutoName(field="key", randlen=0, maxlen=0),
    "aws:route53/record:Record": None,
    "aws:directoryservice/directory:Directory": None,
}

# Terraform's own validation of names the user sets (or autonaming produced): Check fails.
_NAME_LIMITS: dict[str, int] = {
    "aws:lb/loadBalancer:LoadBalancer": 32,
    "aws:alb/loadBalancer:LoadBalancer": 32,
    "aws:lb/targetGroup:TargetGroup": 32,
    "aws:alb/targetGroup:TargetGroup": 32,
}

# Pulumi-side defaults of the provider (SchemaInfo Default), by type token.
_DEFAULTS: dict[str, dict[str, Any]] = {
    token: {"description": MANAGED_BY_PULUMI}
    for token in (
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:docdb/subnetGroup:SubnetGroup",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:elasticache/parameterGroup:ParameterGroup",
        "aws:neptune/subnetGroup:SubnetGroup",
        "aws:redshift/subnetGroup:SubnetGroup",
        "aws:redshift/parameterGroup:ParameterGroup",
        "aws:apigateway/apiKey:ApiKey",
        "aws:appsync/apiKey:ApiKey",
        "aws:mediapackage/channel:Channel",
    )
} | {"aws:route53/zone:Zone": {"comment": MANAGED_BY_PULUMI}}


# Properties whose object values the provider turns into JSON strings (TransformJSONDocument).
_JSON_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("policy",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("policy",),
    "aws:ecr/registryPolicy:RegistryPolicy": ("policy",),
    "aws:s3/bucket:Bucket": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": ("policyDocument",),
    "aws:elasticsearch/domain:Domain": ("accessPolicies",),
    "aws:elasticsearch/domainPolicy:DomainPolicy": ("accessPolicies",),
}


def json_document(value: Any) -> str:
    """Go's `json.Marshal` of a decoded JSON value (what TransformJSONDocument produces)."""
    text = json.dumps(_integral(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


class CheckFailure(Exception):
    """The provider's Check would fail; the message is the bridge's."""


@dataclass(frozen=True)
class ResourceSchema:
    """What the generated SDK class says about a type: its input and output property names."""

    inputs: frozenset[str]
    outputs: frozenset[str]

    @property
    def output_only(self) -> frozenset[str]:
        return self.outputs - self.inputs - {"id", "urn"}


def resource_schema_cached(type_: str) -> bool:
    """Whether `resource_schema(type_)` is known (no import needed)."""
    return type_ in _SCHEMAS


_SCHEMAS: dict[str, ResourceSchema] = {}


def resource_schema(type_: str) -> ResourceSchema | None:
    """Input and output names of a type, from its generated SDK class and `<Class>Args`
    (read through `sdk_patches`, which checks the SDK internals it relies on)."""
    if type_ in _SCHEMAS:
        return _SCHEMAS[type_]
    cls = sdk_patches.resource_class(type_)
    if cls is None:  # its package is not imported (yet): nothing to cache
        return None
    args_cls = getattr(sys.modules[cls.__module__], f"{cls.__name__}Args", None)
    inputs = frozenset(sdk_patches.input_names(args_cls).values()) if args_cls else frozenset()
    schema = _SCHEMAS[type_] = ResourceSchema(inputs, frozenset(sdk_patches.output_types(cls)))
    return schema


def _random_part(urn: str, autoname: AutoName) -> str:
    digest = hashlib.sha256(urn.encode()).digest()
    return "".join(autoname.charset[b % len(autoname.charset)] for b in digest[: autoname.randlen])


def autoname_rule(type_: str) -> AutoName | None:
    """The autoname rule of a type, or None when the provider names nothing for it."""
    if type_ in _AUTONAMES:
        return _AUTONAMES[type_]
    schema = resource_schema(type_)
    return AutoName() if schema is not None and "name" in schema.inputs else None


def auto_name(type_: str, name: str, urn: str, autoname: AutoName, inputs: dict[str, Any]) -> str:
    """`<name><separator><random>`, as the bridge computes it; raises CheckFailure when too long."""
    base = name.lower() if autoname.lowercase else name
    if autoname.randlen <= 0:
        value = base
    else:
        prefix = base + autoname.separator
        if autoname.maxlen > 0 and len(prefix) + autoname.randlen > autoname.maxlen:
            raise CheckFailure(
                f"could not make instance of '{type_}': name '{prefix}' plus {autoname.randlen} random chars "
                f"is longer than maximum length {autoname.maxlen}"
            )
        value = prefix + _random_part(urn, autoname)
    if autoname.fifo_flag and inputs.get(autoname.fifo_flag) is True:
        value += ".fifo"
    if autoname.prefix and not value.startswith(autoname.prefix):
        value = autoname.prefix + value
    return value


def expected_autoname(type_: str, name: str, urn: str, inputs: dict[str, Any]) -> tuple[str, str] | None:
    """(property, value) that Check would give a resource of `type_` that names nothing itself,
    without asking the SDK whether the type has a `name` input (the caller compares the value with
    one it holds: only an auto-name matches). None for a type the provider never names."""
    autoname = _AUTONAMES.get(type_, AutoName())
    if autoname is None:
        return None
    try:
        return autoname.field, auto_name(type_, name, urn, autoname, inputs)
    except CheckFailure:
        return None


# ---- tagsAll (pulumi-aws provider/tags.go `applyTags`, a PreCheckCallback) --------------------------
#
# pulumi-aws puts `tagsAll` into the checked inputs of every resource of terraform-provider-aws's
# SDKv2 provider whose schema has a non-computed `tags` and a `tags_all`
# (`applyTagsPreCheckCallback`, `hasNonComputedTagsAndTagsAll`): the provider's
# `defaultTags.tags` merged with the resource's `tags` (the resource's win), minus the provider's
# `ignoreTags` keys and key prefixes; unknown when either is unknown; `{}` when nothing is left.
# Plugin-framework resources do not get it (the bridge's PF Check runs no plan: their `tags_all`
# comes from upstream's plan modification, after Check). `FRAMEWORK_TYPES` lists the PF resources
# with tags among the types the pack and ECS programs use (terraform-provider-aws
# `@FrameworkResource` annotations; pulumi-aws `runtime-bridge-metadata.json` "mux" = 1); a PF
# type missing here would show offline a `tagsAll` the engine does not send.

FRAMEWORK_TYPES = frozenset(
    {
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:ecs/daemon:Daemon",
        "aws:ecs/daemonTaskDefinition:DaemonTaskDefinition",
        "aws:ecs/expressGatewayService:ExpressGatewayService",
    }
)


def _config_object(value: Any) -> Any:
    """A provider setting as the provider reads it: objects arrive JSON-encoded (stack config, and
    the SDKs' provider resources), or as objects; None when absent or unreadable. Never mutated:
    every taggable resource of a provider reads the same parsed value."""
    if isinstance(value, str) and value != UNKNOWN:
        return _parsed_json(value)
    return value


@functools.lru_cache(maxsize=64)
def _parsed_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _string_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def tags_all(tags: Any, provider_config: dict[str, Any]) -> Any:
    """`tagsAll` as `applyTags` computes it from a resource's `tags` and its provider's config."""
    default_tags = _config_object(provider_config.get("defaultTags"))
    ignore_tags = _config_object(provider_config.get("ignoreTags"))
    if contains_unknown(tags) or contains_unknown(default_tags) or contains_unknown(ignore_tags):
        return UNKNOWN
    merged: dict[str, Any] = {}
    if isinstance(default_tags, dict) and isinstance(default_tags.get("tags"), dict):
        merged.update(default_tags["tags"])
    if isinstance(tags, dict):
        merged.update(tags)
    if isinstance(ignore_tags, dict):
        keys = set(_string_list(ignore_tags.get("keys")))
        prefixes = tuple(_string_list(ignore_tags.get("keyPrefixes")))
        merged = {k: v for k, v in merged.items() if k not in keys and not (prefixes and k.startswith(prefixes))}
    return merged


def gets_tags_all(type_: str) -> bool:
    """Whether pulumi-aws's Check adds `tagsAll` to a type's inputs (see above)."""
    if type_ in FRAMEWORK_TYPES:
        return False
    schema = resource_schema(type_)
    return schema is not None and "tags" in schema.inputs and "tagsAll" in schema.outputs


def check(
    type_: str, name: str, urn: str, inputs: dict[str, Any], provider_config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The provider's checked inputs for an `aws:*` custom resource (`provider_config`: the inputs
    of the provider that manages it); raises CheckFailure."""
    checked = dict(inputs)
    if gets_tags_all(type_) and not _has_signature(checked.get("tags")):
        checked["tagsAll"] = tags_all(checked.get("tags"), provider_config or {})
    for key in _JSON_DOCUMENTS.get(type_, ()):
        document = checked.get(key)
        if isinstance(document, (dict, list)) and not contains_unknown(document) and not _has_signature(document):
            checked[key] = json_document(document)
    for key, value in _DEFAULTS.get(type_, {}).items():
        checked.setdefault(key, value)
    autoname = autoname_rule(type_)
    if autoname is not None and autoname.field not in checked and "namePrefix" not in checked:
        checked[autoname.field] = auto_name(type_, name, urn, autoname, checked)
    limit = _NAME_LIMITS.get(type_)
    value = checked.get("name")
    if limit and isinstance(value, str) and value != UNKNOWN and len(value) > limit:
        raise CheckFailure(f"{type_} '{name}': \"name\" cannot be longer than {limit} characters: {value!r}")
    return checked


def _has_signature(value: Any) -> bool:
    """A secret or other wire-form wrapper inside (left as the program sent it)."""
    if isinstance(value, dict):
        return SIG in value or any(_has_signature(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_signature(v) for v in value)
    return False


def planned_outputs(type_: str, checked: dict[str, Any]) -> dict[str, Any]:
    """The preview plan: the checked inputs, each output-only property unknown."""
    outputs = dict(checked)
    schema = resource_schema(type_)
    if schema is None:
        return outputs
    for prop in sorted(schema.output_only):
        outputs[prop] = UNKNOWN
    if "tagsAll" in checked:
        outputs["tagsAll"] = checked["tagsAll"]
    elif "tagsAll" in schema.output_only:
        tags = checked.get("tags")
        outputs["tagsAll"] = (
            dict(tags) if isinstance(tags, dict) and not contains_unknown(tags) else ({} if tags is None else UNKNOWN)
        )
    return outputs
