"""Which input changes make the aws provider replace a resource, and which resources hold state.

Owns: reading and checking replace_rules.yaml (the facts and where each comes from live there),
and answering per resource type: does a change at this property path force a replacement, and
what is lost when a resource of this type is replaced or deleted. Knows nothing about reports.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).with_name("replace_rules.yaml")
_TYPE_KEYS = {"source", "replace", "replace_when_switching", "stateful", "notes", "same_as"}
# The v6 resource-level region: ForceNew wherever the SDK lists it (see the YAML's header).
REGION = "region"


class RulesError(Exception):
    """replace_rules.yaml is malformed (the message names the type and key)."""


@dataclass(frozen=True)
class TypeRules:
    """The replacement facts of one resource type."""

    type: str
    source: str
    replace: tuple[str, ...]
    replace_when_switching: tuple[str, ...] = ()
    stateful: str = ""
    notes: str = ""

    def forces_replacement(self, path: str) -> str | None:
        """The rule path (`cpu`, `autoScalingGroupProvider.autoScalingGroupArn`) that makes a
        change at `path` (`containerDefinitions[0].cpu`) a replacement, else None."""
        steps = _steps(path)
        for rule in (*self.replace, REGION):
            rule_steps = rule.split(".")
            if _covers(rule_steps, steps):
                return rule
        return None

    def switch_forces_replacement(self, old: dict[str, Any], new: dict[str, Any]) -> tuple[str, str] | None:
        """(old key, new key) when the set one of `replace_when_switching` differs, else None."""
        if not self.replace_when_switching:
            return None
        before = [k for k in self.replace_when_switching if old.get(k) is not None]
        after = [k for k in self.replace_when_switching if new.get(k) is not None]
        if before and after and before != after:
            return ", ".join(before), ", ".join(after)
        return None


def _steps(path: str) -> list[str]:
    """`a.b[0].c` -> ['a', 'b', 'c'] (list indexes do not matter to a rule)."""
    out = []
    for part in path.split("."):
        out.append(part.split("[", 1)[0])
    return out


def _covers(rule: list[str], steps: list[str]) -> bool:
    """A rule covers a path at or below it; a path above a nested rule (the whole block changed)
    is covered too."""
    n = min(len(rule), len(steps))
    return rule[:n] == steps[:n]


@functools.cache
def load(path: Path = RULES_FILE) -> dict[str, TypeRules]:
    """Every type's rules (aliases resolved); raises RulesError naming the bad entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise RulesError(f"{path.name}: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("types"), dict):
        raise RulesError(f"{path.name}: needs a `types:` mapping")
    raw: dict[str, Any] = data["types"]
    rules: dict[str, TypeRules] = {}
    for type_, entry in raw.items():
        if not isinstance(entry, dict):
            raise RulesError(f"{path.name}: {type_}: expected a mapping")
        unknown = set(entry) - _TYPE_KEYS
        if unknown:
            raise RulesError(f"{path.name}: {type_}: unknown key(s) {', '.join(sorted(unknown))}")
        if "same_as" in entry:
            continue
        if not isinstance(entry.get("source"), str) or not isinstance(entry.get("replace"), list):
            raise RulesError(f"{path.name}: {type_}: needs `source` (a file) and `replace` (a list)")
        for key in ("replace", "replace_when_switching"):
            values = entry.get(key, [])
            if not all(isinstance(v, str) and v for v in values):
                raise RulesError(f"{path.name}: {type_}: `{key}` must list property paths")
        rules[type_] = TypeRules(
            type=type_,
            source=entry["source"],
            replace=tuple(entry["replace"]),
            replace_when_switching=tuple(entry.get("replace_when_switching", [])),
            stateful=str(entry.get("stateful", "")),
            notes=str(entry.get("notes", "")),
        )
    for type_, entry in raw.items():
        if "same_as" in entry:
            target = rules.get(entry["same_as"])
            if target is None:
                raise RulesError(f"{path.name}: {type_}: same_as {entry['same_as']!r} has no entry of its own")
            rules[type_] = TypeRules(type_, target.source, target.replace, target.replace_when_switching,
                                     target.stateful, target.notes)
    return rules


def rules_for(type_: str) -> TypeRules | None:
    return load().get(type_)
