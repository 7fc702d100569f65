"""The AWS limits catalogue (components/aws_limits.yaml): a test per entry against its source (botocore's
API model where it has one, the entry's documented examples otherwise), and the generated table and
policy pack copy in step with the data."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape

from components import aws_limits, aws_limits_doc
from components.aws_limits import CatalogueError, catalogue

ROOT = Path(__file__).resolve().parents[2]
CAT = catalogue()
ASCII = string.printable + "\x00\x7féü€"


@cache
def model(service: str) -> ServiceModel:
    return ServiceModel(Loader().load_service_model(service, "service-2"), service_name=service)


def botocore_shape(source: str) -> Shape:
    """The shape a `botocore <service> <Shape>[.<member>]` source names."""
    _, service, ref = source.split(" ", 2)
    shape_name, _, member = ref.partition(".")
    shape = model(service).shape_for(shape_name)
    return shape.members[member] if member else shape


def documentation(shape: Shape) -> str:
    text = re.sub(r"</?(code|i|b)>", "", shape.documentation or "")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).replace("&amp;", "&")


def botocore_sources(sources: tuple[str, ...]) -> list[str]:
    return [s.split(" (")[0] for s in sources if s.startswith("botocore ")]


def python_pattern(pattern: str) -> re.Pattern[str] | None:
    """botocore's (Java) pattern in Python, or None when it uses what Python's re lacks (\\p{..}, surrogates)."""
    if "\\p{" in pattern or "\\uD8" in pattern:
        return None
    return re.compile(pattern.removeprefix("^").removesuffix("$"))


# ---- names ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule_id", sorted(CAT.names))
def test_name_rule_takes_its_valid_examples_and_refuses_its_invalid_ones(rule_id: str) -> None:
    rule = CAT.names[rule_id]
    assert rule.valid and rule.invalid, f"{rule_id}: give examples of both kinds"
    for value in rule.valid:
        assert rule.problems(value) == [], (rule_id, value)
    for value in rule.invalid:
        assert rule.problems(value), (rule_id, value)
    # The length limit itself: the longest valid name passes, one more character does not.
    sample = rule.valid[0]
    filler = next(ch for ch in "abcxyz0129" if rule.pattern.fullmatch(ch))
    middle = len(sample) // 2
    longest = sample[:middle] + filler * (rule.max - len(sample)) + sample[middle:]
    assert rule.problems(longest) == [], (rule_id, longest)
    assert any("characters long" in p for p in rule.problems(longest[:middle] + filler + longest[middle:]))


@pytest.mark.parametrize("rule_id", sorted(r.id for r in CAT.names.values() if botocore_sources(r.sources)))
def test_name_rule_agrees_with_botocore(rule_id: str) -> None:
    rule = CAT.names[rule_id]
    shape = botocore_shape(botocore_sources(rule.sources)[0])
    meta, doc = shape.metadata, documentation(shape)
    if "max" in meta:
        assert meta["max"] == rule.max
    else:
        assert re.search(rf"\b{rule.max}\b", doc), f"{rule_id}: {rule.max} is not in botocore's text: {doc[:300]}"
    if "min" in meta:
        assert meta["min"] == rule.min
    pattern = python_pattern(meta["pattern"]) if "pattern" in meta else None
    if pattern is not None:  # the same characters, one by one
        assert {ch for ch in ASCII if pattern.fullmatch(ch)} == {ch for ch in ASCII if rule.pattern.fullmatch(ch)}
    elif "Valid characters:" in doc or "Allowed characters are" in doc:  # EC2 lists its characters in prose
        listed = doc.split("spaces, and ", 1)[1].split()[0]
        expected = set(string.ascii_letters + string.digits + " " + listed)
        assert {ch for ch in ASCII if rule.pattern.fullmatch(ch)} == expected, rule_id
    for forbidden in rule.forbidden:  # stated in botocore's text, or in the pattern, or on the page cited
        if forbidden.documented is not None:
            assert forbidden.documented in doc, (rule_id, forbidden.documented, doc[:400])
        else:
            caught = [v for v in rule.invalid if forbidden.pattern.search(v)]
            assert caught, f"{rule_id}: give an invalid example of {forbidden.reason!r}"
            in_pattern = pattern is not None and not any(pattern.fullmatch(v) for v in caught)
            assert in_pattern or any(s.startswith("https://") for s in rule.sources), (rule_id, forbidden.reason)


def test_name_rules_name_real_pulumi_types_and_properties() -> None:
    import pulumi_aws  # noqa: F401  (the generated classes register their type tokens)

    from offline import sdk_patches

    for rule in CAT.names.values():
        for where in rule.resources:
            cls = sdk_patches.resource_class(where.type)
            if cls is None:  # its module is not imported yet
                module, _, _ = where.type.split(":")[1].partition("/")
                __import__(f"pulumi_aws.{module}")
                cls = sdk_patches.resource_class(where.type)
            assert cls is not None, where.type
            args = getattr(sys.modules[cls.__module__], f"{cls.__name__}Args")
            top = where.property.split(".")[0].removesuffix("[]")
            assert top in sdk_patches.input_names(args).values(), (rule.id, where)


# ---- tags ----------------------------------------------------------------------------------------------

def test_tag_limits_agree_with_botocore() -> None:
    tags = CAT.tags
    assert botocore_shape("botocore ecs TagResourceRequest.tags").metadata["max"] == tags.max_tags
    for source in ("botocore ecs TagKey", "botocore iam tagKeyType", "botocore elbv2 TagKey", "botocore logs TagKey"):
        meta = botocore_shape(source).metadata
        assert (meta["min"], meta["max"]) == (tags.key_min, tags.key_max), source
    for source in botocore_sources(tags.sources):
        meta = botocore_shape(source).metadata
        if source.endswith("TagValue") or source.endswith("tagValueType"):
            assert meta["max"] == tags.value_max, source
            # \p{L}\p{Z}\p{N} and the listed characters: in ASCII, letters, digits, space and _.:/=+-@
            assert meta["pattern"].strip("^$()*").endswith("_.:/=+\\-@]"), source
    assert {ch for ch in string.printable if tags.allowed(ch)} == set(string.ascii_letters + string.digits + " _.:/=+-@")


@pytest.mark.parametrize(("tags", "restricted", "expected"), [
    ({"team": "platform", "cost-centre": "CC-4711"}, True, None),
    ({f"k{i}": "v" for i in range(51)}, False, "51 tags: a resource takes at most 50"),
    ({"k" * 129: "v"}, False, "is 129 characters long (1 to 128)"),
    ({"team": "v" * 257}, False, "is 257 characters long (at most 256)"),
    ({"aws:owner": "platform"}, False, "reserved prefix 'aws:'"),
    ({"reason": "approved, by platform"}, True, "characters outside letters, digits, spaces"),
    ({"reason": "approved, by platform"}, False, None),
    ({"équipe": "données"}, True, None),
])
def test_tag_limits(tags: dict[str, str], restricted: bool, expected: str | None) -> None:
    problems = CAT.tags.problems(tags, restricted)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_tag_character_restriction_follows_the_service() -> None:
    assert CAT.tags.restricts("aws:ecs/service:Service") and CAT.tags.restricts("aws:cloudwatch/logGroup:LogGroup")
    assert not CAT.tags.restricts("aws:ec2/securityGroup:SecurityGroup")
    assert not CAT.tags.restricts("aws:cloudwatch/metricAlarm:MetricAlarm")


# ---- schedule expressions ------------------------------------------------------------------------------

@pytest.mark.parametrize("expression", CAT.schedules.valid)
def test_schedule_expressions_aws_takes(expression: str) -> None:
    assert aws_limits.schedule_problems(expression) == []


@pytest.mark.parametrize("expression", CAT.schedules.invalid)
def test_schedule_expressions_aws_refuses(expression: str) -> None:
    assert aws_limits.schedule_problems(expression)


def test_the_issue_examples_name_what_is_wrong() -> None:
    assert aws_limits.schedule_problems("cron(61 25 * * ? *)") == [
        "cron() minutes 61 is outside 0-59", "cron() hours 25 is outside 0-23"]
    assert aws_limits.schedule_problems("cron(0 3 * * 1 *)") == [
        "cron() sets both day-of-month (*) and day-of-week (1): one of them must be `?`"]


def test_eventbridge_rules_take_no_at_expressions() -> None:
    kinds = dict((loc.type, k) for loc, k in CAT.schedules.resources)
    assert kinds["aws:cloudwatch/eventRule:EventRule"] == ("rate", "cron")
    assert aws_limits.schedule_problems("at(2026-12-01T03:00:00)", ("rate", "cron"))
    assert aws_limits.schedule_problems("rate(5 minutes)", ("rate", "cron")) == []


def test_schedule_grammar_agrees_with_botocore() -> None:
    for source in botocore_sources(CAT.schedules.sources):
        shape = botocore_shape(source)
        assert shape.metadata["max"] == CAT.schedules.max_length, source
    doc = documentation(botocore_shape("botocore scheduler CreateScheduleInput.ScheduleExpression"))
    assert "minute | minutes | hour | hours | day | days" in doc
    assert "six fields" in doc and "at(yyyy-mm-ddThh:mm:ss)" in doc
    assert [f.name for f in CAT.schedules.cron_fields] == [
        "minutes", "hours", "day-of-month", "month", "day-of-week", "year"]
    assert aws_limits.schedule_problems("cron(0 0 1 1 ? " + "x" * 260 + ")") == [
        f"is {len('cron(0 0 1 1 ? ' + 'x' * 260 + ')')} characters long (at most 256)"]


# ---- quotas --------------------------------------------------------------------------------------------

ENFORCED_BY = [ROOT / "components" / "config", ROOT / "policies" / "ecs_guardrails" / "aws_limits.py"]


def _enforcing_sources() -> str:
    files = [p for base in ENFORCED_BY for p in ([base] if base.is_file() else sorted(base.glob("*.py")))]
    return "\n".join(p.read_text() for p in files)


@pytest.mark.parametrize("quota_id", sorted(CAT.quotas))
def test_quota_agrees_with_its_source_and_is_enforced(quota_id: str) -> None:
    q = CAT.quotas[quota_id]
    for source in botocore_sources(q.sources):
        shape = botocore_shape(source)
        if "max" in shape.metadata:
            assert shape.metadata["max"] == q.max, source
        else:
            assert q.documented and q.documented in documentation(shape), (source, q.documented)
            assert str(q.max) in q.documented or quota_id == "ecs-environment-files-per-container"
    if not botocore_sources(q.sources):
        assert any(s.startswith("https://") for s in q.sources), f"{quota_id}: no source"
    assert f'"{quota_id}"' in _enforcing_sources(), f"{quota_id}: neither the config nor the pack checks it"


# ---- instance types ------------------------------------------------------------------------------------

def test_every_instance_type_is_a_real_one() -> None:
    known = set(model("ec2").shape_for("InstanceType").enum)
    assert set(CAT.instance_types) <= known, sorted(set(CAT.instance_types) - known)


@pytest.mark.parametrize(("name", "vcpus", "gib"), [
    ("t3.small", 2, 2), ("t3a.small", 2, 2), ("t4g.nano", 2, 0.5), ("t3.2xlarge", 8, 32),
    ("m6i.large", 2, 8), ("m7i.large", 2, 8), ("m7g.medium", 1, 4), ("m6a.48xlarge", 192, 768),
    ("c5.9xlarge", 36, 72), ("c7g.xlarge", 4, 8), ("r6i.xlarge", 4, 32), ("r7g.medium", 1, 8),
])
def test_instance_type_figures(name: str, vcpus: int, gib: float) -> None:
    """Published vCPUs and memory (EC2 instance type specifications), and what ECS gets of them."""
    it = aws_limits.instance_type(name)
    assert it is not None and (it.vcpus, it.memory_gib) == (vcpus, gib)
    assert it.cpu_units == vcpus * 1024
    assert it.memory_mib == int(gib * 1024 * 0.925)


def test_the_memory_estimate_is_below_what_ecs_documents() -> None:
    """ECS's example: an m4.large (8 GiB) registers 7985 MiB. The estimate for 8 GiB types stays below it."""
    eight = [it for it in CAT.instance_types.values() if it.memory_gib == 8]
    assert eight and all(it.memory_mib <= 7985 for it in eight)


def test_types_the_stacks_and_fuzzing_use_are_listed() -> None:
    import yaml

    used = {"t3.medium"}  # the cluster's default
    for path in [ROOT / "Pulumi.dev.yaml", ROOT / "Pulumi.prod.yaml", *ROOT.glob("examples/Pulumi.*.yaml")]:
        cluster = yaml.safe_load(path.read_text())["config"].get("ecs-platform:cluster", {})
        used |= set(cluster.get("instance_types", []))
        for extra in cluster.get("additional_capacity_providers", {}).values():
            used |= set(extra["instance_types"])
    sys.path.insert(0, str(ROOT / "tests" / "hardening"))
    import config_strategies as cs

    used |= set(cs.X86) | set(cs.ARM)
    assert used - set(CAT.instance_types) == set()


def test_an_unknown_type_is_none_not_a_guess() -> None:
    assert aws_limits.instance_type("x9z.huge") is None
    assert aws_limits.instance_type("t3.smal") is None


# ---- the catalogue file and what is generated from it --------------------------------------------------

def test_the_doc_is_generated_from_the_catalogue() -> None:
    assert aws_limits_doc.DOC.read_text(encoding="utf-8") == aws_limits_doc.render(), (
        "docs/aws-limits.md is stale: run `venv/bin/python -m components.aws_limits_doc`")
    text = aws_limits_doc.render()
    for rule in CAT.names.values():
        assert f"| {rule.what} |" in text
    for name in CAT.instance_types:
        assert f"| {name} |" in text
    for q in CAT.quotas.values():
        assert f"| {q.what} | {q.max} |" in text


def test_the_pack_copy_is_generated_from_the_catalogue() -> None:
    assert aws_limits_doc.PACK_COPY.read_text(encoding="utf-8") == aws_limits_doc.render_pack_copy(), (
        "policies/ecs_guardrails/aws_limits.json is stale: run `venv/bin/python -m components.aws_limits_doc`")


def test_the_tool_checks_without_writing() -> None:
    proc = subprocess.run([sys.executable, "-m", "components.aws_limits_doc", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(("edit", "expected"), [
    (("max: 32", "max: lots"), "ValueError"),
    (("pattern: '[A-Za-z0-9-]+'", "pattern: '[A-Za-z0-9-+'"), "names.elbv2-target-group"),
    (("  max_tags: 50\n", ""), "KeyError: 'max_tags'"),
])
def test_a_malformed_catalogue_names_the_entry(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    text = aws_limits.CATALOGUE.read_text(encoding="utf-8")
    assert edit[0] in text
    broken = tmp_path / "aws_limits.yaml"
    broken.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        aws_limits.load(broken)
    assert expected in str(caught.value)
