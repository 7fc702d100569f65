"""Drive a policy pack over its real gRPC Analyzer protocol, as the Pulumi engine does.

Owns: starting the pack process the way the CLI does (and making sure it never outlives us), the
minimal Engine service the pack is given the address of, Configure with the reconciled config
(`policy_config`), per-resource Remediate then Analyze, and AnalyzeStack, over one or several
processes of the pack. Knows nothing about how registrations were produced or reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import engine_pb2_grpc

from .child_process import die_with_parent
from .engine import Registration
from .policy_config import LEVELS, PolicyError, reconcile_config
from .properties import dict_to_struct, engine_properties, struct_to_dict
from .stack_config import StackConfig


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
    pack_stderr: str = ""


# ---- the pack process ---------------------------------------------------------------------------------


class _EngineServicer(engine_pb2_grpc.EngineServicer):
    """The Engine service the pack receives the address of; collects its log messages."""

    def __init__(self) -> None:
        self.logs: list[str] = []

    def Log(self, request: Any, context: Any) -> Any:
        self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        from pulumi.runtime.proto import engine_pb2

        return engine_pb2.GetRootResourceResponse()

    def SetRootResource(self, request: Any, context: Any) -> Any:
        from pulumi.runtime.proto import engine_pb2

        return engine_pb2.SetRootResourceResponse()


class PolicyPackProcess:
    """A running pack: `<python> -u -m pulumi.policy <engine address> .` in the pack directory."""

    def __init__(
        self,
        pack_dir: Path,
        *,
        project: str,
        stack: str,
        organization: str,
        dry_run: bool,
        config: StackConfig,
        python: str | None = None,
        start_timeout: float = 30.0,
        nice: int = 0,
    ) -> None:
        """`nice` lowers the pack's scheduling priority (it yields the CPU to the program)."""
        self.pack_dir = pack_dir.resolve()
        if not (self.pack_dir / "PulumiPolicy.yaml").exists():
            raise PolicyError(f"no PulumiPolicy.yaml in {self.pack_dir}: not a policy pack directory")
        meta = yaml.safe_load((self.pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8")) or {}
        runtime = meta.get("runtime")
        runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
        if runtime_name != "python":
            raise PolicyError(f"policy pack runtime {runtime_name!r} is not supported offline (python only)")
        self.version = str(meta.get("version") or "")
        self.start_timeout = start_timeout
        self._engine = _EngineServicer()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self._engine, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.engine_address = f"127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(
            {
                "PULUMI_PROJECT": project,
                "PULUMI_STACK": stack,
                "PULUMI_ORGANIZATION": organization,
                "PULUMI_DRY_RUN": "true" if dry_run else "false",
            }
        )
        if config.values:
            env["PULUMI_CONFIG"] = json.dumps(config.values)
        options = runtime.get("options") or {} if isinstance(runtime, dict) else {}
        self.python = python or _pack_python(self.pack_dir, str(options.get("virtualenv") or ""))
        # A file, not a pipe: a chatty pack must never block on a full pipe.
        self._stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            # What the CLI's `pulumi-analyzer-policy-python` shim runs; it consumes the runtime
            # options (virtualenv, toolchain) itself, so they are not passed on.
            [self.python, "-u", "-m", "pulumi.policy", self.engine_address, "."],
            cwd=self.pack_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            preexec_fn=die_with_parent(os.getpid(), nice),
        )
        self.channel: grpc.Channel | None = None
        self.stub: Any = None

    @property
    def stderr(self) -> str:
        try:
            self._stderr_file.seek(0)
            return self._stderr_file.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""

    def connect(self) -> Any:
        """Read the port the pack prints first, then open the Analyzer channel."""
        from pulumi.runtime.proto import analyzer_pb2_grpc

        assert self.proc.stdout is not None
        fd, buf = self.proc.stdout.fileno(), b""
        deadline = time.monotonic() + self.start_timeout
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PolicyError(
                    f"policy pack did not report its port within {self.start_timeout:g} s"
                    + _tail(self.stderr)
                )
            if select.select([fd], [], [], remaining)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.proc.wait(timeout=5)
                    raise PolicyError(
                        f"policy pack exited with code {self.proc.returncode} before it started"
                        + _tail(self.stderr)
                    )
                buf += chunk
        try:
            port = int(buf.split(b"\n", 1)[0].strip())
        except ValueError as e:
            raise PolicyError(
                f"policy pack printed {buf[:80]!r} instead of its port" + _tail(self.stderr)
            ) from e
        # Keep reading stdout so a pack that prints never blocks on a full pipe.
        threading.Thread(target=_discard, args=(self.proc.stdout,), daemon=True).start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            grpc.channel_ready_future(self.channel).result(timeout=self.start_timeout)
        except grpc.FutureTimeoutError as e:
            raise PolicyError(f"cannot connect to the policy pack on port {port}" + _tail(self.stderr)) from e
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        return self.stub

    def close(self) -> None:
        """Stop the pack (TERM, then KILL) and the engine server; safe to call twice."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=3)
        self._server.stop(0)


def _discard(stream: Any) -> None:
    with contextlib.suppress(Exception):
        while stream.read(65536):
            pass


def _tail(stderr: str, lines: int = 30) -> str:
    return ("\n--- policy pack stderr ---\n" + "\n".join(stderr.splitlines()[-lines:])) if stderr else ""


def _pack_python(pack_dir: Path, virtualenv: str = "") -> str:
    """The pack's own virtualenv when it has one (as the CLI uses), else this interpreter."""
    for venv in (virtualenv, "venv", ".venv") if virtualenv else ("venv", ".venv"):
        candidate = pack_dir / venv / "bin" / "python"
        if candidate.exists():
            return str(candidate)
    return sys.executable


# ---- the protocol -----------------------------------------------------------------------------------


def _level_name(value: int) -> str:
    from pulumi.runtime import proto

    return {
        proto.ADVISORY: "advisory",
        proto.MANDATORY: "mandatory",
        proto.REMEDIATE: "remediate",
        proto.DISABLED: "disabled",
    }.get(value, "advisory")


def _level_value(name: str | None) -> int:
    from pulumi.runtime import proto

    return {
        "advisory": proto.ADVISORY,
        "mandatory": proto.MANDATORY,
        "remediate": proto.REMEDIATE,
        "disabled": proto.DISABLED,
    }[name or "advisory"]


def _severity_name(value: int) -> str:
    return {1: "low", 2: "medium", 3: "high", 4: "critical"}.get(value, "")


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)")


def duration_seconds(value: str | float | None) -> float:
    """A custom timeout as the engine sends it to analyzers: seconds. The SDKs register Go duration
    strings ("75m", "1h30m", "90s"; "" or absent: none), which the engine parses with
    time.ParseDuration. Raises ValueError on anything else."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    parts = _DURATION_PART.findall(body)
    if body == "0":
        return 0.0
    if not parts or "".join(number + unit for number, unit in parts) != body:
        raise ValueError(f"invalid custom timeout {value!r}: expected a duration such as 75m, 1h30m or 90s")
    return sign * sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def _options(reg: Registration) -> Any:
    from pulumi.runtime import proto

    o = reg.options
    ct = {key: duration_seconds(value) for key, value in (o.get("customTimeouts") or {}).items()}
    return proto.AnalyzerResourceOptions(
        protect=bool(o.get("protect")),
        ignoreChanges=o.get("ignoreChanges", []),
        deleteBeforeReplace=bool(o.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in o,
        additionalSecretOutputs=o.get("additionalSecretOutputs", []),
        aliases=o.get("aliases", []),
        customTimeouts=proto.AnalyzerResourceOptions.CustomTimeouts(
            create=ct.get("create", 0), update=ct.get("update", 0), delete=ct.get("delete", 0)
        ),
        parent=reg.parent,
    )


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
    ) -> None:
        """`stub` replaces the process's gRPC stub (tests drive an in-process servicer the same way)."""
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
        self.info: Any = None
        self.remediates = True
        self.stack_seconds = 0.0  # the last AnalyzeStack, request building included
        self._providers: dict[str, tuple[Registration, Any]] = {}

    def _stderr(self) -> str:
        return self.process.stderr if self.process else ""

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as e:
            raise PolicyError(
                f"policy pack {method} failed: {e.details() or e.code()}" + _tail(self._stderr())
            ) from e

    def start(self, given_config: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Handshake (optional), ConfigureStack, GetAnalyzerInfo, reconcile + validate, Configure."""
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
                    "level": _level_name(p.enforcementLevel),
                    "type": "stack" if p.policy_type == proto.PolicyType.POLICY_TYPE_STACK else "resource",
                    "severity": _severity_name(p.severity),
                    "schema": schema,
                }
            )
        policies.sort(key=lambda p: p["name"])
        initial = {
            k: {"level": _level_name(v.enforcementLevel), "properties": struct_to_dict(v.properties) or None}
            for k, v in info.initialConfig.items()
        }
        config: dict[str, Any] = {}
        if info.supportsConfig:
            config = reconcile_config(policies, initial, given_config, info.name, self.version)
            if config:
                self._call(
                    "Configure",
                    proto.ConfigureAnalyzerRequest(
                        policyConfig={
                            name: proto.PolicyConfig(
                                enforcementLevel=_level_value(c["level"]),
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
        return policies, config

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
            options=_options(reg),
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
        level = _level_name(d.enforcementLevel)
        return Diagnostic(
            d.policyName,
            d.policyPackName,
            self.version,
            "mandatory" if level == "remediate" else level,
            urn,
            d.message,
            d.description,
            _severity_name(d.severity),
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
                        t.diagnostic,
                        t.description,
                    )
                )
            elif t.HasField("properties"):
                after = struct_to_dict(t.properties)
                rems.append(Remediation(t.policyName, t.policyPackName, reg.urn, engine_properties(props), after))
                props = after
        request = self._request(reg, props, providers, skip_internal=True)
        resp = self._call("Analyze", request)
        diags.extend(self._diag(d, reg.urn) for d in resp.diagnostics)
        return diags, rems, props, request

    def analyze(
        self,
        registrations: list[Registration],
        root_urn: str,
        helpers: list[Analyzer] | None = None,
    ) -> AnalysisResult:
        """Per resource Remediate then Analyze (on the remediated inputs); then AnalyzeStack once.

        `helpers` are further processes of the same pack, configured alike (see `AnalysisSession`)."""
        session = AnalysisSession(self, helpers)
        for reg in registrations:
            session.add(reg)
        return session.finish(registrations, root_urn)

    def _stack_resource(
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
                raise PolicyError(f"policy pack AnalyzeStack failed: {e.details()}" + _tail(self._stderr())) from e
            return []
        return [self._diag(d, d.urn if d.urn in known_urns else root_urn) for d in resp.diagnostics]


class AnalysisSession:
    """The engine's analysis of one deployment: each resource is analyzed as soon as it is added
    (while the program goes on registering), AnalyzeStack once at the end.

    The per-resource calls are spread over `first` and its `helpers`, further processes of the
    same pack configured alike: each resource is analyzed whole by one process, as the pack keeps
    nothing between requests. Results are collected in the order resources were added, so reports
    are deterministic. The stack view of a resource is built as soon as its analysis is done; only
    resources whose outputs arrive later (components) are rebuilt at the end."""

    def __init__(self, first: Analyzer, helpers: list[Analyzer] | None = None) -> None:
        self.first = first
        self.workers = [first, *(helpers or [])]
        self.providers: dict[str, Registration] = {}
        self._pool = futures.ThreadPoolExecutor(max_workers=first.parallel * len(self.workers))
        self._pending: list[tuple[Registration, futures.Future[Any]]] = []

    def add(self, reg: Registration) -> None:
        if reg.type.startswith("pulumi:providers:"):
            self.providers[reg.urn] = reg  # before any resource that names it
        worker = self.workers[len(self._pending) % len(self.workers)]
        self._pending.append((reg, self._pool.submit(self._one, worker, reg)))

    def _one(self, worker: Analyzer, reg: Registration) -> tuple[Any, ...]:
        diags, rems, props, request = worker.analyze_one(reg, self.providers)
        return diags, rems, props, self.first._stack_resource(reg, props, self.providers, request)

    def finish(
        self, registrations: list[Registration], root_urn: str, outputs_changed: frozenset[str] = frozenset()
    ) -> AnalysisResult:
        """Wait for the per-resource analysis, then AnalyzeStack over `registrations` (every one
        added before); `outputs_changed` names those whose outputs changed since they were added."""
        first = self.first
        result = AnalysisResult(first.info.name, first.version, [], {})
        stack_view: dict[str, Any] = {}
        try:
            for reg, fut in self._pending:
                diags, rems, props, stack_resource = fut.result()
                result.diagnostics.extend(diags)
                result.remediations.extend(rems)
                result.analyzed_inputs[reg.urn] = props
                stack_view[reg.urn] = stack_resource
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        stack_started = time.perf_counter()
        for reg in registrations:
            if reg.urn in outputs_changed:
                stack_view[reg.urn] = first._stack_resource(reg, result.analyzed_inputs[reg.urn], self.providers)
        resources = [stack_view[r.urn] for r in registrations]
        result.diagnostics.extend(first.analyze_stack(resources, set(stack_view), root_urn))
        first.stack_seconds = time.perf_counter() - stack_started
        return result
