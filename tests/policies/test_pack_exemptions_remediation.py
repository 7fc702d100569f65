"""Governed exemptions and remediations through the real servicer.

Expiry dates are far in the past (2001) or far ahead (2999), or computed from today's UTC date with weeks of
margin either side, so no test depends on the day it runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pack_driver import UNKNOWN, Analyzer, PolicyError, resolve_config
from pack_fixtures import LB, SVC, TD, container, good, load_config, names, task_def

LB_RULE = "ecs-service-load-balancer-required"
GOVERNANCE = "ecs-guardrails-exemption-reason"
# ECS tag values take letters, digits, spaces and _.:/=+-@ only (aws-limits-tags).
REASON = "queue worker without HTTP approved by platform team PLAT-42"
EXEMPT = {"ecs-guardrails:exempt": LB_RULE, "ecs-guardrails:reason": REASON}
MINER_TAGS = {
    "ecs-guardrails:exempt": "ecs-container-no-privileged ecs-container-image-registry",
    "ecs-guardrails:reason": "ok",
}
# The first line of an honoured exemption's note, as the offline preview parses it.
NOTE = re.compile(r"^exempt from '(?P<policy>[^']+)' \((?:expires (?P<expires>\S+)|no expiry)\), reason: (?P<reason>.*)$")


def worker(tags: dict) -> dict:
    return good(SVC, name="worker", loadBalancers=None, tags=tags)


def miner() -> dict:
    return task_def([container(privileged=True, image="docker.io/attacker/miner:1.0")], tags=MINER_TAGS)


def notes(diags: list) -> list[dict]:
    """The honoured-exemption notes, parsed."""
    found = []
    for d in diags:
        m = NOTE.match(_note_line(d.message))
        if d.policy in ("ecs-guardrails-exemptions", "ecs-guardrails-stack-exemptions") and m:
            found.append({**m.groupdict(), "level": d.level, "text": d.message})
    return found


def _note_line(message: str) -> str:
    return next((line for line in message.splitlines() if line.startswith("exempt from '")), "")


def utc_in(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def test_worker_exemption_is_honoured_and_noted(analyzer):
    diags = analyzer.analyze(SVC, worker(EXEMPT), name="worker")
    assert names(diags, "mandatory") == set()
    [note] = notes(diags)
    assert note["level"] == "advisory" and note["policy"] == LB_RULE and note["reason"] == REASON
    assert note["expires"] is None and "suppressed: the service has no loadBalancers entry" in note["text"]


def test_names_separated_by_spaces_or_commas(analyzer):
    cfg = {GOVERNANCE: {"exemptable": [LB_RULE, "ecs-service-no-public-ip"]}}
    a = Analyzer(cfg)
    for sep in (" ", ", ", ","):
        tags = {**EXEMPT, "ecs-guardrails:exempt": f"{LB_RULE}{sep}ecs-service-no-public-ip"}
        diags = a.analyze(SVC, worker(tags), name="worker")
        # The exemption parses either way; ECS itself refuses a comma in a tag value.
        assert names(diags, "mandatory") == ({"aws-limits-tags"} if "," in sep else set()), sep
        assert {n["policy"] for n in notes(diags)} == {LB_RULE, "ecs-service-no-public-ip"}, sep


@pytest.mark.parametrize(
    "tags,says",
    [
        ({"ecs-guardrails:exempt": LB_RULE}, "has no ecs-guardrails:reason tag"),
        ({**EXEMPT, "ecs-guardrails:reason": "  "}, "has no ecs-guardrails:reason tag"),
        ({**EXEMPT, "ecs-guardrails:reason": "ok"}, "'ok' is shorter than 10 characters"),
        ({**EXEMPT, "ecs-guardrails:expires": "31/12/2999"}, "'31/12/2999' is not a date YYYY-MM-DD"),
        ({**EXEMPT, "ecs-guardrails:expires": "2999-02-30"}, "'2999-02-30' is not a date YYYY-MM-DD"),
    ],
)
def test_invalid_exemption_is_a_violation_and_the_policy_is_enforced(analyzer, tags, says):
    diags = analyzer.analyze(SVC, worker(tags), name="worker")
    assert {LB_RULE, GOVERNANCE} <= names(diags, "mandatory")
    assert says in next(d.message for d in diags if d.policy == GOVERNANCE)
    assert notes(diags) == []


def test_non_exemptable_policies_refuse_and_are_enforced(analyzer):
    """The privileged miner of the issue: a two-letter reason, exempting two mandatory policies."""
    for a in (analyzer, Analyzer(load_config("prod"))):
        diags = a.analyze(TD, miner())
        mandatory = names(diags, "mandatory")
        assert {"ecs-container-no-privileged", "ecs-container-image-registry", GOVERNANCE} <= mandatory
        refusals = [d.message for d in diags if d.policy == GOVERNANCE]
        for policy in ("ecs-container-no-privileged", "ecs-container-image-registry"):
            assert any(f"names '{policy}', which may not be exempted" in m for m in refusals), refusals
        assert any("'ok' is shorter than 10 characters" in m for m in refusals)


def test_organisation_can_make_a_mandatory_policy_exemptable():
    a = Analyzer({GOVERNANCE: {"exemptable": [LB_RULE, "ecs-container-no-privileged"]}})
    td = task_def([container(privileged=True)], tags={**EXEMPT, "ecs-guardrails:exempt": "ecs-container-no-privileged"})
    diags = a.analyze(TD, td)
    assert names(diags, "mandatory") == set()
    assert [n["policy"] for n in notes(diags)] == ["ecs-container-no-privileged"]
    # The list is the whole list: the worker's exemption now needs LB_RULE in it too.
    b = Analyzer({GOVERNANCE: {"exemptable": ["ecs-container-no-privileged"]}})
    assert {LB_RULE, GOVERNANCE} <= names(b.analyze(SVC, worker(EXEMPT), name="worker"), "mandatory")


def test_advisory_policies_are_exemptable_by_default(analyzer):
    td = task_def(
        [container(user=None)], tags={**EXEMPT, "ecs-guardrails:exempt": "ecs-container-non-root-user"}
    )
    diags = analyzer.analyze(TD, td)
    assert "ecs-container-non-root-user" not in names(diags)
    assert [n["policy"] for n in notes(diags)] == ["ecs-container-non-root-user"]


def test_policies_no_exemption_can_switch_off(analyzer):
    tags = {**EXEMPT, "ecs-guardrails:exempt": f"{LB_RULE} {GOVERNANCE}"}
    diags = analyzer.analyze(SVC, worker(tags), name="worker")
    assert any(
        f"names '{GOVERNANCE}', which no exemption can switch off" in d.message
        for d in diags
        if d.policy == GOVERNANCE and d.level == "mandatory"
    )


def test_reason_pattern():
    a = Analyzer({GOVERNANCE: {"reasonPattern": "[A-Z][A-Z0-9]+-[0-9]+"}})
    assert names(a.analyze(SVC, worker(EXEMPT), name="worker"), "mandatory") == set()
    no_ticket = {**EXEMPT, "ecs-guardrails:reason": "queue worker approved by the platform team"}
    diags = a.analyze(SVC, worker(no_ticket), name="worker")
    assert {LB_RULE, GOVERNANCE} <= names(diags, "mandatory")
    assert "does not match the organisation's reasonPattern" in next(d.message for d in diags if d.policy == GOVERNANCE)


def test_invalid_reason_pattern_refuses_every_exemption():
    a = Analyzer({GOVERNANCE: {"reasonPattern": "PLAT-(["}})
    diags = a.analyze(SVC, worker(EXEMPT), name="worker")
    assert {LB_RULE, GOVERNANCE} <= names(diags, "mandatory")
    assert "is not a valid regular expression" in next(d.message for d in diags if d.policy == GOVERNANCE)


def test_expired_exemption_lapses_and_the_policy_is_enforced(analyzer):
    diags = analyzer.analyze(SVC, worker({**EXEMPT, "ecs-guardrails:expires": "2001-01-01"}), name="worker")
    assert names(diags, "mandatory") == {LB_RULE}  # lapsed, not invalid
    assert notes(diags) == []
    assert any("lapsed on 2001-01-01" in d.message for d in diags if d.level == "advisory")


def test_future_expiry_is_honoured_and_reported(analyzer):
    diags = analyzer.analyze(SVC, worker({**EXEMPT, "ecs-guardrails:expires": "2999-01-01"}), name="worker")
    assert names(diags, "mandatory") == set()
    assert [n["expires"] for n in notes(diags)] == ["2999-01-01"]


def test_maximum_lifetime():
    a = Analyzer({GOVERNANCE: {"maxLifetimeDays": 365}})
    within = a.analyze(SVC, worker({**EXEMPT, "ecs-guardrails:expires": utc_in(30)}), name="worker")
    assert names(within, "mandatory") == set() and len(notes(within)) == 1
    for tags, says in (
        ({**EXEMPT, "ecs-guardrails:expires": utc_in(400)}, "more than 365 days ahead"),
        ({**EXEMPT, "ecs-guardrails:expires": "2999-01-01"}, "more than 365 days ahead"),
        (EXEMPT, "limits exemptions to 365 days (maxLifetimeDays): add the tag ecs-guardrails:expires"),
    ):
        diags = a.analyze(SVC, worker(tags), name="worker")
        assert {LB_RULE, GOVERNANCE} <= names(diags, "mandatory"), tags
        assert says in next(d.message for d in diags if d.policy == GOVERNANCE)


def test_governance_is_per_pack_instance():
    """Two servicers in one process: each honours what its own config allows, whatever the call order."""
    listed = Analyzer({GOVERNANCE: {"exemptable": [LB_RULE, "ecs-container-no-privileged"]}})
    default = Analyzer()
    td = task_def([container(privileged=True)], tags={**EXEMPT, "ecs-guardrails:exempt": "ecs-container-no-privileged"})
    for _ in range(2):
        assert "ecs-container-no-privileged" not in names(listed.analyze(TD, td))
        assert "ecs-container-no-privileged" in names(default.analyze(TD, td), "mandatory")


def test_disabled_governance_falls_back_to_the_pack_defaults():
    a = Analyzer(
        {GOVERNANCE: {"enforcementLevel": "disabled", "exemptable": [LB_RULE, "ecs-container-no-privileged"]}}
    )
    td = task_def([container(privileged=True)], tags={**EXEMPT, "ecs-guardrails:exempt": "ecs-container-no-privileged"})
    assert "ecs-container-no-privileged" in names(a.analyze(TD, td), "mandatory")
    assert names(a.analyze(SVC, worker(EXEMPT), name="worker"), "mandatory") == set()


def test_exemptable_names_are_validated_by_the_schema():
    with pytest.raises(PolicyError, match="exemptable"):
        resolve_config({GOVERNANCE: {"exemptable": ["ecs-container-no-privilegd"]}})
    with pytest.raises(PolicyError, match="exemptable"):
        resolve_config({GOVERNANCE: {"exemptable": [GOVERNANCE]}})


def test_exemption_of_compliant_resource_is_noted_and_typos_named(analyzer):
    tags = {**EXEMPT, "ecs-guardrails:exempt": f"{LB_RULE} ecs-service-lb-required"}
    diags = analyzer.analyze(SVC, good(SVC, tags=tags))
    assert names(diags, "mandatory") == set()
    [note] = notes(diags)
    assert "nothing suppressed" in note["text"]
    assert any("'ecs-service-lb-required', which is not a policy of this pack" in d.message for d in diags)


def test_unknown_tags_do_not_exempt(analyzer):
    diags = analyzer.analyze(SVC, good(SVC, name="w", loadBalancers=None, tags=UNKNOWN))
    assert LB_RULE in names(diags, "mandatory")


@pytest.mark.parametrize("tag", ["ecs-guardrails:reason", "ecs-guardrails:expires"])
def test_unknown_reason_or_expiry_defers_the_decision(analyzer, tag):
    diags = analyzer.analyze(SVC, worker({**EXEMPT, tag: UNKNOWN}), name="worker")
    assert names(diags, "mandatory") == set()
    deferred = {d.policy for d in diags if "during preview" in d.message and tag in d.message}
    assert deferred == {LB_RULE, GOVERNANCE, "aws-limits-tags"}  # the tag's characters are unknown too


def test_exemptions_do_not_leak_between_resources(analyzer):
    analyzer.analyze(SVC, worker(EXEMPT), name="a")
    diags = analyzer.analyze(SVC, good(SVC), name="b")
    assert diags == []


def test_stack_rule_exemption_needs_the_organisation_to_list_it():
    from test_pack_stack import graph

    tags = {"ecs-guardrails:exempt": "ecs-service-target-group-routed", "ecs-guardrails:reason": "blue/green spare"}
    refused = Analyzer()
    refused.analyze(SVC, good(SVC))  # the engine analyses every resource before AnalyzeStack
    assert "ecs-service-target-group-routed" in names(refused.analyze_stack(graph(routed=False, svc_tags=tags)), "mandatory")
    listed = Analyzer({GOVERNANCE: {"exemptable": [LB_RULE, "ecs-service-target-group-routed"]}})
    listed.analyze(SVC, good(SVC))
    diags = listed.analyze_stack(graph(routed=False, svc_tags=tags))
    assert names(diags, "mandatory") == set()
    [note] = notes(diags)
    assert note["policy"] == "ecs-service-target-group-routed" and note["reason"] == "blue/green spare"
    assert next(d.urn for d in diags if d.policy == "ecs-guardrails-stack-exemptions").endswith("::web")


def test_remediation_off_by_default(analyzer):
    assert analyzer.remediate(LB, good(LB, dropInvalidHeaderFields=False)) is None
    assert "lb-drop-invalid-headers" in names(analyzer.analyze(LB, good(LB, dropInvalidHeaderFields=False)))


def test_remediation_when_configured():
    from pack_fixtures import LG

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


def test_remediation_skips_resources_that_exempt_themselves():
    a = Analyzer({"lb-drop-invalid-headers": "remediate"})
    tags = {"ecs-guardrails:exempt": "lb-drop-invalid-headers", "ecs-guardrails:reason": "legacy clients PLAT-7"}
    assert a.remediate(LB, good(LB, dropInvalidHeaderFields=False, tags=tags)) is None
    # Not exemptable by default: the validation enforces it, so the run fails instead of changing the LB.
    diags = a.analyze(LB, good(LB, dropInvalidHeaderFields=False, tags=tags))
    assert {"lb-drop-invalid-headers", GOVERNANCE} <= names(diags, "mandatory")
