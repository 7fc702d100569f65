"""The Analyzer protocol's enums and option messages, to and from the preview's own terms.

Owns: enforcement levels (named as in `policy_config.LEVELS`, the one list of them) to and from
the protobuf enum, severities to their names, and a registration's resource options to an
`AnalyzerResourceOptions` message. The protobuf modules are imported when first needed.
"""

from __future__ import annotations

import functools
import re
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
    if body == "0":
        return 0.0
    parts = _DURATION_PART.findall(body)
    if not parts or "".join(number + unit for number, unit in parts) != body:
        raise ValueError(f"invalid custom timeout {value!r}: expected a duration such as 75m, 1h30m or 90s")
    return sign * sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


def resource_options(reg: Registration) -> Any:
    """The options of a registration as the engine sends them in Analyze and AnalyzeStack."""
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
