"""Render an offline preview: text tree, JSON, Markdown PR comment, Mermaid/DOT graph, state export.

Owns: presentation only. Input is the recorded registrations, the analysis result and, with a
baseline, the change set; nothing here runs programs or talks to packs. Every report is
deterministic: resources in URN order, graph node ids derived from URNs, diagnostics sorted, and
the run's timings only under the JSON report's top-level `timings` key (nowhere else).
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import html
import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import change_report
from .analyzer import AnalysisResult, Diagnostic, Remediation
from .changes import ChangeSet
from .changes import to_json as changes_json
from .engine import ROOT_STACK_TYPE, LogEntry, Registration, unanalysed
from .errors import UsageError
from .properties import SECRET_SIG, SIG, UNKNOWN, engine_properties, plain
from .state import Unchecked
from .verdict import PolicyConfigSource, Verdict, assess

LEVEL_ORDER = ("mandatory", "advisory", "remediate")
AUDIT = "audit"  # the mode of `python -m offline analyze`'s reports
# GitHub refuses comments over 65,536 characters; the PR comment (tools/pr_comment.py) adds a
# marker and a link to this, so the Markdown report stays under this budget.
MARKDOWN_BUDGET = 58_000
# The Markdown report lists the resource tree only up to this many resources.
MARKDOWN_TREE_LIMIT = 150


@dataclass(eq=False)
class Preview:
    """`config_source`: the policy config applied (None without a pack); `strict`: INCOMPLETE
    exits 1."""

    project: str
    stack: str
    mode: str
    registrations: list[Registration]
    analysis: AnalysisResult | None
    logs: list[LogEntry]
    timings: dict[str, float]
    config_source: PolicyConfigSource | None = None
    strict: bool = False
    changes: ChangeSet | None = field(default=None)  # with --baseline
    # An audit (mode "audit") of a `pulumi stack export`: the file, and what it could not fully check.
    state_file: str | None = None
    unchecked: list[Unchecked] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """In a fixed order: level, policy, URN, message (the packs answer in any order)."""
        found = self.analysis.diagnostics if self.analysis else []
        return sorted(found, key=_diagnostic_key)

    @property
    def remediations(self) -> list[Remediation]:
        found = self.analysis.remediations if self.analysis else []
        return sorted(found, key=lambda r: (r.urn, r.policy_name))

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.enforcement_level == "mandatory"]

    @property
    def unanalysed(self) -> list[tuple[str, str]]:
        """(URN, type) of the remote components the preview could not expand (their children are
        neither in the report nor analysed)."""
        return unanalysed(self.registrations)

    @functools.cached_property
    def facts(self) -> Verdict:
        """PASS / FAIL / INCOMPLETE and what it rests on (see `verdict`)."""
        return assess(self.analysis, len(self.unanalysed), len(self.unchecked))

    @property
    def changes_blocked(self) -> bool:
        """--fail-on-replace blocks a replacement or deletion the change set warns about."""
        return self.changes is not None and self.changes.blocked

    @property
    def exit_code(self) -> int:
        """1 for a blocking finding: a mandatory violation (or INCOMPLETE under --strict), or a change
        --fail-on-replace blocks."""
        return 1 if self.changes_blocked else self.facts.exit_code(self.strict)

    def verdict(self) -> str:
        return self.facts.line()

    @property
    def warnings(self) -> list[str]:
        """Warnings about what was enforced (the reports' policy config section)."""
        warning = self.config_source.warning(self.stack) if self.config_source else None
        return [warning] if warning else []


def _diagnostic_key(d: Diagnostic) -> tuple[int, str, str, str]:
    level = LEVEL_ORDER.index(d.enforcement_level) if d.enforcement_level in LEVEL_ORDER else len(LEVEL_ORDER)
    return level, d.policy_name, d.urn, d.message


def header(p: Preview) -> str:
    if p.mode == AUDIT:
        return (
            f"Audit of deployed stack '{p.stack}' (project '{p.project}') from the state export {p.state_file}.\n"
            "This is the state Pulumi recorded at the stack's last deployment, checked offline; nothing was read\n"
            "from AWS: changes made outside Pulumi since then show only after `pulumi refresh` (see the drift workflow)."
        )
    unknowns = (
        "computed outputs unknown" if p.mode == "preview" else "computed outputs filled with placeholders"
    )
    return (
        f"Offline preview of stack '{p.stack}' (project '{p.project}'), mode {p.mode} ({unknowns}).\n"
        "This is the desired state computed offline by running the program against a stand-in engine;\n"
        "it is NOT a diff against the cloud: nothing was read from or compared with AWS or Pulumi Cloud."
    )


def _visible(p: Preview) -> list[Registration]:
    return sorted((r for r in p.registrations if not r.default_provider), key=lambda r: r.urn)


def _children(regs: list[Registration]) -> dict[str, list[Registration]]:
    """Children by parent URN, each list in URN order (`regs` is)."""
    urns = {r.urn for r in regs}
    kids: dict[str, list[Registration]] = {}
    for r in regs:
        kids.setdefault(r.parent if r.parent in urns else "", []).append(r)
    return kids


def _ops(p: Preview) -> dict[str, str]:
    """Each resource's operation; without a baseline everything is created (a new stack), in an
    audit nothing changes (the stack as deployed)."""
    if p.mode == AUDIT:
        return {r.urn: "same" for r in p.registrations}
    if p.changes is None:
        return {}
    return {c.urn: c.op for c in p.changes.changes}


def tree_lines(p: Preview) -> list[tuple[str, Registration]]:
    """(prefix, registration) in display order, children indented under their parent."""
    regs = _visible(p)
    kids = _children(regs)
    out: list[tuple[str, Registration]] = []
    # Depth-first with a stack of (siblings, next index, prefix, top level): components may nest
    # deeper than Python's recursion limit.
    stack: list[tuple[list[Registration], int, str, bool]] = [(kids.get("", []), 0, "", True)]
    while stack:
        items, i, prefix, top = stack.pop()
        if i == len(items):
            continue
        r, last = items[i], i == len(items) - 1
        stack.append((items, i + 1, prefix, top))
        out.append(("" if top else prefix + ("└─ " if last else "├─ "), r))
        stack.append((kids.get(r.urn, []), 0, "" if top else prefix + ("   " if last else "│  "), False))
    return out


def text(p: Preview) -> str:
    lines = [header(p), ""]
    if p.changes is not None:
        lines += [*change_report.text_lines(p.changes), ""]
    rows = tree_lines(p)
    ops = _ops(p)
    width = max((len(pre) + len(r.type) for pre, r in rows), default=4) + 2
    lines.append(f"     {'Type':<{width}}Name")
    for pre, r in rows:
        symbol = change_report.SYMBOL[ops.get(r.urn, "create")]
        lines.append(f" {symbol:<2}  {pre + r.type:<{width}}{r.name}")
    lines += ["", "Resources by type:"]
    for t, n in sorted(Counter(r.type for r in p.registrations).items()):
        lines.append(f"    {n:>4}  {t}")
    lines.append(f"    {len(p.registrations):>4}  total (including the root stack and default providers)")
    if p.analysis:
        a = p.analysis
        lines += ["", f"Policies: {a.pack_name}@v{a.pack_version}"]
        lines += _config_lines(p)
        for level in LEVEL_ORDER:
            ds = [d for d in p.diagnostics if d.enforcement_level == level]
            if ds:
                lines.append(f"  {level} ({len(ds)}):")
                for d in ds:
                    lines.append(f"    [{d.policy_name}] {d.urn}")
                    lines += [f"        {m}" for m in d.message.splitlines()]
        if a.remediations:
            verb = "would be remediated (reported, not applied)" if p.mode == AUDIT else "remediated"
            lines.append(f"  {verb} ({len(a.remediations)}):")
            lines += [f"    [{r.policy_name}] {r.urn}" for r in p.remediations]
        if not p.diagnostics and not a.remediations:
            lines.append("  no policy violations")
    warnings = [entry for entry in p.logs if entry.severity in ("warning", "error", "info")]
    if warnings:
        lines += ["", "Program diagnostics:"]
        lines += [f"  {e.severity}: {e.message}" for e in warnings]
    lines += _unanalysed_lines(p) + _unchecked_lines(p)
    lines += _deferred_lines(p) + _exemption_lines(p)
    lines += ["", p.verdict()]
    if p.changes_blocked and p.changes is not None:
        lines.append(change_report.blocked_line(p.changes))
    return "\n".join(lines) + "\n"


def _config_lines(p: Preview) -> list[str]:
    f = p.facts
    lines = [f"  policy config: {p.config_source.shown}"] if p.config_source else []
    lines += [f"  warning: {w}" for w in p.warnings]
    if f.disabled:
        lines.append(f"  disabled by the config ({len(f.disabled)}): {', '.join(f.disabled)}")
    if f.lowered:
        lines.append(f"  lowered by the config ({len(f.lowered)}):")
        lines += [f"    {x.policy_name}: {x.default_level} -> {x.level}" for x in f.lowered]
    return lines


DEFERRED_NOTE = (
    "mandatory checks that read values unknown at preview; the pack decides them at deploy "
    "(`pulumi up`). The SDK's notes name v0.0.1 (pulumi_policy hardcodes it); shown here with the "
    "pack's version from PulumiPolicy.yaml."
)


def _deferred_lines(p: Preview) -> list[str]:
    deferred = p.facts.deferred
    if not deferred:
        return []
    lines = ["", f"Deferred to deploy ({len(deferred)}): {DEFERRED_NOTE}"]
    for d in deferred:
        lines += [f"  [{d.policy_name}] {d.urn}", f"      {d.reason}"]
    return lines


def _exemption_lines(p: Preview) -> list[str]:
    exemptions = p.facts.exemptions
    if not exemptions:
        return []
    lines = ["", f"Exemptions honoured ({len(exemptions)}):"]
    for e in exemptions:
        until = f"until {e.expires}" if e.expires else "no expiry"
        lines += [f"  [{e.policy_name}] {e.urn}", f"      {until}; reason: {e.reason}"]
    return lines


UNCHECKED_NOTE = "deployed resources the audit could not fully check; the verdict cannot pass them:"


def _unchecked_lines(p: Preview) -> list[str]:
    if not p.unchecked:
        return []
    lines = ["", f"Not fully checked ({len(p.unchecked)}): {UNCHECKED_NOTE}"]
    for u in p.unchecked:
        lines += [f"  {u.type}  {u.urn}", f"      {u.reason}"]
    return lines


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
        "inputs": _sorted_keys(plain(analyzed.get(r.urn, engine_properties(r.inputs)))),
        "dependencies": sorted(set(r.dependencies)),
        "propertyDependencies": {k: sorted(set(v)) for k, v in sorted(r.property_dependencies.items())},
        "options": _sorted_keys(r.options),
    }


def _sorted_keys(value: Any) -> Any:
    """Objects with their keys in order (the wire's key order is the program's)."""
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def to_json(p: Preview) -> dict[str, Any]:
    analyzed = p.analysis.analyzed_inputs if p.analysis else {}
    counts = Counter(d.enforcement_level for d in p.diagnostics)
    report: dict[str, Any] = {
        "project": p.project,
        "stack": p.stack,
        "mode": p.mode,
        "note": (
            "deployed state as recorded in a `pulumi stack export`, checked offline; not read from the cloud"
            if p.mode == AUDIT
            else "desired state computed offline; not a diff against the cloud"
        ),
        "resources": [_resource_json(r, analyzed) for r in sorted(p.registrations, key=lambda r: r.urn)],
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
            for r in p.remediations
        ],
        "logs": [{"severity": e.severity, "message": e.message} for e in p.logs],
        # The stack's outputs (secrets as secret objects): what `--stack-reference` reads back.
        "outputs": plain(engine_properties(root.outputs, True)) if (root := _root(p)) is not None else {},
        "unanalysed": [{"urn": urn, "type": type_} for urn, type_ in sorted(p.unanalysed)],
        "unchecked": [{"urn": u.urn, "type": u.type, "reason": u.reason} for u in p.unchecked],
        "exemptions": [
            {"urn": e.urn, "policyName": e.policy_name, "reason": e.reason, "expires": e.expires}
            for e in p.facts.exemptions
        ],
        "summary": {
            "resources": len(p.registrations),
            "byType": dict(sorted(Counter(r.type for r in p.registrations).items())),
            "mandatory": counts.get("mandatory", 0),
            "advisory": counts.get("advisory", 0),
            "remediations": len(p.analysis.remediations) if p.analysis else 0,
            "unanalysed": len(p.unanalysed),
            "unchecked": len(p.unchecked),
            "policyPack": f"{p.analysis.pack_name}@{p.analysis.pack_version}" if p.analysis else None,
            "policyConfig": p.config_source.path if p.config_source else None,
            "disabledPolicies": p.facts.disabled,
            "loweredPolicies": [
                {"policyName": x.policy_name, "defaultLevel": x.default_level, "level": x.level}
                for x in p.facts.lowered
            ],
            "deferred": [
                {"policyName": d.policy_name, "urn": d.urn, "reason": d.reason} for d in p.facts.deferred
            ],
            "warnings": p.warnings,
            "verdict": p.facts.kind,
            "verdictText": p.verdict(),
            "exitCode": p.exit_code,
        },
    }
    if p.state_file is not None:
        report["stateFile"] = p.state_file
    if p.changes is not None:
        cs = p.changes
        report["baseline"] = {"file": cs.baseline.file, "kind": cs.baseline.kind, "notes": cs.notes()}
        report["changes"] = changes_json(cs)
        report["summary"]["changes"] = cs.counts()
        report["summary"]["changesBlocked"] = cs.blocked
    # The one value that differs between identical runs.
    report["timings"] = {k: round(v, 3) for k, v in p.timings.items()}
    return report


@dataclass
class _Block:
    """A part of the Markdown report: `head` and `tail` always shown, `rows` while the budget lasts
    (in `priority` order: lower first); an `optional` block is shown whole or not at all."""

    head: list[str]
    rows: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    priority: int = 0
    optional: bool = False
    what: str = "rows"  # the note on a cut block: "<n> more <what> not shown ..."
    row_priorities: list[int] | None = None  # per row, when they differ (rows stay a prefix)
    shown: int = 0  # rows kept (set by _fit)


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _cut_note(block: _Block) -> str:
    return f"_… {len(block.rows) - block.shown} more {block.what} not shown here: the JSON report (`--json`) has them all._"


_NOTE_RESERVE = 160  # room for one cut note


def _fit(blocks: list[_Block], budget: int) -> None:
    """Decide how many rows of each block to show (always a prefix of its rows), most important
    rows first, so that the whole stays under `budget` characters."""
    left = budget - sum(_size(b.head) + _size(b.tail) for b in blocks if not b.optional)
    left -= _NOTE_RESERVE * sum(bool(b.rows) for b in blocks if not b.optional)
    candidates = sorted(
        (prio, i, j)
        for i, b in enumerate(blocks)
        if not b.optional
        for j, prio in enumerate(b.row_priorities or [b.priority] * len(b.rows))
    )
    closed: set[int] = set()
    for _prio, i, j in candidates:
        block = blocks[i]
        if i in closed or j != block.shown or len(block.rows[j]) + 1 > left:
            closed.add(i)
            continue
        left -= len(block.rows[j]) + 1
        block.shown += 1
    for block in sorted((b for b in blocks if b.optional), key=lambda b: b.priority):
        size = _size(block.head) + _size(block.rows) + _size(block.tail)
        block.shown = len(block.rows) if size <= left else 0
        left -= size if block.shown else 0


MARKDOWN_ICONS = {"fail": "❌", "incomplete": "⚠️", "pass": "✅"}


def _icon(p: Preview) -> str:
    if p.facts.kind == "fail":
        return MARKDOWN_ICONS["fail"]
    if p.changes_blocked:
        return "⛔"
    if p.changes is not None and p.changes.warned:
        return "⚠️"
    return MARKDOWN_ICONS[p.facts.kind]


def markdown(p: Preview, budget: int = MARKDOWN_BUDGET) -> str:
    """The PR comment: the change set first (with a baseline), then the verdict and the findings;
    the resource tree only when small. Rows are cut, with a note, to stay under `budget` characters."""
    counts = Counter(d.enforcement_level for d in p.diagnostics)
    f = p.facts
    cs = p.changes
    audit = p.mode == AUDIT
    title = f"### {_icon(p)} {'Audit of deployed stack' if audit else 'Offline preview'}: `{p.stack}`"
    if cs is not None:
        title += f" — {change_report.summary(cs)}"
    marker = f"<!-- offline-{'audit' if audit else 'preview'}:{p.project}:{p.stack} -->"
    blocks = [_Block([marker, title, ""])]
    if cs is not None:
        blocks.append(_Block(change_report.markdown_heading(cs)))
        if cs.warned:
            blocks.append(_Block(change_report.markdown_warning_head(cs), change_report.markdown_warning_rows(cs), [""],
                                 priority=1, what="warnings"))
        if cs.changed:
            blocks.append(_Block(change_report.markdown_table_head(cs), change_report.markdown_table_rows(cs),
                                 change_report.markdown_table_tail(cs), priority=3, what="changed resources"))
    blocks.append(_Block([
        (f"_Deployed state as recorded in the export `{p.state_file}`, checked offline; not read from the cloud "
         "(changes made outside Pulumi show after `pulumi refresh`)._")
        if audit
        else "_Desired state computed offline by running the program against a stand-in engine; "
        + ("compared with the baseline above, " if cs is not None else "")
        + "not a diff against the cloud._",
        "",
        "| | |",
        "|---|---|",
        f"| Resources | {len(p.registrations)} |",
        f"| Mandatory violations | {counts.get('mandatory', 0)} |",
        f"| Advisory violations | {counts.get('advisory', 0)} |",
        f"| {'Would be remediated' if audit else 'Remediations'} | {len(p.remediations)} |",
        f"| Policy pack | {f'{p.analysis.pack_name}@v{p.analysis.pack_version}' if p.analysis else 'none'} |",
        *([f"| Policy config | {_md_config(p.config_source)} |"] if p.config_source else []),
        *([f"| Disabled by the config | {', '.join(f'`{n}`' for n in f.disabled)} |"] if f.disabled else []),
        *(
            [f"| Lowered by the config | {', '.join(f'`{x.policy_name}` ({x.default_level} → {x.level})' for x in f.lowered)} |"]
            if f.lowered
            else []
        ),
        *([f"| Deferred mandatory checks | {len(f.deferred)} |"] if f.deferred else []),
        *([f"| Exemptions honoured | {len(f.exemptions)} |"] if f.exemptions else []),
        f"| Verdict | {p.verdict()} |",
        *([f"| Changes | {'blocked by --fail-on-replace (exit 1)' if p.changes_blocked else 'not blocked'} |"]
          if cs is not None else []),
        *([f"| Not analysed (remote components) | {len(p.unanalysed)} |"] if p.unanalysed else []),
        *([f"| Not fully checked | {len(p.unchecked)} |"] if p.unchecked else []),
        "",
        *(f"> ⚠️ {w}" for w in p.warnings),
        *([""] if p.warnings else []),
    ]))
    if p.unanalysed:
        blocks.append(_Block(
            ["#### ⚠️ Not analysed", "",
             "Remote components the offline preview cannot expand: their children are missing from this report "
             "and were not checked by the policy pack.", ""],
            [f"- `{type_}` `{urn}`" for urn, type_ in sorted(p.unanalysed)], [""], priority=2, what="components",
        ))
    if p.unchecked:
        blocks.append(_Block(
            ["#### ⚠️ Not fully checked", "", UNCHECKED_NOTE[0].upper() + UNCHECKED_NOTE[1:-1] + ".", "",
             "| Resource | Type | Why |", "|---|---|---|"],
            [f"| `{_short(u.urn)}` | `{u.type}` | {_cell(u.reason)} |" for u in p.unchecked], [""],
            priority=2, what="resources",
        ))
    if f.deferred:
        blocks.append(_Block(
            ["#### ⚠️ Deferred to deploy", "", DEFERRED_NOTE, "", "| Policy | Resource | Why |", "|---|---|---|"],
            [f"| `{d.policy_name}` | `{_short(d.urn)}` | {_cell(d.reason)} |" for d in f.deferred], [""],
            priority=2, what="deferred checks",
        ))
    if f.exemptions:
        blocks.append(_Block(
            ["#### Exemptions honoured", "", "| Policy | Resource | Expires | Reason |", "|---|---|---|---|"],
            [f"| `{e.policy_name}` | `{_short(e.urn)}` | {e.expires or 'no expiry'} | {_cell(e.reason)} |"
             for e in f.exemptions], [""], priority=2, what="exemptions",
        ))
    if p.diagnostics:
        rows = []
        for d in p.diagnostics:
            msg = html.escape(d.message, quote=False).replace("|", "\\|").replace("\n", "<br>")
            rows.append(f"| {d.enforcement_level} | `{d.policy_name}` | `{d.urn.rsplit('::', 1)[-1]}` | {msg} |")
        # Mandatory violations (listed first) before the changed resources, advisory ones after.
        blocks.append(_Block(["#### Policy violations", "", "| Level | Policy | Resource | Message |", "|---|---|---|---|"],
                             rows, [""], what="violations",
                             row_priorities=[2 if d.enforcement_level == "mandatory" else 4 for d in p.diagnostics]))
    tree = [f"{pre}{r.type}  {r.name}" for pre, r in tree_lines(p)]
    tree_block = _Block([f"<details><summary>Resources ({len(p.registrations)})</summary>", "", "```"], tree,
                        ["```", "</details>", ""], priority=5, optional=True)
    if len(tree) <= MARKDOWN_TREE_LIMIT:
        blocks.append(tree_block)
    _fit(blocks, budget)
    lines: list[str] = []
    for block in blocks:
        if block.optional and not block.shown:
            continue
        lines += block.head + block.rows[: block.shown]
        if block.shown < len(block.rows) and not block.optional:
            lines += ["", _cut_note(block)]
        lines += block.tail
    if len(tree) > MARKDOWN_TREE_LIMIT or not tree_block.shown:
        lines.append(f"_Resource tree ({len(p.registrations)} resources) left out of this comment "
                     f"(it lists at most {MARKDOWN_TREE_LIMIT}); the text report has it._")
    return "\n".join(lines) + "\n"


def _md_config(source: PolicyConfigSource) -> str:
    return f"`{source.path}`" if source.path else "pack defaults, no config file"


def _short(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _node_ids(regs: list[Registration]) -> dict[str, str]:
    """A node id per URN, derived from the URN alone: the same resource keeps its id whatever else
    the stack holds (a hash prefix, lengthened in the unlikely case of a clash)."""
    for length in range(10, 65, 2):
        ids = {r.urn: "r" + hashlib.sha256(r.urn.encode()).hexdigest()[:length] for r in regs}
        if len(set(ids.values())) == len(ids):
            return ids
    raise AssertionError("sha256 prefixes of distinct URNs collide")  # not reachable


def graph(p: Preview, fmt: str) -> str:
    regs = _visible(p)
    ids = _node_ids(regs)
    edges: list[tuple[str, str, str]] = []
    for r in regs:
        if r.parent in ids:
            edges.append((ids[r.parent], ids[r.urn], "parent"))
        for d in sorted(set(r.dependencies)):
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


MANIFEST_VERSION = "offline-preview"


def manifest_magic(version: str) -> str:
    """The manifest's integrity check, which `pulumi stack import` verifies: the SHA-256 (hex) of
    the manifest's version (`Manifest.NewMagic`, pkg/resource/deploy/manifest.go:84-89)."""
    return hashlib.sha256(version.encode("utf-8")).hexdigest()


def _export_epoch() -> float | None:
    """The export's timestamp: `SOURCE_DATE_EPOCH` (the reproducible-builds convention, seconds since
    the epoch) when set, so that the same inputs give the same bytes; otherwise now."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    try:
        return float(int(value))
    except ValueError:
        raise UsageError(f"SOURCE_DATE_EPOCH {value!r}: not a whole number of seconds since 1970-01-01") from None


def export_state(p: Preview) -> dict[str, Any]:
    """A `pulumi stack export` document (deployment version 3) of the recorded stack."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(_export_epoch()))
    analyzed = p.analysis.analyzed_inputs if p.analysis else {}
    # Parents, providers and dependencies precede their dependents; otherwise URN order.
    ordered = _dependency_order(p.registrations)
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
        # Sorted: the Python SDK sends them in set order, which changes from run to run; their order
        # means nothing to the engine.
        if r.dependencies:
            res["dependencies"] = sorted(set(r.dependencies))
        if r.property_dependencies:
            res["propertyDependencies"] = {k: sorted(set(v)) for k, v in sorted(r.property_dependencies.items()) if v}
        for key in ("protect", "retainOnDelete", "deletedWith", "ignoreChanges", "additionalSecretOutputs"):
            if r.options.get(key):
                res[key] = r.options[key]
        if r.read:
            res["external"] = True
        resources.append(res)
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": now, "magic": manifest_magic(MANIFEST_VERSION), "version": MANIFEST_VERSION},
            "resources": resources,
        },
    }


def _dependency_order(regs: list[Registration]) -> list[Registration]:
    """Default providers first, then each resource after its parent, provider and dependencies;
    ties in URN order, so the order does not depend on the order of registration."""
    by_urn = {r.urn: r for r in regs}
    needs: dict[str, set[str]] = {}
    for r in regs:
        refs = {r.parent, r.provider.rsplit("::", 1)[0] if r.provider else "", *r.dependencies}
        needs[r.urn] = {u for u in refs if u in by_urn and u != r.urn}
    users: dict[str, list[str]] = {}
    for urn, deps in needs.items():
        for d in deps:
            users.setdefault(d, []).append(urn)
    ready = [(not by_urn[u].default_provider, u) for u, deps in needs.items() if not deps]
    heapq.heapify(ready)
    out: list[Registration] = []
    while ready:
        _, urn = heapq.heappop(ready)
        out.append(by_urn[urn])
        for user in users.get(urn, []):
            needs[user].discard(urn)
            if not needs[user]:
                heapq.heappush(ready, (not by_urn[user].default_provider, user))
    placed = {r.urn for r in out}
    return out + sorted((r for r in regs if r.urn not in placed), key=lambda r: r.urn)


def _root(p: Preview) -> Registration | None:
    return next((r for r in p.registrations if is_root(r)), None)


def is_root(r: Registration) -> bool:
    return r.type == ROOT_STACK_TYPE
