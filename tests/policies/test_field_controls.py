"""The pack against the field's own rule definitions (issue 17): every case of field_controls.json (checkov and
cdk-nag fixtures, FSBP/AWS Config control texts, ECS API facts, each citing its control and source) through the
real servicer; where the pack's verdict differs from the source's, the case says why."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ecs_guardrails.pack import build_rules
from pack_driver import Analyzer, Diag, StackResource, urn_of

DATA = Path(__file__).with_name("field_controls.json")
PREVIEW_NOTE = "can't run policy"
CASES: list[dict[str, Any]] = json.loads(DATA.read_text())["cases"]
RULES = {r.name: r for r in build_rules()}


@cache
def analyzer(config_json: str) -> Analyzer:
    return Analyzer(json.loads(config_json))


def diagnostics(case: dict[str, Any]) -> list[Diag]:
    a = analyzer(json.dumps(case.get("config") or {}, sort_keys=True))
    if case["type"] != "stack":
        return a.analyze(case["type"], case["props"], name=case["id"])
    urns = {r["name"]: urn_of(r["type"], r["name"]) for r in case["resources"]}
    resources = [
        StackResource(
            r["type"],
            r["name"],
            r["props"],
            urn=urns[r["name"]],
            property_dependencies={p: [urns[n] for n in names] for p, names in r["propertyDependencies"].items()},
        )
        for r in case["resources"]
    ]
    if RULES[case["rule"]].stack:
        return a.analyze_stack(resources)
    return [d for r in resources for d in a.analyze(r.type, r.props, name=r.name)]


def verdict(case: dict[str, Any]) -> tuple[str, list[Diag]]:
    """fail: the case's rule reports a violation (any level); pass: it reports nothing; deferred: only the
    SDK's preview note."""
    mine = [d for d in diagnostics(case) if d.policy == case["rule"]]
    if any(PREVIEW_NOTE not in d.message for d in mine):
        return "fail", mine
    return ("deferred" if mine else "pass"), mine


def by_id(case_id: str) -> dict[str, Any]:
    return next(c for c in CASES if c["id"] == case_id)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case):
    got, diags = verdict(case)
    assert got == case["expected"], (case["control"], case["source"], [d.message for d in diags])


def test_cases_cite_a_known_rule_control_and_source():
    assert len({c["id"] for c in CASES}) == len(CASES)
    for c in CASES:
        assert c["rule"] in RULES, c["id"]
        assert c["control"].strip() and c["source"].strip(), c["id"]
        assert c["expected"] in ("pass", "fail"), c["id"]


def test_every_difference_from_the_source_is_explained():
    for c in CASES:
        if c.get("tool_verdict") not in (None, c["expected"]):
            assert len(c.get("note", "")) > 20, c["id"]


def test_fixture_agreement_counts():
    """The closing note's counts: the tools' fixtures run, and how many the pack agrees with."""
    fixtures = [c for c in CASES if c["kind"] == "fixture" and "tool_verdict" in c]
    agree = Counter(c["source"].split(":", 1)[0] for c in fixtures if c["tool_verdict"] == c["expected"])
    total = Counter(c["source"].split(":", 1)[0] for c in fixtures)
    assert (len(fixtures), sum(agree.values())) == (254, 215)
    assert dict(total) == {"checkov": 194, "cdk-nag": 60}
    assert dict(agree) == {"checkov": 168, "cdk-nag": 47}


# --- the examples, by name ------------------------------------------------------------------------


def messages(case_id: str) -> list[str]:
    return [d.message for d in verdict(by_id(case_id))[1]]


def test_access_logs_bucket_without_enabled_is_off():
    assert verdict(by_id("ckv91-aws_alb-only-bucket"))[0] == "fail"
    assert "defaults to false" in messages("ckv91-aws_alb-only-bucket")[0]
    assert verdict(by_id("ckv91-aws_lb-enabled"))[0] == "pass"
    assert verdict(by_id("ckv91-gateway"))[0] == "pass"  # Gateway Load Balancers cannot log
    assert "TLS listeners" in messages("elb5-nlb-note")[0]


def test_task_level_cpu_makes_container_cpu_optional():
    assert verdict(by_id("limits-fargate-task-cpu"))[0] == "pass"
    assert verdict(by_id("limits-ec2-task-cpu"))[0] == "pass"
    assert verdict(by_id("limits-cpu-zero-with-task-cpu"))[0] == "pass"
    assert "reserves no CPU" in messages("limits-cpu-zero-no-task-cpu")[0]
    assert "Windows" in messages("limits-windows-task-cpu-ignored")[0]


def test_ecs8_names_and_url_credentials_are_plaintext_secrets():
    for case_id in ("ecs8-engine-auth-data", "ecs8-secret-key-empty", "ecs8-not-exemptable-by-allowedNames"):
        assert "ECS.8" in messages(case_id)[0], case_id
    message = messages("url-credentials-postgres")[0]
    assert "DATABASE_URL" in message and "db.internal" in message and "hunter2" not in message
    assert verdict(by_id("url-without-password"))[0] == "pass"


def test_external_controller_services_are_checked_through_their_task_sets():
    assert verdict(by_id("external-service-no-lb"))[0] == "pass"
    assert verdict(by_id("external-service-no-capacity"))[0] == "pass"
    assert "task set" in messages("taskset-no-lb")[0]
    assert verdict(by_id("taskset-launch-type"))[0] == "fail"
    assert verdict(by_id("external-stack-taskset-routed"))[0] == "fail"


def test_eventbridge_and_scheduler_ecs_targets_are_checked():
    assert "ecsTarget.networkConfiguration.assignPublicIp" in messages("evt-public-ip")[0]
    assert "target.ecsParameters.launchType" in messages("sch-launch-type")[0]
    assert "ENABLED" in messages("pipe-public-ip")[0]
    assert verdict(by_id("evt-fargate-old-platform"))[0] == "fail"


def test_fargate_awslogs_needs_a_stream_prefix():
    assert "awslogs-stream-prefix" in messages("fargate-no-stream-prefix")[0]
    assert verdict(by_id("ec2-no-stream-prefix"))[0] == "pass"


def test_one_role_task_definitions_are_not_deferred():
    assert verdict(by_id("roles-exec-unknown-no-task-role")) == ("pass", [])
    assert verdict(by_id("roles-task-unknown-no-exec-role")) == ("pass", [])


def test_service_discovery_daemon_and_lattice_decisions_are_in_the_message():
    for case_id in ("daemon-no-lb", "service-connect-server", "cloud-map-registry", "vpc-lattice"):
        assert verdict(by_id(case_id))[0] == "pass", case_id
    assert "client-only" in messages("service-connect-client-only")[0]
    assert "allowServiceDiscovery is false" in messages("service-discovery-disallowed")[0]
    assert "exemptDaemonServices is false" in messages("daemon-no-lb-required")[0]
    assert "DAEMON services are exempt" in messages("plain-worker-no-lb")[0]


def test_control_relations_name_the_rules_own_controls_and_stay_out_of_the_tags():
    from ecs_guardrails.rule import control_tags

    for rule in RULES.values():
        ids = {*rule.controls.fsbp, *rule.controls.cdk_nag, *rule.controls.checkov}
        assert set(rule.controls.relation) <= ids, rule.name
        for note in rule.controls.relation.values():
            assert note.split()[0].rstrip(":;") in ("stricter", "partial", "same"), (rule.name, note)
        assert all("(" not in tag for tag in control_tags(rule.controls)), rule.name
