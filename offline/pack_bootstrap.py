"""Start a policy pack as the Pulumi CLI does, with a per-request memo installed in pulumi_policy.

Run by the pack's own Python, in the pack directory, by the offline preview (`pack_process`):
`<pack python> -u pack_bootstrap.py <engine address> .`. That Python may lack the preview's
dependencies, so this file imports only the standard library, and pulumi_policy and protobuf
from the pack's environment. It installs the memo only into pulumi-policy 1.21.0 (the version it
was written for) when every target has the expected shape, otherwise runs the pack unpatched and
says why; either way it reports what it did in one line on stderr (`MEMO_REPORT`), then runs
the SDK's entry point as `python -u -m pulumi.policy <engine> .` does.
The pack itself is never changed, and the memo never runs under the real engine.

The memo is speed only. pulumi_policy's servicer converts the request's properties
(MessageToDict, deserialize_properties, unknown_checking_proxy) once per policy, and the
provider's too: every policy x every resource, and every resource again for each stack policy in
AnalyzeStack. Within one Analyze / AnalyzeStack / Remediate call, the same wire Struct always
converts to the same value, so it is converted once and every policy of that call gets the same
(never mutated) result. The memo lives only for the call, on its thread; outside a call the
module's functions behave exactly as the SDK's. Upstream fix: convert once per request in
`_PolicyAnalyzerServicer.Analyze` / `AnalyzeStack` (hoist it out of the policy loop, as
`Remediate` already does).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import runpy
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

WRITTEN_FOR = "1.21.0"  # the pulumi-policy version whose internals the memo wraps
MEMO_REPORT = "offline preview: request memo: "  # prefix of the stderr line that says whether it is installed
_MARK = "__wrapped_by_offline_memo__"

# pulumi_policy.policy's targets and the parameters each has in 1.21.0.
_MODULE_FUNCTIONS = {"deserialize_properties": ("props", "proxy_secrets"), "unknown_checking_proxy": ("props",)}
_SERVICER_CALLS = {name: ("self", "request", "_context") for name in ("Analyze", "AnalyzeStack", "Remediate")}
_SERVICER_HELPERS = {name: ("self", "request") for name in ("_get_resource_options", "_get_provider_resource")}
_SERVICER = "_PolicyAnalyzerServicer"

_REQUEST = threading.local()


# ---- the memo -------------------------------------------------------------------------------------


class _RequestMemo:
    """Results keyed by the identity of an object the memo holds, or by the wire bytes of a Struct.

    Holding the object keeps its id from being reused, and protobuf's object cache then hands the
    same wrapper back for the same sub-message (`request.properties`), so the identity hits; a
    wrapper seen for the first time falls back to its wire bytes."""

    def __init__(self, message_to_dict: Callable[[Any], Any]) -> None:
        self._message_to_dict = message_to_dict
        self.structs: dict[bytes, Any] = {}
        self.by_id: dict[tuple[Any, int, Any], tuple[Any, Any]] = {}

    def message_to_dict(self, message: Any) -> Any:
        key = (self._message_to_dict, id(message), ())
        hit = self.by_id.get(key)
        if hit is not None:
            return hit[1]
        wire = message.SerializeToString(deterministic=True)
        value = self.structs.get(wire)
        if value is None:
            value = self.structs[wire] = self._message_to_dict(message)
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

    def __init__(self, real: types.ModuleType, struct_type: type) -> None:
        super().__init__(real.__name__)
        self._real, self._struct_type = real, struct_type
        setattr(self, _MARK, real)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:
        memo = getattr(_REQUEST, "memo", None)
        if memo is None or args or kwargs or type(message) is not self._struct_type:
            return self._real.MessageToDict(message, *args, **kwargs)
        return memo.message_to_dict(message)


def _memoized(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(obj: Any, *extra: Any, **kwargs: Any) -> Any:
        memo = getattr(_REQUEST, "memo", None)
        if memo is None or kwargs:
            return fn(obj, *extra, **kwargs)
        return memo.call(fn, obj, *extra)

    setattr(wrapper, _MARK, fn)
    return wrapper


def _memoized_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """A servicer helper of one request message (its options, its provider), once per message."""

    @functools.wraps(method)
    def wrapper(self: Any, message: Any) -> Any:
        memo = getattr(_REQUEST, "memo", None)
        if memo is None:
            return method(self, message)
        return memo.call_method(method, self, message)

    setattr(wrapper, _MARK, method)
    return wrapper


def _scoped(method: Callable[..., Any], message_to_dict: Callable[[Any], Any]) -> Callable[..., Any]:
    """A servicer call with a memo of its own for its duration (nested calls share the outer one)."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: Any) -> Any:
        if getattr(_REQUEST, "memo", None) is not None:
            return method(self, request, context)
        _REQUEST.memo = _RequestMemo(message_to_dict)
        try:
            return method(self, request, context)
        finally:
            _REQUEST.memo = None

    setattr(wrapper, _MARK, method)
    return wrapper


def _original(obj: Any) -> Any:
    return getattr(obj, _MARK, obj)


# ---- checks and installation ------------------------------------------------------------------------


def _signature_problem(owner: str, name: str, fn: Any, params: tuple[str, ...]) -> str | None:
    import inspect

    if fn is None:
        return f"{owner}.{name} does not exist"
    fn = _original(fn)
    if not inspect.isfunction(fn):
        return f"{owner}.{name} is a {type(fn).__name__}, not a function"
    found = tuple(inspect.signature(fn, follow_wrapped=False).parameters)
    if found != params:
        return f"{owner}.{name} takes ({', '.join(found)}), not ({', '.join(params)})"
    return None


def memo_blockers(policy: types.ModuleType, version: str) -> list[str]:
    """Why the memo cannot be installed into `policy` (pulumi_policy.policy at `version`); [] if it can."""
    if version != WRITTEN_FOR:
        return [f"pulumi-policy {version} is not {WRITTEN_FOR}, the version the memo was written for"]
    owner = policy.__name__
    problems = [
        _signature_problem(owner, name, getattr(policy, name, None), params)
        for name, params in _MODULE_FUNCTIONS.items()
    ]
    servicer = getattr(policy, _SERVICER, None)
    if not isinstance(servicer, type):
        problems.append(f"{owner}.{_SERVICER} is not a class")
    else:
        problems += [
            _signature_problem(f"{owner}.{_SERVICER}", name, servicer.__dict__.get(name), params)
            for name, params in {**_SERVICER_CALLS, **_SERVICER_HELPERS}.items()
        ]
    json_format = _original(getattr(policy, "json_format", None))
    if getattr(json_format, "__name__", None) != "google.protobuf.json_format" or not callable(
        getattr(json_format, "MessageToDict", None)
    ):
        problems.append(f"{owner}.json_format is not google.protobuf.json_format")
    return [p for p in problems if p]


def install_request_memo(policy: types.ModuleType) -> None:
    """Wrap the targets of `policy` (pulumi_policy.policy) with the memo; idempotent. Call only when
    `memo_blockers` finds nothing."""
    from google.protobuf import json_format, struct_pb2

    for name in _MODULE_FUNCTIONS:
        setattr(policy, name, _memoized(_original(getattr(policy, name))))
    servicer = getattr(policy, _SERVICER)
    for name in _SERVICER_CALLS:
        setattr(servicer, name, _scoped(_original(servicer.__dict__[name]), json_format.MessageToDict))
    for name in _SERVICER_HELPERS:
        setattr(servicer, name, _memoized_method(_original(servicer.__dict__[name])))
    policy.json_format = _JsonFormat(json_format, struct_pb2.Struct)  # type: ignore[attr-defined]


def _install() -> tuple[bool, str]:
    """Install the memo when this pulumi_policy allows it; returns (installed, what happened)."""
    try:
        version = importlib.metadata.version("pulumi-policy")
        import pulumi_policy.policy as policy
    except Exception as e:  # the pack's own start reports a missing or broken SDK the usual way
        return False, f"not installed: cannot import pulumi_policy ({type(e).__name__}: {e})"
    blockers = memo_blockers(policy, version)
    if blockers:
        return False, "not installed: " + "; ".join(blockers) + " (the pack runs unpatched: same verdicts, slower)"
    install_request_memo(policy)
    return True, f"installed (pulumi-policy {version})"


# ---- which policy failed ---------------------------------------------------------------------------
#
# pulumi_policy lets a policy's exception escape the servicer, so gRPC answers only
# "Exception calling application: <str(e)>": no policy name, and nothing at all for a bare
# `assert`. Under the offline preview each policy's validate and remediate are guarded so that
# such an exception carries the policy's name, the exception's type and the pack's line that
# raised it, as one line after FAILURE_PREFIX that the preview reads back (`analyzer`). The
# pack's own exceptions for the engine (unknown values, not applicable) pass unchanged.

FAILURE_PREFIX = "offline-policy-failure:"
_GUARD = "__offline_failure_guard__"


class PolicyFailure(Exception):
    """A policy's exception, told as FAILURE_PREFIX + JSON {policy, type, message, at}."""

    def __init__(self, policy: str, error: BaseException) -> None:
        import json
        import traceback

        here = os.path.realpath(os.getcwd()) + os.sep
        frames = [f for f in traceback.extract_tb(error.__traceback__) if os.path.realpath(f.filename).startswith(here)]
        at = f"{os.path.relpath(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
        message = str(error).strip()
        super().__init__(
            FAILURE_PREFIX
            + json.dumps({"policy": policy, "type": type(error).__name__, "message": message, "at": at}, sort_keys=True)
        )


def _guarded(fn: Callable[..., Any], policy: str, passthrough: tuple[type[BaseException], ...]) -> Callable[..., Any]:
    import inspect

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except passthrough:
            raise
        except Exception as e:
            raise PolicyFailure(policy, e) from e
        if not inspect.isawaitable(result):
            return result

        async def wait() -> Any:
            try:
                return await result
            except passthrough:
                raise
            except Exception as e:
                raise PolicyFailure(policy, e) from e

        return wait()

    setattr(call, _GUARD, True)
    return call


def install_failure_guard(policy_module: types.ModuleType) -> bool:
    """Guard the policies of every servicer of `policy_module` when it first serves a call;
    False (nothing changed) when this pulumi_policy does not have the expected shape."""
    servicer = getattr(policy_module, _SERVICER, None)
    attribute = f"_{_SERVICER.lstrip('_')}__policies"  # the name `self.__policies` is mangled to
    passthrough = tuple(
        cls for cls in (getattr(policy_module, "UnknownValueError", None), getattr(policy_module, "_NotApplicableError", None))
        if isinstance(cls, type)
    )
    if not isinstance(servicer, type) or len(passthrough) != 2:
        return False

    def guard(owner: Any) -> None:
        for pol in getattr(owner, attribute, None) or ():
            name = getattr(pol, "name", None)
            for method in ("validate", "remediate"):
                fn = getattr(pol, method, None)
                if isinstance(name, str) and callable(fn) and not getattr(fn, _GUARD, False):
                    with contextlib.suppress(AttributeError, TypeError):
                        setattr(pol, method, _guarded(fn, name, passthrough))

    for call_name in _SERVICER_CALLS:
        real = servicer.__dict__.get(call_name)
        if real is None or getattr(real, _GUARD, False):
            continue

        def wrapper(self: Any, request: Any, context: Any, _real: Callable[..., Any] = real) -> Any:
            guard(self)
            return _real(self, request, context)

        functools.update_wrapper(wrapper, real)
        setattr(wrapper, _GUARD, True)
        setattr(servicer, call_name, wrapper)
    return True


def _report(message: str) -> None:
    """Tell the preview on stderr (a file it reads once the pack has printed its port). Not through
    the engine's Log service: a gRPC channel opened and closed before the pack's own server starts
    has been seen to abort the pack (epoll_wait: bad file descriptor) under load."""
    print(MEMO_REPORT + message, file=sys.stderr, flush=True)


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: pack_bootstrap.py <engine address> <program directory>")
    _installed, message = _install()
    _report(message)
    with contextlib.suppress(Exception):  # a pulumi_policy of another shape: its own message only
        import pulumi_policy.policy as policy_module

        install_failure_guard(policy_module)
    # As `python -u -m pulumi.policy <engine> .` does: the working directory first on sys.path in
    # place of this file's (never the preview's modules), argv[0] the module's file.
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        sys.path[0] = os.getcwd()
    runpy.run_module("pulumi.policy", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
