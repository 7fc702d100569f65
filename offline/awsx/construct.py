"""The machinery of an emulated awsx `Construct`: children registered through the stand-in
monitor, values that carry their dependencies, and unknown/secret propagation like an Output's.

Owns: `Construct` (one remote component being expanded: its arguments, its providers, registering
children and invoking data sources through the monitor's own methods, so children get URNs,
default providers, the provider's Check and preview/update outputs like any resource), `Node`
(a registered child or the component itself), `Out` (a value and the URNs it derives from),
`lift` (what `pulumi.all(...).apply(fn)` does to unknowns and secrets) and `Args` (a component's
arguments, as awsx receives them). Knows no awsx component; those live in the sibling modules.

Values are in the engine's form: `UNKNOWN` for an unknown, `{SIG: SECRET_SIG, "value": ...}` for
a secret, resource references as their wire dicts. `None` stands for JavaScript's `undefined`: a
key whose value is None is not sent, as the Node.js SDK drops undefined properties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..properties import OUTPUT_SIG, RESOURCE_SIG, SECRET_SIG, SIG, UNKNOWN, contains_unknown, dict_to_struct, struct_to_dict

if TYPE_CHECKING:
    from ..engine import RecordingMonitor, Registration

# awsx 3.11.0 pins these in awsx/package.json; its children carry them as their package versions.
AWS_VERSION = "7.42.0"
DOCKER_BUILD_VERSION = "0.0.14"
_VERSIONS = {"aws": AWS_VERSION, "docker-build": DOCKER_BUILD_VERSION}


class ConstructError(Exception):
    """awsx itself fails here (the message says why, as awsx's does)."""


@dataclass(frozen=True)
class Out:
    """A value derived from resources: `deps` are their URNs (the property dependencies it brings)."""

    value: Any
    deps: tuple[str, ...] = ()


def plain(value: Any) -> Any:
    """The value with every `Out` replaced by its value (dependencies dropped)."""
    if isinstance(value, Out):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def deps_of(*values: Any) -> tuple[str, ...]:
    """Every URN the values derive from, in first-seen order."""
    seen: dict[str, None] = {}

    def walk(value: Any) -> None:
        if isinstance(value, Out):
            seen.update(dict.fromkeys(value.deps))
            walk(value.value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for value in values:
        walk(value)
    return tuple(seen)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG


def contains_secret(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


def reveal(value: Any) -> Any:
    """The value with every secret wrapper removed."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def secret(value: Any) -> dict[str, Any]:
    return {SIG: SECRET_SIG, "value": value}


def opened(value: Any) -> Any:
    """A secret object or list opened one level: its members become secrets (nothing is revealed,
    as reading a secret Output's field keeps it secret)."""
    if is_secret(value):
        inner = value.get("value")
        if isinstance(inner, dict):
            return {k: secret(v) for k, v in inner.items()}
        if isinstance(inner, list):
            return [secret(v) for v in inner]
    return value


def known(value: Any) -> bool:
    return not contains_unknown(plain(value))


def lift(fn: Callable[..., Any], *values: Any) -> Out:
    """`pulumi.all(values).apply(fn)`: unknown if any part is unknown (the function does not run),
    secret if any part is secret; depends on everything the values depend on."""
    deps = deps_of(*values)
    resolved = [plain(v) for v in values]
    if any(contains_unknown(v) for v in resolved):
        return Out(UNKNOWN, deps)
    hidden = any(contains_secret(v) for v in resolved)
    result = fn(*(reveal(v) for v in resolved))
    return Out(secret(result) if hidden else result, deps)


def ref_urn(value: Any) -> str | None:
    """The URN of a resource reference (wire form), else None."""
    value = plain(value)
    if isinstance(value, dict) and value.get(SIG) == RESOURCE_SIG:
        return str(value.get("urn", ""))
    return None


def _argument(value: Any) -> Any:
    """A component input as awsx's Construct sees it: output values unwrapped (unknown when they
    carry no value, secret when marked so); resource references and secrets kept; integral numbers
    as ints (the wire has only doubles, JavaScript only numbers)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_argument(v) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(SIG)
    if sig == OUTPUT_SIG:
        inner = _argument(value["value"]) if "value" in value else UNKNOWN
        return secret(inner) if value.get("secret") else inner
    if sig == RESOURCE_SIG:
        return value
    return {k: _argument(v) for k, v in value.items()}


class Args:
    """A component's arguments (or a nested object of them): values, and the dependencies the
    program attached to each top-level argument (inherited by nested objects)."""

    def __init__(self, values: Mapping[str, Any] | None, deps: Mapping[str, Iterable[str]] | Iterable[str] = ()):
        self.values = dict(values or {})
        if isinstance(deps, Mapping):
            self._deps = {k: tuple(v) for k, v in deps.items()}
            self._all: tuple[str, ...] = ()
        else:
            self._deps, self._all = {}, tuple(deps)

    def deps(self, key: str) -> tuple[str, ...]:
        return self._deps.get(key, self._all)

    def __contains__(self, key: str) -> bool:
        return self.values.get(key) is not None

    def get(self, key: str) -> Out | None:
        """The argument with its dependencies; None when it is not set."""
        value = self.values.get(key)
        return None if value is None else Out(value, self.deps(key))

    def value(self, key: str, default: Any = None) -> Any:
        """The argument's value (secrets kept, may be UNKNOWN), or `default` when not set."""
        value = self.values.get(key)
        return default if value is None else value

    def prompt(self, key: str, default: Any = None) -> Any:
        """A value awsx needs known while it builds the children (a strategy, a count, ...)."""
        value = reveal(self.value(key, default))
        if contains_unknown(value):
            raise ConstructError(f"'{key}' must be known when the component is constructed (it is computed)")
        return value

    def sub(self, key: str) -> Args | None:
        """A nested object argument; its values inherit this argument's dependencies."""
        value = opened(self.values.get(key))
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ConstructError(f"'{key}' must be an object, got {type(value).__name__}")
        return Args(value, self.deps(key))

    def items(self, keys: Iterable[str] | None = None, omit: Iterable[str] = ()) -> dict[str, Out]:
        """The set arguments among `keys` (all when None), minus `omit`, as `Out`s: a `...args`
        spread into a child (which only keeps the keys its type declares)."""
        skip = set(omit)
        names = self.values if keys is None else keys
        return {k: out for k in names if k not in skip and (out := self.get(k)) is not None}


class Node:
    """A registered resource: an awsx child, a nested awsx component, or the component itself."""

    def __init__(self, reg: Registration, dry_run: bool, version: str = "") -> None:
        self.reg, self.dry_run, self.version = reg, dry_run, version

    @property
    def urn(self) -> str:
        return self.reg.urn

    @property
    def id(self) -> Out:
        return Out(self.reg.id or UNKNOWN, (self.urn,))

    def out(self, prop: str) -> Out:
        """An output of the resource (None when it has none, as a JavaScript property would be)."""
        return Out(self.reg.outputs.get(prop), (self.urn,))

    def ref(self) -> dict[str, Any]:
        """The resource reference the Node.js SDK sends for it."""
        ref: dict[str, Any] = {SIG: RESOURCE_SIG, "urn": self.urn}
        if self.reg.custom:
            ref["id"] = self.reg.id
        if self.version:
            ref["packageVersion"] = self.version
        return ref


def _wire(value: Any, deps: dict[str, None]) -> Any:
    """A child's input as the Node.js SDK serializes it: Out unwrapped (dependencies collected),
    undefined (None) dropped from objects."""
    if isinstance(value, Out):
        deps.update(dict.fromkeys(value.deps))
        return _wire(value.value, deps)
    if isinstance(value, dict):
        result = {}
        for k, v in value.items():
            wired = _wire(v, deps)
            if wired is not None:
                result[k] = wired
        return result
    if isinstance(value, list):
        return [_wire(v, deps) for v in value]
    return value


class Construct:
    """One remote awsx component being constructed."""

    def __init__(self, monitor: RecordingMonitor, component: Registration, request: Any) -> None:
        self.monitor = monitor
        self.name, self.type = component.name, component.type
        self.dry_run = monitor.dry_run
        self.stack = monitor.stack
        self.node = Node(component, monitor.dry_run)
        self.args = Args(
            {k: _argument(v) for k, v in component.inputs.items()},
            component.property_dependencies,
        )
        self.providers = dict(request.providers)

    # -- resources -----------------------------------------------------------------------------------

    def register(
        self,
        type_: str,
        name: str,
        inputs: Mapping[str, Any],
        parent: Node,
        depends_on: Iterable[Node] = (),
    ) -> Node:
        """Register a custom child with the monitor as the Node.js SDK would send it."""
        from pulumi.runtime.proto import resource_pb2

        property_deps: dict[str, list[str]] = {}
        wire: dict[str, Any] = {}
        for key, value in inputs.items():
            key_deps: dict[str, None] = {}
            wired = _wire(value, key_deps)
            if wired is None:
                continue
            wire[key] = wired
            property_deps[key] = list(key_deps)
        dependencies = dict.fromkeys(node.urn for node in depends_on)
        for urns in property_deps.values():
            dependencies.update(dict.fromkeys(urns))
        package = type_.split(":", 1)[0]
        version = _VERSIONS.get(package, "")
        request = resource_pb2.RegisterResourceRequest(
            type=type_,
            name=name,
            parent=parent.urn,
            custom=True,
            object=dict_to_struct(wire),
            provider=self.providers.get(package, ""),
            dependencies=list(dependencies),
            propertyDependencies={
                k: resource_pb2.RegisterResourceRequest.PropertyDependencies(urns=v) for k, v in property_deps.items()
            },
            version=version,
            acceptSecrets=True,
            acceptResources=True,
        )
        response = self.monitor.RegisterResource(request)
        return Node(self.monitor.registrations[response.urn], self.dry_run, version)

    def component(self, type_: str, name: str, parent: Node) -> Node:
        """Register a component awsx creates inside this one (a local component, no inputs)."""
        from pulumi.runtime.proto import resource_pb2

        request = resource_pb2.RegisterResourceRequest(
            type=type_, name=name, parent=parent.urn, custom=False, providers=self.providers
        )
        response = self.monitor.RegisterResource(request)
        return Node(self.monitor.registrations[response.urn], self.dry_run)

    def referenced(self, value: Any) -> Node:
        """The resource a reference argument names (registered earlier by the program)."""
        urn = ref_urn(value)
        reg = self.monitor.registrations.get(urn or "")
        if reg is None:
            raise ConstructError(f"a resource reference names {urn or plain(value)!r}, which is not registered")
        return Node(reg, self.dry_run)

    # -- data sources and logs -----------------------------------------------------------------------

    def invoke(self, token: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """A data source call through the monitor (recorded like the program's own)."""
        from pulumi.runtime.proto import resource_pb2

        package = token.split(":", 1)[0]
        request = resource_pb2.ResourceInvokeRequest(
            tok=token,
            args=dict_to_struct(dict(args)),
            provider=self.providers.get(package, ""),
            version=_VERSIONS.get(package, ""),
        )
        return struct_to_dict(getattr(self.monitor.Invoke(request), "return"))

    def warn(self, message: str) -> None:
        """A warning awsx logs against the component (it reaches the report's diagnostics)."""
        self.monitor.warnings.append(f"{self.type} '{self.name}': {message}")
