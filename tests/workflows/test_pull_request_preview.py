"""pull-request.yml's offline preview, run step by step as the runner does (step_runner.py) on a
repository whose HEAD is a pull request's merge commit: the base commit, checked out beside it,
provides the preview tool, the pack and the comment builder; its preview is the baseline, the
head's preview compares with it, and tools/pr_comment.py builds the comment that is posted."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from step_runner import ROOT, StepRun, find_step, run_step

JOB = "offline-preview"
RUN_URL = "https://github.com/acme/ecs-platform/actions/runs/42"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True,
                          capture_output=True, text=True, timeout=60).stdout.strip()


def pull_request(tmp_path: Path, change: dict[str, str]) -> Path:
    """A repository like ours on main, a branch with `change` (file -> new text), and the merge
    commit GitHub checks out for the pull request (first parent: main)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for directory in ("offline", "components", "policies", "tools"):
        shutil.copytree(ROOT / directory, repo / directory, ignore=ignore)
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, repo / name)
    (repo / ".gitignore").write_text("venv\n__pycache__/\n")
    (repo / "venv").symlink_to(ROOT / "venv")  # `make venv` made it on the runner
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main")
    git(repo, "checkout", "-qb", "change")
    for name, text in change.items():
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the change")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "change", "-m", "Merge the pull request")
    return repo


def run(repo: Path, step: str, env: dict[str, str]) -> StepRun:
    runner = repo.parent / "runner"
    runner.mkdir(exist_ok=True)
    return run_step("pull-request.yml", JOB, step, cwd=repo, env=env, runner_env={"RUNNER_TEMP": str(runner)})


def workflow(repo: Path, stack: str, fail_on_replace: str = "") -> tuple[StepRun, StepRun, str]:
    """The base, baseline, preview and comment steps, each fed the previous ones' outputs."""
    base = run(repo, "base", {})
    assert base.returncode == 0, base.output
    (Path(base.outputs["dir"]) / "venv").symlink_to(ROOT / "venv")  # the `make -C "$BASE" venv` step
    baseline = run(repo, "baseline", {"STACK": stack, "BASE": base.outputs["dir"]})
    assert baseline.returncode == 0, baseline.output
    preview = run(repo, "preview", {"STACK": stack, "BASE": base.outputs["dir"],
                                    "BASELINE": baseline.outputs.get("file", ""), "FAIL_ON_REPLACE": fail_on_replace})
    assert preview.returncode == 0, preview.output  # the step records the code; a later step fails the job
    built = run(repo, "comment", {"STACK": stack, "BASE": base.outputs["dir"], "CODE": preview.outputs["exit-code"],
                                  "RUN_URL": RUN_URL})
    assert built.returncode == 0, built.output
    return baseline, preview, (repo / f"comment-{stack}.md").read_text()


def test_the_comment_shows_the_change_against_the_base_branch(tmp_path: Path) -> None:
    prod = (ROOT / "Pulumi.prod.yaml").read_text()
    api = prod.index("    api:")
    changed = prod[:api] + prod[api:].replace("      cpu: 512\n", "      cpu: 1024\n", 1)
    repo = pull_request(tmp_path, {"Pulumi.prod.yaml": changed})
    baseline, preview, comment = workflow(repo, "prod", fail_on_replace="true")
    assert baseline.outputs == {"file": "baseline-prod.json"}
    # The baseline is the base commit's program: api's cpu there is still 512.
    base = json.loads((repo / "baseline-prod.json").read_text())
    task = next(r for r in base["resources"] if r["urn"].endswith("::api-task"))
    assert json.loads(task["inputs"]["containerDefinitions"])[0]["cpu"] == 512
    assert preview.outputs == {"exit-code": "0"}  # a task definition replacement is routine: not blocked
    head = json.loads((repo / "preview-prod.json").read_text())
    assert head["summary"]["changes"]["replace"] == 1 and head["summary"]["changes"]["update"] == 1
    # Every other registration is unchanged: the snapshot's 110 resources and the default providers (the
    # program's aws, awsx's and the aws one awsx's children ask for) but the two changed ones.
    unchanged = head["summary"]["changes"]["same"]
    assert unchanged == len(head["changes"]) - 2 == 111
    lines = comment.splitlines()
    assert lines[1] == f"### ✅ Offline preview: `prod` — 1 to replace, 1 to update ({unchanged} unchanged)"
    assert "| replace | `api-task` | `aws:ecs/taskDefinition:TaskDefinition` |" in comment
    assert "cpu cannot change in place" in comment and "| update | `api-service` |" in comment
    assert comment.index("#### Changes:") < comment.index("| Verdict |") < comment.index("#### Policy violations")
    assert comment.endswith(f"artifact `offline-preview-prod` of [this run]({RUN_URL}#artifacts)._\n")
    assert len(comment) < 60_000


def test_a_new_stack_with_a_config_error_posts_the_error_lines(tmp_path: Path) -> None:
    broken = "config:\n  aws:region: eu-west-1\n  ecs-platform:services:\n    web:\n      image: nginx:1.27\n      cpu: lots\n"
    repo = pull_request(tmp_path, {"Pulumi.qa.yaml": broken})
    baseline, preview, comment = workflow(repo, "qa")
    assert baseline.outputs == {}
    assert "a new stack, every resource is created" in (repo / "baseline-qa.note").read_text()
    assert preview.outputs == {"exit-code": "2"}
    assert comment.startswith("### 💥 Offline preview: `qa` failed (exit 2)")
    assert "ecs-platform:services.web.cpu: Input should be a valid integer" in comment
    assert "ecs-platform:services.web.memory: required key is missing" in comment


@pytest.mark.parametrize("step", ["baseline", "preview", "comment"])
def test_the_steps_read_the_stack_from_the_matrix(step: str) -> None:
    assert find_step("pull-request.yml", JOB, step)["env"]["STACK"] == "${{ matrix.stack }}"


def test_the_preview_compares_with_the_baseline_steps_report_and_the_comment_is_what_is_posted() -> None:
    assert find_step("pull-request.yml", JOB, "preview")["env"]["BASELINE"] == "${{ steps.baseline.outputs.file }}"
    steps = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())["jobs"][JOB]["steps"]
    checkout = steps[0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 2
    post = next(s for s in steps if s.get("uses", "").startswith("actions/github-script@"))
    assert "comment-${stack}.md" in post["with"]["script"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "offline-preview-${{ matrix.stack }}"
