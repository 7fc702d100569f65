"""awsx `Vpc` subnet layouts (offline.awsx.subnets) against the values awsx 3.11.0's own tests and
source state (awsx/ec2/subnetDistributorLegacy.test.ts, subnetDistributorNew.test.ts,
knownWorkingSubnets.ts, vpc.ts)."""

from __future__ import annotations

import pytest

from offline.awsx import subnets
from offline.awsx.construct import ConstructError

AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def layout(specs: list[subnets.SubnetSpec]) -> list[tuple[str, str | None, str]]:
    return [(s.resource_name, s.cidr_block, s.az_name) for s in specs]


def test_legacy_default_layout_private_19_then_public_20_per_az() -> None:
    # The VPC is split in four /18 (next power of two of 3 AZs); all private subnets come first.
    assert layout(subnets.legacy("vpc", "10.0.0.0/16", AZS, None, "Legacy")) == [
        ("vpc-private-1", "10.0.0.0/19", "eu-west-1a"),
        ("vpc-private-2", "10.0.64.0/19", "eu-west-1b"),
        ("vpc-private-3", "10.0.128.0/19", "eu-west-1c"),
        ("vpc-public-1", "10.0.32.0/20", "eu-west-1a"),
        ("vpc-public-2", "10.0.96.0/20", "eu-west-1b"),
        ("vpc-public-3", "10.0.160.0/20", "eu-west-1c"),
    ]


def test_legacy_large_vpc_uses_default_sizes_whatever_the_order() -> None:
    specs = [{"type": "Public"}, {"type": "Private"}, {"type": "Isolated"}]
    result = subnets.legacy("vpcName", "10.0.0.0/16", ["us-east-1a"], specs, "Legacy")
    assert [(s.type, s.cidr_block, s.name_tag) for s in result] == [
        ("Private", "10.0.0.0/19", "vpcName-private-1"),
        ("Public", "10.0.32.0/20", "vpcName-public-1"),
        ("Isolated", "10.0.48.0/24", "vpcName-isolated-1"),
    ]


@pytest.mark.parametrize(
    ("az_mask", "masks"),
    [(16, [19, 20, 24]), (18, [19, 20, 24]), (19, [20, 20, 24]), (21, [22, 22, 24]), (23, [24, 24, 24])],
)
def test_legacy_default_sizes_shrink_with_small_azs(az_mask: int, masks: list[int]) -> None:
    specs = [{"type": "Private"}, {"type": "Public"}, {"type": "Isolated"}]
    result = subnets.legacy("vpcName", f"10.0.0.0/{az_mask}", ["us-east-1a"], specs, "Legacy")
    assert [int((s.cidr_block or "").split("/")[1]) for s in result] == masks


@pytest.mark.parametrize(
    ("vpc", "specs", "expected"),
    [  # a few of awsx's knownWorkingSubnets (legacy allocator quirks included)
        (
            "10.0.0.0/18",
            [{"type": "Isolated", "cidrMask": 22}, {"type": "Public", "cidrMask": 21}],
            ["10.0.0.0/21", "10.0.8.0/22"],
        ),
        ("10.0.0.0/17", [{"type": "Private", "cidrMask": 18}], ["10.0.0.0/18"]),
        ("10.0.0.0/16", [{"type": "Private", "cidrMask": 22}], ["10.0.0.0/22"]),
    ],
)
def test_legacy_known_working_layouts(vpc: str, specs: list[dict], expected: list[str]) -> None:
    assert [s.cidr_block for s in subnets.legacy("vpcName", vpc, ["us-east-1a"], specs, "Legacy")] == expected


@pytest.mark.parametrize("az_mask", [16, 18, 20, 24])
def test_auto_without_specs_private_then_public_staggered(az_mask: int) -> None:
    result = subnets.auto("vpcName", f"10.0.0.0/{az_mask}", ["us-east-1a"], None, None, "Legacy")
    assert [(s.type, s.cidr_block) for s in result] == [
        ("Private", f"10.0.0.0/{az_mask + 1}"),
        ("Public", f"{subnets.Netmask(f'10.0.0.0/{az_mask + 1}').next().base}/{az_mask + 2}"),
    ]


def test_auto_default_layout_equals_legacy_default() -> None:
    for zones in (AZS[:1], AZS[:2], AZS):
        key = lambda s: (s.resource_name, s.cidr_block)  # noqa: E731
        auto = subnets.auto("vpc", "10.0.0.0/16", zones, None, None, "Legacy")
        legacy = subnets.legacy("vpc", "10.0.0.0/16", zones, None, "Legacy")
        assert sorted(map(key, auto)) == sorted(map(key, legacy))


def test_auto_keeps_spec_order_and_az_cidr_mask_override() -> None:
    specs = [
        {"type": "Public", "cidrMask": 24},
        {"type": "Private", "cidrMask": 22},
        {"type": "Isolated", "name": "db", "cidrMask": 26},
    ]
    assert layout(subnets.auto("v", "10.1.0.0/16", AZS[:2], specs, None, "Legacy")) == [
        ("v-public-1", "10.1.0.0/24", "eu-west-1a"),
        ("v-private-1", "10.1.4.0/22", "eu-west-1a"),
        ("v-db-1", "10.1.8.0/26", "eu-west-1a"),
        ("v-public-2", "10.1.128.0/24", "eu-west-1b"),
        ("v-private-2", "10.1.132.0/22", "eu-west-1b"),
        ("v-db-2", "10.1.136.0/26", "eu-west-1b"),
    ]
    # awsx: "can override az cidr mask" (a single subnet would otherwise take the whole /16)
    assert subnets.auto("v", "10.0.0.0/16", ["us-east-1a"], [{"type": "Public"}], 19, "Legacy")[0].cidr_block == "10.0.0.0/19"


def test_auto_merge_adds_the_default_types() -> None:
    specs = [{"type": "Public", "tags": {"tier": "edge"}}]
    result = subnets.auto("v", "10.0.0.0/16", ["us-east-1a"], specs, None, "Legacy", merge=True)
    assert [(s.type, s.cidr_block, s.tags) for s in result] == [
        ("Private", "10.0.0.0/17", None),
        ("Public", "10.0.128.0/18", {"tier": "edge"}),
    ]


def test_explicit_blocks_per_az() -> None:
    specs = [
        {"type": "Public", "cidrBlocks": ["10.0.0.0/18", "10.0.64.0/19"]},
        {"type": "Private", "cidrBlocks": ["10.0.96.0/19", "10.0.128.0/20"]},
    ]
    parsed = subnets.normalize(specs, 2)
    assert parsed is not None and parsed.explicit
    assert layout(subnets.explicit("vpcName", ["us-east-1a", "us-east-1b"], parsed.specs, "Legacy")) == [
        ("vpcName-public-1", "10.0.0.0/18", "us-east-1a"),
        ("vpcName-private-1", "10.0.96.0/19", "us-east-1a"),
        ("vpcName-public-2", "10.0.64.0/19", "us-east-1b"),
        ("vpcName-private-2", "10.0.128.0/20", "us-east-1b"),
    ]


def test_name_tag_strategy_availability_zone_keeps_resource_names() -> None:
    result = subnets.legacy("vpc", "10.0.0.0/16", ["us-gov-west-1a"], None, "AvailabilityZone")
    assert [(s.resource_name, s.name_tag) for s in result] == [
        ("vpc-private-1", "vpc-private-1a"),
        ("vpc-public-1", "vpc-public-1a"),
    ]


def test_nat_strategy_needs_public_and_private_subnets() -> None:
    only_public = subnets.auto("v", "10.0.0.0/16", ["a"], [{"type": "Public"}], None, "Legacy")
    with pytest.raises(ConstructError, match="public subnets must be declared to host the NAT Gateway"):
        subnets.validate(only_public, "10.0.0.0/16", "Auto", "OnePerAz")
    subnets.validate(only_public, "10.0.0.0/16", "Auto", "None")  # no NAT gateway: fine


def test_overlaps_and_exact_gaps_are_refused() -> None:
    specs = [
        subnets.SubnetSpec("Public", "a", "v-public-1", "v-public-1", "10.0.0.0/17"),
        subnets.SubnetSpec("Private", "a", "v-private-1", "v-private-1", "10.0.0.0/18"),
    ]
    with pytest.raises(ConstructError, match="overlap"):
        subnets.validate(specs, "10.0.0.0/16", "Auto", "None")
    gap = [subnets.SubnetSpec("Public", "a", "v-public-1", "v-public-1", "10.0.0.0/17")]
    with pytest.raises(ConstructError, match="ends before VPC ends"):
        subnets.validate(gap, "10.0.0.0/16", "Exact", "None")


def test_invalid_specs_are_named() -> None:
    with pytest.raises(ConstructError, match='Multiple subnet specs of type "private" require unique names'):
        subnets.normalize([{"type": "Private"}, {"type": "Private"}], 2)
    with pytest.raises(ConstructError, match="must match the number of availability zones"):
        subnets.normalize([{"type": "Public", "cidrBlocks": ["10.0.0.0/24"]}], 2)


def test_legacy_layout_output_reports_gaps_as_unused() -> None:
    specs, layout_output, _ = subnets.decide("vpc", "10.0.0.0/16", "Legacy", AZS, None, None, "Legacy")
    assert len(specs) == 6
    # awsx derives the layout from the first len/AZs specs: both private subnets of the default layout.
    assert layout_output == [
        {"cidrMask": 19, "type": "Private"},
        {"cidrMask": 19, "type": "Unused"},
        {"cidrMask": 19, "type": "Private"},
    ]
