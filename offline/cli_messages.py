"""Policy config validation errors worded as the Pulumi CLI prints them.

Owns: the wording of one python-jsonschema error as gojsonschema's default locale words it
(xeipuuv/gojsonschema locales.go; `ResultError.String()` is "<field>: <description>", the field
"(root)" at the top level, dotted below it), with the "(root): " the CLI trims
(`validatePolicyConfig`, pulumi/pulumi pkg/resource/analyzer/config.go:211-229), the policy's name
before it (`validatePolicyPackConfig`, :183-208) and the line's prefix
(`validating policy config: <pack> <version>  `, pkg/engine/update.go:834-840). Pure functions.
"""

from __future__ import annotations

import json
from typing import Any

ROOT = "(root)"


def config_error_line(pack: str, version: str, policy: str, message: str) -> str:
    """One line of the CLI's error for a policy's config."""
    return f"validating policy config: {pack} {version}  {policy}: {message}"


def json_type(value: Any) -> str:
    """gojsonschema's name of a JSON value's type: a number with no fraction is an "integer"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _field(path: list[Any]) -> str:
    return ".".join(str(p) for p in path) if path else ROOT


def description(err: Any) -> str:
    """gojsonschema's description of a python-jsonschema `ValidationError` (its own message for a
    keyword gojsonschema words otherwise or not at all)."""
    keyword, expected, instance = err.validator, err.validator_value, err.instance
    field = _field(list(err.absolute_path))
    if keyword == "required":
        missing = [n for n in expected if isinstance(instance, dict) and n not in instance]
        name = next((n for n in missing if str(err.message).startswith(repr(n))), missing[0] if missing else "")
        return f"{name} is required"
    if keyword == "type":
        types = expected if isinstance(expected, list) else [expected]
        return f"Invalid type. Expected: {'/'.join(types)}, given: {json_type(instance)}"
    if keyword == "enum":
        return f"{field} must be one of the following: {', '.join(_json(v) for v in expected)}"
    if keyword == "const":
        return f"{field} does not match: {_json(expected)}"
    simple = {
        "minLength": "String length must be greater than or equal to {}",
        "maxLength": "String length must be less than or equal to {}",
        "minimum": "Must be greater than or equal to {}",
        "maximum": "Must be less than or equal to {}",
        "exclusiveMinimum": "Must be greater than {}",
        "exclusiveMaximum": "Must be less than {}",
        "multipleOf": "Must be a multiple of {}",
        "minItems": "Array must have at least {} items",
        "maxItems": "Array must have at most {} items",
        "minProperties": "Must have at least {} properties",
        "maxProperties": "Must have at most {} properties",
        "pattern": "Does not match pattern '{}'",
        "format": "Does not match format '{}'",
    }
    if keyword in simple:
        return simple[keyword].format(_number(expected) if not isinstance(expected, str) else expected)
    fixed = {
        "anyOf": "Must validate at least one schema (anyOf)",
        "oneOf": "Must validate one and only one schema (oneOf)",
        "allOf": "Must validate all the schemas (allOf)",
        "not": "Must not validate the schema (not)",
        "uniqueItems": f"{json_type(instance)} items must be unique",
        "contains": "At least one of the items must match",
    }
    if keyword in fixed:
        return fixed[keyword]
    if keyword == "additionalProperties" and isinstance(instance, dict):
        extra = sorted(set(instance) - set((err.schema or {}).get("properties", {})))
        return f"Additional property {extra[0] if extra else ''} is not allowed"
    return str(err.message)


def message(err: Any) -> str:
    """`<field>: <description>`, without the "(root): " the CLI trims."""
    text = description(err)
    path = list(err.absolute_path)
    if err.validator == "required":
        return text if not path else f"{_field(path)}: {text}"
    return f"{_field(path)}: {text}" if path else text
