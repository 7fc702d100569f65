"""Writes what is generated from the AWS limits catalogue (components/aws_limits.yaml): the tables of
docs/aws-limits.md and the policy pack's copy, policies/ecs_guardrails/aws_limits.json.

Usage: python -m components.aws_limits_doc [--check]. The test suite fails when either is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .aws_limits import CATALOGUE, Catalogue, catalogue, pack_copy

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "aws-limits.md"
PACK_COPY = ROOT / "policies" / "ecs_guardrails" / "aws_limits.json"

HEADER = f"""# AWS limits and formats

Generated from `components/{CATALOGUE.name}` by `python -m components.aws_limits_doc`; do not edit by
hand. AWS checks these when `pulumi up` calls it, not before: a preview passes and the update fails
half-way. The stack config checks what it can know from the config alone (task sizes against the
instance types, schedule expressions, the names it derives: `ecs-platform:` errors before any
resource is declared); the policy pack (`aws-*` policies, from its copy
`policies/ecs_guardrails/{PACK_COPY.name}`) checks the resources of any program.
A source `botocore <service> <Shape>[.<member>]` is AWS's API model in botocore; the tests read
each one back and check the fact against it.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """Inline code that survives the table: backticks doubled where the text holds one."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{_cell(text)}{fence}" if text else "—"


def _sources(sources: tuple[str, ...]) -> str:
    return "<br>".join(_cell(s) for s in sources)


def _names(cat: Catalogue) -> list[str]:
    lines = ["## Names", "",
             "| name | where (type: property) | length | characters | also refused | source |",
             "| --- | --- | --- | --- | --- | --- |"]
    for rule in cat.names.values():
        where = "<br>".join(f"`{r.type}`: `{r.property}`" for r in rule.resources)
        refused = "; ".join(f.reason for f in rule.forbidden) or "—"
        lines.append(f"| {rule.what} | {where} | {rule.min}-{rule.max} | {_cell(rule.chars)} | {_cell(refused)} | "
                     f"{_sources(rule.sources)} |")
    lines.append("")
    return lines


def _tags(cat: Catalogue) -> list[str]:
    t = cat.tags
    return ["## Tags", "", f"{t.what}: at most {t.max_tags} tags; keys {t.key_min}-{t.key_max} characters, not "
            f"beginning with `{t.reserved_prefix}`; values at most {t.value_max} characters. "
            f"{', '.join(f'`{p}*`' for p in t.restricted_types)} resources take letters, digits, spaces and "
            f"`{t.restricted_characters}` only (EC2 and Auto Scaling, for example, take any characters).", "",
            f"Sources: {'; '.join(t.sources)}.", ""]


def _schedules(cat: Catalogue) -> list[str]:
    s = cat.schedules
    lines = ["## Schedule expressions", "", f"{s.what}; at most {s.max_length} characters.", "",
             "| where | takes |", "| --- | --- |"]
    lines += [f"| `{loc.type}`: `{loc.property}` | {', '.join(f'`{k}()`' for k in kinds)} |" for loc, kinds in s.resources]
    units = ", ".join(s.rate_units)
    lines += ["", f"- `rate(<value> <unit>)`: a positive integer and one of {units}; the value 1 takes the singular "
              "unit (`rate(1 hour)`), larger values the plural (`rate(5 minutes)`).",
              "- `at(yyyy-mm-ddThh:mm:ss)`: one calendar date and time (EventBridge Scheduler only).",
              "- `cron(<6 fields>)`: exactly one of day-of-month and day-of-week is `?` (a value or `*` in one "
              "needs `?` in the other); `#` takes one expression only in its field.", "",
              "| cron field | values | wildcards |", "| --- | --- | --- |"]
    for f in s.cron_fields:
        named = f" or {f.names[0]}-{f.names[-1]}" if f.names else ""
        lines.append(f"| {f.name} | {f.min}-{f.max}{named} | {_code(f.wildcards)} |")
    lines += ["", f"Accepted: {', '.join(_code(e) for e in s.valid)}.", "",
              f"Refused: {', '.join(_code(e) for e in s.invalid)}.", "",
              f"Sources: {'; '.join(s.sources)}.", ""]
    return lines


def _instance_types(cat: Catalogue) -> list[str]:
    lines = ["## Instance types: what ECS tasks get", "",
             f"The ECS agent registers an instance's CPU as vCPUs x {cat.cpu_units_per_vcpu} units and its memory as "
             "the operating system's total memory (`MemTotal`) less `ECS_RESERVED_MEMORY` (this program sets none). "
             "`MemTotal` is below the nominal memory (kernel and platform overhead) and AWS publishes it for no "
             f"type, so the catalogue estimates it as Karpenter does: nominal MiB less "
             f"{cat.memory_overhead_percent:g} %, rounded down. A task (the task size, or its containers' total) "
             "above a type's figures can never be placed on it; the stack config refuses such a task for every "
             "instance type of the capacity providers its strategy uses, and an instance type missing here "
             "(add it to the catalogue).", "",
             "| instance type | vCPUs | memory (GiB) | CPU units for tasks | memory for tasks (MiB, estimate) |",
             "| --- | --- | --- | --- | --- |"]
    for it in cat.instance_types.values():
        lines.append(f"| {it.name} | {it.vcpus} | {it.memory_gib:g} | {it.cpu_units} | {it.memory_mib} |")
    lines += ["", f"Sources: {'; '.join(cat.instance_sources)}.", ""]
    return lines


def _quotas(cat: Catalogue) -> list[str]:
    lines = ["## Counts and sizes", "", "| limit | at most | adjustable | source |", "| --- | --- | --- | --- |"]
    for q in cat.quotas.values():
        lines.append(f"| {_cell(q.what)} | {q.max} | {'yes (Service Quotas)' if q.adjustable else 'no'} | "
                     f"{_sources(q.sources)} |")
    lines.append("")
    return lines


def render() -> str:
    cat = catalogue()
    lines = [HEADER]
    for section in (_names, _tags, _schedules, _quotas, _instance_types):
        lines += section(cat)
    return "\n".join(lines)


def render_pack_copy() -> str:
    return json.dumps(pack_copy(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m components.aws_limits_doc",
        description="Write docs/aws-limits.md and the policy pack's copy of the catalogue "
        "(policies/ecs_guardrails/aws_limits.json) from components/aws_limits.yaml.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when either file is stale")
    args = parser.parse_args(argv)
    outputs = {DOC: render(), PACK_COPY: render_pack_copy()}
    stale = [path for path, text in outputs.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `python -m components.aws_limits_doc`", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(exist_ok=True)
        path.write_text(outputs[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
