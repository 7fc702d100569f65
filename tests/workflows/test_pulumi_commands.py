"""Every `pulumi` command the workflows run exists in the pinned CLI, with those flags and arguments.

The facts are data (pulumi_cli_reference.yaml, each with the CLI source file it was read from);
pulumi_cli.py finds the commands in the `run:` scripts and checks them against it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pulumi_cli import Reference, ShellSyntaxError, pulumi_invocations, simple_commands

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
REFERENCE = Reference.load()


def steps() -> list[tuple[str, dict]]:
    found = []
    for path in WORKFLOWS:
        for job_name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for index, step in enumerate(job.get("steps", [])):
                found.append((f"{path.name} {job_name} step {step.get('id') or step.get('name') or index}", step))
    return found


def run_invocations() -> list[tuple[str, list[str]]]:
    return [(where, argv) for where, step in steps() if "run" in step for argv in pulumi_invocations(step["run"])]


def action_steps() -> list[tuple[str, dict]]:
    return [(where, step) for where, step in steps() if step.get("uses", "").startswith("pulumi/actions@")]


@pytest.mark.parametrize(("where", "argv"), run_invocations(), ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_run_scripts_call_pulumi_as_the_cli_defines_it(where: str, argv: list[str]) -> None:
    checked = REFERENCE.check(argv)
    assert not checked.problems, f"{where}: pulumi {' '.join(argv)}: " + "; ".join(checked.problems)


def test_the_workflows_run_the_commands_of_the_release_loop() -> None:
    # Guards the parametrised check above against finding nothing: these are the commands the
    # publish, enable and drift steps are built from.
    paths = {REFERENCE.check(argv).path for _, argv in run_invocations()}
    assert paths == {
        ("policy", "list"), ("install",), ("policy", "publish"),
        ("policy", "group", "list"), ("policy", "group", "new"), ("policy", "group", "edit"),
        ("policy", "validate-config"), ("policy", "enable"), ("preview",), ("stack", "export"),
    }


@pytest.mark.parametrize(("where", "step"), action_steps(), ids=lambda v: v if isinstance(v, str) else "")
def test_pulumi_actions_steps_run_known_commands_and_flags(where: str, step: dict) -> None:
    assert step["uses"].split("@")[1].split()[0] == REFERENCE.data["pulumi_actions"]["commit"], (
        f"{where}: the reference read pulumi/actions at {REFERENCE.data['pulumi_actions']['commit']}; re-read it for a new pin"
    )
    checked = REFERENCE.check_action(step.get("with", {}))
    assert not checked.problems, f"{where}: " + "; ".join(checked.problems)


def test_every_workflow_installs_the_cli_the_reference_was_checked_for() -> None:
    versions = {str(step["with"]["pulumi-version"]) for _, step in action_steps()}
    assert versions == {REFERENCE.pinned_version}, (
        f"pulumi-version {sorted(versions)} vs the reference's {REFERENCE.pinned_version}: re-read the CLI source for the new "
        "version and update tests/workflows/pulumi_cli_reference.yaml"
    )


def test_drift_detection_reads_the_cli_exit_code_for_expected_changes() -> None:
    report = next(step for where, step in steps() if where == "drift.yml report step report")
    assert report["env"]["DRIFT_EXIT_CODE"] == str(REFERENCE.data["exit_codes"]["no_changes_expected"])


# The checker itself.

def test_policy_get_does_not_exist() -> None:
    # What policy-pack.yml ran before: the CLI has no `policy get`, so the check always failed.
    old_step = ('if pulumi policy get "$PULUMI_ORG/ecs-guardrails" "$VERSION" > /dev/null 2>&1; then\n'
                '  echo "::notice::already published"\nelse\n  pulumi policy publish "$PULUMI_ORG"\nfi\n')
    invocations = pulumi_invocations(old_step)
    assert invocations == [["policy", "get", "$PULUMI_ORG/ecs-guardrails", "$VERSION"], ["policy", "publish", "$PULUMI_ORG"]]
    problems = REFERENCE.check(invocations[0]).problems
    assert len(problems) == 1 and "`pulumi policy` has no subcommand `get`" in problems[0]
    assert not REFERENCE.check(invocations[1]).problems


@pytest.mark.parametrize(("argv", "problem"), [
    (["policy", "enable", "org/ecs-guardrails", "--policy-group", "g"], "takes 2..2 positional arguments, got 1"),
    (["policy", "enable", "org/ecs-guardrails", "1.0.0", "--group", "g"], "has no flag --group"),
    (["policy", "ls", "org", "--output", "yaml"], "--output 'yaml' is not one of default, json"),
    (["policy", "validate-config", "org/ecs-guardrails", "1.0.0"], "needs --config"),
    (["policy", "publish", "--policy-group"], "has no flag --policy-group"),
    (["preview", "--stack"], "--stack needs a value"),
    (["preview", "--diff=yes"], "--diff is a switch"),
    (["policy"], "`pulumi policy` needs a subcommand"),
    (["stack", "rm", "dev"], "`pulumi stack rm` is not in the reference"),
    (["stack", "export", "dev"], "`pulumi stack export` takes 0..0 positional arguments, got 1"),
    (["policy", "new"], "records none of its flags"),
])
def test_checker_reports_what_is_wrong(argv: list[str], problem: str) -> None:
    problems = REFERENCE.check(argv).problems
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(("argv", "path"), [
    (["policy", "list", "--json"], ("policy", "list")),
    (["policy", "ls", "org", "--output=json"], ("policy", "list")),
    (["--non-interactive", "policy", "group", "ls", "org"], ("policy", "group", "list")),
    (["pre", "--refresh", "--stack", "org/dev", "-s", "org/dev"], ("preview",)),  # --refresh takes no next word
    (["preview", "--refresh=false", "--color", "never", "--policy-pack=policies"], ("preview",)),
    (["policy", "group", "update", "g", "--add-stack", "p/s", "--add-stack", "p/t"], ("policy", "group", "edit")),
    (["policy", "rm", "org/p", "all", "-y"], None),  # a subcommand the reference lists without flags
])
def test_checker_accepts_what_the_cli_accepts(argv: list[str], path: tuple[str, ...] | None) -> None:
    checked = REFERENCE.check(argv)
    if path is None:
        assert checked.problems == [f"`pulumi policy remove` is a command of the CLI ({REFERENCE.commands['policy']['source']})"
                                    " but the reference records none of its flags: add it from its source"]
    else:
        assert checked == type(checked)(path, [])


def test_pulumi_actions_inputs_become_checked_flags() -> None:
    assert not REFERENCE.check_action({"pulumi-version": "3.272.0"}).problems  # install only
    good = REFERENCE.check_action({"command": "preview", "stack-name": "o/dev", "refresh": True, "policyPacks": "policies"})
    assert good.path == ("preview",) and not good.problems
    assert "has no input 'policy-packs'" in REFERENCE.check_action({"command": "up", "policy-packs": "p"}).problems[0]
    assert "has no command 'apply'" in REFERENCE.check_action({"command": "apply"}).problems[0]


def test_shell_lexer_finds_commands_where_bash_runs_them() -> None:
    script = (
        "set -euo pipefail  # pulumi policy get in a comment is no command\n"
        'packs=$(pulumi policy ls "$ORG" --json | jq -r .)\n'
        'echo "pulumi policy get, quoted, is no command either: $(pulumi whoami)"\n'
        "if ! pulumi preview --stack \\\n  org/dev --refresh > out.log 2>&1; then exit 1; fi\n"
        "cat <<EOF > body.md\npulumi up inside a here-document\nEOF\n"
        "(cd policies && pulumi install)\n"
        "timeout 60 pulumi policy ls\n"
    )
    assert pulumi_invocations(script) == [
        ["policy", "ls", "$ORG", "--json"],
        ["whoami"],
        ["preview", "--stack", "org/dev", "--refresh"],
        ["install"],
        ["policy", "ls"],
    ]
    assert ["jq", "-r", "."] in simple_commands(script)


@pytest.mark.parametrize("script", ["echo 'open", 'echo "open', "x=$(pulumi ls", "echo `pulumi whoami`", "cat <<EOF\nno end\n"])
def test_shell_lexer_refuses_what_it_cannot_split(script: str) -> None:
    with pytest.raises(ShellSyntaxError):
        simple_commands(script)
