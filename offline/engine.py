"""An engine stand-in: run a Pulumi Python program in-process and record every registration.

Owns: the resource monitor the SDK talks to (URNs by the engine's rules, default providers and
`pulumi:disable-default-providers`, options as the engine reads them: alias specs to alias URNs,
custom timeouts to seconds; wire-form inputs, preview vs update responses, reads (recorded, not
analysed), stack references, invokes: unknown in preview when their arguments or dependencies
are, answered otherwise) and running the program on a fresh event loop in a worker thread with a
bounded wait; the program's failures as `ProgramError`, the engine's own refusals as
`EngineError`, each with a one-line cause. It never talks to a pack. What the engine asks
providers for is delegated: the aws provider's Check and planned outputs to `provider_check`,
remote components' Construct to `awsx` (others are recorded as not analysed), data sources to
`invokes`, update-mode ids and outputs to `fakes`, stack references' files to `stack_references`.

The SDK's runtime state lives in context variables; the program runs in its own thread, whose
context is discarded afterwards, so callers in the main thread keep their own Pulumi state.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import gc
import os
import re
import runpy
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf import empty_pb2

from . import durations, fakes, invokes, provider_check, sdk_patches, stack_references
from .properties import UNKNOWN, contains_unknown, dict_to_struct, secret, struct_to_dict
from .stack_config import Project, StackConfig, disabled_default_providers

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
# pkg/resource/deploy/target.go:40-43 (isDynamicProvider)
DYNAMIC_PROVIDER_PACKAGES = frozenset({"pulumi-nodejs", "pulumi-python"})
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?"
)
T = TypeVar("T")


class VersionError(ValueError):
    """A provider version that is not semver (the engine's message)."""


def provider_version(text: str) -> str:
    """A requested plugin version as the engine writes it into a provider's inputs
    (`providers.SetProviderVersion`, pkg/resource/deploy/providers/registry.go:166, after
    `semver.Parse` in source_eval.go:2670-2675); raises VersionError for what `semver.Parse` refuses."""
    if _SEMVER.fullmatch(text) is None:
        raise VersionError(f"passed invalid version: {text!r} is not a semantic version")
    return text


class ProgramError(Exception):
    """The program failed (exception, RunError, error-level log) or did not finish in time.

    `cause` is one line saying what failed; `detail` the program's traceback (for a verbose
    mode); `warnings` what the run warned about before it failed (an invoke with no offline
    answer...), which often explains the failure. `str()` gives all three. `payload()` and
    `from_payload` carry it between processes as plain JSON-able data."""

    def __init__(self, cause: str, *, detail: str = "", warnings: list[str] | None = None) -> None:
        super().__init__(cause)
        self.cause, self.detail, self.warnings = cause, detail, list(warnings or [])

    def __str__(self) -> str:
        lines = [self.cause, *(f"warning: {w}" for w in self.warnings)]
        if self.detail and self.detail != self.cause:
            lines.append(self.detail)
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        return {"kind": type(self).__name__, "cause": self.cause, "detail": self.detail, "warnings": self.warnings}

    @staticmethod
    def from_payload(payload: dict[str, Any] | str) -> ProgramError:
        if isinstance(payload, str):
            return ProgramError(payload)
        cls = EngineError if payload.get("kind") == "EngineError" else ProgramError
        return cls(str(payload.get("cause", "")), detail=str(payload.get("detail", "")), warnings=payload.get("warnings"))


class EngineError(ProgramError):
    """The engine itself refuses the program (a denied default provider, a custom timeout it cannot
    parse, a stack reference without outputs): the cause is the engine's message."""


@dataclass
class OfflineAnswers:
    """What the user gave the preview for values only the cloud knows (plain JSON-able data, sent
    to the language host with the job): `--invokes` rules (token -> [{args, result}]) and
    `--stack-reference` outputs (qualified stack name -> outputs in wire form)."""

    invokes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    invokes_file: str = ""
    stack_references: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # from reading the files (for the report)


@dataclass
class Registration:
    """One resource as the engine would record it."""

    urn: str
    type: str
    name: str
    custom: bool
    remote: bool = False
    parent: str = ""
    provider: str = ""  # provider reference "<urn>::<id>"
    id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)  # wire form (camelCase, sentinels, secrets)
    outputs: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    default_provider: bool = False
    read: bool = False


@dataclass
class LogEntry:
    severity: str
    message: str
    urn: str = ""


@dataclass
class RunResult:
    registrations: list[Registration]
    logs: list[LogEntry]
    invokes: list[str]
    duration: float
    dry_run: bool
    outputs_registered: list[str] = field(default_factory=list)  # URNs whose outputs came later

    @property
    def root(self) -> Registration | None:
        return next((r for r in self.registrations if r.type == ROOT_STACK_TYPE), None)

    @property
    def unanalysed(self) -> list[tuple[str, str]]:
        """(URN, type) of every remote component the preview did not expand: its children are
        missing, so the pack's verdict covers only part of the stack."""
        return unanalysed(self.registrations)


def unanalysed(registrations: list[Registration]) -> list[tuple[str, str]]:
    from .awsx import is_emulated

    return [(r.urn, r.type) for r in registrations if r.remote and not is_emulated(r.type)]


def _features() -> list[int]:
    from pulumi.runtime.proto import resource_pb2 as rp

    return [
        rp.RESOURCE_MONITOR_FEATURE_SECRETS,
        rp.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
        rp.RESOURCE_MONITOR_FEATURE_OUTPUT_VALUES,
        rp.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
        rp.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
        rp.RESOURCE_MONITOR_FEATURE_REPLACE_WITH,
        rp.RESOURCE_MONITOR_FEATURE_REPLACEMENT_TRIGGER,
        rp.RESOURCE_MONITOR_FEATURE_TRANSFORMS,
        rp.RESOURCE_MONITOR_FEATURE_INVOKE_TRANSFORMS,
        rp.RESOURCE_MONITOR_FEATURE_PARAMETERIZATION,
        rp.RESOURCE_MONITOR_FEATURE_INVOKE_DEPENDS_ON,
    ]


def _engine_step(doing: str) -> Callable[[Callable[[Any, Any], T]], Callable[[Any, Any], T]]:
    """A monitor method whose own failures (a bug of the stand-in, not of the program) fail the run
    as an EngineError naming the request and where it failed, instead of surfacing as the program's
    error; an SDK that changed shape stays an SdkShapeError (see `RecordingMonitor.sdk_errors`)."""

    def wrap(method: Callable[[Any, Any], T]) -> Callable[[Any, Any], T]:
        @functools.wraps(method)
        def call(self: RecordingMonitor, req: Any) -> T:
            try:
                return method(self, req)
            except EngineError:
                raise
            except sdk_patches.SdkShapeError as e:
                self.sdk_errors.append(str(e))
                raise
            except Exception as e:
                frame = traceback.extract_tb(e.__traceback__)[-1]
                subject = req.tok if hasattr(req, "tok") else f"{req.type} '{req.name}'"
                raise self.fail(
                    f"the offline preview failed {doing} {subject}: {type(e).__name__}: {e} "
                    f"(at {os.path.basename(frame.filename)}:{frame.lineno})"
                ) from e

        return call

    return wrap


class RecordingMonitor:
    """The ResourceMonitor service, called by the SDK from its executor threads."""

    def __init__(
        self,
        project: str,
        stack: str,
        config: StackConfig,
        dry_run: bool,
        on_register: Callable[[Registration], None] | None = None,
        answers: OfflineAnswers | None = None,
        organization: str = "organization",
    ) -> None:
        self.project, self.stack, self.config, self.dry_run = project, stack, config, dry_run
        # Called once per new registration, under the lock that records it: in registration order.
        self.on_register = on_register
        self.answers = answers or OfflineAnswers()
        self.organization = organization
        self.region = config.values.get("aws:region", "us-east-1")
        self.denied_default_providers = disabled_default_providers(config)
        self._warned: set[str] = set()
        self._result_fields: dict[str, Any] = {}
        self.registrations: dict[str, Registration] = {}
        self.invokes: list[str] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []  # what the engine would fail the preview with (Check, Construct)
        self.sdk_errors: list[str] = []  # SDK internals that changed shape (raised as SdkShapeError)
        self.outputs_registered: list[str] = []  # URNs whose outputs RegisterResourceOutputs set
        self._lock = threading.Lock()
        # The program's event loop and its thread (set by the runner): see `_on_program_loop`.
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: threading.Thread | None = None

    # -- URNs and providers --------------------------------------------------------------------------

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """urn:pulumi:<stack>::<project>::<parent type chain>$<type>::<name>; the root stack adds nothing."""
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != ROOT_STACK_TYPE:
                qualified = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{qualified}::{name}"

    def _aliases(self, req: Any, urn: str, parent_reg: Registration | None) -> list[str]:
        """The alias URNs the engine derives from the request's alias specs (offline/aliases.py)."""
        from .aliases import alias_urns

        return alias_urns(
            req.aliases, req.aliasURNs, urn=urn, name=req.name, type_=req.type, parent=req.parent,
            project=self.project, stack=self.stack,
            parent_aliases=parent_reg.options.get("aliases", ()) if parent_reg else (),
        )

    def _recorded(self, reg: Registration) -> None:
        if self.on_register is not None:
            self.on_register(reg)

    def warn_once(self, message: str) -> None:
        """A warning for the report, once per distinct message."""
        with self._lock:
            if message in self._warned:
                return
            self._warned.add(message)
        self.warnings.append(message)

    def fail(self, message: str) -> EngineError:
        """Record what the engine refuses (the run fails with it as its cause) and return the error
        to raise into the SDK, which fails the program's call as the engine's gRPC error would."""
        self.errors.append(message)
        return EngineError(message)

    def _deny_default_provider(self, pkg: str, what: str, subject: str) -> None:
        """`pulumi:disable-default-providers` names the package (or "*"): the engine refuses
        (`diag.GetDefaultProviderDenied`); the `pulumi` package is always allowed."""
        if pkg != "pulumi" and (pkg in self.denied_default_providers or "*" in self.denied_default_providers):
            raise self.fail(f"Default provider for '{subject}' disabled. '{what}' must use an explicit provider.")

    def _default_provider(self, pkg: str, version: str, what: str = "", subject: str = "") -> str:
        """The engine creates one default provider per package and version; returns its reference.

        When default providers are disabled the engine's error names `subject` (the package; for a
        read, as the engine words it, the type) and `what` (the URN, type or token)."""
        self._deny_default_provider(pkg, what or pkg, subject or pkg)
        name = "default_" + version.replace(".", "_").replace("-", "_") if version else "default"
        type_ = f"{PROVIDER_TYPE_PREFIX}{pkg}"
        urn = self.make_urn("", type_, name)
        with self._lock:
            reg = self.registrations.get(urn)
            if reg is None:
                inputs = self._package_config(pkg)
                if version:
                    inputs["version"] = version
                pid = UNKNOWN if self.dry_run else fakes.fake_id(type_, name, urn)
                reg = Registration(
                    urn,
                    type_,
                    name,
                    custom=True,
                    id=pid,
                    inputs=inputs,
                    outputs=dict(inputs),
                    default_provider=True,
                )
                self.registrations[urn] = created = reg
                self._recorded(created)
        return f"{reg.urn}::{reg.id}"

    def _package_config(self, pkg: str) -> dict[str, Any]:
        """A default provider's inputs from the stack config (`Target.GetPackageConfig`,
        pkg/resource/deploy/target.go:45-70): the package's own keys without their namespace; a
        dynamic provider's (`pulumi-nodejs`, `pulumi-python`) gets every key, namespace kept.
        Secret values stay secrets."""
        dynamic = pkg in DYNAMIC_PROVIDER_PACKAGES
        prefix = pkg + ":"
        inputs: dict[str, Any] = {}
        for key, value in self.config.values.items():
            if not dynamic and not key.startswith(prefix):
                continue
            name = key if dynamic else key[len(prefix):]
            inputs[name] = secret(value) if key in self.config.secret_keys else value
        return inputs

    @staticmethod
    def _package(type_: str) -> str:
        return type_.split(":", 1)[0]

    # -- ResourceMonitor -------------------------------------------------------------------------------

    def SupportsFeature(self, request: Any) -> Any:
        from pulumi.runtime.proto import resource_pb2

        legacy = {
            "secrets",
            "resourceReferences",
            "outputValues",
            "deletedWith",
            "aliasSpecs",
            "transforms",
            "invokeTransforms",
            "parameterization",
            "replaceWith",
        }
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id in legacy)

    def GetDeploymentInfo(self, request: Any) -> Any:
        from pulumi.runtime.proto import resource_pb2

        return resource_pb2.DeploymentInfo(supportedFeatures=_features())

    @_engine_step("registering")
    def RegisterResource(self, req: Any) -> Any:
        from pulumi.runtime.proto import resource_pb2

        urn = self.make_urn(req.parent, req.type, req.name)
        inputs = struct_to_dict(req.object)
        is_provider = req.type.startswith(PROVIDER_TYPE_PREFIX)
        if (req.custom or req.remote) and not is_provider:
            self._load_class(req.type)
        # The provider first: its inputs (default tags) are part of the resource's Check.
        provider = req.provider
        if (req.custom or req.remote) and not provider and not is_provider:
            pkg = self._package(req.type)
            if pkg != "pulumi":
                provider = self._default_provider(pkg, req.version, urn if req.custom else req.type)
        checked = req.custom and self._package(req.type) == "aws" and not is_provider
        if checked:
            inputs = self._check(req.type, req.name, urn, inputs, self._provider_inputs(provider))
        if req.custom and is_provider:
            inputs = self._explicit_provider_inputs(req, urn, inputs)
        parent_reg = self.registrations.get(req.parent) if req.parent else None
        options: dict[str, Any] = {}
        protect = (
            req.protect
            if req.HasField("protect")
            else (parent_reg.options.get("protect") if parent_reg else None)
        )
        if protect:
            options["protect"] = True
        retain = (
            req.retainOnDelete
            if req.HasField("retainOnDelete")
            else (parent_reg.options.get("retainOnDelete") if parent_reg else None)
        )
        if retain:
            options["retainOnDelete"] = True
        deleted_with = req.deletedWith or (parent_reg.options.get("deletedWith", "") if parent_reg else "")
        if deleted_with:
            options["deletedWith"] = deleted_with
        if req.deleteBeforeReplaceDefined:
            options["deleteBeforeReplace"] = req.deleteBeforeReplace
        for key, value in (
            ("ignoreChanges", list(req.ignoreChanges)),
            ("additionalSecretOutputs", list(req.additionalSecretOutputs)),
            ("replaceOnChanges", list(req.replaceOnChanges)),
            ("aliases", self._aliases(req, urn, parent_reg)),
            ("version", req.version),
            ("pluginDownloadURL", req.pluginDownloadURL),
            ("importId", req.importId),
            ("providers", dict(req.providers)),
        ):
            if value:
                options[key] = value
        if req.HasField("customTimeouts"):
            timeouts = self._custom_timeouts(req, urn)
            if timeouts:
                options["customTimeouts"] = timeouts

        reg = Registration(
            urn=urn,
            type=req.type,
            name=req.name,
            custom=req.custom,
            remote=req.remote,
            parent=req.parent,
            provider=provider,
            inputs=inputs,
            dependencies=list(req.dependencies),
            property_dependencies={k: list(v.urns) for k, v in req.propertyDependencies.items()},
            options=options,
        )
        obj: dict[str, Any] = {}
        if req.type == ROOT_STACK_TYPE:
            pass
        elif req.custom:
            reg.id = "" if self.dry_run else (req.importId or fakes.fake_id(req.type, req.name, urn, inputs, self.region))
            obj = provider_check.planned_outputs(req.type, inputs) if checked and self.dry_run else dict(inputs)
            if not self.dry_run and not is_provider:
                obj.update(fakes.computed_outputs(req.type, req.name, urn, inputs, self.region))
            reg.outputs = obj
        with self._lock:
            if urn in self.registrations:
                raise ValueError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
            self.registrations[urn] = reg
            self._recorded(reg)
        property_dependencies: dict[str, list[str]] = {}
        if req.remote:
            obj, property_dependencies = self._construct(reg, req)
        return resource_pb2.RegisterResourceResponse(
            urn=urn,
            id=reg.id,
            object=dict_to_struct(obj),
            propertyDependencies={
                k: resource_pb2.RegisterResourceResponse.PropertyDependencies(urns=v)
                for k, v in property_dependencies.items()
            },
        )

    def _explicit_provider_inputs(self, req: Any, urn: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """An explicit provider's inputs as the engine records them (source_eval.go:2669-2681): the
        requested plugin version is written into them, so a pack sees `props["version"]`. (The
        stack config is not: only default providers read it.)"""
        if req.version:
            try:
                inputs = {**inputs, "version": provider_version(req.version)}
            except VersionError as e:
                raise self.fail(f"{urn}: {e}") from None
        return inputs

    def _custom_timeouts(self, req: Any, urn: str) -> dict[str, float]:
        """The custom timeouts in seconds, as the engine converts them (and as analyzers receive
        them); a value the engine cannot parse fails the registration with its message."""
        timeouts = {}
        for key in ("create", "update", "delete", "read"):
            text = getattr(req.customTimeouts, key)
            if text:
                try:
                    timeouts[key] = durations.seconds(text)
                except durations.DurationError as e:
                    raise self.fail(f"{urn}: {e}") from None
        return timeouts

    # -- what the engine does beyond recording (offline.provider_check, offline.awsx) ----------------

    def _on_program_loop(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the program's event-loop thread and wait for it.

        The SDK's generated packages load their modules lazily (`pulumi._utils.lazy_import`), which
        is not thread-safe: a module being loaded in one thread is half-empty for another. The SDK
        touches them on the loop thread (type hints of outputs); this monitor runs in the SDK's
        executor threads. Loading a type's class here, on the same thread as the SDK, avoids the
        race (seen: "module 'pulumi_aws.cloudwatch' has no attribute 'LogGroup'")."""
        loop = self.loop
        if loop is None or loop.is_closed() or threading.current_thread() is self.loop_thread:
            return fn()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def call() -> None:
            try:
                done.set_result(fn())
            except BaseException as e:
                done.set_exception(e)

        loop.call_soon_threadsafe(call)
        return done.result()

    def _load_class(self, type_: str) -> None:
        """Import a type's SDK class (and resolve its output types) once, on the program's thread;
        afterwards `provider_check.resource_schema` and `fakes.computed_outputs` only read it."""
        if not provider_check.resource_schema_cached(type_):
            self._on_program_loop(lambda: provider_check.resource_schema(type_))

    def _provider_inputs(self, reference: str) -> dict[str, Any]:
        """The inputs of the provider a reference (`<urn>::<id>`) names; {} when it is not recorded."""
        with self._lock:
            reg = self.registrations.get(reference.rsplit("::", 1)[0]) if reference else None
        return reg.inputs if reg is not None else {}

    def _check(
        self, type_: str, name: str, urn: str, inputs: dict[str, Any], provider_config: dict[str, Any]
    ) -> dict[str, Any]:
        """The provider's checked inputs; a failed Check fails the preview (the inputs stay as sent)."""
        try:
            return provider_check.check(type_, name, urn, inputs, provider_config)
        except provider_check.CheckFailure as e:
            self.errors.append(str(e))
            return inputs

    def _construct(self, reg: Registration, req: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """A remote component: registers its children as its provider's Construct would and returns
        its outputs and their property dependencies; a type `offline.awsx` cannot expand is named
        as not analysed (a warning) and answered as before (update: placeholders)."""
        from . import awsx

        try:
            result = awsx.construct(self, reg, req)
        except awsx.ConstructError as e:
            self.errors.append(f"{reg.type} '{reg.name}': {e}")
            return {}, {}
        if result is None:
            self.warnings.append(awsx.not_analysed_message(reg.type, reg.name, reg.urn))
            outputs = {} if self.dry_run else fakes.computed_outputs(reg.type, reg.name, reg.urn, reg.inputs, self.region)
            dependencies: dict[str, list[str]] = {}
        else:
            outputs, dependencies = result.outputs, result.property_dependencies
        reg.outputs = outputs
        self.outputs_registered.append(reg.urn)
        return outputs, dependencies

    def RegisterResourceOutputs(self, req: Any) -> Any:
        reg = self.registrations.get(req.urn)
        if reg is not None:
            reg.outputs = struct_to_dict(req.outputs)
            self.outputs_registered.append(req.urn)
        return empty_pb2.Empty()

    @_engine_step("reading")
    def ReadResource(self, req: Any) -> Any:
        """`Resource.get` and stack references: the engine reads the resource from its provider
        and records it as external; reads are not analysed (`GenerateReadSteps`, and they are kept
        out of the resources AnalyzeStack sees). A stack reference is read by the engine's built-in
        provider (`--stack-reference` files); any other read answers with the given properties
        and, for what the cloud would say, plausible values (`fakes`), in both modes: the resource
        exists, so the engine reads it for real in a preview too."""
        from pulumi.runtime.proto import resource_pb2

        urn = self.make_urn(req.parent, req.type, req.name)
        props = struct_to_dict(req.properties)
        pkg = self._package(req.type)
        provider = req.provider
        if not provider and pkg != "pulumi":
            provider = self._default_provider(pkg, req.version, req.type, subject=req.type)
        if req.type == stack_references.STACK_REFERENCE_TYPE:
            props = self._read_stack_reference(str(props.get("name") or req.id))
        else:
            self._load_class(req.type)
            props = {**fakes.computed_outputs(req.type, req.name, urn, props, self.region), **props}
        reg = Registration(
            urn,
            req.type,
            req.name,
            custom=True,
            parent=req.parent,
            provider=provider,
            id=req.id,
            inputs=props,
            outputs=props,
            dependencies=list(req.dependencies),
            read=True,
        )
        with self._lock:
            self.registrations[urn] = reg
            self._recorded(reg)
        return resource_pb2.ReadResourceResponse(urn=urn, properties=dict_to_struct(props))

    def _read_stack_reference(self, name: str) -> dict[str, Any]:
        """The built-in provider's read of a stack reference (`readStackReference`): from the
        `--stack-reference` file for the stack; without one, unknown in preview, and in update
        mode the run fails naming the flag (the outputs decide what would be deployed)."""
        qualified = stack_references.qualified_name(name, self.organization, self.project)
        outputs = self.answers.stack_references.get(qualified)
        if outputs is None:
            if not self.dry_run:
                raise self.fail(stack_references.missing_message(qualified))
            self.warn_once(
                f"stack reference {qualified!r}: its outputs are unknown (give them with "
                f"{stack_references.FLAG} {qualified}=FILE)"
            )
        return stack_references.read_outputs(name, outputs)

    @_engine_step("invoking")
    def Invoke(self, req: Any) -> Any:
        """A data source, as the engine serves it: with the provider's default provider (or a
        refusal when default providers are disabled); in preview, unknown when an argument is
        unknown anywhere (the engine never hands a provider unknowns) or when a resource it
        depends on is not created yet (`dependsOn`); otherwise the `--invokes` answer, the built-in
        one (`invokes`), or placeholders for every field of the SDK's result type with a warning."""
        from pulumi.runtime.proto import resource_pb2

        args = struct_to_dict(req.args)
        tok = req.tok
        if tok == "pulumi:pulumi:getResource":
            urn = args.get("urn", "")
            reg = self.registrations.get(urn)
            if reg is None:  # as the engine's builtin provider; an empty answer left the URN unresolved: a hang
                raise ValueError(f"unknown resource {urn}: not a resource this program registered in stack {self.stack!r}")
            ret = {"urn": reg.urn, "id": reg.id, "state": reg.outputs}
            return resource_pb2.ResourceInvokeResponse(**{"return": dict_to_struct(ret)})
        pkg = self._package(tok)
        if not req.provider and pkg != "pulumi":
            self._default_provider(pkg, req.version, tok)
        with self._lock:
            self.invokes.append(tok)
        if self.dry_run and (contains_unknown(args) or self._has_unresolved(list(req.dependsOn))):
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        if tok == "pulumi:pulumi:readStackOutputs":
            read = self._read_stack_reference(str(args.get("name", "")))
            if read["outputs"] == UNKNOWN:
                return resource_pb2.ResourceInvokeResponse(unknown=True)
            return resource_pb2.ResourceInvokeResponse(**{"return": dict_to_struct(read)})
        try:
            ret = self._invoke_answer(tok, args)
        except invokes.InvokeAnswerError as e:  # the provider fails the invoke: the SDK raises its reason
            from pulumi.runtime.proto import provider_pb2

            return resource_pb2.ResourceInvokeResponse(failures=[provider_pb2.CheckFailure(reason=str(e))])
        return resource_pb2.ResourceInvokeResponse(**{"return": dict_to_struct(ret)})

    def _has_unresolved(self, urns: list[str]) -> bool:
        """Whether a custom resource in the expansion of `urns` (components stand for their
        descendants, down to the first custom resource of each branch) is not created yet: in
        preview, every resource the program registers (`resourcetracker.HasUnresolved`)."""
        pending = list(urns)
        seen: set[str] = set()
        while pending:
            urn = pending.pop()
            reg = self.registrations.get(urn)
            if reg is None or urn in seen:
                continue
            seen.add(urn)
            if reg.custom:
                if not reg.id:
                    return True
                continue
            pending.extend(r.urn for r in list(self.registrations.values()) if r.parent == urn)
        return False

    def _invoke_answer(self, tok: str, args: dict[str, Any]) -> dict[str, Any]:
        """The user's answer over the built-in one, completed to the SDK's result type."""
        fields = self._fields_of(tok)
        user = invokes.user_answer(self.answers.invokes, tok, args)
        try:
            builtin = invokes.builtin_answer(tok, args, self.region)
        except invokes.InvokeAnswerError:
            if user is None:
                raise
            builtin = None  # the user's answer stands for the lookup that would fail
        answer = builtin
        if user is not None:
            answer = {**(builtin or {}), **self._engine_names(tok, user, fields)}
        if answer is None:
            self.warn_once(
                f"invoke {tok} has no offline answer: it returned placeholder values for every field of its result "
                "type; give the real values with --invokes FILE"
            )
        if fields is None:
            return answer or {}
        return invokes.complete(tok, fields, self._nested_fields, args, self.region, answer)

    def _fields_of(self, tok: str) -> Any:
        """The fields of the invoke's SDK result type (loaded on the program's thread), None when the
        program's SDK has none for the token."""
        if tok not in self._result_fields:
            def load() -> Any:
                cls = sdk_patches.invoke_result_class(tok)
                return sdk_patches.output_type_fields(cls) if cls is not None else None

            self._result_fields[tok] = self._on_program_loop(load)
        return self._result_fields[tok]

    @staticmethod
    def _nested_fields(cls: type) -> Any:
        return sdk_patches.output_type_fields(cls)

    def _engine_names(self, tok: str, answer: dict[str, Any], fields: Any) -> dict[str, Any]:
        """An `--invokes` result with its field names as the engine spells them (snake_case names
        of the result type accepted); a name the result type does not have is kept, with a warning."""
        if fields is None:
            return answer
        camel = {sdk_patches.python_name(name): name for name in fields}
        out = {}
        for key, value in answer.items():
            name = key if key in fields else camel.get(key, key)
            if name not in fields:
                self.warn_once(f"--invokes {self.answers.invokes_file}: {tok}: {key!r} is not a field of its result type")
            out[name] = value
        return out

    def Call(self, req: Any) -> Any:
        from pulumi.runtime.proto import resource_pb2

        self.warnings.append(f"method call {req.tok} is not supported offline; it returned an empty result")
        return resource_pb2.CallResponse()

    def RegisterPackage(self, req: Any) -> Any:
        from pulumi.runtime.proto import resource_pb2

        return resource_pb2.RegisterPackageResponse(ref=f"offline-{req.name}-{req.version}")

    def RegisterStackTransform(self, req: Any) -> Any:
        self.warnings.append("stack transforms are not run by the offline preview")
        return empty_pb2.Empty()

    def RegisterStackInvokeTransform(self, req: Any) -> Any:
        return self.RegisterStackTransform(req)

    def RegisterResourceHook(self, req: Any) -> Any:
        return empty_pb2.Empty()

    def RegisterErrorHook(self, req: Any) -> Any:
        return empty_pb2.Empty()

    def SignalAndWaitForShutdown(self, req: Any) -> Any:
        return empty_pb2.Empty()


class RecordingEngine:
    """The Engine service as the program sees it: collects log messages."""

    _LEVELS = {0: "debug", 1: "info", 2: "warning", 3: "error"}

    def __init__(self) -> None:
        self.logs: list[LogEntry] = []

    def Log(self, req: Any) -> Any:
        level = self._LEVELS.get(req.severity, "info")
        if level != "debug":
            self.logs.append(LogEntry(level, req.message, req.urn))
        return empty_pb2.Empty()

    def GetRootResource(self, req: Any) -> Any:
        from pulumi.runtime.proto import engine_pb2

        return engine_pb2.GetRootResourceResponse()

    def SetRootResource(self, req: Any) -> Any:
        from pulumi.runtime.proto import engine_pb2

        return engine_pb2.SetRootResourceResponse()


def _site_dirs() -> tuple[str, ...]:
    paths = {sysconfig.get_paths()[k] for k in ("purelib", "platlib", "stdlib")}
    return tuple(os.path.realpath(p) for p in paths | {sys.prefix, sys.base_prefix})


def _drop_program_modules(program_dir: Path, before: set[str]) -> None:
    """Forget the program's own modules so another run (or test) imports them afresh."""
    root = os.path.realpath(program_dir) + os.sep
    site = _site_dirs()
    for name, mod in list(sys.modules.items()):
        if name in before:
            continue
        path = getattr(mod, "__file__", None)
        if path:
            real = os.path.realpath(path)
            if real.startswith(root) and not real.startswith(site):
                del sys.modules[name]


def failure_cause(error: BaseException, program_dir: Path) -> str:
    """One line saying why the program failed: the exception and the program's line that raised it
    (the innermost frame in the program's directory); a missing module says where to install it."""
    if isinstance(error, ModuleNotFoundError) and error.name:
        return (
            f"the program imports {error.name!r}, which is not installed in the Python environment running "
            f"the preview ({sys.executable}): install it there, e.g. `{sys.executable} -m pip install "
            f"{error.name.split('.')[0].replace('_', '-')}`"
        )
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    root, site = os.path.realpath(program_dir) + os.sep, _site_dirs()
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if (real := os.path.realpath(f.filename)).startswith(root) and not real.startswith(site)
    ]
    if frames:
        frame = frames[-1]
        text += f" (at {os.path.relpath(frame.filename, program_dir)}:{frame.lineno}, in {frame.name})"
    return text


def _run_in_thread(
    project: Project,
    stack: str,
    config: StackConfig,
    dry_run: bool,
    organization: str,
    monitor: RecordingMonitor,
    engine: RecordingEngine,
    outcome: dict[str, Any],
) -> None:
    import pulumi.runtime
    from pulumi.errors import RunError

    # A fresh thread starts with an empty context, so the SDK's context variables (the root stack
    # resource among them) start unset: every run gets a root of its own.
    pulumi.runtime.configure(
        pulumi.runtime.Settings(
            project=project.name,
            stack=stack,
            monitor=monitor,
            engine=engine,
            dry_run=dry_run,
            organization=organization,
            root_directory=str(project.directory),
        )
    )
    pulumi.runtime.set_all_config(dict(config.values), sorted(config.secret_keys))
    loop = asyncio.new_event_loop()
    monitor.loop, monitor.loop_thread = loop, threading.current_thread()
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(lambda _loop, _ctx: None)  # unobserved task errors: the run reports them
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: runpy.run_path(str(project.main), run_name="__main__")))
    except RunError as e:
        outcome["error"] = str(e)
        outcome["cause"] = str(e).strip().splitlines()[0] if str(e).strip() else "the program failed"
    except BaseException as e:
        outcome["error"] = "".join(traceback.format_exception(e)).rstrip() or repr(e)
        outcome["cause"] = failure_cause(e, project.directory)
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        with contextlib.suppress(BaseException):
            loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)


def run_program(
    project: Project,
    stack: str,
    config: StackConfig,
    *,
    dry_run: bool = True,
    organization: str = "organization",
    timeout: float = 120.0,
    on_register: Callable[[Registration], None] | None = None,
    answers: OfflineAnswers | None = None,
) -> RunResult:
    """Run the program and return what it registered; raises ProgramError on failure or timeout
    (EngineError when the engine itself refuses the program).

    `on_register` sees every registration as soon as it is recorded (from the SDK's threads, one at
    a time, in registration order). `answers` are the user's invoke answers and stack references."""
    sdk_patches.skip_source_positions()
    sdk_patches.check_resource_reflection()  # used by fakes.computed_outputs (update mode, reads)
    monitor = RecordingMonitor(project.name, stack, config, dry_run, on_register, answers, organization)
    engine = RecordingEngine()
    outcome: dict[str, Any] = {}
    before = set(sys.modules)
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(project.directory)
    sys.path.insert(0, str(project.directory))
    start = time.perf_counter()
    # The SDK keeps every resource's outputs, futures and tasks alive until the end: the heap only
    # grows, and the cyclic GC's full collections re-scan all of it ever more often (quadratic in
    # resources: 16 s instead of 7 s at 200 services). It finds little to free (~9 MiB of the SDK's
    # short-lived cycles at 200 services, for ~10% more time even with young collections only),
    # so it is paused for the run; reference counting still frees everything else.
    gc_enabled = gc.isenabled()
    gc.disable()
    thread = threading.Thread(
        target=_run_in_thread,
        name="pulumi-program",
        daemon=True,
        args=(project, stack, config, dry_run, organization, monitor, engine, outcome),
    )
    try:
        thread.start()
        thread.join(timeout)
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        if gc_enabled:
            gc.enable()
    if thread.is_alive():
        raise ProgramError(f"the program did not finish within {timeout:g} s")
    _drop_program_modules(project.directory, before)
    if monitor.sdk_errors:
        raise sdk_patches.SdkShapeError(monitor.sdk_errors[0])
    duration = time.perf_counter() - start
    logs = engine.logs + [LogEntry("warning", w) for w in monitor.warnings]
    logs += [LogEntry("error", e) for e in monitor.errors]
    errors = [entry.message for entry in logs if entry.severity == "error"]
    if "error" in outcome or errors:
        warnings = [entry.message for entry in logs if entry.severity == "warning"]
        traceback_text = outcome.get("error") or ""
        if monitor.errors:  # the engine refused (Check, Construct, a default provider...): its message first
            cause, rest = monitor.errors[0], [e for e in errors if e != monitor.errors[0]]
            kind: type[ProgramError] = EngineError
        else:
            cause = outcome.get("cause") or (errors[0] if errors else "the program failed")
            rest = [e for e in errors if e != cause]
            kind = ProgramError
        detail = "\n".join(p for p in (*(e for e in rest if e not in traceback_text), traceback_text) if p)
        raise kind(cause, detail=detail, warnings=warnings)
    return RunResult(
        list(monitor.registrations.values()), logs, monitor.invokes, duration, dry_run, monitor.outputs_registered
    )
