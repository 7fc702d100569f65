"""policies/README.md's table is generated from the rule metadata and must match the pack."""

from __future__ import annotations

import re

from ecs_guardrails import docs
from ecs_guardrails.pack import build_rules
from pack_fixtures import POLICIES


def test_readme_table_is_current():
    text = (POLICIES / "README.md").read_text()
    assert docs.render(text) == text, "run `python -m ecs_guardrails.docs` in policies/"


def test_readme_lists_every_policy_with_level():
    text = (POLICIES / "README.md").read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z0-9-]+)` \|.*$", text, re.M)}
    rules = build_rules()
    assert set(rows) == {r.name for r in rules}
    for r in rules:
        assert f"| {r.level.value} |" in rows[r.name]


def test_org_rules_present_and_mandatory():
    by_name = {r.name: r for r in build_rules()}
    for name in (
        "ecs-container-resource-limits",
        "ecs-service-load-balancer-required",
        "ecs-container-logging-required",
    ):
        assert by_name[name].level.value == "mandatory"
    assert len(by_name) >= 40
