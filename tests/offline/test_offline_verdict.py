"""End to end through the real gRPC path: governed exemptions, the three verdicts and the report's account
of what was enforced, on tests/fixtures/exemption_program with the repository's pack."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from offline_testlib import FIXTURES, REPO, load_json, run_cli

PROGRAM = FIXTURES / "exemption_program"
SCHEMA = json.loads((REPO / "offline" / "report.schema.json").read_text())
LB_RULE = "ecs-service-load-balancer-required"
GOVERNANCE = "ecs-guardrails-exemption-reason"
REASON = "queue worker without HTTP approved by platform team PLAT-1234"


def preview(tmp_path: Path, stack: str, *args: str) -> tuple[int, dict, str, str]:
    """(exit code, JSON report, text report, Markdown) of the fixture program's `stack`."""
    out, md = tmp_path / "report.json", tmp_path / "comment.md"
    proc = run_cli("--program", str(PROGRAM), "--stack", stack, "--json", str(out), "--markdown", str(md), *args)
    assert out.exists(), proc.stderr
    report = load_json(out)
    jsonschema.validate(report, SCHEMA)
    return proc.returncode, report, proc.stderr, md.read_text()


def mandatory(report: dict) -> set[str]:
    return {d["policyName"] for d in report["diagnostics"] if d["enforcementLevel"] == "mandatory"}


@pytest.mark.parametrize("config", [None, "policies/config/prod.json"])
def test_privileged_miner_fails_under_defaults_and_prod(tmp_path: Path, config: str | None) -> None:
    code, report, _, md = preview(tmp_path, "miner", *(["--policy-pack-config", config] if config else []))
    assert code == 1 and report["summary"]["verdict"] == "fail"
    assert {"ecs-container-no-privileged", "ecs-container-image-registry", GOVERNANCE} <= mandatory(report)
    refusals = [d["message"] for d in report["diagnostics"] if d["policyName"] == GOVERNANCE]
    assert any("'ecs-container-no-privileged', which may not be exempted" in m for m in refusals)
    assert report["exemptions"] == []
    assert report["summary"]["policyConfig"] == config
    assert md.splitlines()[1].startswith("### ❌")
    if config is None:  # no policies/config/miner.json: the pack's defaults, and a warning in every format
        warning = "stack 'miner' has no policy config file of its own (policies/config/miner.json)"
        assert any(warning in w for w in report["summary"]["warnings"]) and warning in md


def test_worker_exempt_from_the_load_balancer_rule_passes(tmp_path: Path) -> None:
    code, report, _, md = preview(tmp_path, "worker", "--policy-pack-config", "policies/config/prod.json")
    assert code == 0 and report["summary"]["verdict"] == "pass", report["diagnostics"]
    assert report["exemptions"] == [
        {
            "urn": "urn:pulumi:worker::exemption-fixture::aws:ecs/service:Service::worker",
            "policyName": LB_RULE,
            "reason": REASON,
            "expires": None,
        }
    ]
    assert report["summary"]["deferred"] == [] and report["summary"]["policyConfig"] == "policies/config/prod.json"
    assert report["summary"]["warnings"] == [
        "stack 'worker' has no policy config file of its own (policies/config/worker.json): "
        "policies/config/prod.json applies"
    ]
    assert md.splitlines()[1].startswith("### ✅") and "#### Exemptions honoured" in md


@pytest.mark.parametrize("stack,governance", [("short", True), ("expired", False)])
def test_worker_with_short_reason_or_past_expiry_fails(tmp_path: Path, stack: str, governance: bool) -> None:
    code, report, _, _ = preview(tmp_path, stack)
    assert code == 1 and report["summary"]["verdict"] == "fail"
    assert LB_RULE in mandatory(report)
    assert (GOVERNANCE in mandatory(report)) is governance  # a lapsed exemption is not itself a violation
    assert report["exemptions"] == []


def test_undecidable_exemption_is_incomplete_and_strict_fails(tmp_path: Path) -> None:
    code, report, _, md = preview(tmp_path, "deferred", "--strict")
    summary = report["summary"]
    assert code == 1 and summary["verdict"] == "incomplete" and summary["mandatory"] == 0
    # The unknown reason also defers the tag rule: ECS refuses some characters in a tag value.
    assert {(d["policyName"], d["urn"].rsplit("::", 1)[-1]) for d in summary["deferred"]} == {
        (GOVERNANCE, "worker"),
        (LB_RULE, "worker"),
        ("aws-limits-tags", "worker"),
    }
    assert all("ecs-guardrails:reason can't be known during preview" in d["reason"] for d in summary["deferred"])
    assert summary["verdictText"].startswith("INCOMPLETE") and "3 mandatory check(s) deferred" in summary["verdictText"]
    # The SDK's notes name v0.0.1; the report gives the pack's real version.
    notes = [d["message"] for d in report["diagnostics"] if "can't run policy" in d["message"]]
    assert notes and all("'ecs-guardrails@v0.1.0'" in m for m in notes)
    assert md.splitlines()[1].startswith("### ⚠️") and "✅" not in md and "#### ⚠️ Deferred to deploy" in md


def test_deferred_exemption_decides_in_update_mode(tmp_path: Path) -> None:
    code, report, _, _ = preview(tmp_path, "deferred", "--mode", "update", "--strict")
    assert code == 0 and report["summary"]["verdict"] == "pass" and report["summary"]["deferred"] == []
    assert [e["policyName"] for e in report["exemptions"]] == [LB_RULE]


def config_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy-config.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "text,says",
    [
        (
            '{"lb-deletoin-protection": "advisory"}',
            "'lb-deletoin-protection' is not a policy of ecs-guardrails 0.1.0 (did you mean 'lb-deletion-protection'?)",
        ),
        (
            '{"log-group-retention": {"minRetentionDayz": 30}}',
            "log-group-retention: unknown setting 'minRetentionDayz' (did you mean 'minRetentionDays'?)",
        ),
        (
            '{"ecs-guardrails-exemption-reason": {"exemptable": ["ecs-service-load-balancer-requried"]}}',
            # gojsonschema's wording, as the CLI prints it (the closest name follows the list)
            'ecs-guardrails-exemption-reason: exemptable.0: exemptable.0 must be one of the following: "',
        ),
        ("", "the policy pack config file is empty"),
        ("  \n", "the policy pack config file is empty"),
        ('["lb-access-logs"]', "expected a JSON object of policy names"),
        ('"advisory"', "got a string"),
    ],
    ids=["policy-name", "setting", "exemptable-name", "empty", "blank", "array", "string"],
)
def test_config_mistakes_exit_2_naming_them(tmp_path: Path, text: str, says: str) -> None:
    path = config_file(tmp_path, text)
    proc = run_cli("--program", str(PROGRAM), "--stack", "worker", "--policy-pack-config", path)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    if "not a policy" in says or "empty" in says or "JSON object" in says:
        assert path in proc.stderr  # names the file


@pytest.mark.parametrize(
    "args,says",
    [
        (["--pack-processes", "0"], "argument --pack-processes: '0' is not at least 1"),
        (["--pack-processes", "-1"], "argument --pack-processes: '-1' is not at least 1"),
        (["--policy-pack", "no/such/pack"], "no/such/pack: not a policy pack directory"),
        (["--policy-pack", "none", "--policy-pack-config", "policies/config/dev.json"], "given with --policy-pack none"),
    ],
)
def test_usage_mistakes_exit_2(args: list[str], says: str) -> None:
    proc = run_cli("--program", str(PROGRAM), "--stack", "worker", *args)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr


def test_config_disabling_everything_is_not_a_pass(tmp_path: Path) -> None:
    code, report, _, md = preview(tmp_path, "worker", "--policy-pack-config", config_file(tmp_path, '{"all": "disabled"}'))
    summary = report["summary"]
    assert code == 0 and summary["verdict"] == "incomplete" and report["diagnostics"] == []
    assert {LB_RULE, GOVERNANCE, "ecs-container-no-privileged"} <= set(summary["disabledPolicies"])
    assert "the policy config disabled" in summary["verdictText"]
    assert md.splitlines()[1].startswith("### ⚠️") and "✅" not in md
    assert "| Disabled by the config |" in md
