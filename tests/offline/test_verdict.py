"""The verdict's rules and the reports built on them, from analysis results (no processes)."""

from __future__ import annotations

import json

import jsonschema
from offline_testlib import REPO

from offline import report
from offline.analyzer import AnalysisResult, Diagnostic
from offline.engine import Registration
from offline.verdict import PolicyConfigSource, assess

ROOT = "urn:pulumi:dev::app::pulumi:pulumi:Stack::app-dev"
SVC = "urn:pulumi:dev::app::aws:ecs/service:Service::worker"
SCHEMA = json.loads((REPO / "offline" / "report.schema.json").read_text())


def analysis(levels: dict[str, str], configured: dict[str, str], *diags: Diagnostic) -> AnalysisResult:
    policies = [{"name": n, "level": level} for n, level in levels.items()]
    config = {n: {"level": level, "properties": None} for n, level in configured.items()}
    return AnalysisResult("pack", "1.2.3", policies, config, list(diags))


def diag(policy: str, level: str, message: str, urn: str = SVC) -> Diagnostic:
    return Diagnostic(policy, "pack", "1.2.3", level, urn, message)


CANT_RUN = "can't run policy '{}' from policy pack 'pack@v1.2.3' during preview: string value at .x can't be known during preview"


def test_pass_fail_and_what_is_incomplete() -> None:
    levels = {"m": "mandatory", "a": "advisory"}
    assert assess(analysis(levels, levels), 0).kind == "pass"
    assert assess(analysis(levels, levels, diag("m", "mandatory", "bad")), 0).kind == "fail"
    # A mandatory violation outweighs everything that makes a run incomplete.
    failing = analysis(levels, levels, diag("m", "mandatory", "bad"), diag("m", "advisory", CANT_RUN.format("m")))
    assert assess(failing, 3).kind == "fail"
    assert assess(analysis(levels, levels), 1).kind == "incomplete"  # a remote component not analysed
    nothing = assess(None, 0)
    assert nothing.kind == "incomplete" and nothing.line().endswith("no policy pack ran (--policy-pack none)")


def test_deferred_counts_only_policies_configured_to_enforce() -> None:
    levels = {"m": "mandatory", "a": "advisory", "r": "mandatory"}
    configured = {"m": "mandatory", "a": "advisory", "r": "remediate"}
    result = assess(
        analysis(levels, configured, *(diag(n, "advisory", CANT_RUN.format(n)) for n in ("m", "a", "r"))), 0
    )
    assert result.kind == "incomplete"
    assert [(d.policy_name, d.urn, d.reason) for d in result.deferred] == [
        ("m", SVC, "string value at .x can't be known during preview"),
        ("r", SVC, "string value at .x can't be known during preview"),
    ]
    assert result.exit_code() == 0 and result.exit_code(strict=True) == 1
    lowered = assess(analysis(levels, {**configured, "m": "advisory"}, diag("m", "advisory", CANT_RUN.format("m"))), 0)
    assert lowered.kind == "pass" and lowered.deferred == []


def test_disabled_and_lowered_policies() -> None:
    levels = {"m": "mandatory", "r": "remediate", "a": "advisory", "off": "disabled"}
    result = assess(analysis(levels, {"m": "advisory", "r": "mandatory", "a": "disabled", "off": "disabled"}), 0)
    assert result.disabled == ["a"] and result.disabled_mandatory == [] and result.kind == "pass"
    assert [(x.policy_name, x.default_level, x.level) for x in result.lowered] == [("m", "mandatory", "advisory")]
    everything_off = assess(analysis(levels, dict.fromkeys(levels, "disabled")), 0)
    assert everything_off.kind == "incomplete" and everything_off.disabled_mandatory == ["m", "r"]
    assert "the policy config disabled 2 mandatory policy(ies)" in everything_off.line()


def test_exemptions_read_from_the_companions_notes() -> None:
    note = (
        "Reports each exemption.\n"
        "exempt from 'ecs-service-load-balancer-required' (expires 2999-01-31), reason: worker, PLAT-1\n"
        "  suppressed: no load balancer"
    )
    levels = {"ecs-guardrails-exemptions": "advisory"}
    result = assess(analysis(levels, levels, diag("ecs-guardrails-exemptions", "advisory", note)), 0)
    [e] = result.exemptions
    expected = (SVC, "ecs-service-load-balancer-required", "worker, PLAT-1", "2999-01-31")
    assert (e.urn, e.policy_name, e.reason, e.expires) == expected
    assert result.kind == "pass"


def test_config_source_and_warning() -> None:
    own = PolicyConfigSource("policies/config/dev.json", "policies/config/dev.json", True)
    assert own.shown == "policies/config/dev.json" and own.warning("dev") is None
    none = PolicyConfigSource(None, "policies/config/staging.json", False)
    assert none.shown == "pack defaults, no config file"
    assert none.warning("staging") == (
        "stack 'staging' has no policy config file of its own (policies/config/staging.json): the pack's defaults apply"
    )


def preview(result: AnalysisResult | None, source: PolicyConfigSource | None, strict: bool = False) -> report.Preview:
    regs = [
        Registration(ROOT, "pulumi:pulumi:Stack", "app-dev", False),
        Registration(SVC, "aws:ecs/service:Service", "worker", True, parent=ROOT),
    ]
    return report.Preview("app", "staging", "preview", regs, result, [], {}, source, strict)


def test_every_format_says_what_was_enforced() -> None:
    levels = {"m": "mandatory", "lb": "mandatory", "a": "advisory"}
    configured = {"m": "advisory", "lb": "mandatory", "a": "disabled"}
    result = analysis(levels, configured, diag("lb", "advisory", CANT_RUN.format("lb")))
    p = preview(result, PolicyConfigSource(None, "policies/config/staging.json", False), strict=True)
    doc = report.to_json(p)
    jsonschema.validate(doc, SCHEMA)
    summary = doc["summary"]
    assert summary["policyConfig"] is None and summary["disabledPolicies"] == ["a"]
    assert summary["loweredPolicies"] == [{"policyName": "m", "defaultLevel": "mandatory", "level": "advisory"}]
    assert summary["deferred"] == [{"policyName": "lb", "urn": SVC, "reason": "string value at .x can't be known during preview"}]
    assert summary["verdict"] == "incomplete" and summary["exitCode"] == 1 and doc["exemptions"] == []
    text = report.text(p)
    for needle in (
        "policy config: pack defaults, no config file",
        "warning: stack 'staging' has no policy config file of its own (policies/config/staging.json)",
        "disabled by the config (1): a",
        "m: mandatory -> advisory",
        "Deferred to deploy (1)",
        "INCOMPLETE: no mandatory policy violations (1 advisory), but 1 mandatory check(s) deferred to deploy",
    ):
        assert needle in text, needle
    md = report.markdown(p)
    assert md.splitlines()[1] == "### ⚠️ Offline preview: `staging`"
    for needle in ("| Policy config | pack defaults, no config file |", "| Disabled by the config | `a` |",
                   "`m` (mandatory → advisory)", "| Deferred mandatory checks | 1 |", "#### ⚠️ Deferred to deploy"):
        assert needle in md, needle
    # Same inputs, same bytes.
    assert report.text(p) == text and report.markdown(p) == md


def test_no_pack_is_incomplete_in_every_format() -> None:
    p = preview(None, None)
    assert p.exit_code == 0 and report.to_json(p)["summary"]["verdict"] == "incomplete"
    assert report.text(p).rstrip().endswith(
        "INCOMPLETE: no mandatory policy violations (0 advisory), but no policy pack ran (--policy-pack none)"
    )
    assert "### ⚠️" in report.markdown(p)
