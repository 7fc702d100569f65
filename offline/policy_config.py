"""The pack's policy config as the CLI resolves it: `--policy-pack-config` files, levels, and the
reconciliation with each policy's schema (a port of `pkg/resource/analyzer/config.go`).

Owns: reading and validating config only; light to import (jsonschema is loaded when first used),
so the preview can start the program before the gRPC side is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InputError
from .inputs import load_json

LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class PolicyError(Exception):
    """The pack cannot be started, configured or run (exit code 2)."""


# ---- config (a port of the CLI's reconciliation) ----------------------------------------------------


def load_policy_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """`--policy-pack-config` JSON: policy name (or "all") -> level string or object."""
    try:
        raw = load_json(path)  # a regular UTF-8 file, bounded in size and nesting
    except InputError as e:
        raise PolicyError(f"policy pack config {e}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: expected a JSON object")
    result: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            if value not in LEVELS:
                raise PolicyError(f"{path}: parsing enforcement level for {name!r}: {value!r} is not valid")
            result[name] = {"level": value, "properties": None}
        elif isinstance(value, dict):
            props = dict(value)
            level = props.pop("enforcementLevel", None)
            if level is not None and level not in LEVELS:
                raise PolicyError(f"{path}: parsing enforcement level for {name!r}: {level!r} is not valid")
            if level is None and not props:
                continue
            result[name] = {"level": level, "properties": props or None}
        else:
            raise PolicyError(f"{path}: parsing {name!r}: must be a string or object")
    return result


def _apply(result: dict[str, dict[str, Any]], given: dict[str, dict[str, Any]]) -> None:
    all_level = (given.get("all") or {}).get("level")
    if all_level in LEVELS:
        for entry in result.values():
            entry["level"] = all_level
    for name, cfg in given.items():
        entry = result.setdefault(name, {"level": None, "properties": None})
        if cfg.get("level") in LEVELS:
            entry["level"] = cfg["level"]
        if cfg.get("properties"):
            entry["properties"] = {**(entry["properties"] or {}), **cfg["properties"]}


def reconcile_config(
    policies: list[dict[str, Any]],
    initial: dict[str, dict[str, Any]],
    given: dict[str, dict[str, Any]],
    pack: str,
    version: str,
) -> dict[str, dict[str, Any]]:
    """Schema defaults, then the pack's initial config, then the file; validated per policy schema."""
    result: dict[str, dict[str, Any]] = {}
    for p in policies:
        defaults = {
            k: v["default"]
            for k, v in (p.get("schema") or {}).get("properties", {}).items()
            if isinstance(v, dict) and "default" in v
        }
        result[p["name"]] = {"level": p["level"], "properties": defaults or None}
    _apply(result, initial)
    _apply(result, given)
    import jsonschema

    errors = []
    for p in policies:
        schema = p.get("schema")
        if schema is None:
            continue
        full: dict[str, Any] = {"type": "object"}
        if schema.get("properties"):
            full["properties"] = schema["properties"]
        if schema.get("required"):
            full["required"] = schema["required"]
        doc = result[p["name"]]["properties"] or {}
        for err in jsonschema.Draft7Validator(full).iter_errors(doc):
            where = ".".join(str(x) for x in err.absolute_path)
            errors.append(
                f"validating policy config: {pack} {version}  {p['name']}: "
                f"{where + ': ' if where else ''}{err.message}"
            )
    if errors:
        raise PolicyError("\n".join(sorted(errors)))
    return result


