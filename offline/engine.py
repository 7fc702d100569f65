"""An engine stand-in: run a Pulumi Python program in-process and record every registration.

Owns: the resource monitor the SDK talks to (URNs by the engine's rules, default providers,
options, wire-form inputs, deterministic invokes, preview vs update responses) and running the
program on a fresh event loop in a worker thread with a bounded wait. It never talks to a pack.
What the engine asks providers for is delegated: the aws provider's Check and planned outputs to
`provider_check`, remote components' Construct to `awsx` (others are recorded as not analysed).

The SDK's runtime state lives in context variables; the program runs in its own thread, whose
context is discarded afterwards, so callers in the main thread keep their own Pulumi state.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import os
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

from . import fakes, provider_check, sdk_patches
from .properties import UNKNOWN, dict_to_struct, struct_to_dict
from .stack_config import Project, StackConfig

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
T = TypeVar("T")


class ProgramError(Exception):
    """The program failed (exception, RunError, error-level log) or did not finish in time."""


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
    ]


class RecordingMonitor:
    """The ResourceMonitor service, called by the SDK from its executor threads."""

    def __init__(
        self,
        project: str,
        stack: str,
        config: StackConfig,
        dry_run: bool,
        on_register: Callable[[Registration], None] | None = None,
    ) -> None:
        self.project, self.stack, self.config, self.dry_run = project, stack, config, dry_run
        # Called once per new registration, under the lock that records it: in registration order.
        self.on_register = on_register
        self.region = config.values.get("aws:region", "us-east-1")
        self.registrations: dict[str, Registration] = {}
        self.invokes: list[str] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []  # what the engine would fail the preview with (Check, Construct)
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

    def _default_provider(self, pkg: str, version: str) -> str:
        """The engine creates one default provider per package and version; returns its reference."""
        name = "default_" + version.replace(".", "_").replace("-", "_") if version else "default"
        type_ = f"pulumi:providers:{pkg}"
        urn = self.make_urn("", type_, name)
        with self._lock:
            reg = self.registrations.get(urn)
            if reg is None:
                inputs: dict[str, Any] = dict(self.config.namespace(pkg))
                for key in list(inputs):
                    if f"{pkg}:{key}" in self.config.secret_keys:
                        inputs[key] = {
                            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                            "value": inputs[key],
                        }
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

    def RegisterResource(self, req: Any) -> Any:
        from pulumi.runtime.proto import resource_pb2

        urn = self.make_urn(req.parent, req.type, req.name)
        inputs = struct_to_dict(req.object)
        if (req.custom or req.remote) and not req.type.startswith("pulumi:providers:"):
            self._load_class(req.type)
        checked = req.custom and self._package(req.type) == "aws" and not req.type.startswith("pulumi:providers:")
        if checked:
            inputs = self._check(req.type, req.name, urn, inputs)
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
            ct = req.customTimeouts
            options["customTimeouts"] = {"create": ct.create, "update": ct.update, "delete": ct.delete}

        provider = req.provider
        if (req.custom or req.remote) and not provider and not req.type.startswith("pulumi:providers:"):
            pkg = self._package(req.type)
            if pkg != "pulumi":
                provider = self._default_provider(pkg, req.version)

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
            reg.id = "" if self.dry_run else (req.importId or fakes.fake_id(req.type, req.name, urn))
            obj = provider_check.planned_outputs(req.type, inputs) if checked and self.dry_run else dict(inputs)
            if not self.dry_run and not req.type.startswith("pulumi:providers:"):
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

    def _check(self, type_: str, name: str, urn: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """The provider's checked inputs; a failed Check fails the preview (the inputs stay as sent)."""
        try:
            return provider_check.check(type_, name, urn, inputs)
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

    def ReadResource(self, req: Any) -> Any:
        from pulumi.runtime.proto import resource_pb2

        urn = self.make_urn(req.parent, req.type, req.name)
        props = struct_to_dict(req.properties)
        provider = req.provider or self._default_provider(self._package(req.type), req.version)
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

    def Invoke(self, req: Any) -> Any:
        from pulumi.runtime.proto import resource_pb2

        args = struct_to_dict(req.args)
        if req.tok == "pulumi:pulumi:getResource":
            reg = self.registrations.get(args.get("urn", ""))
            ret = {"urn": reg.urn, "id": reg.id, "state": reg.outputs} if reg else {}
            return resource_pb2.ResourceInvokeResponse(**{"return": dict_to_struct(ret)})
        pkg = self._package(req.tok)
        if not req.provider and pkg != "pulumi":
            self._default_provider(pkg, req.version)
        with self._lock:
            self.invokes.append(req.tok)
        ret = fakes.invoke_result(req.tok, args, self.region)
        if ret is None:
            self.warnings.append(f"invoke {req.tok} has no offline answer; it returned an empty result")
            ret = {}
        return resource_pb2.ResourceInvokeResponse(**{"return": dict_to_struct(ret)})

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
    except BaseException as e:
        outcome["error"] = "".join(traceback.format_exception(e)).rstrip() or repr(e)
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
) -> RunResult:
    """Run the program and return what it registered; raises ProgramError on failure or timeout.

    `on_register` sees every registration as soon as it is recorded (from the SDK's threads, one at
    a time, in registration order)."""
    sdk_patches.skip_source_positions()
    if not dry_run:
        sdk_patches.check_resource_reflection()  # used by fakes.computed_outputs
    monitor = RecordingMonitor(project.name, stack, config, dry_run, on_register)
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
    duration = time.perf_counter() - start
    logs = engine.logs + [LogEntry("warning", w) for w in monitor.warnings]
    logs += [LogEntry("error", e) for e in monitor.errors]
    errors = [entry.message for entry in logs if entry.severity == "error"]
    if "error" in outcome or errors:
        message = outcome.get("error") or ""
        detail = "\n".join(e for e in errors if e and e not in message)
        raise ProgramError("\n".join(p for p in (message, detail) if p) or "the program failed")
    return RunResult(
        list(monitor.registrations.values()), logs, monitor.invokes, duration, dry_run, monitor.outputs_registered
    )
