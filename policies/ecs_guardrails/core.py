"""Shared machinery of the pack: never-raising property access, the Rule record, exemptions and the
wrapping of rules into pulumi_policy policies. Owns no AWS knowledge."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi_policy.policy as _sdk_policy
from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

PACK_NAME = "ecs-guardrails"
EXEMPT_TAG = "ecs-guardrails:exempt"
REASON_TAG = "ecs-guardrails:reason"
_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


# --- values -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unknown:
    """A value not known during preview (replaces the engine's sentinel string)."""

    sentinel: str = UNKNOWN_STRING_VALUE
    path: str = ""

    def __bool__(self) -> bool:
        return False


def unwrap(value: Any, path: str = "") -> Any:
    """Plain dicts/lists from the SDK's unknown-checking and secret proxies, without raising.

    Unknown sentinels become `Unknown`; secrets become their plain value. Within one analyzer request
    the result for the same proxy object is computed once (see `_RequestMemo`): rules never mutate it."""
    memo = getattr(_REQUEST, "memo", None)
    if memo is not None and not path:
        return memo.call(_unwrap, value)
    return _unwrap(value, path)


def _unwrap(value: Any, path: str = "") -> Any:
    if isinstance(value, Secret):
        return _unwrap(value.value, path)
    if type(value).__name__ in _PROXIES:
        value = value["__target"]
    if isinstance(value, str):
        return Unknown(value, path) if value in _SENTINELS else value
    if isinstance(value, dict):  # the proxies' targets are plain dicts: iterate them directly
        return {str(k): _unwrap(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): _unwrap(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_unwrap(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


_PROXIES = frozenset({"_DictProxy", "_ListProxy", "_DictSecretsProxy", "_ListSecretsProxy"})


# --- per-request memo (speed only; see bench/README.md) -----------------------------------------------
#
# pulumi_policy's servicer converts the request's properties (MessageToDict, deserialize_properties,
# unknown_checking_proxy) once per policy, and the provider's too: 54 policies x every resource, and
# every resource again for each stack policy in AnalyzeStack. Within one Analyze / AnalyzeStack /
# Remediate call, the same wire Struct always converts to the same value, so we convert it once and
# hand every policy of that call the same (never mutated) result. The memo lives only for the call, on
# its thread; outside a call the module's functions behave exactly as the SDK's. Upstream fix:
# convert once per request in `_PolicyAnalyzerServicer.Analyze` / `AnalyzeStack` (hoist it out of
# the policy loop, as `Remediate` already does). ECS_GUARDRAILS_NO_MEMO=1 turns this off.

_REQUEST = threading.local()


class _RequestMemo:
    """Results keyed by the identity of an object the memo holds, or by the wire bytes of a Struct.

    Holding the object keeps its id from being reused, and protobuf's object cache then hands the
    same wrapper back for the same sub-message (`request.properties`), so the identity hits; a
    wrapper seen for the first time falls back to its wire bytes."""

    def __init__(self) -> None:
        self.structs: dict[bytes, Any] = {}
        self.by_id: dict[tuple[Any, int, Any], tuple[Any, Any]] = {}

    def message_to_dict(self, message: Any) -> Any:
        key = (json_format.MessageToDict, id(message), ())
        hit = self.by_id.get(key)
        if hit is not None:
            return hit[1]
        wire = message.SerializeToString(deterministic=True)
        value = self.structs.get(wire)
        if value is None:
            value = self.structs[wire] = json_format.MessageToDict(message)
        self.by_id[key] = (message, value)
        return value

    def call(self, fn: Callable[..., Any], obj: Any, *extra: Any) -> Any:
        # The memo keeps `obj` alive, so its id cannot be reused by another object meanwhile.
        key = (fn, id(obj), extra)
        hit = self.by_id.get(key)
        if hit is None:
            hit = self.by_id[key] = (obj, fn(obj, *extra))
        return hit[1]

    def call_method(self, method: Callable[..., Any], owner: Any, obj: Any) -> Any:
        key = (method, id(obj), ())
        hit = self.by_id.get(key)
        if hit is None:
            hit = self.by_id[key] = (obj, method(owner, obj))
        return hit[1]


class _JsonFormat(types.ModuleType):
    """`json_format` as pulumi_policy.policy sees it: MessageToDict of a Struct is memoized per call."""

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)

    @staticmethod
    def MessageToDict(message: Any, *args: Any, **kwargs: Any) -> Any:
        memo = getattr(_REQUEST, "memo", None)
        if memo is None or args or kwargs or type(message) is not struct_pb2.Struct:
            return json_format.MessageToDict(message, *args, **kwargs)
        return memo.message_to_dict(message)


def _memoized(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(obj: Any, *extra: Any, **kwargs: Any) -> Any:
        memo = getattr(_REQUEST, "memo", None)
        if memo is None or kwargs:
            return fn(obj, *extra, **kwargs)
        return memo.call(fn, obj, *extra)

    wrapper.__wrapped_by_ecs_guardrails__ = fn  # type: ignore[attr-defined]
    return wrapper


def _memoized_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """A servicer helper of one request message (its options, its provider), once per message."""

    @functools.wraps(method)
    def wrapper(self: Any, message: Any) -> Any:
        memo = getattr(_REQUEST, "memo", None)
        if memo is None:
            return method(self, message)
        return memo.call_method(method, self, message)

    wrapper.__wrapped_by_ecs_guardrails__ = method  # type: ignore[attr-defined]
    return wrapper


def _scoped(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: Any) -> Any:
        if getattr(_REQUEST, "memo", None) is not None:
            return method(self, request, context)
        _REQUEST.memo = _RequestMemo()
        try:
            return method(self, request, context)
        finally:
            _REQUEST.memo = None

    wrapper.__wrapped_by_ecs_guardrails__ = method  # type: ignore[attr-defined]
    return wrapper


_SDK_NAMES = ("deserialize_properties", "unknown_checking_proxy")
_SDK_METHODS = ("Analyze", "AnalyzeStack", "Remediate")
_SDK_HELPERS = ("_get_resource_options", "_get_provider_resource")


def install_request_memo(enabled: bool = True) -> None:
    """Install (or remove) the per-call memo in pulumi_policy.policy; idempotent."""
    servicer = _sdk_policy._PolicyAnalyzerServicer
    for name in _SDK_NAMES:
        current = getattr(_sdk_policy, name)
        original = getattr(current, "__wrapped_by_ecs_guardrails__", current)
        setattr(_sdk_policy, name, _memoized(original) if enabled else original)
    for name in _SDK_METHODS:
        current = servicer.__dict__[name]
        original = getattr(current, "__wrapped_by_ecs_guardrails__", current)
        setattr(servicer, name, _scoped(original) if enabled else original)
    for name in _SDK_HELPERS:
        current = servicer.__dict__[name]
        original = getattr(current, "__wrapped_by_ecs_guardrails__", current)
        setattr(servicer, name, _memoized_method(original) if enabled else original)
    _sdk_policy.json_format = _JsonFormat("json_format") if enabled else json_format  # type: ignore[attr-defined]


# A pulumi_policy whose internals differ keeps its own (slower, equally correct) behaviour.
with contextlib.suppress(AttributeError, KeyError):
    install_request_memo(os.environ.get("ECS_GUARDRAILS_NO_MEMO", "") in ("", "0"))


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


def get(obj: Any, *path: str | int, default: Any = None) -> Any:
    """obj[path...]; `default` when missing or of the wrong shape, the Unknown when one is on the way."""
    cur = obj
    for key in path:
        if isinstance(cur, Unknown):
            return cur
        if isinstance(key, int):
            if not isinstance(cur, list) or not -len(cur) <= key < len(cur):
                return default
            cur = cur[key]
        else:
            if not isinstance(cur, dict) or key not in cur:
                return default
            cur = cur[key]
    return default if cur is None else cur


def to_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return int(number) if number.is_integer() else None
    return None


def to_bool(value: Any) -> bool | None:
    """A bool from a bool or "true"/"false" (launch templates use strings); None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Malformed(ValueError):
    """Input that cannot be interpreted; reported as a violation with its message."""


def parse_json(value: Any, what: str) -> Any:
    """A JSON document given as a string (or already decoded); raises Malformed with a readable message."""
    if isinstance(value, dict | list):
        return value
    if not isinstance(value, str):
        raise Malformed(f"{what} must be a JSON string, got {type(value).__name__}")
    try:
        doc = json.loads(value)
    except json.JSONDecodeError as e:
        raise Malformed(f"{what} is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except (ValueError, RecursionError) as e:  # e.g. an integer over Python's digit limit, deep nesting
        raise Malformed(f"{what} is not valid JSON ({e})") from None
    if _depth_over(doc, MAX_JSON_DEPTH):
        raise Malformed(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep")
    return doc


MAX_JSON_DEPTH = 64  # far beyond any AWS document; keeps the recursive readers (unwrap) within the stack


def _depth_over(doc: Any, limit: int) -> bool:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


# --- rule record --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Controls:
    """Ids of the equivalent controls in other catalogues ("—" in the README when empty)."""

    fsbp: tuple[str, ...] = ()
    cdk_nag: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()


@dataclass
class Ctx:
    """What a resource check sees: plain properties, resolved settings, and a record of unknowns."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    cfg: dict[str, Any]
    unknowns: list[Unknown] = field(default_factory=list)

    def get(self, *path: str | int, default: Any = None) -> Any:
        return get(self.props, *path, default=default)

    def known(self, value: Any) -> bool:
        """False (and remembered) when the value is unknown during preview."""
        if isinstance(value, Unknown):
            self.unknowns.append(value)
            return False
        return True


@dataclass
class Res:
    """A resource as a stack check sees it; deps maps a top-level property to the URNs it depends on."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    deps: dict[str, list[str]]
    parent: str | None = None


@dataclass
class StackCtx:
    resources: list[Res]
    cfg: dict[str, Any]
    unknowns: list[Unknown] = field(default_factory=list)

    def known(self, value: Any) -> bool:
        if isinstance(value, Unknown):
            self.unknowns.append(value)
            return False
        return True


ResourceCheck = Callable[[Ctx], Iterable[str]]
StackCheck = Callable[[StackCtx], Iterable[tuple[str, Res | None]]]


@dataclass(frozen=True)
class Rule:
    """One policy: metadata plus a check that yields messages (stack checks yield (message, resource))."""

    name: str
    description: str
    resource_types: tuple[str, ...]
    check: Callable[..., Iterable[Any]]
    severity: Severity
    level: EnforcementLevel
    remediation_steps: str
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    controls: Controls = field(default_factory=Controls)
    remediate: Callable[[Ctx], dict[str, Any] | None] | None = None
    stack: bool = False
    exemptible: bool = True

    def settings(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """Schema defaults overlaid with the configured values (the CLI also resolves defaults)."""
        merged = {k: v["default"] for k, v in self.config.items() if "default" in v}
        for k, v in dict(given or {}).items():
            merged[k] = unwrap(v)
        return merged

    @property
    def config_schema(self) -> PolicyConfigSchema | None:
        return PolicyConfigSchema(properties=self.config) if self.config else None

    def applies_to(self, resource_type: str) -> bool:
        return "*" in self.resource_types or resource_type in self.resource_types


# --- exemptions ---------------------------------------------------------------------------------------


def exemption(props: Any) -> tuple[list[str], str | None] | None:
    """(exempted policy names, reason or None) from the resource's tags; None when not exempt or unknown."""
    tags = get(props, "tags")
    if not isinstance(tags, dict):
        return None
    names = tags.get(EXEMPT_TAG)
    if not isinstance(names, str) or not names.strip():
        return None
    # Commas or spaces separate names: ECS tag values do not allow commas.
    policies = [n for n in re.split(r"[,\s]+", names) if n]
    reason = tags.get(REASON_TAG)
    if isinstance(reason, Unknown):
        return policies, "(reason unknown during preview)"
    return policies, reason.strip() if isinstance(reason, str) and reason.strip() else None


def exempt_reason(props: Any, rule_name: str) -> str | None:
    """The reason when the resource validly exempts itself from the rule (an exemption needs a reason)."""
    ex = exemption(props)
    if ex is None or ex[1] is None or rule_name not in ex[0]:
        return None
    return ex[1]


# Findings of exempted rules, handed to the advisory companion policies that run last in the same request:
# {key (urn or stack key): {rule name: [messages]}}.
_STASH: dict[str, dict[str, list[str]]] = {}
_STASH_LOCK = threading.Lock()
STACK_KEY = "__stack__"


def stash(key: str, rule_name: str, messages: list[str]) -> None:
    with _STASH_LOCK:
        if messages:
            _STASH.setdefault(key, {})[rule_name] = messages
        elif key in _STASH:
            _STASH[key].pop(rule_name, None)


def take_stash(key: str) -> dict[str, list[str]]:
    with _STASH_LOCK:
        return _STASH.pop(key, {})


# --- wrapping into pulumi_policy ----------------------------------------------------------------------


def _internal_error(rule: Rule, e: Exception) -> str:
    if isinstance(e, Malformed):
        return str(e)
    return (
        f"could not evaluate '{rule.name}' on this input ({type(e).__name__}: {e}); the properties are "
        "malformed or of an unexpected shape; fix them or exempt the resource with a reason"
    )


def _utf8(message: str) -> str:
    """The message with lone surrogates (from JSON escapes like "\\ud800") escaped: protobuf strings must be
    valid UTF-8, and the servicer raises on anything else."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def _raise_deferred(unknowns: list[Unknown]) -> None:
    # The SDK turns this into its advisory "can't run policy during preview" note.
    if unknowns:
        first = unknowns[0]
        raise UnknownValueError(first.sentinel, [_utf8(first.path.lstrip(".")) or "?"])


def run_resource_check(rule: Rule, ctx: Ctx) -> list[str]:
    try:
        return [m for m in rule.check(ctx) if m]
    except Exception as e:
        return [_internal_error(rule, e)]


def to_resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        try:
            ctx = Ctx(
                args.resource_type, args.name, args.urn, unwrap(args.props), rule.settings(args.get_config())
            )
            reason = exempt_reason(ctx.props, rule.name) if rule.exemptible else None
        except Exception as e:
            report(_utf8(_internal_error(rule, e)))
            return
        findings = run_resource_check(rule, ctx)
        if reason is not None:
            stash(args.urn, rule.name, [f"{m} [exempt: {reason}]" for m in findings])
            return
        stash(args.urn, rule.name, [])
        for message in findings:
            report(_utf8(message))
        _raise_deferred(ctx.unknowns)

    remediate = None
    if rule.remediate is not None:
        fix = rule.remediate

        def remediate(args: ResourceValidationArgs) -> dict[str, Any] | None:
            if not rule.applies_to(args.resource_type):
                return None
            try:
                ctx = Ctx(
                    args.resource_type,
                    args.name,
                    args.urn,
                    unwrap(args.props),
                    rule.settings(args.get_config()),
                )
                if exempt_reason(ctx.props, rule.name) is not None:
                    return None
                changes = fix(ctx)
                if not changes:
                    return None
                raw = args.props["__target"] if hasattr(args.props, "__getitem__") else args.props
                out = dict(raw)
                out.update(changes)
                return out
            except Exception:
                return None  # a remediation never fails a deployment; the validation still reports

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=rule.level,
        config_schema=rule.config_schema,
        remediate=remediate,
        severity=rule.severity,
        remediation_steps=rule.remediation_steps,
        tags=control_tags(rule.controls),
    )


def _stack_resources(args: StackValidationArgs) -> list[Res]:
    out = []
    for r in args.resources:
        try:
            deps = {k: [d.urn for d in v] for k, v in dict(r.property_dependencies).items()}
            deps["__all__"] = [d.urn for d in r.dependencies]
            out.append(
                Res(
                    r.resource_type,
                    r.name,
                    r.urn,
                    unwrap(r.props),
                    deps,
                    r.parent.urn if r.parent is not None else None,
                )
            )
        except Exception:  # an unreadable resource is skipped rather than failing the stack
            continue
    return out


def to_stack_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        try:
            ctx = StackCtx(_stack_resources(args), rule.settings(args.get_config()))
            findings = list(rule.check(ctx))
        except Exception as e:
            report(_utf8(_internal_error(rule, e)))
            return
        exempted: list[str] = []
        for message, res in findings:
            reason = exempt_reason(res.props, rule.name) if res is not None and rule.exemptible else None
            if reason is not None:
                exempted.append(f"{res.name if res else ''}: {message} [exempt: {reason}]")
            else:
                report(_utf8(message), res.urn if res is not None else None)
        stash(STACK_KEY, rule.name, exempted)
        _raise_deferred(ctx.unknowns)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=rule.level,
        config_schema=rule.config_schema,
        severity=rule.severity,
        remediation_steps=rule.remediation_steps,
        tags=control_tags(rule.controls),
    )


def control_tags(c: Controls) -> list[str]:
    return (
        [f"fsbp:{i}" for i in c.fsbp]
        + [f"cdk-nag:{i}" for i in c.cdk_nag]
        + [f"checkov:{i}" for i in c.checkov]
    )


# Shorthands used by the rule modules.
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL

LB_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LISTENER_RULE_TYPES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
TARGET_GROUP_TYPES = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
TASK_DEF = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
CLUSTER = "aws:ecs/cluster:Cluster"
CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
