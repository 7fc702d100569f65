"""Render a change set: the text report's change section and the Markdown comment's.

Owns: presentation of `changes.ChangeSet` only (the operations' symbols and order, the warning
section, the table of changed resources with their property diffs). report.py places these.
"""

from __future__ import annotations

from .changes import Change, ChangeSet

SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " "}
VERB = {"create": "to create", "update": "to update", "replace": "to replace", "delete": "to delete", "same": "unchanged"}
# Most consequential first: the order of the changed-resources lists.
DISPLAY_ORDER = ("replace", "delete", "create", "update")
MAX_DIFFS_SHOWN = 8  # property diffs per resource in the Markdown table


def summary(cs: ChangeSet) -> str:
    """`1 to replace, 2 to update, 104 unchanged` (or `no changes`)."""
    counts = cs.counts()
    parts = [f"{counts[op]} {VERB[op]}" for op in DISPLAY_ORDER if counts[op]]
    if not parts:
        return f"no changes ({counts['same']} unchanged)"
    return ", ".join(parts) + f" ({counts['same']} unchanged)"


def ordered(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (DISPLAY_ORDER.index(c.op) if c.op in DISPLAY_ORDER else 9, c.urn))


def blocked_line(cs: ChangeSet) -> str:
    return (f"Blocked by --fail-on-replace: {len(cs.warned)} replacement(s) or deletion(s) of protected, retained or "
            "stateful resources; the preview exits 1 for them (this is not a policy violation).")


def baseline_line(cs: ChangeSet) -> str:
    what = "an offline preview's JSON report" if cs.baseline.kind == "report" else "a deployment export"
    return f"Against the baseline {cs.baseline.file} ({what} of stack '{cs.baseline.stack}')."


# ---- text -----------------------------------------------------------------------------------------------


def text_lines(cs: ChangeSet) -> list[str]:
    counts = cs.counts()
    lines = [f"Changes: {summary(cs)}", f"  {baseline_line(cs)}"]
    lines += [f"  {SYMBOL[op]:>2} {counts[op]:>4} {VERB[op]}" for op in (*DISPLAY_ORDER, "same")]
    lines += [f"  note: {n}" for n in cs.notes()]
    if cs.warned:
        lines += ["", f"WARNING: {len(cs.warned)} replacement(s) or deletion(s) of protected, retained or stateful resources:"]
        for c in ordered(cs.warned):
            lines.append(f"  {c.op:<8} {c.type}  {c.name}")
            lines += [f"           {w}" for w in c.warnings]
        if cs.blocked:
            lines.append(f"  {blocked_line(cs)}")
    if cs.changed:
        lines += ["", "Changed resources:"]
        for c in ordered(cs.changed):
            previous = f" (was {c.previous_urn.rsplit('::', 1)[-1]}, by alias)" if c.previous_urn else ""
            lines.append(f"  {SYMBOL[c.op]:>2} {c.type}  {c.name}{previous}")
            lines += [f"       {d.path}: {d.old} => {d.new}" for d in c.diffs]
            if c.op == "replace":
                lines += [f"       replace: {r}" for r in c.reasons]
    return lines


# ---- Markdown -------------------------------------------------------------------------------------------


def code(text: str) -> str:
    """An inline code span safe in a table cell."""
    text = text.replace("|", "\\|").replace("\n", " ")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def markdown_heading(cs: ChangeSet) -> list[str]:
    counts = cs.counts()
    lines = [f"#### Changes: {summary(cs)}", "", f"_{baseline_line(cs)}_", ""]
    if cs.changed:
        lines += ["| " + " | ".join(f"{SYMBOL[op].strip() or '='} {VERB[op]}" for op in (*DISPLAY_ORDER, "same")) + " |",
                  "|" + "---|" * 5,
                  "| " + " | ".join(str(counts[op]) for op in (*DISPLAY_ORDER, "same")) + " |", ""]
    lines += [f"_Note: {n}_" for n in cs.notes()]
    return lines


def markdown_warning_head(cs: ChangeSet) -> list[str]:
    if not cs.warned:
        return []
    lines = ["> [!WARNING]",
             f"> **{len(cs.warned)} replacement(s) or deletion(s) of protected, retained or stateful resources**", ">"]
    if cs.blocked:
        lines += [f"> ⛔ **{blocked_line(cs)}**", ">"]
    return lines


def markdown_warning_rows(cs: ChangeSet) -> list[str]:
    return [f"> - **{c.op}** {code(c.name)} ({code(c.type)}): {'; '.join(c.warnings)}" for c in ordered(cs.warned)]


def markdown_table_head(cs: ChangeSet) -> list[str]:
    if not cs.changed:
        return []
    lines = [f"<details><summary>Changed resources ({len(cs.changed)})</summary>", ""]
    if any(c.op == "delete" for c in cs.changed):
        lines += ["_A delete means the URN is no longer in the program: the resource was removed, or renamed or "
                  "moved without an alias (an alias keeps it)._", ""]
    return [*lines, "| Op | Resource | Type | Changed properties |", "|---|---|---|---|"]


def markdown_table_rows(cs: ChangeSet) -> list[str]:
    rows = []
    for c in ordered(cs.changed):
        cells = [f"{code(d.path)}: {code(d.old)} → {code(d.new)}" for d in c.diffs[:MAX_DIFFS_SHOWN]]
        if len(c.diffs) > MAX_DIFFS_SHOWN:
            cells.append(f"… {len(c.diffs) - MAX_DIFFS_SHOWN} more")
        if c.op == "replace":
            cells.append("**replace:** " + "; ".join(c.reasons).replace("|", "\\|"))
        if c.previous_urn:
            cells.append(f"was {code(c.previous_urn.rsplit('::', 1)[-1])} (alias)")
        rows.append(f"| {c.op} | {code(c.name)} | {code(c.type)} | {'<br>'.join(cells)} |")
    return rows


def markdown_table_tail(cs: ChangeSet) -> list[str]:
    return ["", "</details>", ""] if cs.changed else []
