"""The change set of an offline preview against a baseline: what `pulumi up` would do to each resource.

Owns: reading a baseline (the JSON report of an earlier offline preview of the same stack, or a
`pulumi stack export` deployment), matching its resources with the head's (same URN, or a URN the
head declares as an alias), and each resource's operation: `create`, `update`, `replace`,
`delete` or `same`, with the changed input paths, why a replacement, and a warning when a
replacement or deletion hits a protected, retained or stateful resource. Which properties force a
replacement, and which types hold state, is replace_rules' data. Nothing here renders.

How the engine decides, and how this follows it (pkg/resource/deploy/step_generator.go):
- a URN that is neither in the old state nor reachable through an alias is a create; an old URN no
  resource claims is a delete (so a rename without an alias is a delete and a create);
- inputs that differ (after `ignoreChanges`) make an update, a replace when the provider says the
  property cannot change in place (ForceNew) or the resource lists it in `replaceOnChanges`;
- in preview, a computed value (an ARN, an id) is unknown; it changes only when the resource it
  comes from is created or replaced, so an unknown input counts as changed exactly then
  ("known after apply"); otherwise it is taken as unchanged.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import provider_check, replace_rules
from .properties import SECRET_SIG, SIG, UNKNOWN, engine_properties, plain

if TYPE_CHECKING:
    from .engine import Registration

OPS = ("create", "update", "replace", "delete", "same")
COMPUTED = "(computed)"  # a value the baseline itself did not know (its preview's unknown)
ABSENT = "(none)"
SECRET = "[secret]"
_ENCRYPTED = object()  # a secret the baseline holds as ciphertext: it cannot be compared


class BaselineError(Exception):
    """The baseline file cannot be used (the message names the file and the reason)."""


@dataclass(frozen=True)
class StackResource:
    """One resource as a change set compares it: its URN, inputs and the options that matter."""

    urn: str
    type: str
    inputs: dict[str, Any]
    parent: str = ""
    custom: bool = True
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    aliases: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    defaults: tuple[str, ...] = ()  # inputs the provider filled in (an export's `__defaults`)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class Baseline:
    file: str
    kind: str  # "report" (an offline preview's JSON report) or "export" (`pulumi stack export`)
    stack: str
    resources: dict[str, StackResource]


@dataclass(frozen=True)
class PropertyDiff:
    path: str
    old: str  # display forms: JSON, secrets masked, unknowns as COMPUTED or "(known after apply: ...)"
    new: str


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    op: str
    diffs: tuple[PropertyDiff, ...] = ()
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # why replacing or deleting it is dangerous
    previous_urn: str = ""  # the baseline URN an alias matched

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def properties(self) -> list[str]:
        return [d.path for d in self.diffs]


@dataclass(frozen=True)
class ChangeSet:
    baseline: Baseline
    changes: tuple[Change, ...]  # sorted by URN
    fail_on_replace: bool = False
    uncompared_secrets: int = 0  # encrypted in the baseline

    def counts(self) -> dict[str, int]:
        return {op: sum(c.op == op for c in self.changes) for op in OPS}

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.op != "same"]

    @property
    def warned(self) -> list[Change]:
        """Replacements and deletions of protected, retained or stateful resources."""
        return [c for c in self.changes if c.warnings]

    @property
    def blocked(self) -> bool:
        """--fail-on-replace was given and there is something it blocks."""
        return self.fail_on_replace and bool(self.warned)

    def notes(self) -> list[str]:
        notes = []
        if self.baseline.kind == "export":
            notes.append(
                "The baseline is a deployment export: inputs only it has (provider defaults) and "
                "auto-names it holds are taken as unchanged."
            )
        if self.uncompared_secrets:
            notes.append(f"{self.uncompared_secrets} secret value(s) are encrypted in the baseline and were not compared.")
        return notes


# ---- reading resources ------------------------------------------------------------------------------


def head_resources(registrations: Iterable[Registration], analyzed: dict[str, dict[str, Any]]) -> list[StackResource]:
    """The head's resources, with the inputs the JSON report shows (after remediation)."""
    out = []
    for r in registrations:
        options = r.options
        out.append(
            StackResource(
                urn=r.urn,
                type=r.type,
                inputs=plain(analyzed.get(r.urn, engine_properties(r.inputs))),
                parent=r.parent,
                custom=r.custom,
                dependencies=tuple(r.dependencies),
                property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
                protect=bool(options.get("protect")),
                retain_on_delete=bool(options.get("retainOnDelete")),
                aliases=tuple(options.get("aliases", ())),
                ignore_changes=tuple(options.get("ignoreChanges", ())),
                replace_on_changes=tuple(options.get("replaceOnChanges", ())),
            )
        )
    return out


def load_baseline(path: Path, project: str, stack: str) -> Baseline:
    """Read a baseline: an offline preview's JSON report or a `pulumi stack export` of `stack`."""
    where = f"baseline {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise BaselineError(f"{where}: cannot read it ({e.strerror or e})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BaselineError(f"{where}: not JSON ({e})") from None
    if isinstance(data, dict) and isinstance(data.get("resources"), list) and "summary" in data:
        kind, entries = "report", data["resources"]
        if data.get("stack") != stack or data.get("project") != project:
            raise BaselineError(
                f"{where}: it is a report of stack {data.get('stack')!r} of project {data.get('project')!r}, "
                f"not of stack {stack!r} of project {project!r}"
            )
        resources = [_report_resource(where, i, e) for i, e in enumerate(entries)]
    elif isinstance(data, dict) and isinstance(deployment := data.get("deployment", data if "manifest" in data else None),
                                               dict) and isinstance(deployment.get("resources"), list):
        kind, entries = "export", deployment["resources"]
        resources = [r for i, e in enumerate(entries) if (r := _export_resource(where, i, e)) is not None]
        for r in resources:
            urn_stack, urn_project = r.urn.split("::")[0].removeprefix("urn:pulumi:"), r.urn.split("::")[1]
            if (urn_stack, urn_project) != (stack, project):
                raise BaselineError(
                    f"{where}: {r.urn} belongs to stack {urn_stack!r} of project {urn_project!r}, "
                    f"not to stack {stack!r} of project {project!r}"
                )
    else:
        raise BaselineError(
            f"{where}: neither a JSON report of `python -m offline preview` (with `resources` and `summary`) "
            "nor a `pulumi stack export` (with `deployment.resources`)"
        )
    by_urn: dict[str, StackResource] = {}
    for r in resources:
        if r.urn in by_urn:
            raise BaselineError(f"{where}: URN {r.urn} appears twice")
        by_urn[r.urn] = r
    return Baseline(str(path), kind, stack, by_urn)


def _require(where: str, i: int, entry: Any) -> dict[str, Any]:
    if not (isinstance(entry, dict) and isinstance(entry.get("urn"), str) and isinstance(entry.get("type"), str)):
        raise BaselineError(f"{where}: resource #{i} has no `urn` and `type` strings")
    if not isinstance(entry.get("inputs", {}), dict):
        raise BaselineError(f"{where}: {entry['urn']}: `inputs` is not an object")
    return entry


def _report_resource(where: str, i: int, entry: Any) -> StackResource:
    entry = _require(where, i, entry)
    options = entry.get("options") or {}
    return StackResource(
        urn=entry["urn"],
        type=entry["type"],
        inputs=entry.get("inputs") or {},
        parent=entry.get("parent") or "",
        custom=bool(entry.get("custom", True)),
        dependencies=tuple(entry.get("dependencies") or ()),
        property_dependencies={k: tuple(v) for k, v in (entry.get("propertyDependencies") or {}).items()},
        protect=bool(options.get("protect")),
        retain_on_delete=bool(options.get("retainOnDelete")),
    )


def _export_resource(where: str, i: int, entry: Any) -> StackResource | None:
    entry = _require(where, i, entry)
    if entry.get("delete") or entry.get("external"):
        return None  # pending deletion of a replaced resource, or read (not managed)
    inputs = entry.get("inputs") or {}
    defaults = inputs.get("__defaults") or []
    return StackResource(
        urn=entry["urn"],
        type=entry["type"],
        inputs={k: _export_value(v) for k, v in inputs.items() if not k.startswith("__")},
        parent=entry.get("parent") or "",
        custom=bool(entry.get("custom", True)),
        dependencies=tuple(entry.get("dependencies") or ()),
        property_dependencies={k: tuple(v) for k, v in (entry.get("propertyDependencies") or {}).items()},
        protect=bool(entry.get("protect")),
        retain_on_delete=bool(entry.get("retainOnDelete")),
        defaults=tuple(d for d in defaults if isinstance(d, str)),
    )


def _export_value(value: Any) -> Any:
    """State values: secrets carry `plaintext` (JSON) with --show-secrets, else `ciphertext`."""
    if isinstance(value, list):
        return [_export_value(v) for v in value]
    if isinstance(value, dict):
        if value.get(SIG) == SECRET_SIG:
            if "plaintext" in value:
                try:
                    return {SIG: SECRET_SIG, "value": plain(json.loads(value["plaintext"]))}
                except (TypeError, json.JSONDecodeError):
                    return _ENCRYPTED
            return _ENCRYPTED
        return {k: _export_value(v) for k, v in value.items()}
    return plain(value)


# ---- comparing ----------------------------------------------------------------------------------------


def compare(head: list[StackResource], baseline: Baseline, fail_on_replace: bool = False) -> ChangeSet:
    """Each head and baseline resource's operation, sorted by URN."""
    old = baseline.resources
    head_urns = {r.urn for r in head}
    matched: dict[str, StackResource] = {}  # head URN -> its baseline resource
    claimed: set[str] = set()
    for r in sorted(head, key=lambda r: r.urn):
        if r.urn in old:
            matched[r.urn] = old[r.urn]
            claimed.add(r.urn)
    for r in sorted(head, key=lambda r: r.urn):
        if r.urn in matched:
            continue
        alias = next((a for a in r.aliases if a in old and a not in head_urns and a not in claimed), None)
        if alias is not None:
            matched[r.urn] = old[alias]
            claimed.add(alias)
    ops: dict[str, str] = {}
    changes: list[Change] = []
    encrypted = [0]
    for r in _dependency_order(head):
        before = matched.get(r.urn)
        change = _create(r) if before is None else _compare_one(r, before, ops, baseline.kind, encrypted)
        ops[r.urn] = change.op
        changes.append(change)
    for urn in sorted(set(old) - claimed):
        changes.append(_delete(old[urn]))
    changes.sort(key=lambda c: c.urn)
    return ChangeSet(baseline, tuple(changes), fail_on_replace, encrypted[0])


def _dependency_order(resources: list[StackResource]) -> list[StackResource]:
    """Parents and dependencies before dependents; ties by URN (deterministic)."""
    by_urn = {r.urn: r for r in resources}
    needs: dict[str, set[str]] = {}
    for r in resources:
        deps = {r.parent, *r.dependencies, *(u for us in r.property_dependencies.values() for u in us)}
        needs[r.urn] = {d for d in deps if d in by_urn and d != r.urn}
    users: dict[str, list[str]] = {}
    for urn, deps in needs.items():
        for d in deps:
            users.setdefault(d, []).append(urn)
    ready = [urn for urn, deps in needs.items() if not deps]
    heapq.heapify(ready)
    order: list[StackResource] = []
    while ready:
        urn = heapq.heappop(ready)
        order.append(by_urn[urn])
        for user in users.get(urn, []):
            needs[user].discard(urn)
            if not needs[user]:
                heapq.heappush(ready, user)
    done = {r.urn for r in order}
    order += sorted((r for r in resources if r.urn not in done), key=lambda r: r.urn)  # a cycle: never in Pulumi
    return order


def _create(r: StackResource) -> Change:
    return Change(r.urn, r.type, "create", reasons=("new URN",))


def _delete(r: StackResource) -> Change:
    reasons = ("its URN is no longer in the program (removed, or renamed or moved without an alias)",)
    return Change(r.urn, r.type, "delete", reasons=reasons, warnings=_warnings(r.type, r, None, "delete"))


def _warnings(type_: str, old: StackResource, new: StackResource | None, op: str) -> tuple[str, ...]:
    """Why replacing or deleting this resource is dangerous (empty when it is not)."""
    if type_.startswith("pulumi:providers:"):
        return ()
    out = []
    if old.protect or (new is not None and new.protect):
        out.append(f"protected: `pulumi up` refuses to {op} it until `protect` is lifted")
    if old.retain_on_delete or (new is not None and new.retain_on_delete):
        out.append("retainOnDelete: the old one stays in AWS, no longer managed (its name may block the new one)"
                   if op == "replace" else "retainOnDelete: it stays in AWS, no longer managed")
    rules = replace_rules.rules_for(type_)
    if rules is not None and rules.stateful:
        out.append(f"stateful: {rules.stateful}")
    return tuple(out)


def _compare_one(
    new: StackResource, old: StackResource, ops: dict[str, str], kind: str, encrypted: list[int]
) -> Change:
    diffs: list[tuple[str, Any, Any]] = []
    _walk("", old.inputs, new.inputs, diffs, kind == "export", encrypted)
    diffs = [d for d in diffs if not _kept_autoname(d, old, new, kind == "export")]
    diffs = [d for d in diffs if not any(_under(d[0], ignored) for ignored in new.ignore_changes)]
    # Unknown inputs that come from a created or replaced resource change: "known after apply".
    changed_deps: dict[str, str] = {}
    for key, value in sorted(new.inputs.items()):
        if not _has_unknown(value):
            continue
        deps = new.property_dependencies.get(key, new.dependencies)
        source = next((d for d in sorted(deps) if ops.get(d) in ("create", "replace")), None)
        if source is not None:
            changed_deps[key] = source
            diffs = [d for d in diffs if not _under(d[0], key)]
            diffs.append((key, old.inputs.get(key, _ABSENT_VALUE), _AfterApply(_name(source), ops[source])))
    diffs.sort(key=lambda d: _path_key(d[0]))
    rules = replace_rules.rules_for(new.type)
    reasons: list[str] = []
    for path, _before, _after in diffs:
        top = _top(path)
        rule = rules.forces_replacement(path) if rules is not None else None
        via = f" (it comes from {_name(changed_deps[top])}, which is {ops[changed_deps[top]]}d)" if top in changed_deps else ""
        if rule is not None:
            reasons.append(f"{rule} cannot change in place{via}")
        if any(p == "*" or _under(path, p) for p in new.replace_on_changes):
            reasons.append(f"{path} is in replaceOnChanges{via}")
    if rules is not None and (switch := rules.switch_forces_replacement(old.inputs, new.inputs)):
        reasons.append(f"the rule's source changes from {switch[0]} to {switch[1]}, which cannot change in place")
    reasons = list(dict.fromkeys(reasons))
    op = "replace" if reasons else ("update" if diffs else "same")
    shown = tuple(PropertyDiff(p, _shown(a), _shown(b)) for p, a, b in diffs)
    warnings = _warnings(new.type, old, new, "replace") if op == "replace" else ()
    previous = old.urn if old.urn != new.urn else ""
    return Change(new.urn, new.type, op, shown, tuple(reasons), warnings, previous)


class _Absent:
    def __repr__(self) -> str:
        return ABSENT


_ABSENT_VALUE = _Absent()


@dataclass(frozen=True)
class _AfterApply:
    """A computed input whose source is created or replaced: its new value is known after apply."""

    source: str
    op: str

    def __str__(self) -> str:
        return f"(known after apply: {self.source} is {self.op}d)"


def _walk(path: str, a: Any, b: Any, out: list[tuple[str, Any, Any]], export: bool, encrypted: list[int]) -> None:
    """Append (path, old, new) for each leaf where the baseline `a` and the head `b` differ."""
    if a is _ENCRYPTED:
        encrypted[0] += 1
        return
    a, b = _unwrap_secret(a), _unwrap_secret(b)
    if b == UNKNOWN:
        return  # changes only with its source (handled by the caller)
    a, b = _parsed(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key.startswith("__"):
                continue
            sub = f"{path}.{key}" if path else key
            if key not in b:
                if not export:
                    out.append((sub, a[key], _ABSENT_VALUE))
            elif key not in a:
                if not _has_unknown(b[key]):
                    out.append((sub, _ABSENT_VALUE, b[key]))
            else:
                _walk(sub, a[key], b[key], out, export, encrypted)
        return
    if isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            sub = f"{path}[{i}]"
            if i >= len(b):
                out.append((sub, a[i], _ABSENT_VALUE))
            elif i >= len(a):
                out.append((sub, _ABSENT_VALUE, b[i]))
            else:
                _walk(sub, a[i], b[i], out, export, encrypted)
        return
    if not _equal(a, b) and not _has_unknown(b):
        out.append((path, a, b))


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _unwrap_secret(value: Any) -> Any:
    if isinstance(value, dict) and value.get(SIG) == SECRET_SIG:
        return _Secret(value.get("value"))
    return value


@dataclass(frozen=True)
class _Secret:
    """A secret's value: compared by value, never shown."""

    value: Any


def _parsed(a: Any, b: Any) -> tuple[Any, Any]:
    """Secrets compared by value; JSON documents held as strings (containerDefinitions, policies)
    compared as structures, so the diff names the field that changed."""
    if isinstance(a, _Secret) or isinstance(b, _Secret):
        va = a.value if isinstance(a, _Secret) else a
        vb = b.value if isinstance(b, _Secret) else b
        # Equal values: nothing to report. Different: one leaf, never shown.
        return (va, vb) if va == vb else (_Secret(va), _Secret(vb))
    if isinstance(a, str) and isinstance(b, str) and a != b and a[:1] in "[{" and b[:1] in "[{":
        try:
            pa, pb = json.loads(a), json.loads(b)
        except json.JSONDecodeError:
            return a, b
        if isinstance(pa, (dict, list)) and isinstance(pb, (dict, list)):
            return plain(pa), plain(pb)
    return a, b


def _has_unknown(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return isinstance(value, str) and UNKNOWN in value


def _kept_autoname(diff: tuple[str, Any, Any], old: StackResource, new: StackResource, export: bool) -> bool:
    """The engine hands Check the old inputs, and the provider keeps an auto-name it gave before:
    a head auto-name (from its URN: another after a rename by alias) does not change the name. In
    an export the provider's auto-names are listed in `__defaults`; in a report, they are the
    ones the offline preview derives from the old URN."""
    path, before, after = diff
    auto = provider_check.expected_autoname(new.type, new.name, new.urn, new.inputs) if new.custom else None
    if auto is None or auto != (path, after):
        return False
    if export:
        return path in old.defaults
    before_auto = provider_check.expected_autoname(old.type, old.name, old.urn, old.inputs)
    return before_auto == (path, before)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _top(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def _path_key(path: str) -> list[tuple[int, Any]]:
    """Sort `a[2]` before `a[10]`."""
    key: list[tuple[int, Any]] = []
    for part in path.replace("[", ".[").split("."):
        if part.startswith("[") and part[1:-1].isdigit():
            key.append((1, int(part[1:-1])))
        else:
            key.append((0, part))
    return key


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _shown(value: Any, limit: int = 80) -> str:
    if value is _ABSENT_VALUE:
        return ABSENT
    if isinstance(value, _AfterApply):
        return str(value)
    if _has_unknown(value):
        return COMPUTED
    if isinstance(value, _Secret):
        return SECRET
    text = json.dumps(_masked(value), sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _masked(value: Any) -> Any:
    if isinstance(value, _Secret) or (isinstance(value, dict) and value.get(SIG) == SECRET_SIG):
        return SECRET
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if value == UNKNOWN:
        return COMPUTED
    return value


# ---- JSON ----------------------------------------------------------------------------------------------


def to_json(cs: ChangeSet) -> list[dict[str, Any]]:
    """The report's `changes` list (contract: urn, type, op, properties, reasons)."""
    out = []
    for c in cs.changes:
        entry: dict[str, Any] = {"urn": c.urn, "type": c.type, "op": c.op, "properties": c.properties,
                                 "reasons": list(c.reasons)}
        if c.diffs:
            entry["diffs"] = [{"path": d.path, "old": d.old, "new": d.new} for d in c.diffs]
        if c.warnings:
            entry["warnings"] = list(c.warnings)
        if c.previous_urn:
            entry["previousUrn"] = c.previous_urn
        out.append(entry)
    return out
