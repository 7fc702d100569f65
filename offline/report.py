"""Render an offline preview: text tree, JSON, Markdown PR comment, Mermaid/DOT graph, state export.

Owns: presentation only. Input is the recorded registrations and the analysis result; nothing here
runs programs or talks to packs.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .analyzer import AnalysisResult, Diagnostic
from .engine import ROOT_STACK_TYPE, LogEntry, Registration, unanalysed
from .properties import SECRET_SIG, SIG, UNKNOWN, engine_properties, plain

LEVEL_ORDER = ("mandatory", "advisory", "remediate")


@dataclass
class Preview:
    project: str
    stack: str
    mode: str
    registrations: list[Registration]
    analysis: AnalysisResult | None
    logs: list[LogEntry]
    timings: dict[str, float]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.analysis.diagnostics if self.analysis else []

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.enforcement_level == "mandatory"]

    @property
    def unanalysed(self) -> list[tuple[str, str]]:
        """(URN, type) of the remote components the preview could not expand (their children are
        neither in the report nor analysed)."""
        return unanalysed(self.registrations)

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory else 0

    def verdict(self) -> str:
        n = len(self.mandatory)
        advisory = sum(d.enforcement_level == "advisory" for d in self.diagnostics)
        if n:
            return f"FAIL: {n} mandatory policy violation(s), {advisory} advisory"
        return f"PASS: no mandatory policy violations ({advisory} advisory)"


def header(p: Preview) -> str:
    unknowns = (
        "computed outputs unknown" if p.mode == "preview" else "computed outputs filled with placeholders"
    )
    return (
        f"Offline preview of stack '{p.stack}' (project '{p.project}'), mode {p.mode} ({unknowns}).\n"
        "This is the desired state computed offline by running the program against a stand-in engine;\n"
        "it is NOT a diff against the cloud: nothing was read from or compared with AWS or Pulumi Cloud."
    )


def _visible(p: Preview) -> list[Registration]:
    return [r for r in p.registrations if not r.default_provider]


def _children(regs: list[Registration]) -> dict[str, list[Registration]]:
    urns = {r.urn for r in regs}
    kids: dict[str, list[Registration]] = {}
    for r in regs:
        kids.setdefault(r.parent if r.parent in urns else "", []).append(r)
    return kids


def tree_lines(p: Preview) -> list[tuple[str, Registration]]:
    """(prefix, registration) in display order, children indented under their parent."""
    regs = _visible(p)
    kids = _children(regs)
    out: list[tuple[str, Registration]] = []

    def walk(parent: str, prefix: str, top: bool) -> None:
        items = kids.get(parent, [])
        for i, r in enumerate(items):
            last = i == len(items) - 1
            out.append(("" if top else prefix + ("└─ " if last else "├─ "), r))
            walk(r.urn, "" if top else prefix + ("   " if last else "│  "), False)

    walk("", "", True)
    return out


def text(p: Preview) -> str:
    lines = [header(p), ""]
    rows = tree_lines(p)
    width = max((len(pre) + len(r.type) for pre, r in rows), default=4) + 2
    lines.append(f"     {'Type':<{width}}Name")
    for pre, r in rows:
        lines.append(f" +   {pre + r.type:<{width}}{r.name}")
    lines += ["", "Resources by type:"]
    for t, n in sorted(Counter(r.type for r in p.registrations).items()):
        lines.append(f"    {n:>4}  {t}")
    lines.append(f"    {len(p.registrations):>4}  total (including the root stack and default providers)")
    if p.analysis:
        a = p.analysis
        lines += ["", f"Policies: {a.pack_name}@v{a.pack_version}"]
        for level in LEVEL_ORDER:
            ds = [d for d in p.diagnostics if d.enforcement_level == level]
            if ds:
                lines.append(f"  {level} ({len(ds)}):")
                for d in ds:
                    lines.append(f"    [{d.policy_name}] {d.urn}")
                    lines += [f"        {m}" for m in d.message.splitlines()]
        if a.remediations:
            lines.append(f"  remediated ({len(a.remediations)}):")
            lines += [f"    [{r.policy_name}] {r.urn}" for r in a.remediations]
        if not p.diagnostics and not a.remediations:
            lines.append("  no policy violations")
    warnings = [entry for entry in p.logs if entry.severity in ("warning", "error", "info")]
    if warnings:
        lines += ["", "Program diagnostics:"]
        lines += [f"  {e.severity}: {e.message}" for e in warnings]
    lines += _unanalysed_lines(p)
    lines += ["", p.verdict()]
    return "\n".join(lines) + "\n"


def _unanalysed_lines(p: Preview) -> list[str]:
    if not p.unanalysed:
        return []
    lines = ["", f"Not analysed ({len(p.unanalysed)}): remote components the offline preview cannot expand;"]
    lines.append("their children are missing from this report and were not checked by the policy pack:")
    return lines + [f"  {type_}  {urn}" for urn, type_ in p.unanalysed]


def _resource_json(r: Registration, analyzed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "urn": r.urn,
        "type": r.type,
        "name": r.name,
        "parent": r.parent or None,
        "custom": r.custom,
        "remote": r.remote,
        "id": r.id or None,
        "provider": r.provider or None,
        "defaultProvider": r.default_provider,
        "inputs": plain(analyzed.get(r.urn, engine_properties(r.inputs))),
        "dependencies": r.dependencies,
        "propertyDependencies": r.property_dependencies,
        "options": r.options,
    }


def to_json(p: Preview) -> dict[str, Any]:
    analyzed = p.analysis.analyzed_inputs if p.analysis else {}
    counts = Counter(d.enforcement_level for d in p.diagnostics)
    return {
        "project": p.project,
        "stack": p.stack,
        "mode": p.mode,
        "note": "desired state computed offline; not a diff against the cloud",
        "resources": [_resource_json(r, analyzed) for r in p.registrations],
        "diagnostics": [
            {
                "policyName": d.policy_name,
                "policyPackName": d.policy_pack_name,
                "policyPackVersion": d.policy_pack_version,
                "enforcementLevel": d.enforcement_level,
                "urn": d.urn,
                "message": d.message,
                "severity": d.severity or None,
            }
            for d in p.diagnostics
        ],
        "remediations": [
            {
                "policyName": r.policy_name,
                "policyPackName": r.policy_pack_name,
                "urn": r.urn,
                "before": plain(r.before),
                "after": plain(r.after),
            }
            for r in (p.analysis.remediations if p.analysis else [])
        ],
        "logs": [{"severity": e.severity, "message": e.message} for e in p.logs],
        # The stack's outputs (secrets as secret objects): what `--stack-reference` reads back.
        "outputs": plain(engine_properties(root.outputs, True)) if (root := _root(p)) is not None else {},
        "unanalysed": [{"urn": urn, "type": type_} for urn, type_ in p.unanalysed],
        "summary": {
            "resources": len(p.registrations),
            "byType": dict(sorted(Counter(r.type for r in p.registrations).items())),
            "mandatory": counts.get("mandatory", 0),
            "advisory": counts.get("advisory", 0),
            "remediations": len(p.analysis.remediations) if p.analysis else 0,
            "unanalysed": len(p.unanalysed),
            "policyPack": f"{p.analysis.pack_name}@{p.analysis.pack_version}" if p.analysis else None,
            "verdict": "fail" if p.mandatory else "pass",
            "exitCode": p.exit_code,
            "timings": {k: round(v, 3) for k, v in p.timings.items()},
        },
    }


def markdown(p: Preview) -> str:
    counts = Counter(d.enforcement_level for d in p.diagnostics)
    icon = "❌" if p.mandatory else "✅"
    lines = [
        f"<!-- offline-preview:{p.project}:{p.stack} -->",
        f"### {icon} Offline preview: `{p.stack}`",
        "",
        "_Desired state computed offline by running the program against a stand-in engine; "
        "not a diff against the cloud._",
        "",
        "| | |",
        "|---|---|",
        f"| Resources | {len(p.registrations)} |",
        f"| Mandatory violations | {counts.get('mandatory', 0)} |",
        f"| Advisory violations | {counts.get('advisory', 0)} |",
        f"| Remediations | {len(p.analysis.remediations) if p.analysis else 0} |",
        f"| Policy pack | {f'{p.analysis.pack_name}@v{p.analysis.pack_version}' if p.analysis else 'none'} |",
        f"| Verdict | {p.verdict()} |",
        *([f"| Not analysed (remote components) | {len(p.unanalysed)} |"] if p.unanalysed else []),
        "",
        f"<details><summary>Resources ({len(p.registrations)})</summary>",
        "",
        "```",
    ]
    lines += [f"{pre}{r.type}  {r.name}" for pre, r in tree_lines(p)]
    lines += ["```", "</details>", ""]
    if p.unanalysed:
        lines += [
            "#### ⚠️ Not analysed",
            "",
            "Remote components the offline preview cannot expand: their children are missing from this report "
            "and were not checked by the policy pack.",
            "",
        ]
        lines += [f"- `{type_}` `{urn}`" for urn, type_ in p.unanalysed]
        lines.append("")
    if p.diagnostics:
        lines += [
            "#### Policy violations",
            "",
            "| Level | Policy | Resource | Message |",
            "|---|---|---|---|",
        ]
        for level in LEVEL_ORDER:
            for d in (d for d in p.diagnostics if d.enforcement_level == level):
                msg = d.message.replace("|", "\\|").replace("\n", "<br>")
                lines.append(f"| {level} | `{d.policy_name}` | `{d.urn.rsplit('::', 1)[-1]}` | {msg} |")
    return "\n".join(lines) + "\n"


def _node_ids(regs: list[Registration]) -> dict[str, str]:
    return {r.urn: f"r{i}" for i, r in enumerate(regs)}


def graph(p: Preview, fmt: str) -> str:
    regs = _visible(p)
    ids = _node_ids(regs)
    edges: list[tuple[str, str, str]] = []
    for r in regs:
        if r.parent in ids:
            edges.append((ids[r.parent], ids[r.urn], "parent"))
        for d in dict.fromkeys(r.dependencies):
            if d in ids and d != r.parent:
                edges.append((ids[d], ids[r.urn], "dependency"))
    if fmt == "mermaid":
        lines = ["graph TD"]
        for r in regs:
            label = f"{r.type}<br/>{r.name}".replace('"', "'")
            lines.append(f'    {ids[r.urn]}["{label}"]')
        lines += [f"    {a} {'-->' if kind == 'parent' else '-.->'} {b}" for a, b, kind in edges]
        return "\n".join(lines) + "\n"
    if fmt == "dot":
        lines = ["digraph stack {", "    rankdir=LR;", "    node [shape=box];"]
        for r in regs:
            label = f"{r.type}\\n{r.name}".replace('"', '\\"')
            lines.append(f'    {ids[r.urn]} [label="{label}"];')
        lines += [
            f"    {a} -> {b}{' [style=dashed]' if kind == 'dependency' else ''};" for a, b, kind in edges
        ]
        lines.append("}")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown graph format {fmt!r}")


def _state_value(value: Any) -> Any:
    """State files carry secrets as plaintext JSON under the secret signature."""
    if isinstance(value, list):
        return [_state_value(v) for v in value]
    if isinstance(value, dict):
        if value.get(SIG) == SECRET_SIG:
            return {SIG: SECRET_SIG, "plaintext": json.dumps(plain(value.get("value")))}
        return {k: _state_value(v) for k, v in value.items()}
    return plain(value)


def export_state(p: Preview) -> dict[str, Any]:
    """A `pulumi stack export` document (deployment version 3) of the recorded stack."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
    analyzed = p.analysis.analyzed_inputs if p.analysis else {}
    # Parents and providers must precede their dependents: registration order guarantees it, and
    # default providers (recorded when first needed) go first.
    ordered = sorted(p.registrations, key=lambda r: not r.default_provider)
    resources = []
    for r in ordered:
        ids = r.id if r.id and r.id != UNKNOWN else ""
        if r.custom and not ids:
            ids = str(uuid.uuid5(uuid.NAMESPACE_URL, r.urn))
        provider = r.provider
        if provider.endswith("::" + UNKNOWN):
            provider = provider[: -len(UNKNOWN)] + str(
                uuid.uuid5(uuid.NAMESPACE_URL, provider.rsplit("::", 1)[0])
            )
        res: dict[str, Any] = {
            "urn": r.urn,
            "custom": r.custom,
            "type": r.type,
            "inputs": _state_value(engine_properties(analyzed.get(r.urn, r.inputs), True)),
            "outputs": _state_value(engine_properties(r.outputs, True)),
            "created": now,
            "modified": now,
        }
        if r.custom:
            res["id"] = ids
        if r.parent:
            res["parent"] = r.parent
        if provider:
            res["provider"] = provider
        if r.dependencies:
            res["dependencies"] = r.dependencies
        if r.property_dependencies:
            res["propertyDependencies"] = {k: v for k, v in r.property_dependencies.items() if v}
        for key in ("protect", "retainOnDelete", "deletedWith", "ignoreChanges", "additionalSecretOutputs"):
            if r.options.get(key):
                res[key] = r.options[key]
        if r.read:
            res["external"] = True
        resources.append(res)
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": now, "magic": "", "version": "offline-preview"},
            "resources": resources,
        },
    }


def _root(p: Preview) -> Registration | None:
    return next((r for r in p.registrations if is_root(r)), None)


def is_root(r: Registration) -> bool:
    return r.type == ROOT_STACK_TYPE
