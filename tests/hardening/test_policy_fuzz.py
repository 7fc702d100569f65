"""Policy fuzzing (issue 6, item 2): generated properties for every type token the pack knows, through the real
servicer (Remediate, Analyze, AnalyzeStack) under the default, dev, prod and flipped configs. No policy raises
(out of the servicer, or caught by the pack's wrapper as "could not evaluate"), remediations keep the other
properties and clear their own violation, every diagnostic names its policy and a subject.
Strategies: policy_strategies.py (shared with bench/fuzz_policies.py, which runs thousands of cases)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
import policy_strategies as ps
from ecs_guardrails.pack import build_rules

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
TOKENS = (*ps.type_tokens(), ps.OTHER_TYPE)


def _report(problems: list[tuple[str, str]]) -> str:
    return "\n".join(f"{p}: {m}" for p, m in problems[:10])


def test_type_tokens_cover_every_rule():
    tokens = set(ps.type_tokens())
    for rule in build_rules():
        for t in rule.resource_types:
            assert t in ("*", "stack") or t in tokens, (rule.name, t)
    assert {"aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule"} <= tokens  # stack-only
    assert len(tokens) >= 25


@pytest.mark.parametrize("rtype", TOKENS)
def test_fuzz_resource(rtype):
    @settings(FUZZ, max_examples=8)
    @given(props=ps.resource_props(rtype))
    def run(props):
        problems = ps.check_resource(rtype, props)
        assert not problems, _report(problems)

    run()


@settings(FUZZ, max_examples=40)
@given(resources=ps.stack_case())
def test_fuzz_stack(resources):
    problems = ps.check_stack(resources)
    assert not problems, _report(problems)


@pytest.mark.parametrize("payload", ps.BROKEN_JSON)
def test_broken_json_documents(payload):
    td, role = "aws:ecs/taskDefinition:TaskDefinition", "aws:iam/role:Role"
    problems = ps.check_resource(td, {"family": "w", "containerDefinitions": payload})
    problems += ps.check_resource("aws:iam/policy:Policy", {"policy": payload})
    problems += ps.check_resource(role, {"assumeRolePolicy": payload, "inlinePolicies": [{"policy": payload}]})
    problems += ps.check_stack([ps.StackResource(td, "t", {"containerDefinitions": payload}, ps.urn_of(td, "t"))])
    assert not problems, _report(problems)


@pytest.mark.parametrize("count", [11, 1000])
def test_very_large_container_lists(count):
    import json

    c = {"name": "web", "image": "nginx:1", "cpu": 1, "memory": 4, "user": "\u00e9",
         "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/x"}}}
    props = {"containerDefinitions": json.dumps([c] * count), "cpu": "256", "networkMode": "bridge"}
    problems = ps.check_resource("aws:ecs/taskDefinition:TaskDefinition", props)
    assert not problems, _report(problems)


def test_valid_shapes_reach_past_parsing():
    """The base shapes are realistic: unmutated task definitions parse, so the rules' deeper checks run."""
    from hypothesis import strategies as st

    seen: set[str] = set()

    @settings(FUZZ, max_examples=30)
    @given(containers=st.lists(ps.container, min_size=1, max_size=3))
    def run(containers):
        import json

        an = ps.analyzers()["default"]
        diags = an.analyze("aws:ecs/taskDefinition:TaskDefinition", {"containerDefinitions": json.dumps(containers)})
        for d in diags:
            assert "not valid JSON" not in d.message and "not a JSON object" not in d.message
            seen.add(d.policy)

    run()
    assert {"ecs-container-resource-limits", "ecs-container-image-pinned"} <= seen, seen
