"""The engine's side of the Analyzer protocol, over one pack's gRPC channel.

Owns: the handshake, ConfigureStack, GetAnalyzerInfo, the reconciled config (`policy_config`) and
Configure, then per-resource Remediate and Analyze and the AnalyzeStack call, building their
requests from registrations and reading the diagnostics and remediations back. Knows nothing of
how the pack's process is run (`pack_process`) or how work is spread over packs
(`analysis_session`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import empty_pb2, json_format

from .engine import Registration
from .pack_bootstrap import FAILURE_PREFIX
from .policy_config import LEVELS, PolicyError, reconcile_config
from .properties import dict_to_struct, engine_properties, struct_to_dict
from .proto_mapping import level_name, level_value, resource_options, severity_name
from .stack_config import StackConfig

if TYPE_CHECKING:
    from .pack_process import PolicyPackProcess


@dataclass
class Diagnostic:
    policy_name: str
    policy_pack_name: str
    policy_pack_version: str
    enforcement_level: str
    urn: str
    message: str
    description: str = ""
    severity: str = ""


@dataclass
class Remediation:
    policy_name: str
    policy_pack_name: str
    urn: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class AnalysisResult:
    pack_name: str
    pack_version: str
    policies: list[dict[str, Any]]
    config: dict[str, dict[str, Any]]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)
    analyzed_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # urn -> after remediation


def policy_failure(details: str) -> dict[str, str] | None:
    """What a policy's exception told through the pack's failure guard (`pack_bootstrap`):
    policy, type, message, at; None for any other failure."""
    import json

    _, sep, told = details.partition(FAILURE_PREFIX)
    if not sep:
        return None
    try:
        value = json.loads(told)
    except ValueError:
        return None
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("policy", "type", "message", "at")):
        return None
    return value


class Analyzer:
    """One configured pack; methods mirror the engine's calls."""

    def __init__(
        self,
        process: PolicyPackProcess | None,
        *,
        project: str,
        stack: str,
        organization: str,
        dry_run: bool,
        config: StackConfig,
        rpc_timeout: float = 60.0,
        stub: Any = None,
        parallel: int = min(4, os.cpu_count() or 1),
        old_urns: frozenset[str] | None = frozenset(),
        stack_tags: dict[str, str] | None = None,
    ) -> None:
        """`stub` replaces the process's gRPC stub (tests drive an in-process servicer the same way);
        `old_urns` are the baseline's URNs (the old state aliases are matched against; None: send the
        aliases as recorded, as a deployed snapshot's analysis does);
        `stack_tags` are sent with ConfigureStack."""
        self.process, self.timeout, self.parallel = process, rpc_timeout, max(1, parallel)
        self.stub = stub if stub is not None else process.connect()  # type: ignore[union-attr]
        self.pack_dir = str(process.pack_dir) if process else ""
        self.engine_address = process.engine_address if process else ""
        self._stack_request = dict(
            project=project,
            stack=stack,
            organization=organization,
            dry_run=dry_run,
            config=config.values,
            secret_keys=sorted(config.secret_keys),
        )
        self.old_urns = old_urns
        self.version = ""  # the pack's, once `start` has read it
        self.stack_tags = dict(stack_tags or {})
        self.info: Any = None
        self.policies: list[dict[str, Any]] = []  # as GetAnalyzerInfo describes them, by name
        self.config: dict[str, dict[str, Any]] = {}  # the reconciled config sent with Configure
        self.remediates = True
        # False in an audit: remediations are reported, not applied, and Analyze sees the inputs as
        # recorded (pkg/resource/deploy/analyze_snapshot.go:210-247 in pulumi/pulumi v3.259.0).
        self.apply_remediations = True
        self.stack_seconds = 0.0  # the last AnalyzeStack, request building included
        self._providers: dict[str, tuple[Registration, Any]] = {}

    def _stderr_tail(self) -> str:
        return self.process.stderr_tail() if self.process else ""

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise self._failure(method, e, getattr(request, "urn", "")) from e

    def _failure(self, method: str, error: grpc.RpcError, urn: str = "") -> PolicyError:
        if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            return PolicyError(
                f"policy pack {method} did not answer within {self.timeout:g} s (--rpc-timeout)" + self._stderr_tail()
            )
        details = error.details() or str(error.code())
        told = policy_failure(details)
        if told is None:
            return PolicyError(f"policy pack {method} failed: {details}" + self._stderr_tail())
        name = self.info.name if self.info is not None else "the pack"
        where = f" on {urn}" if urn else ""
        at = f" (at {told['at']})" if told["at"] else ""
        message = f": {told['message']}" if told["message"] else ""
        # What the CLI prints for the same failure (step_generator.go:1440, analyze_snapshot.go:67;
        # AnalyzeStack's error as is): gRPC's "Exception calling application: " and str(e).
        cli = {"Remediate": "failed to run remediation: ", "Analyze": "failed to run policy: "}.get(method, "")
        return PolicyError(
            f"policy pack {name} {self.version}: policy '{told['policy']}' failed{where}: "
            f"{told['type']}{at}{message} (pulumi up: error: {cli}Exception calling application: {told['message']})"
        )

    def start(
        self, given_config: dict[str, dict[str, Any]], source: str = ""
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Handshake (optional), ConfigureStack, GetAnalyzerInfo, reconcile + validate, Configure.
        `source` names the config file in errors."""
        from pulumi.runtime import proto

        with contextlib.suppress(grpc.RpcError):  # packs built on pulumi_policy do not implement it
            self.stub.Handshake(
                proto.AnalyzerHandshakeRequest(
                    engine_address=self.engine_address,
                    root_directory=self.pack_dir,
                    program_directory=self.pack_dir,
                ),
                timeout=self.timeout,
            )
        s = self._stack_request
        try:
            self.stub.ConfigureStack(
                proto.AnalyzerStackConfigureRequest(
                    stack=s["stack"],
                    project=s["project"],
                    organization=s["organization"],
                    dry_run=s["dry_run"],
                    config=s["config"],
                    config_secret_keys=s["secret_keys"],
                    tags=self.stack_tags,
                ),
                timeout=self.timeout,
            )
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise PolicyError(f"policy pack ConfigureStack failed: {e.details()}") from e
        info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        self.info = info
        self.version = (self.process.version if self.process else "") or info.version
        policies = []
        for p in info.policies:
            schema = None
            if info.supportsConfig:
                schema = {
                    "properties": json_format.MessageToDict(p.configSchema.properties),
                    "required": list(p.configSchema.required),
                }
                schema["properties"]["enforcementLevel"] = {"type": "string", "enum": list(LEVELS)}
            policies.append(
                {
                    "name": p.name,
                    "description": p.description,
                    "level": level_name(p.enforcementLevel),
                    "type": "stack" if p.policy_type == proto.PolicyType.POLICY_TYPE_STACK else "resource",
                    "severity": severity_name(p.severity),
                    "schema": schema,
                }
            )
        policies.sort(key=lambda p: p["name"])
        initial = {
            k: {"level": level_name(v.enforcementLevel), "properties": struct_to_dict(v.properties) or None}
            for k, v in info.initialConfig.items()
        }
        config: dict[str, Any] = {}
        if info.supportsConfig:
            config = reconcile_config(policies, initial, given_config, info.name, self.version, source=source)
            if config:
                self._call(
                    "Configure",
                    proto.ConfigureAnalyzerRequest(
                        policyConfig={
                            name: proto.PolicyConfig(
                                enforcementLevel=level_value(c["level"]),
                                properties=dict_to_struct(c["properties"] or {}),
                            )
                            for name, c in config.items()
                        }
                    ),
                )
        elif given_config:
            raise PolicyError(f"policy pack {info.name!r} does not support config")
        # pulumi_policy runs remediations only of policies at level "remediate"; with none, its
        # Remediate answers nothing, so the call (half the per-resource round trips) is skipped.
        self.remediates = any(p["level"] == "remediate" for p in policies) or any(
            c.get("level") == "remediate" for c in config.values()
        )
        self.policies, self.config = policies, config
        return policies, config

    def _message(self, message: str) -> str:
        """The pack's message; the SDK's "can't run policy" notes name the version pulumi_policy
        hardcodes (`PolicyPack` passes "0.0.1" to its servicer; the CLI reads PulumiPolicy.yaml),
        rewritten to the pack's real version."""
        sdk = f"@v{self.info.version}'" if self.info is not None else ""
        if sdk and self.version != self.info.version and message.startswith("can't run "):
            return message.replace(sdk, f"@v{self.version}'", 1)
        return message

    def _request(
        self,
        reg: Registration,
        props: dict[str, Any],
        providers: dict[str, Registration],
        skip_internal: bool,
    ) -> Any:
        from pulumi.runtime import proto

        req = proto.AnalyzeRequest(
            type=reg.type,
            urn=reg.urn,
            name=reg.name,
            properties=dict_to_struct(engine_properties(props, skip_internal)),
            options=resource_options(reg, self.old_urns),
        )
        prov = providers.get(reg.provider.rsplit("::", 1)[0]) if reg.provider else None
        if prov is not None:
            req.provider.CopyFrom(self._provider_message(prov))
        return req

    def _provider_message(self, prov: Registration) -> Any:
        """The provider part of a request; built once per provider (its inputs never change)."""
        from pulumi.runtime import proto

        cached = self._providers.get(prov.urn)
        if cached is not None and cached[0] is prov:
            return cached[1]
        message = proto.AnalyzerProviderResource(
            type=prov.type,
            urn=prov.urn,
            name=prov.name,
            properties=dict_to_struct(engine_properties(prov.inputs, True)),
        )
        self._providers[prov.urn] = (prov, message)
        return message

    def _diag(self, d: Any, urn: str) -> Diagnostic:
        level = level_name(d.enforcementLevel)
        return Diagnostic(
            d.policyName,
            d.policyPackName,
            self.version,
            "mandatory" if level == "remediate" else level,
            urn,
            self._message(d.message),
            d.description,
            severity_name(d.severity),
        )

    def analyze_one(
        self, reg: Registration, providers: dict[str, Registration]
    ) -> tuple[list[Diagnostic], list[Remediation], dict[str, Any], Any]:
        """Remediate then Analyze (on the remediated inputs) one resource; returns the diagnostics,
        the remediations, the analyzed inputs and the Analyze request sent."""
        diags: list[Diagnostic] = []
        rems: list[Remediation] = []
        props = reg.inputs
        remediations = (
            self._call("Remediate", self._request(reg, props, providers, skip_internal=False)).remediations
            if self.remediates
            else ()
        )
        for t in remediations:
            if t.diagnostic:
                diags.append(
                    Diagnostic(
                        t.policyName,
                        t.policyPackName,
                        self.version,
                        "advisory",
                        reg.urn,
                        self._message(t.diagnostic),
                        t.description,
                    )
                )
            elif t.HasField("properties"):
                after = struct_to_dict(t.properties)
                rems.append(Remediation(t.policyName, t.policyPackName, reg.urn, engine_properties(props), after))
                if self.apply_remediations:
                    props = after
        request = self._request(reg, props, providers, skip_internal=True)
        resp = self._call("Analyze", request)
        diags.extend(self._diag(d, reg.urn) for d in resp.diagnostics)
        return diags, rems, props, request

    def stack_resource(
        self, reg: Registration, props: dict[str, Any], providers: dict[str, Registration], analyzed: Any = None
    ) -> Any:
        """The resource as AnalyzeStack sees it: its outputs, with remediated inputs carried over.

        `analyzed` is its Analyze request: reused when the outputs are the analyzed inputs (a
        custom resource in preview), which saves building the same Struct twice."""
        from pulumi.runtime import proto

        outputs = reg.outputs
        if reg.custom and props is not reg.inputs:
            outputs = {**outputs, **props}
        same = analyzed is not None and outputs == props
        base = analyzed if same else self._request(reg, outputs, providers, skip_internal=True)
        res = proto.AnalyzerResource(
            type=reg.type,
            urn=reg.urn,
            name=reg.name,
            properties=base.properties,
            options=base.options,
            parent=reg.parent,
            dependencies=reg.dependencies,
            propertyDependencies={
                k: proto.AnalyzerPropertyDependencies(urns=v) for k, v in reg.property_dependencies.items() if v
            },
        )
        if base.HasField("provider"):
            res.provider.CopyFrom(base.provider)
        return res

    def analyze_stack(self, resources: list[Any], known_urns: set[str], root_urn: str) -> list[Diagnostic]:
        from pulumi.runtime import proto

        try:
            resp = self.stub.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), timeout=self.timeout)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise self._failure("AnalyzeStack", e, "the stack (AnalyzeStack)") from e
            return []
        return [self._diag(d, d.urn if d.urn in known_urns else root_urn) for d in resp.diagnostics]
