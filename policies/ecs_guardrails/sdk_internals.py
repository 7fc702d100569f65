"""The pack's only use of pulumi_policy names outside its public API (`pulumi_policy.__all__`).

pulumi_policy hands a policy its properties behind unknown-checking and secret-preserving proxies, and turns
an `UnknownValueError` that a policy raises into its advisory "can't run policy ... during preview" note.
The public API has no way to read a property without raising on an unknown, nor to defer a policy, so the
pack takes three things from the SDK's internals:

- the engine's unknown sentinels (`pulumi_policy.proxy.UNKNOWN_*_VALUE`), to read properties without raising
  and record what is unknown;
- the plain container behind a proxy (`proxy["__target"]`, what the SDK's own serializer reads), for
  reading and for returning remediated properties with their unknowns and secrets intact;
- `pulumi_policy.proxy.UnknownValueError`, raised to defer a policy whose verdict depends on an unknown.

Each is checked when this module is imported: a pulumi_policy whose internals differ fails the import with
`PulumiPolicyIncompatible` naming what changed, instead of the pack running half right. This module reads
the SDK and never changes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import pulumi_policy.policy as _sdk_policy
import pulumi_policy.proxy as _sdk_proxy
import pulumi_policy.secret as _sdk_secret

WRITTEN_FOR = "1.21"  # the pulumi_policy minor version these internals were read from

_SENTINEL_NAMES = (
    "UNKNOWN_ARCHIVE_VALUE",
    "UNKNOWN_ARRAY_VALUE",
    "UNKNOWN_ASSET_VALUE",
    "UNKNOWN_BOOLEAN_VALUE",
    "UNKNOWN_NUMBER_VALUE",
    "UNKNOWN_OBJECT_VALUE",
    "UNKNOWN_STRING_VALUE",
)


class PulumiPolicyIncompatible(ImportError):
    """The installed pulumi_policy's internals differ from those the pack was written for."""


def _sdk_version() -> str:
    try:
        from pulumi_policy.version import VERSION
    except ImportError:
        return "(unknown version)"
    return str(VERSION)


def _incompatible(what: str) -> NoReturn:
    raise PulumiPolicyIncompatible(
        f"ecs-guardrails cannot run on pulumi_policy {_sdk_version()}: {what}; the pack was written for "
        f"pulumi_policy {WRITTEN_FOR}.x (update policies/ecs_guardrails/sdk_internals.py or pin pulumi-policy)"
    )


def _sentinels(proxy_module: Any) -> dict[str, str]:
    found = {}
    for name in _SENTINEL_NAMES:
        value = getattr(proxy_module, name, None)
        if not isinstance(value, str) or not value:
            _incompatible(f"pulumi_policy.proxy.{name} is {value!r}, expected the engine's sentinel string")
        found[name] = value
    return found


def _unknown_error(proxy_module: Any, policy_module: Any, sentinel: str) -> type[Exception]:
    error = getattr(proxy_module, "UnknownValueError", None)
    if not (isinstance(error, type) and issubclass(error, Exception)):
        _incompatible(f"pulumi_policy.proxy.UnknownValueError is {error!r}, expected an exception class")
    if getattr(policy_module, "UnknownValueError", None) is not error:
        _incompatible("pulumi_policy.policy no longer catches pulumi_policy.proxy.UnknownValueError")
    try:
        message = error(sentinel, ["probe"]).message  # type: ignore[call-arg, attr-defined]
    except Exception as e:
        _incompatible(f"UnknownValueError(sentinel, [path]) fails ({type(e).__name__}: {e})")
    if not isinstance(message, str) or ".probe" not in message:
        _incompatible(f"UnknownValueError's message is {message!r}, expected one naming the path")
    return error


def _proxy_types(
    checking: Callable[[Any], Any], preserving: Callable[[Any], Any], sentinel: str, error: type[Exception]
) -> frozenset[type]:
    """The classes of the SDK's four proxies, found by building each; their `["__target"]` must be the
    container they wrap."""
    found = set()
    inner = [sentinel]
    outer = checking({"key": inner})
    for proxy, base, want in ((outer, Mapping, dict), (outer["__target"]["key"], Sequence, list)):
        target = proxy["__target"]
        if not isinstance(proxy, base) or isinstance(proxy, dict | list) or type(target) is not want:
            _incompatible(
                f"unknown_checking_proxy builds {type(proxy).__name__} over {type(target).__name__}"
            )
        found.add(type(proxy))
    try:
        outer["__target"]["key"][0]
    except error:
        pass
    else:
        _incompatible("reading an unknown through unknown_checking_proxy no longer raises UnknownValueError")
    for plain, base in (({"key": 1}, Mapping), ([1], Sequence)):
        proxy = preserving(plain)
        if not isinstance(proxy, base) or isinstance(proxy, dict | list) or proxy["__target"] is not plain:
            _incompatible(f"secrets_preserving_proxy of a {type(plain).__name__} is {type(proxy).__name__}")
        found.add(type(proxy))
    return frozenset(found)


def _check(
    proxy_module: Any, policy_module: Any, secret_module: Any
) -> tuple[dict[str, str], type[Exception], frozenset[type]]:
    """(sentinels by name, UnknownValueError, proxy classes) of these modules; raises PulumiPolicyIncompatible."""
    sentinels = _sentinels(proxy_module)
    error = _unknown_error(proxy_module, policy_module, sentinels["UNKNOWN_STRING_VALUE"])
    checking = getattr(proxy_module, "unknown_checking_proxy", None)
    preserving = getattr(secret_module, "secrets_preserving_proxy", None)
    if not callable(checking) or not callable(preserving):
        _incompatible(
            "pulumi_policy.proxy.unknown_checking_proxy or secret.secrets_preserving_proxy is missing"
        )
    try:
        proxies = _proxy_types(checking, preserving, sentinels["UNKNOWN_STRING_VALUE"], error)
    except PulumiPolicyIncompatible:
        raise
    except Exception as e:
        _incompatible(f"its property proxies changed ({type(e).__name__}: {e})")
    return sentinels, error, proxies


_BY_NAME, _UNKNOWN_VALUE_ERROR, _PROXY_TYPES = _check(_sdk_proxy, _sdk_policy, _sdk_secret)

UNKNOWN_SENTINELS: frozenset[str] = frozenset(_BY_NAME.values())
UNKNOWN_STRING: str = _BY_NAME["UNKNOWN_STRING_VALUE"]


def proxy_target(value: Any) -> Any:
    """The plain dict or list behind one of the SDK's property proxies (its values may be proxies in turn);
    any other value as it is."""
    return value["__target"] if type(value) in _PROXY_TYPES else value


def defer_unknown(sentinel: str, path: str) -> NoReturn:
    """Stop the running policy; the SDK reports "can't run policy ... during preview: <kind> value at .<path>"."""
    raise _UNKNOWN_VALUE_ERROR(sentinel, [path])  # type: ignore[call-arg]


__all__ = [
    "UNKNOWN_SENTINELS",
    "UNKNOWN_STRING",
    "WRITTEN_FOR",
    "PulumiPolicyIncompatible",
    "defer_unknown",
    "proxy_target",
]
