"""Reading engine properties without raising: plain values from the SDK's proxies, unknowns as `Unknown`,
and lenient coercions (numbers and booleans given as strings, JSON documents given as strings).

Owns no AWS knowledge and no policy logic; rules and the adapters read properties only through these."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Secret

from .sdk_internals import UNKNOWN_SENTINELS, UNKNOWN_STRING, proxy_target

MAX_JSON_DEPTH = 64  # far beyond any AWS document; keeps the recursive readers (unwrap) within the stack


@dataclass(frozen=True)
class Unknown:
    """A value not known during preview (replaces the engine's sentinel string)."""

    sentinel: str = UNKNOWN_STRING
    path: str = ""

    def __bool__(self) -> bool:
        return False


def unwrap(value: Any, path: str = "") -> Any:
    """Plain dicts/lists from the SDK's unknown-checking and secret proxies, without raising.

    Unknown sentinels become `Unknown` (with their path); secrets become their plain value."""
    if isinstance(value, Secret):
        return unwrap(value.value, path)
    value = proxy_target(value)
    if isinstance(value, str):
        return Unknown(value, path) if value in UNKNOWN_SENTINELS else value
    if isinstance(value, dict):  # the proxies' targets are plain dicts: iterate them directly
        return {str(k): unwrap(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): unwrap(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


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


def _depth_over(doc: Any, limit: int) -> bool:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False
