"""Stack references offline: the outputs of other stacks, from files the user names.

Owns: the `--stack-reference ORG/PROJECT/STACK=FILE` flag's value, reading FILE (a JSON object of
outputs as `pulumi stack output --json` prints them, a JSON report of this offline preview, or a
`pulumi stack export` state) into outputs in wire form (secrets as secret objects) and the names
of the secret ones, and qualifying names as the CLI does (`STACK` and `PROJECT/STACK` complete
with the current organization and project). What the engine's built-in provider answers for a
`pulumi:pulumi:StackReference` read is built here too (`read_outputs`). Pure data; no Pulumi state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .properties import SECRET_SIG, SIG, UNKNOWN

STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
FLAG = "--stack-reference"


class StackReferenceError(Exception):
    """A `--stack-reference` value or file cannot be used (names the flag's value and the reason)."""


def qualified_name(name: str, organization: str, project: str) -> str:
    """`stack` -> `org/project/stack`, `project/stack` -> `org/project/stack`, as the CLI qualifies
    a stack reference's name."""
    parts = name.split("/")
    if len(parts) == 1:
        return f"{organization}/{project}/{name}"
    if len(parts) == 2:
        return f"{organization}/{name}"
    return name


def parse_flag(value: str) -> tuple[str, Path]:
    """`ORG/PROJECT/STACK=FILE` -> (name, path)."""
    name, sep, path = value.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise StackReferenceError(f"{FLAG} {value!r}: expected ORG/PROJECT/STACK=FILE")
    if len(name.split("/")) > 3 or not all(name.split("/")):
        raise StackReferenceError(f"{FLAG} {value!r}: {name!r} is not a stack name (ORG/PROJECT/STACK)")
    return name.strip(), Path(path.strip())


def _secret(value: Any) -> dict[str, Any]:
    return {SIG: SECRET_SIG, "value": value}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG


def _from_state(value: Any, warnings: list[str], where: str) -> Any:
    """A state file's value: secrets are `{sig, plaintext: JSON}` (or `ciphertext`, which cannot be
    read offline: the engine elides undecryptable secrets too)."""
    if isinstance(value, list):
        return [_from_state(v, warnings, where) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get(SIG) == SECRET_SIG:
        if "plaintext" in value:
            try:
                return _secret(json.loads(value["plaintext"]))
            except (TypeError, json.JSONDecodeError):
                return _secret(value["plaintext"])
        warnings.append(f"{where}: a secret output is encrypted and cannot be read offline; it reads as unknown")
        return _secret(UNKNOWN)
    return {k: _from_state(v, warnings, where) for k, v in value.items()}


def load_outputs(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The outputs a file holds (wire form) and warnings. Raises StackReferenceError."""
    where = f"{FLAG} file {path}"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise StackReferenceError(f"{where}: cannot read it: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise StackReferenceError(f"{where}: not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise StackReferenceError(f"{where}: expected a JSON object (outputs, a report or a state export)")
    warnings: list[str] = []
    if isinstance(doc.get("deployment"), dict) and "version" in doc:  # pulumi stack export
        resources = doc["deployment"].get("resources") or []
        root = next((r for r in resources if isinstance(r, dict) and r.get("type") == "pulumi:pulumi:Stack"), None)
        if root is None:
            raise StackReferenceError(f"{where}: the state export has no pulumi:pulumi:Stack resource")
        outputs = _from_state(root.get("outputs") or {}, warnings, where)
    elif "resources" in doc and "summary" in doc:  # this preview's JSON report
        if not isinstance(doc.get("outputs"), dict):
            raise StackReferenceError(f"{where}: the JSON report has no 'outputs' (written by an older offline preview)")
        outputs = doc["outputs"]
    else:  # pulumi stack output --json
        outputs = doc
    if not isinstance(outputs, dict):
        raise StackReferenceError(f"{where}: the stack's outputs are not an object")
    return outputs, warnings


def read_outputs(name: str, outputs: dict[str, Any] | None) -> dict[str, Any]:
    """The properties the engine's built-in provider reads for a stack reference: its `name`, the
    `outputs` (unknown when there is no file) and `secretOutputNames`, sorted."""
    if outputs is None:
        return {"name": name, "outputs": UNKNOWN, "secretOutputNames": UNKNOWN}
    secret_names = sorted(k for k, v in outputs.items() if _contains_secret(v))
    return {"name": name, "outputs": outputs, "secretOutputNames": secret_names}


def _contains_secret(value: Any) -> bool:
    if _is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


def missing_message(name: str) -> str:
    return (
        f"stack reference {name!r} has no outputs offline: give them with {FLAG} {name}=FILE "
        "(a JSON of its outputs, a JSON report of this preview or a state export of that stack)"
    )
