"""Drive the pack's real analyzer servicer in-process with the engine's protobuf messages.

Used by the tests and usable by an offline preview: `Analyzer(config).analyze(type, props)` runs Remediate
then Analyze like the CLI; `analyze_stack([...])` runs AnalyzeStack. Properties use the engine's wire
encoding; `UNKNOWN` and `secret()` build its unknown and secret forms. No gRPC server is started."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from .core import PACK_NAME
from .pack import build_rules, make_servicer

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown string
UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
UNKNOWN_BOOL = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"
UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"
UNKNOWN_OBJECT = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"
SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(props))
    return s


@dataclass(frozen=True)
class Diag:
    policy: str
    level: str  # advisory | mandatory | remediate
    message: str
    urn: str = ""


@dataclass
class StackResource:
    type: str
    name: str
    props: dict[str, Any]
    urn: str = ""
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


def urn_of(rtype: str, name: str, stack: str = "dev", project: str = "ecs-platform") -> str:
    return f"urn:pulumi:{stack}::{project}::{rtype}::{name}"


def resolve_config(
    file_config: Mapping[str, Any] | None, strict: bool = False
) -> dict[str, tuple[str, dict]]:
    """The CLI's resolution: policy default level, then the file's "all", then the policy's own entry;
    properties = schema defaults overlaid with the file's; each validated against the policy's schema."""
    import jsonschema

    cfg = dict(file_config or {})
    out: dict[str, tuple[str, dict]] = {}
    for rule in build_rules():
        level = rule.level.value
        if isinstance(cfg.get("all"), str):
            level = cfg["all"]
        entry = cfg.get(rule.name)
        props = {k: v["default"] for k, v in rule.config.items() if "default" in v}
        if isinstance(entry, str):
            level = entry
        elif isinstance(entry, Mapping):
            level = entry.get("enforcementLevel", level)
            props.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        schema = {"type": "object", "properties": rule.config}
        if strict:
            schema["additionalProperties"] = False
        jsonschema.validate(props, schema)
        if level not in LEVELS:
            raise ValueError(f"{rule.name}: unknown enforcement level {level!r}")
        out[rule.name] = (level, props)
    unknown = set(cfg) - {"all"} - set(out)
    if strict and unknown:
        raise ValueError(f"config names unknown policies: {sorted(unknown)}")
    return out


class Analyzer:
    """One pack instance (servicer) with an optional pack config in --policy-pack-config format."""

    def __init__(self, config: Mapping[str, Any] | None = None, configure: bool = True) -> None:
        self.servicer = make_servicer()
        if configure:
            self.configure(config)

    def configure(self, config: Mapping[str, Any] | None) -> None:
        req = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in resolve_config(config).items():
            pc = analyzer_pb2.PolicyConfig(enforcementLevel=LEVELS[level])
            pc.properties.update(props)
            req.policyConfig[name].CopyFrom(pc)
        self.servicer.Configure(req, None)

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.servicer.GetAnalyzerInfo(None, None)

    def remediate(self, rtype: str, props: Mapping[str, Any], name: str = "r") -> dict[str, Any] | None:
        """Properties after the pack's remediations (wire form), or None when nothing changed."""
        req = analyzer_pb2.AnalyzeRequest(
            type=rtype, properties=to_struct(props), urn=urn_of(rtype, name), name=name
        )
        resp = self.servicer.Remediate(req, None)
        out = None
        for r in resp.remediations:
            if r.properties.fields:
                out = json_format.MessageToDict(r.properties)
        return out

    def analyze(
        self, rtype: str, props: Mapping[str, Any], name: str = "r", remediate: bool = True
    ) -> list[Diag]:
        if remediate:
            props = self.remediate(rtype, props, name) or props
        urn = urn_of(rtype, name)
        req = analyzer_pb2.AnalyzeRequest(type=rtype, properties=to_struct(props), urn=urn, name=name)
        resp = self.servicer.Analyze(req, None)
        return [
            Diag(d.policyName, LEVEL_NAMES[d.enforcementLevel], d.message, d.urn or urn)
            for d in resp.diagnostics
        ]

    def analyze_stack(self, resources: Sequence[StackResource]) -> list[Diag]:
        req = analyzer_pb2.AnalyzeStackRequest()
        for r in resources:
            ar = req.resources.add()
            ar.type, ar.name, ar.urn = r.type, r.name, r.urn or urn_of(r.type, r.name)
            ar.properties.CopyFrom(to_struct(r.props))
            if r.parent:
                ar.parent = r.parent
            ar.dependencies.extend(r.dependencies)
            for k, urns in r.property_dependencies.items():
                ar.propertyDependencies[k].urns.extend(urns)
        resp = self.servicer.AnalyzeStack(req, None)
        return [
            Diag(d.policyName, LEVEL_NAMES[d.enforcementLevel], d.message, d.urn) for d in resp.diagnostics
        ]


__all__ = [
    "PACK_NAME",
    "UNKNOWN",
    "Analyzer",
    "Diag",
    "StackResource",
    "resolve_config",
    "secret",
    "to_struct",
    "urn_of",
]
