"""The release and drift scripts of the workflows, run in bash with stand-ins for `pulumi` and `gh`.

Each test runs a step's real `run:` script (step_runner.py) and asserts the CLI calls it makes, in
order, with the arguments bash expanded; every recorded `pulumi` call is also checked against the
CLI reference. git and jq are the real ones (both are on the runners and on this machine).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pulumi_cli import Reference
from step_runner import ROOT, StepRun, find_step, run_step

REFERENCE = Reference.load()
ZERO_SHA = "0" * 40

_POLICIES = str(ROOT / "policies")
if _POLICIES not in sys.path:
    sys.path.insert(0, _POLICIES)
from ecs_guardrails import PACK_NAME  # noqa: E402


@pytest.fixture(autouse=True)
def _tools() -> None:
    for tool in ("bash", "git", "jq"):
        assert shutil.which(tool), f"{tool} is needed to run the workflow scripts (the runners have it)"


def assert_pulumi_calls_are_valid(run: StepRun) -> None:
    for argv in run.argvs("pulumi"):
        checked = REFERENCE.check(argv)
        assert not checked.problems, f"pulumi {' '.join(argv)}: {checked.problems}"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def commit(repo: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "change")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, {
        "policies/PulumiPolicy.yaml": "runtime: python\nversion: 0.1.0\n",
        "policies/README.md": "# pack\n",
        "policies/ecs_guardrails/rules.py": "RULES = []\n",
        "policies/config/dev.json": "{}\n",
    })
    return tmp_path


# policy-pack.yml, publish job.

def publish(repo: Path, before: str, packs: list[dict] | None = None, ls_code: int = 0) -> StepRun:
    listing = json.dumps(packs if packs is not None else [{"name": PACK_NAME, "versions": ["0.1.0"]}])
    return run_step(
        "policy-pack.yml", "publish", "publish", cwd=repo,
        env={"PULUMI_ACCESS_TOKEN": "token", "PULUMI_ORG": "acme", "PACK": PACK_NAME, "VERSION": "0.1.0", "BEFORE": before},
        runner_env={"GITHUB_SHA": git(repo, "rev-parse", "HEAD")},
        answers={"pulumi policy ls": (ls_code, listing)},
    )


def test_the_pack_name_and_version_are_the_packs() -> None:
    step = find_step("policy-pack.yml", "publish", "publish")
    assert step["env"]["PACK"] == PACK_NAME
    run = run_step("policy-pack.yml", "publish", "version", cwd=ROOT, env={})
    assert run.returncode == 0, run.output
    assert run.outputs == {"version": str(yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())["version"])}


def test_a_new_version_is_installed_and_published_from_the_pack_directory(repo: Path) -> None:
    before = git(repo, "rev-parse", "HEAD")
    commit(repo, {"policies/PulumiPolicy.yaml": "runtime: python\nversion: 0.1.0\n# new\n"})
    # Another pack with this version and this pack with another one: 0.1.0 is not published.
    run = publish(repo, before, [{"name": "other", "versions": ["0.1.0"]}, {"name": PACK_NAME, "versions": ["0.0.9"]}])
    assert run.returncode == 0, run.output
    assert [(call.argv, call.cwd) for call in run.calls] == [
        (["pulumi", "policy", "ls", "acme", "--json"], repo),
        (["pulumi", "install"], repo / "policies"),
        (["pulumi", "policy", "publish", "acme"], repo / "policies"),
    ]
    assert run.outputs == {"published": "true"}
    assert_pulumi_calls_are_valid(run)


def test_the_first_publish_of_the_pack_publishes(repo: Path) -> None:
    run = publish(repo, ZERO_SHA, packs=[])
    assert run.returncode == 0, run.output
    assert ["policy", "publish", "acme"] in run.argvs("pulumi")


def test_a_pack_change_since_the_versions_tag_fails_and_says_to_bump_it(repo: Path) -> None:
    git(repo, "tag", f"{PACK_NAME}-v0.1.0")
    commit(repo, {"policies/ecs_guardrails/rules.py": "RULES = ['new']\n"})
    before = commit(repo, {"policies/config/dev.json": '{"a": 1}\n'})  # a later push changes config only
    commit(repo, {"policies/config/dev.json": '{"a": 2}\n'})
    run = publish(repo, before)
    assert run.returncode == 1
    assert (f"{PACK_NAME} 0.1.0 is already published and the pack changed since {PACK_NAME}-v0.1.0, the commit it was "
            "published from (policies/ecs_guardrails/rules.py): bump version: in policies/PulumiPolicy.yaml") in run.output
    assert "::error file=policies/PulumiPolicy.yaml" in run.output
    assert run.argvs("pulumi") == [["policy", "ls", "acme", "--json"]]


def test_a_config_or_docs_change_since_the_versions_tag_only_re_enables(repo: Path) -> None:
    git(repo, "tag", f"{PACK_NAME}-v0.1.0")
    commit(repo, {"policies/config/dev.json": '{"a": 1}\n', "policies/README.md": "# the pack\n",
                  "policies/ecs_guardrails/README.md": "# rules\n"})
    run = publish(repo, "")  # by hand: compared with the tag all the same
    assert run.returncode == 0, run.output
    assert f"the pack is unchanged since {PACK_NAME}-v0.1.0" in run.output
    assert run.argvs("pulumi") == [["policy", "ls", "acme", "--json"]]
    assert run.outputs == {"published": "false"}


def test_an_untagged_published_version_is_compared_with_the_push(repo: Path) -> None:
    before = git(repo, "rev-parse", "HEAD")
    commit(repo, {"policies/ecs_guardrails/rules.py": "RULES = ['new']\n", "policies/config/dev.json": '{"a": 1}\n'})
    run = publish(repo, before)
    assert run.returncode == 1
    assert (f"the pack changed in this push (there is no tag {PACK_NAME}-v0.1.0) (policies/ecs_guardrails/rules.py): "
            "bump version") in run.output
    before = commit(repo, {"policies/ecs_guardrails/rules.py": "RULES = []\n"})
    commit(repo, {"policies/config/dev.json": '{"a": 2}\n'})
    run = publish(repo, before)
    assert run.returncode == 0, run.output


def test_a_manual_run_of_an_untagged_published_version_publishes_nothing(repo: Path) -> None:
    run = publish(repo, "")
    assert run.returncode == 0, run.output
    assert "already published (no tag ecs-guardrails-v0.1.0 to compare with); nothing to publish" in run.output
    assert run.argvs("pulumi") == [["policy", "ls", "acme", "--json"]]


def test_a_push_whose_base_is_unknown_fails_rather_than_guess(repo: Path) -> None:
    run = publish(repo, "1234567890abcdef1234567890abcdef12345678")
    assert run.returncode == 1
    assert "cannot tell whether the pack changed" in run.output


def test_the_tag_job_tags_the_published_commit(tmp_path: Path) -> None:
    run = run_step("policy-pack.yml", "tag", "tag", cwd=tmp_path,
                   env={"GH_TOKEN": "token", "TAG": f"{PACK_NAME}-v0.2.0"},
                   runner_env={"GITHUB_REPOSITORY": "acme/ecs-platform", "GITHUB_SHA": "a" * 40})
    assert run.returncode == 0, run.output
    assert run.argvs("gh") == [["api", "repos/acme/ecs-platform/git/refs", "-f", f"ref=refs/tags/{PACK_NAME}-v0.2.0",
                                "-f", f"sha={'a' * 40}"]]
    step = find_step("policy-pack.yml", "tag", "tag")
    assert step["env"]["TAG"] == f"{PACK_NAME}-v${{{{ needs.publish.outputs.version }}}}"


def test_a_failed_listing_publishes_nothing(repo: Path) -> None:
    run = publish(repo, ZERO_SHA, ls_code=1)
    assert run.returncode != 0
    assert run.argvs("pulumi") == [["policy", "ls", "acme", "--json"]]


# policy-enable.yml.

def enable(tmp_path: Path, groups: list[dict], validate_code: int = 0) -> StepRun:
    return run_step(
        "policy-enable.yml", "enable", "enable", cwd=tmp_path,
        env={"PULUMI_ACCESS_TOKEN": "token", "PULUMI_ORG": "acme", "GROUP": "prod-stacks", "PROJECT": "ecs-platform",
             "STACK": "prod", "PACK": PACK_NAME, "VERSION": "0.2.0", "CONFIG": "policies/config/prod.json"},
        answers={"pulumi policy group ls": (0, json.dumps(groups)),
                 "pulumi policy validate-config": (validate_code, "")},
    )


def test_enable_creates_the_group_adds_the_stack_validates_and_enables(tmp_path: Path) -> None:
    run = enable(tmp_path, [{"name": "default-policy-group", "default": True, "numPolicyPacks": 0, "numStacks": 3}])
    assert run.returncode == 0, run.output
    pack = f"acme/{PACK_NAME}"
    assert run.argvs("pulumi") == [
        ["policy", "group", "ls", "acme", "--json"],
        ["policy", "group", "new", "prod-stacks", "--org", "acme", "--entity-type", "stacks", "--mode", "preventative", "--yes"],
        ["policy", "group", "edit", "prod-stacks", "--org", "acme", "--add-stack", "ecs-platform/prod"],
        ["policy", "validate-config", pack, "0.2.0", "--config", "policies/config/prod.json"],
        ["policy", "enable", pack, "0.2.0", "--policy-group", "prod-stacks", "--config", "policies/config/prod.json"],
    ]
    assert_pulumi_calls_are_valid(run)


def test_enable_keeps_an_existing_group(tmp_path: Path) -> None:
    run = enable(tmp_path, [{"name": "prod-stacks", "default": False, "numPolicyPacks": 1, "numStacks": 1}])
    assert run.returncode == 0, run.output
    assert [argv[:3] for argv in run.argvs("pulumi")] == [
        ["policy", "group", "ls"], ["policy", "group", "edit"], ["policy", "validate-config", f"acme/{PACK_NAME}"],
        ["policy", "enable", f"acme/{PACK_NAME}"],
    ]


def test_enable_stops_before_enabling_a_config_the_version_rejects(tmp_path: Path) -> None:
    run = enable(tmp_path, [{"name": "prod-stacks"}], validate_code=1)
    assert run.returncode != 0
    assert not [argv for argv in run.argvs("pulumi") if argv[:2] == ["policy", "enable"]]


def test_enable_uses_the_environments_group_config_and_project() -> None:
    step = find_step("policy-enable.yml", "enable", "enable")
    assert step["env"]["GROUP"] == "${{ vars.POLICY_GROUP || format('{0}-stacks', inputs.stack) }}"
    assert step["env"]["CONFIG"] == "policies/config/${{ inputs.stack }}.json"
    assert step["env"]["PROJECT"] == yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
    assert step["env"]["PACK"] == PACK_NAME


# drift.yml.

def drift_preview(tmp_path: Path, code: int) -> StepRun:
    return run_step(
        "drift.yml", "preview", "preview", cwd=tmp_path,
        env={"PULUMI_ACCESS_TOKEN": "token", "PULUMI_ORG": "acme", "STACK": "dev"},
        answers={"pulumi preview": (code, "Previewing update (acme/dev)\n~ aws:ec2:SecurityGroup web-sg update\n")},
    )


@pytest.mark.parametrize("code", [0, 7, 1])
def test_drift_preview_records_the_exit_code_and_the_log(tmp_path: Path, code: int) -> None:
    run = drift_preview(tmp_path, code)
    assert run.returncode == 0, run.output  # the report job judges the result
    assert (tmp_path / "drift" / "dev.exit").read_text() == f"{code}\n"
    assert "aws:ec2:SecurityGroup web-sg update" in (tmp_path / "drift" / "dev.log").read_text()
    assert run.argvs("pulumi") == [[
        "preview", "--stack", "acme/dev", "--refresh", "--expect-no-changes", "--diff",
        "--policy-pack", "policies", "--policy-pack-config", "policies/config/dev.json",
        "--non-interactive", "--color", "never", "--suppress-progress",
    ]]
    assert_pulumi_calls_are_valid(run)


TITLE = "Drift: stack dev differs from the code"
RUN_URL = "https://github.com/acme/ecs-platform/actions/runs/42"


def report(tmp_path: Path, code: int | None, issues: list[dict], log: str = "~ web-sg update\n") -> StepRun:
    if code is not None:
        (tmp_path / "drift").mkdir(exist_ok=True)
        (tmp_path / "drift" / "dev.exit").write_text(f"{code}\n")
        (tmp_path / "drift" / "dev.log").write_text(log)
    return run_step(
        "drift.yml", "report", "report", cwd=tmp_path,
        env={"GH_TOKEN": "token", "GH_REPO": "acme/ecs-platform", "STACK": "dev", "LABEL": "drift",
             "DRIFT_EXIT_CODE": "7", "RUN_URL": RUN_URL},
        answers={"gh issue list": (0, json.dumps(issues)), "gh issue create": (0, "https://github.com/acme/x/issues/13\n")},
    )


LIST = ["issue", "list", "--state", "open", "--label", "drift", "--limit", "100", "--json", "number,title"]
OTHER = {"number": 5, "title": "Drift: stack prod differs from the code"}


def test_drift_opens_one_labelled_issue_and_fails(tmp_path: Path) -> None:
    run = report(tmp_path, 7, [OTHER])
    assert run.returncode == 1
    assert run.argvs("gh") == [
        LIST,
        ["label", "create", "drift", "--color", "D93F0B", "--description",
         "The cloud differs from the code (drift workflow)", "--force"],
        ["issue", "create", "--title", TITLE, "--label", "drift", "--body-file", "drift-issue.md"],
    ]
    body = (tmp_path / "drift-issue.md").read_text()
    assert "`pulumi preview --refresh --expect-no-changes` proposes changes for stack `dev`" in body
    assert RUN_URL in body and "~ web-sg update" in body
    assert f'stack dev has drifted from the code: see the issue "{TITLE}"' in run.output


def test_drift_updates_the_open_issue_of_the_stack(tmp_path: Path) -> None:
    run = report(tmp_path, 7, [OTHER, {"number": 12, "title": TITLE}])
    assert run.returncode == 1
    assert run.argvs("gh") == [LIST, ["issue", "edit", "12", "--body-file", "drift-issue.md"]]


def test_the_issue_body_keeps_the_end_of_a_long_preview(tmp_path: Path) -> None:
    log = "".join(f"line {n}\n" for n in range(20000))  # ~190 kB; GitHub takes 65,536 characters
    run = report(tmp_path, 7, [], log=log)
    body = (tmp_path / "drift-issue.md").read_text()
    assert run.returncode == 1 and len(body) < 65536
    assert "line 19999\n" in body and "line 0\n" not in body


def test_no_drift_closes_the_open_issue(tmp_path: Path) -> None:
    run = report(tmp_path, 0, [OTHER, {"number": 12, "title": TITLE}])
    assert run.returncode == 0, run.output
    assert run.argvs("gh") == [LIST, ["issue", "close", "12", "--comment",
                                      f"No drift in {RUN_URL}: stack dev matches the code again."]]


def test_no_drift_and_no_issue_changes_nothing(tmp_path: Path) -> None:
    run = report(tmp_path, 0, [OTHER])
    assert run.returncode == 0, run.output
    assert run.argvs("gh") == [LIST]


@pytest.mark.parametrize("code", [None, 1, 2])
def test_a_failed_preview_fails_and_leaves_the_issue_alone(tmp_path: Path, code: int | None) -> None:
    run = report(tmp_path, code, [{"number": 12, "title": TITLE}])
    assert run.returncode == 1
    assert all(argv[:2] == ["issue", "list"] for argv in run.argvs("gh"))
    expected = "did not finish" if code is None else f"pulumi preview exited with {code}, an error rather than drift (7)"
    assert expected in run.output


# audit.yml: `pulumi stack export` (a stand-in answering a real export) then the real
# `python -m offline analyze` of this checkout.

@pytest.fixture(scope="module")
def dev_export(tmp_path_factory: pytest.TempPathFactory) -> dict:
    export = tmp_path_factory.mktemp("export") / "dev.json"
    done = subprocess.run(
        [sys.executable, "-m", "offline", "preview", "--stack", "dev", "--mode", "update", "--export-state", str(export)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(export.read_text())


def audit(tmp_path: Path, export_code: int, export: dict | None) -> StepRun:
    work, runner = tmp_path / "work", tmp_path / "runner"
    work.mkdir()
    runner.mkdir()
    for name in ("venv", "offline", "policies"):  # the checkout the step runs in
        (work / name).symlink_to(ROOT / name)
    return run_step(
        "audit.yml", "audit", "audit", cwd=work,
        env={"PULUMI_ACCESS_TOKEN": "token", "PULUMI_ORG": "acme", "STACK": "dev"},
        runner_env={"RUNNER_TEMP": str(runner), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")},
        answers={"pulumi stack export": (export_code, json.dumps(export) if export else "")},
    )


EXPORT = ["stack", "export", "--stack", "acme/dev", "--show-secrets", "--non-interactive"]


def test_audit_exports_the_stack_and_reports_the_packs_verdict(tmp_path: Path, dev_export: dict) -> None:
    run = audit(tmp_path, 0, dev_export)
    assert run.returncode == 0, run.output
    assert run.argvs("pulumi") == [EXPORT]
    assert_pulumi_calls_are_valid(run)
    report = json.loads((tmp_path / "work" / "audit" / "dev.json").read_text())
    assert (report["mode"], report["summary"]["verdict"], report["summary"]["policyConfig"]) == (
        "audit", "pass", "policies/config/dev.json")
    assert "PASS: no mandatory policy violations" in run.output
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("<!-- offline-audit:ecs-platform:dev -->\n### ✅ Audit of deployed stack: `dev`")
    assert list((tmp_path / "runner").iterdir()) == []  # the export (secrets in plaintext) is gone


def test_audit_fails_on_a_deployed_violation_and_keeps_the_reports(tmp_path: Path, dev_export: dict) -> None:
    export = json.loads(json.dumps(dev_export))
    task = next(r for r in export["deployment"]["resources"] if r["type"] == "aws:ecs/taskDefinition:TaskDefinition")
    containers = json.loads(task["inputs"]["containerDefinitions"])
    del containers[0]["logConfiguration"]
    task["inputs"]["containerDefinitions"] = json.dumps(containers)
    run = audit(tmp_path, 0, export)
    assert run.returncode == 1
    assert "::error title=audit dev::mandatory policy violations in what is deployed on dev" in run.output
    report = json.loads((tmp_path / "work" / "audit" / "dev.json").read_text())
    assert [d["policyName"] for d in report["diagnostics"] if d["enforcementLevel"] == "mandatory"] == [
        "ecs-container-logging-required"]
    assert "### ❌ Audit of deployed stack: `dev`" in (tmp_path / "summary.md").read_text()
    assert list((tmp_path / "runner").iterdir()) == []


def test_audit_of_an_unreadable_export_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    run = audit(tmp_path, 0, {"version": 4, "deployment": {}})
    assert run.returncode == 2
    assert "deployment version 4 is not supported" in run.output
    assert "::error title=audit dev::the audit of dev exited with 2: an error, not a verdict" in run.output
    assert not (tmp_path / "summary.md").exists()


def test_a_failed_export_stops_before_the_audit(tmp_path: Path) -> None:
    run = audit(tmp_path, 255, None)
    assert run.returncode == 255
    assert run.argvs("pulumi") == [EXPORT]
    assert not (tmp_path / "work" / "audit" / "dev.json").exists()
    assert list((tmp_path / "runner").iterdir()) == []
