"""A `pulumi stack export` read for an audit: the deployed resources as the engine records them.

Owns: reading a deployment export within limits (size, JSON nesting), validating it (deployment
version 3 only; each resource's fields and their types, URNs, parents and provider references
that resolve), and turning it into the engine's records (`Registration`) plus what an audit can
not fully check:
- a secret held as `ciphertext` (an export without `--show-secrets`) cannot be decrypted offline:
  its value reaches the pack as unknown and the resource is listed, never passed silently;
- a resource marked `delete: true` (an old copy awaiting deletion after a replacement) is not
  analysed, as the engine's own snapshot analysis skips it, but it is still in the cloud: listed;
- a resource `pendingReplacement` (deleted before its replacement was created) is analysed on its
  recorded inputs and listed: what the cloud will hold is not known;
- each pending operation (an interrupted create, update, delete...) is listed: the state may not
  record what the cloud holds for it.
Field names and meanings: sdk/go/common/apitype/core.go (DeploymentV3, ResourceV3, OperationV2)
in pulumi/pulumi v3.259.0; URN parts: sdk/go/common/resource/urn/urn.go:106-187; provider
references: sdk/go/common/providers/reference.go:49,147. Every failure is an `InputError` naming
the file, the resource and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import PROVIDER_TYPE_PREFIX, ROOT_STACK_TYPE, Registration
from .errors import InputError
from .inputs import load_json
from .properties import SECRET_SIG, SIG, UNKNOWN, secret

MAX_STATE_BYTES = 64 * 1024 * 1024  # a stack of a thousand resources exports a few MiB
SUPPORTED_VERSION = 3  # apitype.DeploymentSchemaVersionCurrent (core.go:83)
URN_PREFIX = "urn:pulumi:"
REDACTED = "[secret]"
_BOOLS = ("custom", "delete", "protect", "taint", "external", "pendingReplacement", "retainOnDelete")
_URN_LISTS = ("dependencies", "aliases")
_STRING_LISTS = ("ignoreChanges", "additionalSecretOutputs", "replaceOnChanges", "initErrors")
_TIMEOUTS = ("create", "update", "delete", "read")


@dataclass(frozen=True)
class Unchecked:
    """A resource the audit could not fully check, and why."""

    urn: str
    type: str
    reason: str


@dataclass
class DeployedStack:
    """What an export holds: the resources to analyse (providers first-class among them, as the
    engine analyses every resource of a snapshot), in the export's order; the stack's root URN;
    what could not be fully checked; warnings."""

    project: str
    stack: str
    root_urn: str
    registrations: list[Registration]
    unchecked: list[Unchecked] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def urn_parts(urn: str) -> tuple[str, str, str, str] | None:
    """(stack, project, qualified type, name) of a URN, None when it is not one: the prefix and at
    least three `::` (urn.go:106); the name is everything after the third (urn.go:185)."""
    if not urn.startswith(URN_PREFIX) or urn.count("::") < 3:
        return None
    stack, project, qualified, name = urn[len(URN_PREFIX) :].split("::", 3)
    return stack, project, qualified, name


def _type_of(qualified: str) -> str:
    """The resource's own type: the last `$`-separated part of the URN's qualified type."""
    return qualified.rsplit("$", 1)[-1]


def _stack_of(urn: str) -> tuple[str, str]:
    parts = urn_parts(urn)
    assert parts is not None
    return parts[0], parts[1]


def default_root_urn(stack: str, project: str) -> str:
    """resource.DefaultRootStackURN: what stack-level findings name when the export has no root."""
    return f"{URN_PREFIX}{stack}::{project}::{ROOT_STACK_TYPE}::{project}-{stack}"


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, reason: str) -> InputError:
        return InputError(f"state {self.path}: {where}: {reason}")

    def value(self, value: Any, where: str, prop: str, encrypted: list[str]) -> Any:
        """A state value in the engine's wire form: a secret `{sig, plaintext: JSON}` becomes a
        secret of that value, a `{sig, ciphertext}` one a secret of an unknown (its path noted in
        `encrypted`); everything else as it is (assets, archives, resource references)."""
        if isinstance(value, list):
            return [self.value(v, where, f"{prop}[{i}]", encrypted) for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if value.get(SIG) == SECRET_SIG:
            if isinstance(value.get("plaintext"), str):
                try:
                    inner = json.loads(value["plaintext"])
                except json.JSONDecodeError as e:
                    raise self.fail(where, f"{prop}: the secret's plaintext is not JSON ({e.msg})") from None
                except RecursionError:
                    raise self.fail(where, f"{prop}: the secret's plaintext is nested too deeply") from None
                return secret(self.value(inner, where, prop, encrypted))
            if isinstance(value.get("ciphertext"), str):
                encrypted.append(prop)
                return secret(UNKNOWN)
            raise self.fail(where, f"{prop}: a secret without a `plaintext` or `ciphertext` string")
        return {k: self.value(v, where, f"{prop}.{k}", encrypted) for k, v in value.items()}

    def urn(self, value: Any, where: str, key: str) -> str:
        if not isinstance(value, str) or urn_parts(value) is None:
            raise self.fail(where, f"`{key}` is not a URN (urn:pulumi:STACK::PROJECT::TYPE::NAME): {_shown(value)}")
        return value

    def resource(self, entry: Any, where: str) -> dict[str, Any]:
        """One ResourceV3, its fields checked; returns it with `urn` and `type` known good."""
        if not isinstance(entry, dict):
            raise self.fail(where, f"expected an object, found {_kind(entry)}")
        urn = self.urn(entry.get("urn"), where, "urn")
        where = f"{where} ({urn})"
        typ = entry.get("type")
        if not isinstance(typ, str) or not typ:
            raise self.fail(where, f"`type` is not a non-empty string: {_shown(typ)}")
        parts = urn_parts(urn)
        assert parts is not None
        if _type_of(parts[2]) != typ:
            raise self.fail(where, f"`type` {typ!r} is not the type its URN names ({_type_of(parts[2])!r})")
        for key in _BOOLS:
            if key in entry and not isinstance(entry[key], bool):
                raise self.fail(where, f"`{key}` is not true or false: {_shown(entry[key])}")
        for key in ("inputs", "outputs", "propertyDependencies"):
            if entry.get(key) is not None and not isinstance(entry[key], dict):
                raise self.fail(where, f"`{key}` is not an object: {_shown(entry[key])}")
        for key in ("id", "provider", "importID"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise self.fail(where, f"`{key}` is not a string: {_shown(entry[key])}")
        for key in ("parent", "deletedWith"):
            if entry.get(key):
                self.urn(entry[key], where, key)
        for key in (*_URN_LISTS, *_STRING_LISTS):
            items = entry.get(key)
            if items is None:
                continue
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise self.fail(where, f"`{key}` is not a list of strings: {_shown(items)}")
            if key in _URN_LISTS:
                for item in items:
                    self.urn(item, where, f"{key}[]")
        for prop, urns in (entry.get("propertyDependencies") or {}).items():
            if not isinstance(urns, list) or not all(isinstance(u, str) for u in urns):
                raise self.fail(where, f"`propertyDependencies.{prop}` is not a list of URNs: {_shown(urns)}")
        timeouts = entry.get("customTimeouts")
        if timeouts is not None and not _seconds(timeouts):
            raise self.fail(where, f"`customTimeouts` is not an object of seconds (create, update, delete, read): "
                            f"{_shown(timeouts)}")
        return entry


def _seconds(timeouts: Any) -> bool:
    return isinstance(timeouts, dict) and all(
        k in _TIMEOUTS and isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < float("inf")
        for k, v in timeouts.items()
    )


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load_state(path: Path, limit: int = MAX_STATE_BYTES) -> DeployedStack:
    """Read and validate the export at `path` (InputError naming what is wrong)."""
    doc = load_json(path, limit)
    reader = _Reader(path)
    if not isinstance(doc, dict):
        raise InputError(f"state {path}: expected a `pulumi stack export` object, found {_kind(doc)}")
    if "version" not in doc or "deployment" not in doc:
        raise InputError(f"state {path}: not a `pulumi stack export` (no `version` and `deployment` at the top level)")
    version = doc["version"]
    if version != SUPPORTED_VERSION or isinstance(version, bool):
        features = doc.get("features")
        extra = f" (features: {', '.join(map(str, features))})" if isinstance(features, list) and features else ""
        raise InputError(
            f"state {path}: deployment version {_shown(version)}{extra} is not supported: only version "
            f"{SUPPORTED_VERSION}, what `pulumi stack export` writes for a stack using no newer feature"
        )
    deployment = doc["deployment"]
    if not isinstance(deployment, dict):
        raise InputError(f"state {path}: `deployment` is not an object: {_shown(deployment)}")
    if not isinstance(deployment.get("manifest"), dict):
        raise InputError(f"state {path}: `deployment.manifest` is missing or not an object")
    entries = deployment.get("resources") or []
    if not isinstance(entries, list):
        raise InputError(f"state {path}: `deployment.resources` is not a list: {_shown(entries)}")
    pending = deployment.get("pending_operations") or []
    if not isinstance(pending, list):
        raise InputError(f"state {path}: `deployment.pending_operations` is not a list: {_shown(pending)}")

    resources = [reader.resource(e, f"resource #{i}") for i, e in enumerate(entries)]
    operations = []
    for i, op in enumerate(pending):
        where = f"pending operation #{i}"
        if not isinstance(op, dict) or not isinstance(op.get("type"), str):
            raise reader.fail(where, "expected an object with a `type` string and a `resource`")
        operations.append((op["type"], reader.resource(op.get("resource"), f"{where} resource")))
    if not resources and not operations:
        raise InputError(f"state {path}: the export holds no resources (a stack never deployed, or destroyed): nothing to audit")

    found = {_stack_of(r["urn"]) for r in [*resources, *(r for _, r in operations)]}
    if len(found) > 1:
        shown = ", ".join(f"{s!r} of project {p!r}" for s, p in sorted(found))
        raise InputError(f"state {path}: resources of several stacks ({shown}): audit one stack's export")
    stack, project = next(iter(found))

    live = [r for r in resources if not r.get("delete")]
    by_urn: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(resources):
        if r.get("delete"):
            continue
        if r["urn"] in by_urn:
            raise reader.fail(f"resource #{i} ({r['urn']})", "its URN appears twice (only a copy marked `delete` may repeat it)")
        by_urn[r["urn"]] = r
    every = {r["urn"]: r for r in resources}
    for i, r in enumerate(resources):
        where = f"resource #{i} ({r['urn']})"
        if r.get("parent") and r["parent"] not in every:
            raise reader.fail(where, f"its `parent` {r['parent']} is not in the export")
        ref = r.get("provider")
        if ref:
            prov_urn = ref.rsplit("::", 1)[0] if ref.count("::") >= 4 else ""
            if not prov_urn or urn_parts(prov_urn) is None:
                raise reader.fail(where, f"`provider` is not a provider reference (URN::ID): {_shown(ref)}")
            target = every.get(prov_urn)
            if target is None:
                raise reader.fail(where, f"its `provider` {prov_urn} is not in the export")
            if not target["type"].startswith(PROVIDER_TYPE_PREFIX):
                raise reader.fail(where, f"its `provider` {prov_urn} is a {target['type']}, not a provider")

    out = DeployedStack(project, stack, "", [])
    roots = [r["urn"] for r in live if r["type"] == ROOT_STACK_TYPE and not r.get("parent")]
    out.root_urn = roots[0] if roots else default_root_urn(stack, project)
    for i, r in enumerate(resources):
        where = f"resource #{i} ({r['urn']})"
        if r.get("delete"):
            out.unchecked.append(Unchecked(r["urn"], r["type"], (
                "pending deletion (`delete: true`, an old copy left by a replacement): still in the cloud until the "
                "next update deletes it; not analysed (the engine's snapshot analysis skips it)"
            )))
            continue
        reg, encrypted = _registration(reader, r, where)
        out.registrations.append(reg)
        if r.get("pendingReplacement"):
            out.unchecked.append(Unchecked(reg.urn, reg.type, (
                "pending replacement (`pendingReplacement`): deleted in the cloud before its replacement was "
                "created; its recorded inputs were analysed, the replacement's are not known"
            )))
        if encrypted:
            shown = ", ".join(encrypted[:5]) + (f" and {len(encrypted) - 5} more" if len(encrypted) > 5 else "")
            out.unchecked.append(Unchecked(reg.urn, reg.type, (
                f"encrypted secret(s) at {shown}: they cannot be decrypted offline (export with `--show-secrets`); "
                "policies reading them could not check them"
            )))
    for op_type, r in operations:
        out.unchecked.append(Unchecked(r["urn"], r["type"], (
            f"pending operation `{op_type}` (interrupted): the state may not record what the cloud holds for "
            "it; not analysed (`pulumi refresh` resolves pending operations)"
        )))
    return out


def _registration(reader: _Reader, r: dict[str, Any], where: str) -> tuple[Registration, list[str]]:
    """The engine's record of one resource (the fields `stateToAnalyzerResource` reads,
    pkg/resource/deploy/analyze_snapshot.go:147-179) and the paths of its encrypted secrets."""
    encrypted: list[str] = []
    inputs = reader.value(r.get("inputs") or {}, where, "inputs", encrypted)
    outputs = reader.value(r.get("outputs") or {}, where, "outputs", encrypted)
    options: dict[str, Any] = {}
    for key in ("protect", "retainOnDelete"):
        if r.get(key):
            options[key] = True
    for key in ("ignoreChanges", "additionalSecretOutputs", "aliases", "replaceOnChanges"):
        if r.get(key):
            options[key] = list(r[key])
    if r.get("deletedWith"):
        options["deletedWith"] = r["deletedWith"]
    if r.get("customTimeouts"):
        options["customTimeouts"] = {k: float(v) for k, v in r["customTimeouts"].items() if v}
    parts = urn_parts(r["urn"])
    assert parts is not None
    name = parts[3]
    return (
        Registration(
            urn=r["urn"],
            type=r["type"],
            name=name,
            custom=bool(r.get("custom")),
            parent=r.get("parent") or "",
            provider=r.get("provider") or "",
            id=r.get("id") or "",
            inputs=inputs,
            outputs=outputs,
            dependencies=list(r.get("dependencies") or []),
            property_dependencies={k: list(v) for k, v in (r.get("propertyDependencies") or {}).items()},
            options=options,
            # providers.IsDefaultProvider (reference.go:49)
            default_provider=r["type"].startswith(PROVIDER_TYPE_PREFIX) and name.startswith("default"),
            read=bool(r.get("external")),
        ),
        encrypted,
    )


def redact(value: Any) -> Any:
    """A value with every secret's content replaced by "[secret]", for the reports: an export
    taken with `--show-secrets` must not leak its secrets into an uploaded report."""
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, dict):
        if value.get(SIG) == SECRET_SIG:
            return secret(REDACTED)
        return {k: redact(v) for k, v in value.items()}
    return value
