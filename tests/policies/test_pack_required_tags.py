"""required-tag-keys: nothing is required by default; configured keys are looked up in `tags` and in
`tagsAll` (where pulumi-aws puts the provider's default tags when it checks the inputs)."""

from __future__ import annotations

import pytest
from pack_driver import UNKNOWN, Analyzer
from pack_fixtures import ASG, CLUSTER, SVC, TD, good, names, task_def

RULE = "required-tag-keys"


@pytest.fixture(scope="module")
def owner_required() -> Analyzer:
    return Analyzer({RULE: {"requiredTagKeys": ["owner", "cost-center"]}})


def diags(analyzer: Analyzer, rtype: str, props: dict) -> list:
    return [d for d in analyzer.analyze(rtype, props) if d.policy == RULE]


def test_nothing_required_by_default(analyzer):
    assert RULE not in names(analyzer.analyze(SVC, good(SVC)))


@pytest.mark.parametrize("rtype,props", [(SVC, good(SVC)), (TD, task_def()), (CLUSTER, good(CLUSTER))])
def test_missing_keys_are_named_at_advisory_level(owner_required, rtype, props):
    [d] = diags(owner_required, rtype, {**props, "tags": {"owner": "web-team"}})
    assert d.level == "advisory" and "'cost-center'" in d.message and "'owner'" not in d.message


def test_keys_from_tags_or_provider_default_tags(owner_required):
    assert diags(owner_required, SVC, good(SVC, tags={"owner": "a", "cost-center": "b"})) == []
    # the provider's defaultTags reach the pack merged into tagsAll
    assert diags(owner_required, SVC, good(SVC, tags={"owner": "a"}, tagsAll={"owner": "a", "cost-center": "b"})) == []


def test_unknown_tags_defer(owner_required):
    [d] = diags(owner_required, SVC, good(SVC, tags={"owner": "a"}, tagsAll=UNKNOWN))
    assert "can't run policy" in d.message
    assert diags(owner_required, SVC, good(SVC, tags=UNKNOWN, tagsAll={"owner": "a", "cost-center": "b"})) == []


def test_auto_scaling_group_tag_list(owner_required):
    tags = [{"key": "owner", "value": "a", "propagateAtLaunch": True}]
    assert "'cost-center'" in diags(owner_required, ASG, good(ASG, tags=tags))[0].message
    tags.append({"key": "cost-center", "value": "b", "propagateAtLaunch": True})
    assert diags(owner_required, ASG, good(ASG, tags=tags)) == []
