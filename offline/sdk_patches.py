"""Every place the offline preview reaches past the Pulumi SDK's public API, each one checked.

Owns: the one patch of the SDK (`skip_source_positions`) and the accessors of SDK internals the
preview reads (`resource_class`, `output_types`, `input_names`; for invokes `invoke_result_class`
and `output_type_fields`). Each checks, before it touches its target, that
the target exists with the shape this module was written against (pulumi 3.272.0), and raises
`SdkShapeError` naming the target and the installed SDK version otherwise: an SDK upgrade fails
loudly here, never half-silently elsewhere. Nothing else in `offline/` touches SDK internals.
(The pack's per-request memo patches pulumi_policy inside the pack processes: `pack_bootstrap`.)
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import re
import sys
from collections.abc import Callable
from typing import Any

WRITTEN_FOR = "pulumi 3.272.0"


class SdkShapeError(Exception):
    """An SDK internal the preview relies on is missing or has changed shape (exit code 2)."""


def _sdk_version() -> str:
    try:
        return importlib.metadata.version("pulumi")
    except importlib.metadata.PackageNotFoundError:
        return "(unknown version)"


def _fail(target: str, problem: str) -> SdkShapeError:
    return SdkShapeError(
        f"pulumi {_sdk_version()}: {target} {problem}; offline/sdk_patches.py was written for "
        f"{WRITTEN_FOR} and needs updating for this SDK"
    )


def _function(module: Any, name: str, params: tuple[str, ...]) -> Callable[..., Any]:
    """`module.name`, checked to be a function whose parameters are exactly `params`."""
    target = f"{module.__name__}.{name}"
    fn = getattr(module, name, None)
    if fn is None:
        raise _fail(target, "does not exist")
    if not inspect.isfunction(fn):
        raise _fail(target, f"is a {type(fn).__name__}, not a function")
    found = tuple(inspect.signature(fn).parameters)
    if found != params:
        raise _fail(target, f"takes ({', '.join(found)}), not ({', '.join(params)})")
    return fn


class _Checked:
    """Remembers the object last checked for a target, so the check runs again only when it changes."""

    def __init__(self) -> None:
        self._seen: dict[str, Any] = {}

    def get(self, key: str, current: Any, check: Callable[[], Any]) -> Any:
        if key not in self._seen or self._seen[key] is not current:
            check()
            self._seen[key] = current
        return current


_CHECKED = _Checked()


# ---- source positions (a patch) ----------------------------------------------------------------------


def _empty_stack_trace() -> Any:
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


def skip_source_positions() -> None:
    """Replace `pulumi.runtime.resource._get_stack_trace` with one returning an empty trace.

    The SDK captures a stack trace (traceback.extract_stack + a file URI per frame) for every
    resource, ~0.5 ms each, only to send it to the engine for display; the stand-in monitor never
    reads `sourcePosition` / `stackTrace`, and with an empty trace the SDK sends none. Process-wide
    and idempotent; only resource registrations call it. Upstream fix: capture lazily, or only when
    the engine asks for it (a monitor feature flag)."""
    from pulumi.runtime import resource
    from pulumi.runtime.proto import source_pb2

    target = "pulumi.runtime.resource._get_stack_trace"
    if getattr(resource, "_get_stack_trace", None) is _empty_stack_trace:
        return
    original = _function(resource, "_get_stack_trace", ())
    returns = inspect.signature(original).return_annotation
    if returns is not source_pb2.StackTrace and returns != "source_pb2.StackTrace":
        raise _fail(target, f"returns {returns!r}, not source_pb2.StackTrace")
    resource._get_stack_trace = _empty_stack_trace  # type: ignore[attr-defined]


# ---- reflection of generated provider SDKs (accessors) ------------------------------------------------


def _get_resource_module() -> Callable[[str, str, str], Any]:
    from pulumi.runtime import rpc

    current = getattr(rpc, "get_resource_module", None)
    return _CHECKED.get(
        "get_resource_module", current, lambda: _function(rpc, "get_resource_module", ("pkg", "mod", "version"))
    )


def resource_class(type_: str) -> type | None:
    """The generated SDK class of a type token (`aws:ec2/vpc:Vpc`), found through the resource
    module the provider SDK registered (`pulumi.runtime.rpc.get_resource_module`, and the module's
    `mod_info` the generated `_utilities.Module` keeps); None for a token no SDK registered."""
    parts = type_.split(":")
    if len(parts) != 3:
        return None
    module = _get_resource_module()(parts[0], parts[1], "")
    if module is None:
        return None
    info = getattr(module, "mod_info", None)
    if not (isinstance(info, dict) and isinstance(info.get("fqn"), str) and isinstance(info.get("classes"), dict)):
        raise _fail(
            f"the resource module registered for {parts[0]}:{parts[1]} ({type(module).__qualname__})",
            "has no mod_info dict with 'fqn' and 'classes'",
        )
    class_name = info["classes"].get(type_)
    if class_name is None:
        return None
    mod = sys.modules.get(info["fqn"]) or importlib.import_module(info["fqn"])
    return getattr(mod, class_name, None)


def _types_functions() -> tuple[Callable[[type], dict[str, type]], Callable[[Any], Any]]:
    import pulumi._types as pulumi_types

    resource_types = getattr(pulumi_types, "resource_types", None)
    unwrap = getattr(pulumi_types, "unwrap_optional_type", None)
    _CHECKED.get(
        "resource_types", resource_types, lambda: _function(pulumi_types, "resource_types", ("resource_cls",))
    )
    _CHECKED.get(
        "unwrap_optional_type", unwrap, lambda: _function(pulumi_types, "unwrap_optional_type", ("val",))
    )
    return resource_types, unwrap  # type: ignore[return-value]


def output_types(resource_cls: type) -> dict[str, Any]:
    """Each output property of a generated resource class -> its Python type, `Optional[T]`
    unwrapped to T (`pulumi._types.resource_types` / `unwrap_optional_type`)."""
    resource_types, unwrap = _types_functions()
    types = resource_types(resource_cls)
    if not isinstance(types, dict):
        raise _fail("pulumi._types.resource_types", f"returned a {type(types).__name__}, not a dict")
    return {prop: unwrap(typ) for prop, typ in types.items()}


def input_names(args_cls: type) -> dict[str, str]:
    """Python name -> engine name of each input of a generated `<Class>Args` type
    (`pulumi._types.input_type_py_to_pulumi_names`)."""
    import pulumi._types as pulumi_types

    fn = getattr(pulumi_types, "input_type_py_to_pulumi_names", None)
    _CHECKED.get(
        "input_type_py_to_pulumi_names",
        fn,
        lambda: _function(pulumi_types, "input_type_py_to_pulumi_names", ("input_type_cls",)),
    )
    names = fn(args_cls)  # type: ignore[misc]
    if not isinstance(names, dict):
        raise _fail("pulumi._types.input_type_py_to_pulumi_names", f"returned a {type(names).__name__}, not a dict")
    return names


def check_resource_reflection() -> None:
    """Check the targets of `resource_class` and `output_types` now (update mode uses them from the
    SDK's threads, where an error would surface as a program failure instead)."""
    _get_resource_module()
    _types_functions()


# ---- result types of invokes (generated provider SDKs) --------------------------------------------------


def python_name(camel: str) -> str:
    """The generated SDKs' Python name of a camelCase token (`getIPRanges` -> `get_ip_ranges`)."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", camel)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text).lower()


def invoke_result_class(token: str) -> type | None:
    """The generated result type of an invoke token (`aws:ecr/getRepository:getRepository` ->
    `pulumi_aws.ecr.get_repository.GetRepositoryResult`), found by the code generator's naming
    rules; None when the package, module or class is not there (or is not an output type)."""
    import pulumi._types as pulumi_types

    parts = token.split(":")
    if len(parts) != 3 or not parts[2]:
        return None
    package = "pulumi_" + parts[0].replace("-", "_")
    module = parts[1].split("/", 1)[0]
    path = [package] if module in ("index", "") else [package, python_name(module).replace("-", "_")]
    # Through the package, as the program reaches it: the generated packages load lazily, and
    # importing a function's module first would run the package's `__init__` half-way (its
    # `from .get_x import *` on a module still being imported) and lose names the program needs.
    try:
        getattr(importlib.import_module(".".join(path)), python_name(parts[2]), None)
    except ImportError:
        return None
    mod = sys.modules.get(".".join([*path, python_name(parts[2])]))
    cls = getattr(mod, parts[2][:1].upper() + parts[2][1:] + "Result", None)
    is_output_type = getattr(pulumi_types, "is_output_type", None)
    _CHECKED.get("is_output_type", is_output_type, lambda: _function(pulumi_types, "is_output_type", ("cls",)))
    return cls if isinstance(cls, type) and is_output_type(cls) else None  # type: ignore[misc]


def output_type_fields(output_cls: type) -> dict[str, tuple[Any, bool]] | None:
    """Each field of a generated output type: engine name -> (Python type with `Optional[T]`
    unwrapped to T, whether the field is required, i.e. not declared Optional), read through
    `pulumi._types.is_output_type` and `_raw_return_hints` (the getters' resolved return hints,
    cached by the SDK); None for a class that is not an output type."""
    import pulumi._types as pulumi_types

    is_output_type = getattr(pulumi_types, "is_output_type", None)
    _CHECKED.get("is_output_type", is_output_type, lambda: _function(pulumi_types, "is_output_type", ("cls",)))
    hints = getattr(pulumi_types, "_raw_return_hints", None)
    _CHECKED.get("_raw_return_hints", hints, lambda: _cached_function(pulumi_types, "_raw_return_hints", ("cls",)))
    _, unwrap = _types_functions()
    if not is_output_type(output_cls):  # type: ignore[misc]
        return None
    raw = hints(output_cls)  # type: ignore[misc]
    if not isinstance(raw, dict):
        raise _fail("pulumi._types._raw_return_hints", f"returned a {type(raw).__name__}, not a dict")
    fields = {}
    for name, hint in raw.items():
        inner = unwrap(hint)
        fields[name] = (inner, inner is hint)
    return fields


def _cached_function(module: Any, name: str, params: tuple[str, ...]) -> Callable[..., Any]:
    """`module.name`, checked to be a `functools.cache` of a function whose parameters are `params`."""
    target = f"{module.__name__}.{name}"
    fn = getattr(module, name, None)
    wrapped = getattr(fn, "__wrapped__", None)
    if fn is None:
        raise _fail(target, "does not exist")
    if not callable(fn) or not inspect.isfunction(wrapped):
        raise _fail(target, "is not a cached function")
    found = tuple(inspect.signature(wrapped).parameters)
    if found != params:
        raise _fail(target, f"takes ({', '.join(found)}), not ({', '.join(params)})")
    return fn  # type: ignore[return-value]
