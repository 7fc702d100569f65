"""Unknown (preview), secret, wrong-type and malformed properties: no rule raises; a known bad value is still
a mandatory violation; an unknown value is never a mandatory violation, only the SDK's advisory note."""

from __future__ import annotations

import copy
import json

import pytest
from ecs_guardrails.pack import build_rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pack_driver import (
    UNKNOWN,
    UNKNOWN_ARRAY,
    UNKNOWN_BOOL,
    UNKNOWN_NUMBER,
    UNKNOWN_OBJECT,
    secret,
)
from pack_fixtures import GOOD, LB, LG, LT, SG, SG_INGRESS, SVC, TD, container, good, names, task_def

PREVIEW_NOTE = "during preview"


def test_unknown_container_definitions_is_advisory_only(analyzer):
    diags = analyzer.analyze(TD, task_def(containerDefinitions=UNKNOWN))
    assert names(diags, "mandatory") == set()
    notes = [d for d in diags if d.policy == "ecs-container-resource-limits"]
    assert notes and notes[0].level == "advisory" and PREVIEW_NOTE in notes[0].message


def test_unknown_elsewhere_does_not_stop_known_violation(analyzer):
    # Role ARNs unknown at preview; the containers are known and one is privileged.
    td = task_def([container(privileged=True)], executionRoleArn=UNKNOWN, taskRoleArn=UNKNOWN)
    diags = analyzer.analyze(TD, td)
    assert "ecs-container-no-privileged" in names(diags, "mandatory")
    # Unknown role ARNs do not defer ecs-task-separate-roles: its stack companion decides them at preview
    # from the roles referenced (tests/policies/test_pack_preview_references.py).
    assert [d.level for d in diags if d.policy == "ecs-task-separate-roles"] == []


def test_known_bad_reported_even_with_unknown_in_same_rule(analyzer):
    td = task_def([container(cpu=None), container(name="b", logConfiguration={"logDriver": UNKNOWN})], cpu=None)
    diags = analyzer.analyze(TD, td)
    levels = {d.level for d in diags if d.policy == "ecs-container-resource-limits"}
    assert "mandatory" in levels
    assert [d.level for d in diags if d.policy == "ecs-container-logging-required"] == ["advisory"]


@pytest.mark.parametrize("sentinel", [UNKNOWN, UNKNOWN_NUMBER, UNKNOWN_BOOL, UNKNOWN_ARRAY, UNKNOWN_OBJECT])
@pytest.mark.parametrize("rtype", sorted(GOOD))
def test_every_top_level_unknown_never_mandatory(analyzer, rtype, sentinel):
    for key in GOOD[rtype]:
        diags = analyzer.analyze(rtype, good(rtype, **{key: sentinel}))
        assert names(diags, "mandatory") == set(), (key, diags)


def test_secret_wrapped_values_are_read(analyzer):
    td = task_def()
    td["containerDefinitions"] = secret(json.dumps([container(privileged=True)]))
    assert "ecs-container-no-privileged" in names(analyzer.analyze(TD, td), "mandatory")
    assert names(analyzer.analyze(TD, {**task_def(), "taskRoleArn": secret("arn:x")})) == set()


def test_malformed_container_definitions(analyzer):
    diags = analyzer.analyze(TD, task_def(containerDefinitions="[{not json"))
    msgs = [
        d.message for d in diags if d.policy == "ecs-container-resource-limits" and d.level == "mandatory"
    ]
    assert msgs and "not valid JSON" in msgs[0]
    for bad in ("{}", "[1, 2]", 42, {"a": 1}, None):
        diags = analyzer.analyze(
            TD, task_def(containerDefinitions=bad) if bad is not None else {"family": "x"}
        )
        assert "ecs-container-resource-limits" in names(diags, "mandatory"), bad


def test_numbers_as_strings_and_floats(analyzer):
    td = task_def([container(cpu="256", memory="512.0", memoryReservation=256.0)])
    assert names(analyzer.analyze(TD, td)) == set()
    assert names(analyzer.analyze(LG, good(LG, retentionInDays="90"))) == set()
    assert (
        names(
            analyzer.analyze(
                LT, good(LT, metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": "2"})
            )
        )
        == set()
    )


@pytest.mark.parametrize("rtype", sorted(GOOD))
def test_wrong_types_never_raise(analyzer, rtype):
    for key in GOOD[rtype]:
        for junk in (1, "x", [1, "a", None], {"a": [1]}, True, -5.5):
            analyzer.analyze(rtype, good(rtype, **{key: junk}))  # must not raise


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-70000, 70000)
    | st.text(max_size=8)
    | st.sampled_from([UNKNOWN, "0.0.0.0/0", "host", "*", "awslogs", "HTTP"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rtype=st.sampled_from([*sorted(GOOD), "aws:elb/loadBalancer:LoadBalancer"]),
    props=st.dictionaries(
        st.sampled_from(sorted({k for p in GOOD.values() for k in p})), json_values, max_size=4
    ),
)
def test_fuzz_never_raises(analyzer, rtype, props):
    analyzer.analyze(rtype, props)


def test_containers_json_with_embedded_unknown(analyzer):
    for over in (
        {"image": UNKNOWN},
        {"cpu": UNKNOWN_NUMBER},
        {"memory": UNKNOWN_NUMBER},
        {"readonlyRootFilesystem": UNKNOWN_BOOL},
        {"user": UNKNOWN},
    ):
        diags = analyzer.analyze(TD, task_def([container(**over)]))
        assert names(diags, "mandatory") == set(), over


def test_icmp_and_default_listener_protocol(analyzer):
    sg = {"ingress": [{"protocol": "icmp", "fromPort": -1, "toPort": -1, "cidrBlocks": ["0.0.0.0/0"]}]}
    assert names(analyzer.analyze(SG, sg)) == set()
    listener = {"port": 80, "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}]}
    assert "lb-http-redirects-to-https" in names(analyzer.analyze("aws:lb/listener:Listener", listener))


def test_sg_unknown_ports(analyzer):
    sg = {
        "ingress": [
            {"protocol": "tcp", "fromPort": UNKNOWN_NUMBER, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
        ]
    }
    assert names(analyzer.analyze(SG, sg), "mandatory") == set()
    rule = {
        "securityGroupId": UNKNOWN,
        "ipProtocol": "tcp",
        "fromPort": 22,
        "toPort": 22,
        "cidrIpv4": "0.0.0.0/0",
    }
    assert "sg-no-admin-ports-from-internet" in names(analyzer.analyze(SG_INGRESS, rule), "mandatory")


def test_service_unknown_load_balancers(analyzer):
    assert names(analyzer.analyze(SVC, good(SVC, loadBalancers=UNKNOWN_ARRAY)), "mandatory") == set()
    lbs = [{"targetGroupArn": UNKNOWN, "containerName": "web", "containerPort": 8080}]
    assert names(analyzer.analyze(SVC, good(SVC, loadBalancers=lbs))) == set()


def test_lb_unknown_type(analyzer):
    assert (
        names(
            analyzer.analyze(LB, good(LB, loadBalancerType=UNKNOWN, dropInvalidHeaderFields=False)),
            "mandatory",
        )
        == set()
    )


def test_all_rules_have_metadata():
    for r in build_rules():
        assert r.description and r.remediation_steps and r.resource_types
        for key, schema in r.config.items():
            assert "default" in schema and "description" in schema, (r.name, key)


def _leaf_paths(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaf_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaf_paths(v, (*path, i))
    yield path


def _replace(value, path, new):
    if not path:
        return new
    value = copy.deepcopy(value)
    cur = value
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = new
    return value


def _variants(rtype):
    props = good(rtype)
    for path in _leaf_paths(props):
        if path:
            yield path, _replace(props, path, UNKNOWN)
    if rtype == TD:  # also every field inside the containerDefinitions JSON
        c = container()
        for path in _leaf_paths(c):
            if path:
                yield ("containerDefinitions", *path), task_def([_replace(c, path, UNKNOWN)])


@pytest.mark.parametrize("rtype", sorted(GOOD))
def test_any_nested_unknown_yields_only_preview_notes(analyzer, rtype):
    """Unknown anywhere in a compliant resource: nothing but the SDK's advisory 'during preview' notes."""
    for path, props in _variants(rtype):
        for d in analyzer.analyze(rtype, props):
            assert d.level == "advisory" and PREVIEW_NOTE in d.message, (path, d)


def test_unknown_exemption_reason_is_not_a_violation(analyzer):
    tags = {"ecs-guardrails:exempt": "ecs-service-load-balancer-required", "ecs-guardrails:reason": UNKNOWN}
    diags = analyzer.analyze(SVC, good(SVC, loadBalancers=None, tags=tags))
    assert names(diags, "mandatory") == set()


# Regressions found by the policy fuzzer (tests/hardening/test_policy_fuzz.py).

INTERNAL = "could not evaluate"


@pytest.mark.parametrize(
    "doc",
    [
        '[{"cpu": ' + "9" * 5000 + "}]",  # json.loads raises a plain ValueError (int digit limit), not JSONDecodeError
        "[" * 5000,  # RecursionError while decoding
        "[" * 600 + "]" * 600,  # decodes, but too deep for the recursive readers
    ],
)
def test_pathological_json_is_malformed_not_internal_error(analyzer, doc):
    for rtype, props in (
        (TD, task_def(containerDefinitions=doc)),
        ("aws:iam/policy:Policy", {"policy": doc}),
        ("aws:iam/role:Role", {"assumeRolePolicy": doc}),
    ):
        diags = analyzer.analyze(rtype, props)
        assert diags and not [d for d in diags if INTERNAL in d.message], diags
        assert any("not valid JSON" in d.message or "levels deep" in d.message for d in diags)


def test_non_string_env_name_does_not_raise(analyzer):
    td = task_def([container(environment=[{"name": {"a": 1}, "value": "x"}, {"name": ["B"], "value": "y"}])])
    assert not [d for d in analyzer.analyze(TD, td) if INTERNAL in d.message]


def test_lone_surrogates_in_json_do_not_break_reporting(analyzer):
    # JSON escapes may decode to lone surrogates; protobuf strings must be valid UTF-8 (the servicer raised).
    td = task_def(containerDefinitions='[{"name": "a\\ud800", "user": "root", "image": "x\\udc00:latest"}]')
    diags = analyzer.analyze(TD, td)
    assert "ecs-container-non-root-user" in names(diags)
    assert any("\\ud800" in d.message for d in diags)
    unknown_key = json.dumps([{"name": "a", "cpu": 1, "memory": 2, "\ud800": {"x": UNKNOWN}}])
    analyzer.analyze(TD, task_def(containerDefinitions=unknown_key))  # must not raise
