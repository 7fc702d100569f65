"""The repository's own program and pack: dev and prod have no mandatory violation."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from offline_testlib import PROGRAM, REPO, load_json, run_cli

SCHEMA = json.loads((REPO / "offline" / "report.schema.json").read_text())


def test_real_pack_runs_on_the_fixture_program(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", str(REPO / "policies"), "--json", str(out))
    assert proc.returncode in (0, 1), proc.stderr
    report = load_json(out)
    jsonschema.validate(report, SCHEMA)
    assert report["summary"]["policyPack"].startswith("ecs-guardrails@")
    # No leftover-process check here: other workers may run packs from the same directory.


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_repository_stack_has_no_mandatory_violation(tmp_path: Path, stack: str) -> None:
    out = tmp_path / "r.json"
    proc = run_cli("--stack", stack, "--json", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = load_json(out)
    jsonschema.validate(report, SCHEMA)
    summary = report["summary"]
    assert summary["mandatory"] == 0
    # What `make preview` says: the stack's own config, every mandatory check decided (role, instance
    # profile and subnet references at preview included), nothing disabled, no warning.
    assert summary["policyConfig"] == f"policies/config/{stack}.json"
    assert summary["verdict"] == "pass" and summary["deferred"] == [] and summary["warnings"] == []
    assert summary["disabledPolicies"] == []
    lowered = {x["policyName"] for x in summary["loweredPolicies"]}
    assert lowered == ({"lb-deletion-protection"} if stack == "dev" else set())
