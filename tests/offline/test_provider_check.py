"""The aws provider's Check and planned outputs, as offline.provider_check emulates them (facts
from pulumi-aws v7 autonaming/resource overrides and pulumi-terraform-bridge autonaming)."""

from __future__ import annotations

import json
import re

import pulumi_aws  # noqa: F401 - registers the aws resource modules the schema lookups use
import pytest

from offline.properties import UNKNOWN
from offline.provider_check import CheckFailure, check, planned_outputs, resource_schema

URN = "urn:pulumi:dev::proj::aws:lb/targetGroup:TargetGroup::"


def test_unset_name_gets_name_dash_seven_hex_deterministic_per_urn() -> None:
    a = check("aws:ecs/cluster:Cluster", "main", "urn:pulumi:dev::p::aws:ecs/cluster:Cluster::main", {})
    b = check("aws:ecs/cluster:Cluster", "main", "urn:pulumi:dev::p::aws:ecs/cluster:Cluster::main", {})
    other = check("aws:ecs/cluster:Cluster", "main", "urn:pulumi:prod::p::aws:ecs/cluster:Cluster::main", {})
    assert re.fullmatch(r"main-[0-9a-f]{7}", a["name"])
    assert a == b and other["name"] != a["name"]


def test_set_name_and_name_prefix_are_left_alone() -> None:
    # (`tagsAll` is applyTags' empty map: no tags and no default tags.)
    assert check("aws:lb/targetGroup:TargetGroup", "tg", URN + "tg", {"name": "given"}) == {"name": "given", "tagsAll": {}}
    # The provider applies no default to a property that conflicts with a set one (name vs namePrefix).
    checked = check("aws:lb/targetGroup:TargetGroup", "tg", URN + "tg", {"namePrefix": "web-"})
    assert checked == {"namePrefix": "web-", "tagsAll": {}}


def test_target_group_autoname_limit_is_32_and_check_fails_beyond() -> None:
    fits = "a" * 24  # 24 + "-" + 7 = 32
    assert len(check("aws:lb/targetGroup:TargetGroup", fits, URN + fits, {})["name"]) == 32
    long_name = "a" * 25
    with pytest.raises(CheckFailure, match=r"name 'a{25}-' plus 7 random chars is longer than maximum length 32"):
        check("aws:lb/targetGroup:TargetGroup", long_name, URN + long_name, {})


def test_load_balancer_names_over_32_fail_terraform_validation() -> None:
    name = "a-load-balancer-with-a-long-name"  # 32: its auto-name (255 max) is 40 long
    with pytest.raises(CheckFailure, match='"name" cannot be longer than 32 characters'):
        check("aws:lb/loadBalancer:LoadBalancer", name, "urn:x::" + name, {})
    assert check("aws:lb/loadBalancer:LoadBalancer", "alb", "urn:x::alb", {})["name"].startswith("alb-")


@pytest.mark.parametrize(
    ("type_", "name", "inputs", "field", "pattern"),
    [
        ("aws:s3/bucket:Bucket", "Logs", {}, "bucket", r"logs-[0-9a-f]{7}"),
        ("aws:sqs/queue:Queue", "jobs", {"fifoQueue": True}, "name", r"jobs-[0-9a-f]{7}\.fifo"),
        ("aws:kms/alias:Alias", "key", {}, "name", r"alias/key-[0-9a-f]{7}"),
        ("aws:iot/topicRule:TopicRule", "rule", {}, "name", r"rule_[0-9a-f]{7}"),
        ("aws:lambda/permission:Permission", "allow", {}, "statementId", r"allow-[0-9a-f]{7}"),
        ("aws:iam/role:Role", "task", {}, "name", r"task-[0-9a-f]{7}"),
    ],
)
def test_overridden_autoname_fields(type_: str, name: str, inputs: dict, field: str, pattern: str) -> None:
    assert re.fullmatch(pattern, check(type_, name, f"urn:x::{name}", inputs)[field])


def test_types_without_a_name_input_or_excluded_get_none() -> None:
    assert "name" not in check("aws:ec2/subnet:Subnet", "s", "urn:x::s", {"vpcId": "vpc-1"})
    assert "name" not in check("aws:route53/record:Record", "www", "urn:x::www", {"type": "A"})


def test_pulumi_side_defaults_and_json_documents() -> None:
    group = check("aws:ec2/securityGroup:SecurityGroup", "sg", "urn:x::sg", {})
    assert group["description"] == "Managed by Pulumi"
    policy = check(
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "p",
        "urn:x::p",
        {"repository": "r", "policy": {"rules": [{"rulePriority": 1.0, "description": "<x> & y"}]}},
    )["policy"]
    assert policy == '{"rules":[{"description":"\\u003cx\\u003e \\u0026 y","rulePriority":1}]}'
    assert json.loads(policy) == {"rules": [{"description": "<x> & y", "rulePriority": 1}]}
    unknown = {"policy": {"rules": UNKNOWN}}
    assert check("aws:ecr/lifecyclePolicy:LifecyclePolicy", "p", "urn:x::p", unknown)["policy"] == {"rules": UNKNOWN}


def test_planned_outputs_mark_output_only_properties_unknown() -> None:
    schema = resource_schema("aws:lb/targetGroup:TargetGroup")
    assert schema is not None and {"arn", "arnSuffix", "loadBalancerArns"} <= schema.output_only
    assert "port" not in schema.output_only and "name" in schema.inputs
    plan = planned_outputs("aws:lb/targetGroup:TargetGroup", {"name": "tg-1234567", "port": 80, "tags": {"a": "b"}})
    assert plan["arn"] == plan["arnSuffix"] == plan["loadBalancerArns"] == UNKNOWN
    assert plan["port"] == 80 and plan["name"] == "tg-1234567" and plan["tagsAll"] == {"a": "b"}
    assert "healthCheck" not in plan  # an optional input left unset stays absent
    assert planned_outputs("aws:lb/targetGroup:TargetGroup", {"tags": {"a": UNKNOWN}})["tagsAll"] == UNKNOWN


def test_failed_check_fails_the_run_naming_the_resource(tmp_path) -> None:
    from offline.engine import ProgramError, run_program
    from offline.stack_config import load_project, load_stack_config

    (tmp_path / "Pulumi.yaml").write_text("name: check-failure\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_aws as aws\n"
        'aws.lb.TargetGroup("a-target-group-name-too-long", port=80, protocol="HTTP", vpc_id="vpc-1")\n'
    )
    project = load_project(tmp_path)
    with pytest.raises(ProgramError, match=r"'a-target-group-name-too-long-' plus 7 random chars .* maximum length 32"):
        run_program(project, "dev", load_stack_config(project, "dev"), timeout=120)
