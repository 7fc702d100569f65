"""A pull request does not decide its own verdict: pull-request.yml judges its program and stack
files with the base branch's policy pack, pack config and preview tool, and marks a pull request
that changes them.

The `base` step's script runs for real (step_runner.py) in a repository whose HEAD is a merge
commit, as `actions/checkout` leaves it for a pull request; the rest is read from the workflow.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from step_runner import ROOT, find_step, run_step

WORKFLOW = "pull-request.yml"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str = "change") -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def pull_request(tmp_path: Path, changes: dict[str, str]) -> tuple[Path, str]:
    """A repository checked out at the merge commit of a branch with `changes` into main; returns
    it and the base commit."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    base = commit(repo, {"policies/PulumiPolicy.yaml": "version: 0.1.0\n", "policies/rules.py": "STRICT = True\n",
                         "Pulumi.dev.yaml": "config: {}\n", "__main__.py": "import pulumi\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, changes)
    git(repo, "checkout", "-q", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "merge", "-q", "--no-ff", "-m", "merge", "feature")
    return repo, base


@pytest.mark.parametrize(
    ("changes", "marked"),
    [
        ({"Pulumi.dev.yaml": "config:\n  p:x: 1\n"}, ""),
        ({"policies/rules.py": "STRICT = False\n", "Pulumi.dev.yaml": "config:\n  p:x: 1\n"}, "policies/rules.py"),
        ({"offline/report.py": "PASS = True\n", ".github/workflows/pull-request.yml": "on: push\n",
          "tools/pr_comment.py": "print('all good')\n"},
         ".github/workflows/pull-request.yml,offline/report.py,tools/pr_comment.py"),
    ],
    ids=["stack file only", "weakens the pack", "changes the tool and the workflow"],
)
def test_the_base_worktree_holds_the_base_branch_and_changes_are_marked(tmp_path: Path, changes: dict[str, str],
                                                                        marked: str) -> None:
    repo, base = pull_request(tmp_path, changes)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    run = run_step(WORKFLOW, "offline-preview", "base", cwd=repo, env={}, runner_env={"RUNNER_TEMP": str(runner_temp)})
    assert run.returncode == 0, run.output
    assert run.outputs == {"dir": str(runner_temp / "base"), "changed": marked}
    worktree = runner_temp / "base"
    assert git(worktree, "rev-parse", "HEAD") == base
    assert (worktree / "policies" / "rules.py").read_text() == "STRICT = True\n"  # the pack as on main
    assert not (worktree / "offline").exists()


def test_a_checkout_that_is_not_the_merge_commit_fails(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"a": "1\n"})
    commit(repo, {"a": "2\n"})
    run = run_step(WORKFLOW, "offline-preview", "base", cwd=repo, env={}, runner_env={"RUNNER_TEMP": str(tmp_path)})
    assert run.returncode == 1
    assert "::error::expected the pull request's merge commit" in run.output


def _job(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / WORKFLOW).read_text())["jobs"][name]


def test_the_offline_previews_run_the_base_tool_and_pack() -> None:
    job = _job("offline-preview")
    assert job["steps"][0]["with"]["fetch-depth"] == 2
    venv = next(s for s in job["steps"] if s.get("name") == "The base branch's virtualenv")
    assert venv["run"] == 'make -C "$BASE" venv' and venv["env"]["BASE"] == "${{ steps.base.outputs.dir }}"
    assert not any(s.get("run") == "make venv" for s in job["steps"])  # no virtualenv of the pull request's
    for step_id, program in (("baseline", '"$BASE"'), ("preview", '"$here"')):
        step = find_step(WORKFLOW, "offline-preview", step_id)
        assert step["env"]["BASE"] == "${{ steps.base.outputs.dir }}"
        script = " ".join(step["run"].replace("\\\n", " ").split())
        # From the base worktree, `python -m offline` imports the base's tool, with the base's
        # virtualenv, and its default pack and pack config are the base's policies/.
        assert f'(cd "$BASE" && venv/bin/python -m offline preview --program {program} --stack "$STACK"' in script
        assert "--policy-pack" not in script
    comment = find_step(WORKFLOW, "offline-preview", "comment")
    assert comment["run"].startswith('"$BASE/venv/bin/python" "$BASE/tools/pr_comment.py" ')
    post = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/github-script@"))
    assert post["env"]["CHANGED"] == "${{ steps.base.outputs.changed }}"
    assert "This pull request changes what judges it" in post["with"]["script"]


def test_the_real_preview_uses_the_base_pack() -> None:
    job = _job("pulumi-preview")
    assert job["steps"][0]["with"]["fetch-depth"] == 2
    base = find_step(WORKFLOW, "pulumi-preview", "base")
    assert 'git worktree add --detach "$RUNNER_TEMP/base" "$(git rev-parse HEAD^1)"' in base["run"]
