"""Workflow security: zizmor (offline) finds nothing unsuppressed; reusable workflows get only the secrets they use."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"
ZIZMOR = Path(sys.executable).parent / "zizmor"  # requirements-dev.txt


def zizmor(*inputs: Path) -> list[dict]:
    assert ZIZMOR.is_file(), f"{ZIZMOR} is missing: `make venv` installs zizmor from requirements-dev.txt"
    result = subprocess.run(
        [str(ZIZMOR), "--offline", "--no-progress", "--format", "json", "--config", str(ZIZMOR_CONFIG), *map(str, inputs)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_CONFIG")},
    )
    # zizmor exits 0 with no findings, 10-14 by the highest severity found, anything else on failure.
    assert result.returncode == 0 or 10 <= result.returncode <= 14, result.stderr
    return json.loads(result.stdout)


def describe(findings: list[dict]) -> str:
    return "\n".join(
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']} at "
        f"{f['locations'][0]['symbolic']['key']['Local']['verbatim_path']}:"
        f"{f['locations'][0]['concrete']['location']['start_point']['row'] + 1}"
        for f in findings
    )


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    findings = zizmor(WORKFLOW_DIR)
    assert findings == [], describe(findings)


def test_zizmor_reports_inherited_secrets(tmp_path: Path) -> None:
    # Guards the check above, and that the config suppresses no more than it says: a caller named
    # like ours that inherits every secret is reported.
    (tmp_path / "deploy.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  dev:\n    uses: ./.github/workflows/pulumi-up.yml\n"
        "    permissions: {}\n    secrets: inherit\n"
    )
    assert [f["ident"] for f in zizmor(tmp_path / "deploy.yml")] == ["secrets-inherit"]


def test_every_zizmor_suppression_gives_its_reason() -> None:
    lines = ZIZMOR_CONFIG.read_text().splitlines()
    rules = yaml.safe_load(ZIZMOR_CONFIG.read_text())["rules"]
    for rule, settings in rules.items():
        assert set(settings) <= {"ignore", "config"}, f"{rule}: disable a rule only with a reason per finding (use ignore:)"
        for entry in settings.get("ignore", []):
            line = next(line for line in lines if re.match(rf"\s*- {re.escape(entry)}\s", line + " "))
            assert re.search(r"#\s*\S", line), f"zizmor.yml: {rule} ignore {entry} gives no reason on its line"
            assert (WORKFLOW_DIR / entry.split(":")[0]).is_file(), f"zizmor.yml: {entry} is no workflow"


def reusable_calls() -> list[tuple[str, str, dict]]:
    calls = []
    for path in WORKFLOWS:
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            if job.get("uses", "").startswith("./.github/workflows/"):
                calls.append((f"{path.name} {name}", job["uses"].removeprefix("./"), job))
    return calls


def test_no_workflow_inherits_secrets() -> None:
    for path in WORKFLOWS:
        assert not re.search(r"^\s*secrets:\s*inherit\s*$", path.read_text(), re.M), f"{path.name}: secrets: inherit"


@pytest.mark.parametrize(("where", "callee", "job"), reusable_calls(), ids=lambda v: v if isinstance(v, str) else "")
def test_reusable_workflows_get_exactly_the_secrets_they_declare_and_use(where: str, callee: str, job: dict) -> None:
    called = yaml.safe_load((ROOT / callee).read_text())
    declared = called[True]["workflow_call"].get("secrets", {})  # PyYAML reads `on:` as True
    passed = job.get("secrets", {})
    assert set(passed) == set(declared), f"{where} passes {sorted(passed)}; {callee} declares {sorted(declared)}"
    for name in passed:
        assert passed[name] == f"${{{{ secrets.{name} }}}}", f"{where}: pass {name} as itself"
    used = set(re.findall(r"secrets\.(\w+)", json.dumps(called["jobs"])))
    assert used == set(declared), f"{callee} declares {sorted(declared)} and uses {sorted(used)}"
