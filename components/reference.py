"""Writes the config reference (docs/config-reference.md) from the pydantic models.

Usage: python -m components.reference [--check]. The test suite fails when the file is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from .config import NAMESPACE, StackConfig

TARGET = Path(__file__).resolve().parents[1] / "docs" / "config-reference.md"
HEADER = f"""# Config reference

Generated from `components/config/` by `python -m components.reference`; do not edit by hand.
Every key lives in the `{NAMESPACE}` namespace of `Pulumi.<stack>.yaml` (e.g. `{NAMESPACE}:cluster`);
structured keys take YAML objects. Unknown keys are rejected. `aws:region` is required too.
`<name>` stands for a map key you choose (service and sidecar names: lowercase letters, digits and
`-`, starting with a letter, at most 20 characters); `<index>` for a list position (0-based, as
errors name it).
"""


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The model inside an annotation, and how it is held: "" (itself), "map" or "list" of models."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, ""
    if origin in (dict, list) and args:
        inner, _ = _model_in(args[-1])
        return inner, ("map" if origin is dict else "list") if inner is not None else ""
    for arg in args:
        inner, held = _model_in(arg)
        if inner is not None:
            return inner, held
    return None, ""


def _type_name(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " / ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if annotation is type(None):
        return "null"
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel) or value is PydanticUndefined:
        return "see below"
    return f"`{value!r}`" if value not in (None, [], {}) else ("—" if value is None else f"`{value!r}`")


def _meaning(field: Any, fallback: str = "") -> str:
    """The field's description, and its first example as YAML flow (JSON) when it has one."""
    text = field.description or fallback
    if field.examples:
        example = json.dumps(field.examples[0], separators=(", ", ": ")).replace("|", "\\|")
        text = f"{text} Example: `{example}`".strip()
    return text


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows, nested = [], []
    for key, field in model.model_fields.items():
        path = f"{prefix}{key}"
        inner, held = _model_in(field.annotation)
        if inner is not None:
            kind = f"{held} of {inner.__name__}" if held else inner.__name__
            rows.append(f"| `{path}` | {kind} | {_default(field)} | {_meaning(field, inner.__doc__ or '')} |")
            nested.append((inner, f"{path}.{ {'map': '<name>.', 'list': '<index>.', '': ''}[held]}"))
        else:
            rows.append(f"| `{path}` | {_type_name(field.annotation)} | {_default(field)} | {_meaning(field)} |")
    for inner, inner_prefix in nested:
        rows += _rows(inner, inner_prefix)
    return rows


def render() -> str:
    lines = [HEADER]
    for key, field in StackConfig.model_fields.items():
        model, held = _model_in(field.annotation)
        assert model is not None
        lines += [f"## `{NAMESPACE}:{key}`", "", (field.description or model.__doc__ or "").strip(), "",
                  "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        lines += _rows(model, f"{key}.<name>." if held == "map" else f"{key}.")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m components.reference",
        description="Write the config reference, docs/config-reference.md, from the stack config models.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is stale: run `python -m components.reference`", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
