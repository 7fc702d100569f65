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

# Controls no rule implements (the rules' own `controls` say which they do implement, and how).
NOT_COVERED: tuple[tuple[str, str], ...] = (
    (
        "FSBP ELB.18, Config `elbv2-listener-encryption-in-transit`",
        "an HTTP listener that only redirects to HTTPS (ELB.1) is allowed, as is NLB TCP pass-through; "
        "`lb-http-redirects-to-https` enforces the redirect",
    ),
    (
        "cdk-nag `ELBv2ACMCertificateRequired`",
        "fails every listener without a certificate, HTTP redirect listeners included",
    ),
    (
        "checkov CKV_AWS_378",
        "its graph check passes an HTTP target group behind an HTTPS listener; "
        "`lb-target-group-encrypted` follows FSBP ELB.22 instead",
    ),
    (
        "Config `ecs-awsvpc-networking-enabled`",
        "bridge-mode tasks on EC2 are part of the platform (`ecs-bridge-dynamic-host-ports`)",
    ),
    (
        "FSBP ECR.1/2/3, checkov CKV_AWS_163/51/136/32, CKV_AWS_297, cdk-nag `WAFv2LoggingEnabled`",
        "the pack reads no ECR repositories, schedule payload keys or web ACLs",
    ),
)


def _controls(rule: Rule, ids: tuple[str, ...]) -> str:
    """Control ids grouped by relation, one group per line: "A, B" (same semantics), "C, D (stricter: ...)"."""
    groups: list[tuple[str | None, list[str]]] = []
    for i in ids:
        note = rule.controls.relation.get(i)
        if groups and groups[-1][0] == note:
            groups[-1][1].append(i)
        else:
            groups.append((note, [i]))
    text = "<br>".join(", ".join(members) + (f" ({note})" if note else "") for note, members in groups)
    return text.replace("|", "\\|") if text else "—"


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
            f"{_controls(r, r.controls.fsbp)} | {_controls(r, r.controls.cdk_nag)} | "
            f"{_controls(r, r.controls.checkov)} |"
        )
    rows += [
        "",
        "Controls of these catalogues on resource types the pack reads that no rule implements, and why:",
        "",
        "| Control | Why not covered |",
        "|---|---|",
    ]
    rows += [f"| {c} | {why} |" for c, why in NOT_COVERED]
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
