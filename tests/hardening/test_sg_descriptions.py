"""Security group and rule descriptions EC2 accepts, for every stack (dev, prod, the example, bridge
mode) in both preview modes.

botocore's EC2 model has no pattern for descriptions (so test_aws_models cannot see them), but its
documentation states the constraint per shape: "Up to 255 characters ... Allowed characters are
a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*". The characters are read from that text here, per
API shape: a rule's description travels in the IpPermissions entry of its target (IpRange for an
IPv4 CIDR, Ipv6Range, UserIdGroupPair for a referenced security group, PrefixListId), and `&` is
allowed for CIDR ranges only; a group's description in CreateSecurityGroup's."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import cache
from html import unescape
from pathlib import Path

import pytest
from botocore.loaders import Loader
from botocore.model import ServiceModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack_previews import MODES, STACKS, run_preview

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
RULES = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
         "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "aws:ec2/securityGroupRule:SecurityGroupRule")


@cache
def ec2() -> ServiceModel:
    return ServiceModel(Loader().load_service_model("ec2", "service-2"), service_name="ec2")


@cache
def allowed(shape: str, member: str = "Description") -> tuple[int, re.Pattern]:
    """(maximum length, full-match pattern) from the documentation of `shape`.`member`."""
    model = ec2()
    if shape == "CreateSecurityGroup":
        doc = model.operation_model(shape).input_shape.members[member].documentation
    else:
        doc = model.shape_for(shape).members[member].documentation
    text = unescape(re.sub(r"<[^>]+>", "", doc))
    length = re.search(r"Up to (\d+) characters", text)
    chars = re.search(r"(?:Allowed|Valid) characters(?: are|:)\s*a-z, A-Z, 0-9, spaces, and (\S+)", text)
    assert length and chars, f"ec2 {shape}.{member}: constraint no longer documented as expected: {text}"
    return int(length.group(1)), re.compile("[a-zA-Z0-9 " + re.escape(chars.group(1)) + "]*")


def rule_shape(inputs: dict) -> str:
    """The IpPermissions member a rule's description travels in."""
    if inputs.get("referencedSecurityGroupId") or inputs.get("sourceSecurityGroupId"):
        return "UserIdGroupPair"
    if inputs.get("prefixListId") or inputs.get("prefixListIds"):
        return "PrefixListId"
    if inputs.get("cidrIpv6") or inputs.get("ipv6CidrBlocks"):
        return "Ipv6Range"
    return "IpRange"


def problems(description: object, shape: str) -> list[str]:
    if not isinstance(description, str) or description == UNKNOWN:
        return [f"{description!r} is not known at preview time"]
    limit, pattern = allowed(shape)
    found = []
    if len(description) > limit:
        found.append(f"{len(description)} characters (EC2 takes {limit})")
    bad = sorted({ch for ch in description if not pattern.fullmatch(ch)})
    if bad:
        found.append(f"characters EC2 refuses in {shape}: {bad}")
    return found


def descriptions(resources: list[dict]) -> list[tuple[str, object, str]]:
    """(where, description, shape) of every security group, inline rule and rule resource."""
    found: list[tuple[str, object, str]] = []
    for r in resources:
        inputs = r["inputs"]
        if r["type"] == GROUP:
            found.append((r["name"], inputs.get("description"), "CreateSecurityGroup"))
            for direction in ("ingress", "egress"):
                for i, rule in enumerate(inputs.get(direction) or []):
                    if "description" in rule:
                        found.append((f"{r['name']}.{direction}[{i}]", rule["description"], rule_shape(rule)))
        elif r["type"] in RULES and "description" in inputs:
            found.append((r["name"], inputs["description"], rule_shape(inputs)))
    return found


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], list[dict]]:
    tmp = tmp_path_factory.mktemp("descriptions")
    runs: dict[tuple[str, str], list[dict]] = {}

    def get(stack: str, mode: str) -> list[dict]:
        if (stack, mode) not in runs:
            runs[(stack, mode)] = run_preview(tmp / mode, stack, mode)
        return runs[(stack, mode)]
    return get


def test_the_documented_charsets() -> None:
    """What the model says today, read by `allowed`: `&` for CIDR ranges, not for referenced groups;
    never an apostrophe."""
    assert allowed("IpRange")[1].fullmatch("HTTPS from 0.0.0.0/0 & co. ._-:/()#,@[]+=;{}!$*")
    assert allowed("Ipv6Range")[1].fullmatch("HTTPS from ::/0 & co.")
    assert not allowed("UserIdGroupPair")[1].fullmatch("ALB & tasks")
    assert allowed("CreateSecurityGroup")[0] == 255
    for shape in ("IpRange", "Ipv6Range", "UserIdGroupPair", "PrefixListId", "CreateSecurityGroup"):
        assert not allowed(shape)[1].fullmatch("ALB to bridge-mode tasks' dynamic host ports"), shape


def test_the_check_names_what_ec2_refuses() -> None:
    assert problems("ALB to bridge-mode tasks' dynamic host ports", "UserIdGroupPair") == [
        "characters EC2 refuses in UserIdGroupPair: [\"'\"]"]
    assert problems("x" * 256, "IpRange") == ["256 characters (EC2 takes 255)"]
    assert problems(UNKNOWN, "IpRange") and problems(None, "CreateSecurityGroup")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", STACKS)
def test_every_security_group_description_is_one_ec2_accepts(
        stack: str, mode: str, resources: Callable[[str, str], list[dict]]) -> None:
    found = descriptions(resources(stack, mode))
    groups = [where for where, _, shape in found if shape == "CreateSecurityGroup"]
    rules = [where for where, _, shape in found if shape != "CreateSecurityGroup"]
    assert groups and rules, found
    if stack == "bridge":  # the ALB's rules to the instances' dynamic ports
        assert {"cluster-instances-from-alb", "cluster-alb-to-instances"} <= set(rules)
    bad = [f"{where}: {description!r}: {'; '.join(p)}" for where, description, shape in found
           if (p := problems(description, shape))]
    assert not bad, f"{stack} ({mode}):\n  " + "\n  ".join(bad)
