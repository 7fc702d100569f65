"""`tagsAll` in the checked inputs, as pulumi-aws's Check puts it there (provider/tags.go `applyTags`,
a PreCheckCallback on the SDKv2 resources whose schema has a non-computed `tags` and a `tags_all`):
the provider's default tags merged with the resource's, minus `ignoreTags`; unknown when either is.
A pack that requires tag keys therefore sees the default tags offline as it does under the engine."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from offline import provider_check
from offline.engine import Registration, run_program
from offline.properties import UNKNOWN
from offline.stack_config import load_project, load_stack_config

SERVICE = "aws:ecs/service:Service"
DEFAULTS = {"defaultTags": '{"tags":{"team":"platform","env":"dev"}}'}


def _program(tmp_path: Path, body: str, config: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n" + config)
    (tmp_path / "__main__.py").write_text(textwrap.dedent(body))
    return tmp_path


def _run(program: Path, mode: str) -> dict[str, Registration]:
    project = load_project(program)
    run = run_program(project, "dev", load_stack_config(project, "dev"), dry_run=mode == "preview")
    return {r.name: r for r in run.registrations}


@pytest.mark.parametrize(
    ("tags", "config", "expected"),
    [
        ({"team": "payments"}, DEFAULTS, {"team": "payments", "env": "dev"}),  # the resource's tag wins
        (None, DEFAULTS, {"team": "platform", "env": "dev"}),
        ({"a": "1"}, {}, {"a": "1"}),
        (None, {}, {}),  # applyTags sets an empty map when nothing is left
        ({"a": "1", "aws-x": "2", "keep": "3"}, {"ignoreTags": '{"keys":["a"],"keyPrefixes":["aws-"]}'}, {"keep": "3"}),
        ({"a": UNKNOWN}, DEFAULTS, UNKNOWN),
        ({"a": "1"}, {"defaultTags": UNKNOWN}, UNKNOWN),
        ({"a": "1"}, {"defaultTags": {"tags": {"b": "2"}}}, {"a": "1", "b": "2"}),  # given as an object
    ],
)
def test_tags_all_merges_default_tags_as_apply_tags_does(tags: Any, config: dict[str, Any], expected: Any) -> None:
    assert provider_check.tags_all(tags, config) == expected


def test_only_sdkv2_types_with_tags_and_tags_all_get_it() -> None:
    import pulumi_aws  # noqa: F401 - the SDK classes the schema is read from

    assert provider_check.gets_tags_all(SERVICE)
    assert provider_check.gets_tags_all("aws:iam/role:Role")
    # A group's tags are `tag` blocks and it has no tags_all.
    assert not provider_check.gets_tags_all("aws:autoscaling/group:Group")
    # Plugin-framework resources: pulumi-aws adds no PreCheckCallback.
    assert not provider_check.gets_tags_all("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert not provider_check.gets_tags_all("aws:ecs/expressGatewayService:ExpressGatewayService")


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_default_and_explicit_providers_default_tags_reach_the_checked_inputs(tmp_path: Path, mode: str) -> None:
    program = _program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws

        aws.cloudwatch.LogGroup("by-default", tags={"team": "payments"})
        explicit = aws.Provider("eu", region="eu-west-1", default_tags=aws.ProviderDefaultTagsArgs(tags={"owner": "ops"}),
                                ignore_tags=aws.ProviderIgnoreTagsArgs(key_prefixes=["tmp-"]))
        aws.cloudwatch.LogGroup("by-explicit", tags={"tmp-x": "1"}, opts=pulumi.ResourceOptions(provider=explicit))
        aws.vpc.SecurityGroupIngressRule("rule", security_group_id="sg-0123456789abcdef0", ip_protocol="tcp",
                                         from_port=443, to_port=443, cidr_ipv4="10.0.0.0/8", tags={"a": "1"})
        """,
        "  aws:defaultTags:\n    tags:\n      cost-centre: CC-1\n      team: platform\n",
    )
    regs = _run(program, mode)
    assert regs["by-default"].inputs["tagsAll"] == {"cost-centre": "CC-1", "team": "payments"}
    assert regs["by-explicit"].inputs["tagsAll"] == {"owner": "ops"}
    assert "tagsAll" not in regs["rule"].inputs
    if mode == "preview":
        assert regs["by-default"].outputs["tagsAll"] == regs["by-default"].inputs["tagsAll"]


def test_our_stacks_resources_carry_the_cost_tags_the_pack_requires() -> None:
    repo = Path(__file__).resolve().parents[2]
    regs = _run(repo, "preview")
    required = {"cost-centre", "environment", "team"}
    tagged = [r for r in regs.values() if r.custom and "tagsAll" in r.inputs]
    assert tagged, "no resource got tagsAll"
    assert all(required <= set(r.inputs["tagsAll"]) for r in tagged)
    # Default tags never reach the instances a group launches: the groups propagate the stack's tags.
    groups = [r for r in regs.values() if r.type == "aws:autoscaling/group:Group"]
    assert groups
    for group in groups:
        propagated = {t["key"] for t in group.inputs["tags"] if t["propagateAtLaunch"]}
        assert required <= propagated
