"""Exemption tags and remediations through the real servicer."""

from __future__ import annotations

from pack_driver import UNKNOWN, Analyzer
from pack_fixtures import LB, LG, SG, SVC, good, names

# ECS tag values take letters, digits, spaces and _.:/=+-@ only (aws-limits-tags): no commas there.
EXEMPT = {
    "ecs-guardrails:exempt": "ecs-service-load-balancer-required ecs-service-no-public-ip",
    "ecs-guardrails:reason": "queue worker approved by platform team PLAT-42",
}


def worker(tags: dict) -> dict:
    return good(SVC, name="worker", loadBalancers=None, tags=tags)


def test_exempted_violation_becomes_advisory_note(analyzer):
    diags = analyzer.analyze(SVC, worker(EXEMPT), name="worker")
    assert names(diags, "mandatory") == set()
    notes = [d for d in diags if d.policy == "ecs-guardrails-exemptions"]
    assert len(notes) == 1 and notes[0].level == "advisory"
    assert "ecs-service-load-balancer-required" in notes[0].message and "PLAT-42" in notes[0].message


def test_space_separated_exemptions_work_on_ecs_tags(analyzer):
    # ECS tag values allow no commas, so several policies are named with spaces there.
    tags = {**EXEMPT, "ecs-guardrails:exempt": "ecs-service-load-balancer-required ecs-service-no-public-ip"}
    diags = analyzer.analyze(SVC, worker(tags), name="worker")
    assert names(diags, "mandatory") == set()
    note = next(d for d in diags if d.policy == "ecs-guardrails-exemptions")
    assert "ecs-service-load-balancer-required" in note.message


def test_exemption_without_reason_is_violation_and_not_honoured(analyzer):
    diags = analyzer.analyze(SVC, worker({"ecs-guardrails:exempt": "ecs-service-load-balancer-required"}))
    assert {"ecs-service-load-balancer-required", "ecs-guardrails-exemption-reason"} <= names(
        diags, "mandatory"
    )
    blank = analyzer.analyze(SVC, worker({**EXEMPT, "ecs-guardrails:reason": "  "}))
    assert "ecs-guardrails-exemption-reason" in names(blank, "mandatory")


def test_exemption_only_covers_named_policies(analyzer):
    tags = {**EXEMPT, "ecs-guardrails:exempt": "ecs-service-no-public-ip"}
    assert "ecs-service-load-balancer-required" in names(analyzer.analyze(SVC, worker(tags)), "mandatory")


def test_exemption_of_compliant_resource_is_silent_and_typos_noted(analyzer):
    # EC2 tag values take commas: a comma-separated list.
    tags = {**EXEMPT, "ecs-guardrails:exempt": "sg-no-public-ingress,sg-no-publik-ingress"}
    diags = analyzer.analyze(SG, good(SG, tags=tags))
    assert [d.policy for d in diags] == ["ecs-guardrails-exemptions"]
    assert "typo" in diags[0].message


def test_unknown_tags_do_not_exempt(analyzer):
    diags = analyzer.analyze(SVC, good(SVC, name="w", loadBalancers=None, tags=UNKNOWN))
    assert "ecs-service-load-balancer-required" in names(diags, "mandatory")


def test_exemptions_do_not_leak_between_resources(analyzer):
    analyzer.analyze(SVC, worker(EXEMPT), name="a")
    diags = analyzer.analyze(SVC, good(SVC), name="b")
    assert diags == []


def test_remediation_off_by_default(analyzer):
    assert analyzer.remediate(LB, good(LB, dropInvalidHeaderFields=False)) is None
    assert "lb-drop-invalid-headers" in names(analyzer.analyze(LB, good(LB, dropInvalidHeaderFields=False)))


def test_remediation_when_configured():
    a = Analyzer(
        {
            "lb-drop-invalid-headers": "remediate",
            "log-group-retention": {"enforcementLevel": "remediate", "minRetentionDays": 90},
        }
    )
    fixed = a.remediate(LB, good(LB, dropInvalidHeaderFields=False, tags={"team": "web"}))
    assert fixed is not None and fixed["dropInvalidHeaderFields"] is True and fixed["tags"] == {"team": "web"}
    assert a.analyze(LB, good(LB, dropInvalidHeaderFields=False)) == []
    assert a.remediate(LG, good(LG, retentionInDays=7))["retentionInDays"] == 90
    assert a.remediate(LG, good(LG, retentionInDays=365)) is None
    # Remediation preserves secrets and leaves unknowns alone.
    secret_tags = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": {"k": "v"},
    }
    out = a.remediate(LG, {"name": "/x", "tags": secret_tags})
    assert out["retentionInDays"] == 90 and out["tags"] == secret_tags
    assert a.remediate(LG, {"name": "/x", "retentionInDays": UNKNOWN}) is None


def test_remediation_skips_exempted():
    a = Analyzer({"lb-drop-invalid-headers": "remediate"})
    tags = {"ecs-guardrails:exempt": "lb-drop-invalid-headers", "ecs-guardrails:reason": "legacy clients"}
    assert a.remediate(LB, good(LB, dropInvalidHeaderFields=False, tags=tags)) is None
