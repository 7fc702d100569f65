"""End-to-end: `python -m offline preview` in a subprocess on the fixture program and pack."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from offline_testlib import (
    FIXTURES,
    PACK,
    PROGRAM,
    REPO,
    language_hosts,
    load_json,
    pack_processes,
    run_cli,
    wait_until_gone,
)

URN = "urn:pulumi:dev::fixture-app::"
EXPECTED = {
    (
        "log-retention",
        "mandatory",
        URN + "fixture:app:Platform$fixture:app:Service$aws:cloudwatch/logGroup:LogGroup::web-logs",
    ),
    ("sg-owner", "mandatory", URN + "fixture:app:Platform$aws:ec2/securityGroup:SecurityGroup::platform-sg"),
    (
        "no-open-ssh",
        "advisory",
        URN + "fixture:app:Platform$aws:ec2/securityGroup:SecurityGroup::platform-sg",
    ),
    ("provider-region", "advisory", URN + "pulumi:providers:aws::default_7_51_1"),
}


def _diags(report: dict) -> set[tuple[str, str, str]]:
    return {(d["policyName"], d["enforcementLevel"], d["urn"]) for d in report["diagnostics"]}


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_known_violations_exactly(tmp_path: Path, pack_copy: Path, mode: str) -> None:
    out = tmp_path / "r.json"
    proc = run_cli(
        "--program", str(PROGRAM), "--policy-pack", str(pack_copy), "--mode", mode, "--json", str(out)
    )
    assert proc.returncode == 1, proc.stderr
    report = load_json(out)
    assert _diags(report) == EXPECTED
    assert {r["urn"] for r in report["remediations"]} == {
        URN + f"fixture:app:Platform$fixture:app:Service$aws:iam/role:Role::{n}-role" for n in ("web", "api")
    }
    jsonschema.validate(report, json.loads((REPO / "offline" / "report.schema.json").read_text()))
    assert "NOT a diff against the cloud" in proc.stdout
    assert proc.stdout.rstrip().endswith("FAIL: 2 mandatory policy violation(s), 2 advisory")
    assert not pack_processes(str(pack_copy))


def test_remediated_inputs_reach_analyze(tmp_path: Path, pack_copy: Path) -> None:
    out = tmp_path / "r.json"
    run_cli("--program", str(PROGRAM), "--policy-pack", str(pack_copy), "--json", str(out))
    roles = [r for r in load_json(out)["resources"] if r["type"] == "aws:iam/role:Role"]
    # tag-roles is a remediate policy: its validation saw the remediated tags, so no violation.
    assert all(r["inputs"]["tags"] == {"managed-by": "pulumi"} for r in roles)


def test_config_file_reconciled(tmp_path: Path, pack_copy: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_cli(
        "--program",
        str(PROGRAM),
        "--policy-pack",
        str(pack_copy),
        "--json",
        str(out),
        "--policy-pack-config",
        str(PACK / "config" / "strict.json"),
    )
    assert proc.returncode == 1
    diags = _diags(load_json(out))
    assert (
        "no-open-ssh",
        "mandatory",
        URN + "fixture:app:Platform$aws:ec2/securityGroup:SecurityGroup::platform-sg",
    ) in diags
    # minDays 14 from the file: web (3 days) fails, api (30 days) passes.
    assert {d[2].rsplit("::", 1)[1] for d in diags if d[0] == "log-retention"} == {"web-logs"}


def test_all_key_downgrades_everything(pack_copy: Path) -> None:
    proc = run_cli(
        "--program",
        str(PROGRAM),
        "--policy-pack",
        str(pack_copy),
        "--policy-pack-config",
        str(PACK / "config" / "all-advisory.json"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout.splitlines()[-1]


def test_invalid_config_exits_2_with_policy_name(pack_copy: Path) -> None:
    proc = run_cli(
        "--program",
        str(PROGRAM),
        "--policy-pack",
        str(pack_copy),
        "--policy-pack-config",
        str(PACK / "config" / "invalid.json"),
    )
    assert proc.returncode == 2
    assert "log-retention" in proc.stderr and "minDays" in proc.stderr
    assert not pack_processes(str(pack_copy))


def test_program_error_exits_2(pack_copy: Path) -> None:
    proc = run_cli("--program", str(PROGRAM), "--stack", "bad", "--policy-pack", str(pack_copy))
    assert proc.returncode == 2
    assert "Missing required configuration variable 'fixture-app:services'" in proc.stderr
    assert not pack_processes(str(pack_copy))


def test_usage_errors_exit_2() -> None:
    assert run_cli("--mode", "sideways").returncode == 2
    proc = run_cli("--program", str(PROGRAM), "--stack", "nope", "--policy-pack", "none")
    assert proc.returncode == 2 and "Pulumi.nope.yaml" in proc.stderr


def test_no_pack_is_incomplete() -> None:
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", "none")
    assert proc.returncode == 0 and "INCOMPLETE" in proc.stdout.splitlines()[-1]
    assert "no policy pack ran (--policy-pack none)" in proc.stdout


@pytest.fixture
def hang_program(tmp_path: Path) -> Path:
    """A private copy of the program that never finishes: its language host is told apart by cwd."""
    return Path(shutil.copytree(FIXTURES / "hang_program", tmp_path / "hang_program"))


@pytest.fixture
def program_copy(tmp_path: Path) -> Path:
    """A private copy of the fixture program, so leftover-process checks only see this test's."""
    return Path(shutil.copytree(PROGRAM, tmp_path / "program"))


@pytest.fixture
def stuck_pack(tmp_path: Path) -> Path:
    """A private copy of a pack that never finishes starting (never reports its port)."""
    return Path(shutil.copytree(FIXTURES / "stuck_pack", tmp_path / "stuck_pack"))


def test_program_timeout_leaves_no_pack(pack_copy: Path, hang_program: Path) -> None:
    """`--timeout` bounds the program's run only: the packs start within their own limit."""
    proc = run_cli("--program", str(hang_program), "--policy-pack", str(pack_copy), "--timeout", "2")
    assert proc.returncode == 2, proc.stderr
    assert "error (program error): the program did not finish within 2 s" in proc.stderr
    assert "policy pack" not in proc.stderr
    assert not pack_processes(str(pack_copy))
    assert not language_hosts(str(hang_program))


def test_pack_start_timeout_names_its_flag(stuck_pack: Path, program_copy: Path) -> None:
    proc = run_cli("--program", str(program_copy), "--policy-pack", str(stuck_pack), "--pack-start-timeout", "1")
    assert proc.returncode == 2, proc.stderr
    assert "error (policy pack error): policy pack did not report its port within 1 s (--pack-start-timeout)" in (
        proc.stderr
    )
    assert not pack_processes(str(stuck_pack))
    assert not language_hosts(str(program_copy))


@pytest.mark.parametrize("flag", ["--timeout", "--pack-start-timeout", "--rpc-timeout"])
@pytest.mark.parametrize("value", ["0", "-5", "inf", "nan", "soon"])
def test_time_limits_must_be_positive_and_finite(flag: str, value: str) -> None:
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", "none", flag, value)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"python -m offline preview: error: argument {flag}: {value!r} is not a"), last
    assert "seconds" in last and "Traceback" not in proc.stderr


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_pack_processes_must_be_at_least_one(value: str) -> None:
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", "none", "--pack-processes", value)
    assert proc.returncode == 2
    assert f"argument --pack-processes: {value!r} is not" in proc.stderr


def test_broken_pack_reports_its_stderr(tmp_path: Path) -> None:
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", str(FIXTURES / "broken_pack"))
    assert proc.returncode == 2
    assert "fixture pack is broken on purpose" in proc.stderr
    assert not pack_processes(str(FIXTURES / "broken_pack"))


def _start_preview(pack: Path, program: Path, *args: str, program_runs: bool = True) -> subprocess.Popen[str]:
    """The CLI in the background; returns once its two packs run, and its program's process
    (unless `program_runs` is False: a quick program may be done by then)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "offline", "preview", "--program", str(program), "--policy-pack", str(pack),
         "--pack-processes", "2", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if len(pack_processes(str(pack))) == 2 and (language_hosts(str(program)) or not program_runs):
            break
        time.sleep(0.05)
    return proc


def _start_hanging_preview(pack_copy: Path, hang_program: Path) -> subprocess.Popen[str]:
    """The CLI on a program that never finishes, with a long time limit."""
    return _start_preview(pack_copy, hang_program, "--timeout", "600")


def test_killed_command_takes_the_pack_with_it(pack_copy: Path, hang_program: Path) -> None:
    proc = _start_hanging_preview(pack_copy, hang_program)
    assert pack_processes(str(pack_copy)), "the pack never started"
    assert language_hosts(str(hang_program)), "the program's process never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    # The kernel kills the children (PR_SET_PDEATHSIG); they disappear soon after.
    assert not wait_until_gone(lambda: pack_processes(str(pack_copy)))
    assert not wait_until_gone(lambda: language_hosts(str(hang_program)))


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph_structure(pack_copy: Path, fmt: str) -> None:
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", str(pack_copy), "--graph", fmt)
    lines = proc.stdout.strip().splitlines()
    if fmt == "mermaid":
        assert lines[0] == "graph TD"
        nodes = {m.group(1) for line in lines if (m := re.fullmatch(r'\s+(r[0-9a-f]+)\["[^"]+"\]', line))}
        edges = [re.fullmatch(r"\s+(r[0-9a-f]+) (-->|-\.->) (r[0-9a-f]+)", line) for line in lines[1:] if "->" in line]
    else:
        assert lines[0] == "digraph stack {" and lines[-1] == "}"
        nodes = {m.group(1) for line in lines if (m := re.fullmatch(r'\s+(r[0-9a-f]+) \[label="[^"]+"\];', line))}
        edges = [
            re.fullmatch(r"\s+(r[0-9a-f]+) -> (r[0-9a-f]+)( \[style=dashed\])?;", line) for line in lines if "->" in line
        ]
    assert all(edges) and edges
    ends = {e.group(1) for e in edges} | {e.group(3 if fmt == "mermaid" else 2) for e in edges}
    assert ends <= nodes
    assert len(nodes) == 13  # every resource but the default provider
    parent_edges = [e for e in edges if (e.group(2) == "-->" if fmt == "mermaid" else not e.group(3))]
    assert len(parent_edges) == 12  # one per non-root resource


def test_markdown_comment(tmp_path: Path, pack_copy: Path) -> None:
    md = tmp_path / "c.md"
    run_cli("--program", str(PROGRAM), "--policy-pack", str(pack_copy), "--markdown", str(md))
    text = md.read_text()
    assert text.startswith("<!-- offline-preview:fixture-app:dev -->")
    assert "| Mandatory violations | 2 |" in text and "<details>" in text and "`log-retention`" in text


def test_export_state_is_deployment_v3(tmp_path: Path, pack_copy: Path) -> None:
    state = tmp_path / "state.json"
    run_cli("--program", str(PROGRAM), "--policy-pack", str(pack_copy), "--mode", "update", "--export-state", str(state))
    doc = load_json(state)
    assert doc["version"] == 3
    # `pulumi stack import` checks the manifest's magic: sha256(version) in hex (manifest.go:84-89).
    manifest = doc["deployment"]["manifest"]
    assert manifest["magic"] == hashlib.sha256(manifest["version"].encode()).hexdigest()
    resources = doc["deployment"]["resources"]
    seen: set[str] = set()
    for r in resources:
        assert r["urn"].startswith("urn:pulumi:dev::fixture-app::") and r["type"] in r["urn"]
        for ref in [r.get("parent"), *(r.get("dependencies") or [])]:
            assert ref is None or ref in seen, f"{r['urn']} refers to {ref} before it"
        if "provider" in r:
            purn, pid = r["provider"].rsplit("::", 1)
            assert purn in seen and pid
        if r["custom"]:
            assert r["id"] and r["id"] != "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
        seen.add(r["urn"])
    param = next(r for r in resources if r["type"] == "aws:ssm/parameter:Parameter")
    assert param["inputs"]["value"]["plaintext"] == '"offline-secret-placeholder"'


def test_export_state_with_source_date_epoch_is_the_same_bytes(tmp_path: Path) -> None:
    args = ["--program", str(PROGRAM), "--policy-pack", "none", "--mode", "update"]
    epoch = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01T00:00:00Z
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run_cli(*args, "--export-state", str(first), env=epoch).returncode == 0
    assert run_cli(*args, "--export-state", str(second), env=epoch).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    doc = load_json(first)["deployment"]
    assert doc["manifest"]["time"] == "2026-01-01T00:00:00.000000000Z"
    assert {r["created"] for r in doc["resources"]} == {"2026-01-01T00:00:00.000000000Z"}
    bad = run_cli(*args, "--export-state", str(tmp_path / "c.json"), env={"SOURCE_DATE_EPOCH": "soon"})
    assert bad.returncode == 2
    assert bad.stderr.startswith("error (usage error): SOURCE_DATE_EPOCH 'soon': not a whole number of seconds")


def test_export_state_is_refused_in_preview_mode(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", "none", "--export-state", str(state))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error (usage error): --export-state needs --mode update: a preview's ids")
    assert not state.exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_terminated_command_stops_the_pack(pack_copy: Path, hang_program: Path, signum: int) -> None:
    """Stopped while the program runs: exit 128 + N, and nothing of it left running."""
    proc = _start_hanging_preview(pack_copy, hang_program)
    assert language_hosts(str(hang_program)), "the program's process never started"
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, stderr
    assert f"offline preview: stopped by {signal.Signals(signum).name}" in stderr
    assert not pack_processes(str(pack_copy))
    assert not language_hosts(str(hang_program))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_while_packs_start_ends_the_command(stuck_pack: Path, program_copy: Path, signum: int) -> None:
    """Stopped while the packs are still starting (they never will, within a limit of 600 s): the
    command does not wait for the start-ups, it ends and leaves no pack and no program behind."""
    proc = _start_preview(stuck_pack, program_copy, "--pack-start-timeout", "600", program_runs=False)
    assert len(pack_processes(str(stuck_pack))) == 2, "the packs never started"
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)  # far below the 600 s a pending start-up could block
    assert proc.returncode == 128 + signum, stderr
    assert not pack_processes(str(stuck_pack))
    assert not language_hosts(str(program_copy))
