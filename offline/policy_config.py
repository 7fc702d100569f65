"""The pack's policy config as the CLI resolves it: `--policy-pack-config` files, levels, and the
reconciliation with each policy's schema (a port of `pkg/resource/analyzer/config.go`).

Stricter than the CLI where the CLI lets a mistake pass silently: an empty file, a policy name
the pack does not have, and a setting a policy's schema does not name are errors here (the CLI
reads an empty file as no config, and passes unknown names and settings on: the protocol's
config schema carries only `properties` and `required`, so a pack cannot close it). Each error
names the file or policy and suggests the closest name.

Owns: reading and validating config only; light to import (jsonschema is loaded when first used),
so the preview can start the program before the gRPC side is imported.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .cli_messages import config_error_line
from .cli_messages import message as cli_message
from .errors import InputError
from .inputs import parse_json, read_text

LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class PolicyError(Exception):
    """The pack cannot be started, configured or run (exit code 2)."""


# ---- config (a port of the CLI's reconciliation) ----------------------------------------------------


def load_policy_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """`--policy-pack-config` JSON: policy name (or "all") -> level string or object."""
    try:
        text = read_text(path)  # a regular UTF-8 file, bounded in size
        if not text.strip():
            raise PolicyError(
                f"{path}: the policy pack config file is empty; write {{}} for the pack defaults, or give "
                "each policy its level and settings"
            )
        raw = parse_json(path, text)  # bounded in nesting
    except InputError as e:
        raise PolicyError(f"policy pack config {e}") from None
    if not isinstance(raw, dict):
        raise PolicyError(
            f"{path}: expected a JSON object of policy names (or \"all\") to levels or settings, "
            f"got {_json_type(raw)}"
        )
    if "environments" in raw:
        raise PolicyError(
            f"{path}: \"environments\" (Pulumi ESC environments) cannot be opened by the offline preview; "
            "put the settings in the file itself"
        )
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


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the closest of `choices`, or ""."""
    close = difflib.get_close_matches(name, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


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
    *,
    source: str = "",
    closed: bool = True,
) -> dict[str, dict[str, Any]]:
    """Schema defaults, then the pack's initial config, then the file; validated per policy schema.

    `source` names the config file in errors. `closed` refuses policy names the pack does not have
    and settings a policy's schema does not name (`additionalProperties: false`); the CLI does not
    (tests of a pack's own checks pass False)."""
    names = [p["name"] for p in policies]
    if closed:
        unknown = sorted(set(given) - set(names) - {"all"})
        if unknown:
            where = f"{source}: " if source else ""
            raise PolicyError(
                "\n".join(
                    f"{where}{name!r} is not a policy of {pack} {version}{did_you_mean(name, names)}"
                    for name in unknown
                )
            )
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
        if closed:
            full["additionalProperties"] = False
        doc = result[p["name"]]["properties"] or {}
        for err in jsonschema.Draft7Validator(full).iter_errors(doc):
            errors.extend(config_error_line(pack, version, p["name"], message) for message in _messages(err, full))
    if errors:
        raise PolicyError("\n".join(sorted(errors)))
    return result


def _messages(err: Any, schema: dict[str, Any]) -> list[str]:
    """The CLI's wording of a schema error (`cli_messages`), with the closest allowed value for an
    enum; an unknown setting (refused here only, see `closed`) names the closest setting."""
    if err.validator == "additionalProperties" and isinstance(err.instance, dict) and not err.absolute_path:
        allowed = [k for k in schema.get("properties", {}) if k != "enforcementLevel"]
        settings = f"its settings are {', '.join(allowed)}" if allowed else "it has no settings"
        return [
            f"unknown setting {key!r}{did_you_mean(key, allowed)}; {settings}"
            for key in sorted(set(err.instance) - set(schema.get("properties", {})))
        ]
    text = cli_message(err)
    if err.validator == "enum" and isinstance(err.instance, str):
        values = [v for v in err.validator_value if isinstance(v, str)]
        text += did_you_mean(err.instance, values)
    return [text]
