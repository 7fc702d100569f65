"""Generate the policy table in policies/README.md from the rule metadata.

`python -m ecs_guardrails.docs` (from policies/) rewrites the table between the markers;
`--check` exits 1 when README.md disagrees with the pack."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .pack import build_rules
from .rule import Rule

BEGIN, END = "<!-- policy-table:begin -->", "<!-- policy-table:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"


def _cell(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(items) if items else "—"


def _knobs(rule: Rule) -> str:
    return (
        "<br>".join(f"`{k}` (default `{_default(v.get('default'))}`)" for k, v in rule.config.items()) or "—"
    )


def _default(v: object) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]" if len(v) <= 3 else f"[{len(v)} items]"
    if v == "":
        return '""'
    return str(v).lower() if isinstance(v, bool) else str(v)


def _types(rule: Rule) -> str:
    if rule.stack:
        return "stack"
    if "*" in rule.resource_types:
        return "any"
    return "<br>".join(f"`{t}`" for t in rule.resource_types)


def table(rules: list[Rule] | None = None) -> str:
    rows = [
        "| Policy | Checks | Resource types | Default level | Config knobs | Security Hub (FSBP) | cdk-nag "
        "| checkov |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rules or build_rules():
        desc = r.description.replace("|", "\\|")
        rows.append(
            f"| `{r.name}` | {desc} | {_types(r)} | {r.level.value} | {_knobs(r)} | "
            f"{_cell(r.controls.fsbp)} | {_cell(r.controls.cdk_nag)} | {_cell(r.controls.checkov)} |"
        )
    return "\n".join(rows)


def render(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ecs_guardrails.docs",
        description="Rewrite the policy table in policies/README.md from the rules (run in policies/).",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when README.md disagrees with the pack")
    args = parser.parse_args(argv)
    text = README.read_text()
    new = render(text)
    if args.check:
        if new != text:
            print("policies/README.md is out of date: run `python -m ecs_guardrails.docs` in policies/")
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
