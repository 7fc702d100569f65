"""offline/replace_rules.yaml: every property it names is an input of the generated pulumi_aws SDK,
every resource type the program and the pack touch has an entry, and a malformed file is refused."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest
from offline_testlib import REPO

from offline import replace_rules
from offline.sdk_patches import input_names, resource_class

TOKEN = re.compile(r"""["'](aws:[a-z0-9]+/[A-Za-z0-9]+:[A-Za-z0-9]+)["']""")
SDK_CALL = re.compile(r"\baws\.([a-z0-9_]+)\.([A-Z][A-Za-z0-9]+)\(")
# The token a generated class registers with (its other tokens are old types it aliases).
REGISTERED = re.compile(r"""super\([^)]*\)\.__init__\(\s*["'](aws:[^"']+)["']""")
RULES = replace_rules.load()


def _sdk_class(type_: str) -> type:
    importlib.import_module("pulumi_aws." + type_.split(":")[1].split("/")[0])
    cls = resource_class(type_)
    assert cls is not None, f"{type_}: no class in the pulumi_aws SDK"
    return cls


def _args_class(cls: type, suffix: str = "") -> type:
    module = sys.modules[cls.__module__]
    # A resource whose name clashes with a nested type has `<Class>InitArgs` (S3 SSE configuration).
    found = getattr(module, f"{cls.__name__}{suffix}InitArgs", None) or getattr(module, f"{cls.__name__}{suffix}Args", None)
    if found is None:
        inputs = importlib.import_module(module.__name__.rsplit(".", 1)[0] + "._inputs")
        found = getattr(inputs, f"{cls.__name__}{suffix}Args", None)
    assert found is not None, f"no args class for {cls.__name__}{suffix}"
    return found


def _inputs(args_cls: type) -> set[str]:
    return set(input_names(args_cls).values())


@pytest.mark.parametrize("type_", sorted(RULES))
def test_every_property_path_is_an_input_of_the_sdk(type_: str) -> None:
    rules = RULES[type_]
    cls = _sdk_class(type_)
    inputs = _inputs(_args_class(cls))
    for path in (*rules.replace, *rules.replace_when_switching):
        top, _, rest = path.partition(".")
        assert top in inputs, f"{type_}: {top!r} is not an input ({sorted(inputs)})"
        if rest:  # one level down: the nested block's own Args type
            nested = _inputs(_args_class(cls, top[0].upper() + top[1:]))
            assert rest in nested, f"{type_}: {path!r}: {rest!r} is not in {sorted(nested)}"
    assert (REPO / "offline" / "replace_rules.yaml").read_text().count(f"source: {rules.source}") >= 1


def _program_types() -> set[str]:
    """Every aws type the program's components construct (read from the SDK classes they call)."""
    found = set()
    for path in sorted((REPO / "components").rglob("*.py")):
        for module, name in SDK_CALL.findall(path.read_text()):
            cls = getattr(importlib.import_module(f"pulumi_aws.{module}"), name)
            if inspect.isclass(cls) and hasattr(cls, "_internal_init"):
                found |= set(REGISTERED.findall(inspect.getsource(cls._internal_init)))
    return found


def _snapshot_types() -> set[str]:
    """Every aws type in the stacks' URN snapshots (awsx's children included)."""
    found = set()
    for path in (REPO / "tests" / "snapshots").glob("urns-*.txt"):
        for urn in path.read_text().split():
            type_ = urn.split("::")[2].rsplit("$", 1)[-1]
            if type_.startswith("aws:"):
                found.add(type_)
    return found


def _pack_types() -> set[str]:
    found = set()
    for path in sorted((REPO / "policies" / "ecs_guardrails").glob("*.py")):
        found |= set(TOKEN.findall(path.read_text()))
    return found


def test_every_type_the_program_and_the_pack_touch_has_rules() -> None:
    program, stacks, pack = _program_types(), _snapshot_types(), _pack_types()
    assert {"aws:scheduler/schedule:Schedule", "aws:wafv2/webAclAssociation:WebAclAssociation"} <= program
    assert "aws:ec2/natGateway:NatGateway" in stacks and "aws:elb/loadBalancer:LoadBalancer" in pack
    missing = sorted((program | stacks | pack) - set(RULES))
    assert not missing, f"replace_rules.yaml has no entry for {missing}"


def test_the_stateful_types_are_called_out() -> None:
    stateful = {t for t, r in RULES.items() if r.stateful}
    assert {"aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer", "aws:ecs/cluster:Cluster",
            "aws:autoscaling/group:Group", "aws:cloudwatch/logGroup:LogGroup", "aws:s3/bucket:Bucket"} <= stateful


def test_a_path_matches_at_and_below_a_rule_and_region_always_replaces() -> None:
    task = RULES["aws:ecs/taskDefinition:TaskDefinition"]
    assert task.forces_replacement("containerDefinitions[0].environment[2].value") == "containerDefinitions"
    assert task.forces_replacement("tags.team") is None
    assert task.forces_replacement("region") == "region"
    service = RULES["aws:ecs/service:Service"]
    assert service.forces_replacement("deploymentController") == "deploymentController.type"
    assert service.forces_replacement("deploymentCircuitBreaker.enable") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "needs a `types:` mapping"),
        ("types:\n  aws:a/b:C: {replace: [x]}\n", "aws:a/b:C: needs `source`"),
        ("types:\n  aws:a/b:C: {source: f.go, replace: [x], stateless: y}\n", "unknown key(s) stateless"),
        ("types:\n  aws:a/b:C: {source: f.go, replace: [1]}\n", "`replace` must list property paths"),
        ("types:\n  aws:a/b:C: {same_as: 'aws:x/y:Z'}\n", "same_as 'aws:x/y:Z' has no entry of its own"),
        ("types: [", "replace_rules.yaml"),
    ],
)
def test_a_malformed_rules_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "replace_rules.yaml"
    path.write_text(text)
    with pytest.raises(replace_rules.RulesError, match=re.escape(message)):
        replace_rules.load(path)
