"""Drive the pack's real analyzer servicer in-process with the engine's protobuf messages (for tests).

`Analyzer(config).analyze(type, props)` runs Remediate then Analyze like the CLI; `analyze_stack([...])` runs
AnalyzeStack. Properties use the engine's wire encoding; `UNKNOWN` and `secret()` build its unknown and
secret forms. No gRPC server is started.

The pack config is resolved by the offline preview's reconciler (`offline.policy_config`, a port of the
CLI's), with its levels and, as the CLI, without refusing unknown policy names or settings (the offline
preview refuses them): this driver adds only the stricter checks the tests ask for. It is also the tests'
one use of pulumi_policy internals: `make_servicer` builds the SDK's private `_PolicyAnalyzerServicer`
(what `PolicyPack` serves), after checking its shape. Importable from any test directory: it puts the
repository root and `policies/` on sys.path."""

from __future__ import annotations

import inspect
import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO, REPO / "policies"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import pulumi_policy.policy  # noqa: E402
from ecs_guardrails import PACK_NAME  # noqa: E402
from ecs_guardrails.pack import DESCRIPTION, ENFORCEMENT_LEVEL, build_policies, build_rules  # noqa: E402
from google.protobuf import json_format, struct_pb2  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2  # noqa: E402

from offline.policy_config import LEVELS, PolicyError, load_policy_config_file, reconcile_config  # noqa: E402

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown string
UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
UNKNOWN_BOOL = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"
UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"
UNKNOWN_OBJECT = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"
SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
# The protocol's value of each level name (offline.policy_config.LEVELS), and back.
LEVEL_VALUES = {name: analyzer_pb2.EnforcementLevel.Value(name.upper()) for name in LEVELS}
LEVEL_NAMES = {v: k for k, v in LEVEL_VALUES.items()}
VERSION = "0.0.1"

_SERVICER_METHODS = ("GetAnalyzerInfo", "Configure", "Analyze", "AnalyzeStack", "Remediate")
_SERVICER_PARAMS = ["name", "version", "policies", "enforcement_level", "initial_config", "description"]


def servicer_class(policy_module: Any = pulumi_policy.policy) -> type:
    """pulumi_policy's `_PolicyAnalyzerServicer`, once its methods and constructor are the ones this driver
    calls; a clear RuntimeError otherwise."""
    cls = getattr(policy_module, "_PolicyAnalyzerServicer", None)
    problem = ""
    if not isinstance(cls, type):
        problem = "there is no class _PolicyAnalyzerServicer"
    else:
        missing = [m for m in _SERVICER_METHODS if not callable(getattr(cls, m, None))]
        params = list(inspect.signature(cls.__init__).parameters)[1 : 1 + len(_SERVICER_PARAMS)]
        if missing:
            problem = f"_PolicyAnalyzerServicer lacks {', '.join(missing)}"
        elif params != _SERVICER_PARAMS:
            problem = f"_PolicyAnalyzerServicer takes ({', '.join(params)}), expected ({', '.join(_SERVICER_PARAMS)})"
    if problem:
        raise RuntimeError(
            f"tests/policies/pack_driver.py cannot build the pack's servicer: in {policy_module.__name__}, "
            f"{problem}; update make_servicer for this pulumi_policy"
        )
    return cls  # type: ignore[return-value]


def make_servicer(version: str = VERSION) -> Any:
    """The analyzer servicer `PolicyPack` would serve for this pack (policies/__main__.py), unserved."""
    return servicer_class()(
        name=PACK_NAME,
        version=version,
        policies=build_policies(),
        enforcement_level=ENFORCEMENT_LEVEL,
        initial_config=None,
        description=DESCRIPTION,
    )


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


def pack_policies() -> list[dict[str, Any]]:
    """The pack's policies in the form `reconcile_config` takes (as offline's Analyzer.start builds them)."""
    return [
        {"name": r.name, "level": r.level.value, "schema": {"properties": r.config, "required": []}}
        for r in build_rules()
    ]


def read_config(file_config: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """A `--policy-pack-config` document (as parsed JSON) read by offline's reader of such files."""
    with tempfile.TemporaryDirectory(prefix="pack-driver-") as tmp:
        path = Path(tmp) / "policy-pack-config.json"
        path.write_text(json.dumps(dict(file_config or {})), encoding="utf-8")
        return load_policy_config_file(path)


def resolve_config(
    file_config: Mapping[str, Any] | None, strict: bool = False
) -> dict[str, tuple[str, dict[str, Any]]]:
    """{policy: (level, properties)} as the CLI resolves a `--policy-pack-config` document for this pack
    (`offline.policy_config.reconcile_config`: PolicyError on an invalid level or property). `strict` also
    rejects names of policies and properties the pack does not have (ValueError)."""
    rules = build_rules()
    config = dict(file_config or {})
    if strict:
        unknown = set(config) - {"all"} - {r.name for r in rules}
        if unknown:
            raise ValueError(f"config names unknown policies: {sorted(unknown)}")
        for r in rules:
            entry = config.get(r.name)
            extra = set(entry) - {"enforcementLevel"} - set(r.config) if isinstance(entry, Mapping) else set()
            if extra:
                raise ValueError(f"{r.name}: config names unknown properties: {sorted(extra)}")
    # closed=False: as the CLI, which passes unknown policy names and settings on to the pack.
    resolved = reconcile_config(pack_policies(), {}, read_config(config), PACK_NAME, VERSION, closed=False)
    return {r.name: (resolved[r.name]["level"], resolved[r.name]["properties"] or {}) for r in rules}


class Analyzer:
    """One pack instance (servicer) with an optional pack config in --policy-pack-config format."""

    def __init__(self, config: Mapping[str, Any] | None = None, configure: bool = True) -> None:
        self.servicer = make_servicer()
        if configure:
            self.configure(config)

    def configure(self, config: Mapping[str, Any] | None) -> None:
        req = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in resolve_config(config).items():
            pc = analyzer_pb2.PolicyConfig(enforcementLevel=LEVEL_VALUES[level])
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
    "LEVELS",
    "LEVEL_NAMES",
    "LEVEL_VALUES",
    "PACK_NAME",
    "UNKNOWN",
    "Analyzer",
    "Diag",
    "PolicyError",
    "StackResource",
    "make_servicer",
    "resolve_config",
    "secret",
    "to_struct",
    "urn_of",
]
