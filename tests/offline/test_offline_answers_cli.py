"""`--invokes` and `--stack-reference` from the command line: answers reach the program, files in
every accepted form are read (outputs, this preview's JSON report, a state export), and whatever
cannot be used is a clear exit 2 naming the flag, the file or the key."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from offline_testlib import FIXTURES, load_json, run_cli

PROGRAM = FIXTURES / "lookup_program"
URN = "urn:pulumi:dev::lookup-app::"


def _resource(report: dict, suffix: str) -> dict:
    return next(r for r in report["resources"] if r["urn"] == URN + suffix)


def _network_program(tmp_path: Path) -> Path:
    """A stack whose outputs another one references: a VPC id and a secret."""
    program = tmp_path / "network"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: network\nruntime: python\n")
    (program / "Pulumi.prod.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (program / "__main__.py").write_text(
        textwrap.dedent(
            """
            import pulumi
            pulumi.export("vpcId", "vpc-0fedcba9876543210")
            pulumi.export("dbPassword", pulumi.Output.secret("hunter2"))
            """
        )
    )
    return program


def test_stack_reference_from_a_report_or_a_state_export_and_invokes_from_a_file(tmp_path: Path) -> None:
    network = _network_program(tmp_path)
    report, state = tmp_path / "network.json", tmp_path / "network-state.json"
    proc = run_cli(
        "--program", str(network), "--stack", "prod", "--mode", "update", "--policy-pack", "none",
        "--json", str(report), "--export-state", str(state),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert load_json(report)["outputs"]["vpcId"] == "vpc-0fedcba9876543210"
    invokes = tmp_path / "invokes.json"
    invokes.write_text(
        json.dumps(
            {
                "aws:ecr/getRepository:getRepository": [
                    {"args": {"name": "app"}, "result": {"repository_url": "210987654321.dkr.ecr.eu-west-1.amazonaws.com/app"}}
                ]
            }
        )
    )
    for source in (report, state):
        out = tmp_path / f"app-{source.stem}.json"
        proc = run_cli(
            "--program", str(PROGRAM), "--mode", "update", "--policy-pack", "none", "--json", str(out),
            "--stack-reference", f"acme/network/prod={source}", "--invokes", str(invokes),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        app = load_json(out)
        assert _resource(app, "aws:ec2/securityGroup:SecurityGroup::tasks")["inputs"]["vpcId"] == "vpc-0fedcba9876543210"
        reference = _resource(app, "pulumi:pulumi:StackReference::acme/network/prod")
        assert reference["inputs"]["secretOutputNames"] == ["dbPassword"]
        task = _resource(app, "aws:ecs/taskDefinition:TaskDefinition::app")
        images = [c["image"] for c in json.loads(task["inputs"]["containerDefinitions"])]
        assert images == ["210987654321.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2"]  # the --invokes answer


def test_update_mode_without_the_stack_reference_names_the_flag() -> None:
    proc = run_cli("--program", str(PROGRAM), "--mode", "update", "--policy-pack", "none")
    assert proc.returncode == 2
    first = proc.stderr.splitlines()[0]
    assert first.startswith("error (engine error): stack reference 'acme/network/prod' has no outputs offline")
    assert "--stack-reference acme/network/prod=FILE" in first


def test_unusable_answers_are_config_errors_naming_the_flag_and_file(tmp_path: Path) -> None:
    bad_invokes = tmp_path / "invokes.yaml"
    bad_invokes.write_text("getRepository: {}\n")
    not_json = tmp_path / "outputs.json"
    not_json.write_text("{")
    for args, message in (
        (["--invokes", str(bad_invokes)], f"--invokes {bad_invokes}: 'getRepository' is not an invoke token"),
        (["--invokes", str(tmp_path / "missing.yaml")], f"--invokes {tmp_path / 'missing.yaml'}: cannot read it"),
        (["--stack-reference", "acme/network/prod"], "--stack-reference 'acme/network/prod': expected ORG/PROJECT/STACK=FILE"),
        (["--stack-reference", f"a/b/c/d={not_json}"], "is not a stack name (ORG/PROJECT/STACK)"),
        (["--stack-reference", f"acme/network/prod={not_json}"], f"--stack-reference file {not_json}: not valid JSON"),
    ):
        proc = run_cli("--program", str(PROGRAM), "--policy-pack", "none", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("error (config error): ") and message in proc.stderr, proc.stderr


def test_a_missing_module_says_where_to_install_it(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text("import pulumi_not_installed_anywhere\n")
    proc = run_cli("--program", str(tmp_path), "--policy-pack", "none")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0].startswith(
        "error (program error): the program imports 'pulumi_not_installed_anywhere', which is not installed in the "
        "Python environment running the preview"
    )
