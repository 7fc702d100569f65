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
    assert report["summary"]["mandatory"] == 0
