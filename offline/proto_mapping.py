"""The Analyzer protocol's enums and option messages, to and from the preview's own terms.

Owns: enforcement levels (named as in `policy_config.LEVELS`, the one list of them) to and from
the protobuf enum, severities to their names, and a registration's resource options to an
`AnalyzerResourceOptions` message. The protobuf modules are imported when first needed.
"""

from __future__ import annotations

import functools
from typing import Any

from .engine import Registration
from .policy_config import LEVELS

DEFAULT_LEVEL = "advisory"  # what the engine assumes for an unset or unknown level
SEVERITIES = ("low", "medium", "high", "critical")  # POLICY_SEVERITY_LOW .. _CRITICAL


@functools.cache
def _level_values() -> dict[str, int]:
    from pulumi.runtime import proto

    return {name: getattr(proto, name.upper()) for name in LEVELS}


@functools.cache
def _level_names() -> dict[int, str]:
    return {value: name for name, value in _level_values().items()}


def level_name(value: int) -> str:
    """The name of an `EnforcementLevel` value; unknown values read as advisory, as the engine does."""
    return _level_names().get(value, DEFAULT_LEVEL)


def level_value(name: str | None) -> int:
    """The `EnforcementLevel` value of a level name (None: advisory)."""
    return _level_values()[name or DEFAULT_LEVEL]


@functools.cache
def _severity_names() -> dict[int, str]:
    from pulumi.runtime import proto

    return {getattr(proto, f"POLICY_SEVERITY_{name.upper()}"): name for name in SEVERITIES}


def severity_name(value: int) -> str:
    """The name of a `PolicySeverity` value; "" when unspecified."""
    return _severity_names().get(value, "")


def resource_options(reg: Registration, old_urns: frozenset[str] | None = frozenset()) -> Any:
    """The options of a registration as the engine sends them in Analyze and AnalyzeStack
    (`marshalResourceOptions`, pkg/resource/plugin/analyzer_plugin.go:737-763): custom timeouts in
    seconds (the monitor converted the program's duration strings as the engine does), and of
    the aliases only the one that matched the old state (`old_urns`, the baseline's URNs)."""
    from pulumi.runtime import proto

    from .aliases import aliases_sent

    o = reg.options
    ct = o.get("customTimeouts") or {}
    return proto.AnalyzerResourceOptions(
        protect=bool(o.get("protect")),
        ignoreChanges=o.get("ignoreChanges", []),
        deleteBeforeReplace=bool(o.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in o,
        additionalSecretOutputs=o.get("additionalSecretOutputs", []),
        aliases=aliases_sent(reg.urn, o.get("aliases", ()), old_urns),
        customTimeouts=proto.AnalyzerResourceOptions.CustomTimeouts(
            create=float(ct.get("create", 0.0)),
            update=float(ct.get("update", 0.0)),
            delete=float(ct.get("delete", 0.0)),
            read=float(ct.get("read", 0.0)),
        ),
        parent=reg.parent,
    )
