"""Wire-form property values: signatures, and the conversions the engine applies before a pack sees them.

Owns: turning protobuf Structs into plain dicts and back, and the engine's conversion of resource
references and output values (`to_engine_value`). Pure functions; no Pulumi runtime state.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def struct_to_dict(s: struct_pb2.Struct | None) -> dict[str, Any]:
    return json_format.MessageToDict(s) if s is not None else {}


def dict_to_struct(d: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


def secret(value: Any) -> dict[str, Any]:
    return {SIG: SECRET_SIG, "value": value}


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG


def to_engine_value(value: Any, skip_internal: bool = False) -> Any:
    """What the engine hands an analyzer: resource references become the resource's id (custom)
    or URN (component), output values become their value (a secret stays a secret, an unknown an
    unknown), and with `skip_internal` keys starting with `__` are dropped."""
    if isinstance(value, list):
        return [to_engine_value(v, skip_internal) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(SIG)
    if sig == RESOURCE_SIG:
        if "id" in value:
            return value["id"] or UNKNOWN
        return value.get("urn", UNKNOWN)
    if sig == OUTPUT_SIG:
        inner = to_engine_value(value["value"], skip_internal) if "value" in value else UNKNOWN
        return secret(inner) if value.get("secret") else inner
    if sig == SECRET_SIG:
        return secret(to_engine_value(value.get("value"), skip_internal))
    if sig in (ASSET_SIG, ARCHIVE_SIG):
        return value
    return {
        k: to_engine_value(v, skip_internal)
        for k, v in value.items()
        if not (skip_internal and k.startswith("__"))
    }


def engine_properties(props: dict[str, Any], skip_internal: bool = False) -> dict[str, Any]:
    return {
        k: to_engine_value(v, skip_internal)
        for k, v in props.items()
        if not (skip_internal and k.startswith("__"))
    }


def plain(value: Any) -> Any:
    """A display form: integral floats as ints (the wire has only doubles)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def contains_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    return False
