"""Alias URNs as the engine derives them from the SDK's alias specs (offline/aliases.py), and a
rename carried by an alias, which the change set shows as the same resource, not delete + create."""

from __future__ import annotations

import json
from pathlib import Path

from offline_testlib import load_json, run_cli
from pulumi.runtime.proto import alias_pb2

from offline.aliases import alias_urns

P = "urn:pulumi:dev::app::"
PARENT = P + "x:index:Box::new"


def spec(**fields: object) -> alias_pb2.Alias:
    return alias_pb2.Alias(spec=alias_pb2.Alias.Spec(**fields))


def urns(specs: list[alias_pb2.Alias], given: tuple[str, ...] = (), parent: str = PARENT,
         parent_aliases: tuple[str, ...] = (), name: str = "new-logs") -> list[str]:
    type_ = "aws:cloudwatch/logGroup:LogGroup"
    qualified = f"x:index:Box${type_}" if parent else type_
    return alias_urns(specs, given, urn=f"{P}{qualified}::{name}", name=name, type_=type_, parent=parent,
                      project="app", stack="dev", parent_aliases=parent_aliases)


def test_a_spec_defaults_to_the_resource_and_its_parent() -> None:
    assert urns([spec(name="old-logs")]) == [P + "x:index:Box$aws:cloudwatch/logGroup:LogGroup::old-logs"]


def test_no_parent_a_given_parent_a_type_and_a_urn() -> None:
    other = P + "x:index:Other::o"
    found = urns([spec(noParent=True), spec(parentUrn=other), spec(type="aws:cloudwatch/logGroupV2:LogGroupV2"),
                  alias_pb2.Alias(urn=P + "a:b:C::legacy")], given=(P + "a:b:C::given",))
    assert found == [
        P + "a:b:C::given",
        P + "aws:cloudwatch/logGroup:LogGroup::new-logs",
        P + "x:index:Other$aws:cloudwatch/logGroup:LogGroup::new-logs",
        P + "x:index:Box$aws:cloudwatch/logGroupV2:LogGroupV2::new-logs",
        P + "a:b:C::legacy",
    ]


def test_the_parents_aliases_are_inherited_with_the_name_prefix_swapped() -> None:
    found = urns([spec(name="new-log-group")], parent_aliases=(P + "x:index:Box::old",))
    assert found == [
        P + "x:index:Box$aws:cloudwatch/logGroup:LogGroup::new-log-group",
        P + "x:index:Box$aws:cloudwatch/logGroup:LogGroup::old-logs",  # new-logs: "new" -> "old"
        P + "x:index:Box$aws:cloudwatch/logGroup:LogGroup::old-log-group",
    ]


def test_the_resources_own_urn_and_duplicates_are_dropped() -> None:
    assert urns([spec(name="new-logs"), spec(name="a"), spec(name="a")]) == [
        P + "x:index:Box$aws:cloudwatch/logGroup:LogGroup::a"]


PROGRAM = '''
import pulumi
import pulumi_aws as aws

NEW = pulumi.Config().get_bool("renamed")


class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("x:index:Box", name, None, opts)
        aws.cloudwatch.LogGroup(f"{name}-logs", retention_in_days=30 if NEW else 7,
                                opts=pulumi.ResourceOptions(parent=self))


if NEW:
    Box("backend", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="api")]))
else:
    Box("api")
'''


def program(tmp_path: Path, renamed: bool) -> Path:
    directory = tmp_path / ("head" if renamed else "base")
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: app\nruntime: python\n")
    (directory / "Pulumi.dev.yaml").write_text(f"config:\n  aws:region: eu-west-1\n  app:renamed: {json.dumps(renamed)}\n")
    (directory / "__main__.py").write_text(PROGRAM)
    return directory


def test_a_rename_with_an_alias_keeps_the_component_and_its_child(tmp_path: Path) -> None:
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    proc = run_cli("--program", str(program(tmp_path, False)), "--policy-pack", "none", "--json", str(base))
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("--program", str(program(tmp_path, True)), "--policy-pack", "none", "--baseline", str(base),
                   "--json", str(head))
    assert proc.returncode == 0, proc.stderr
    changes = {c["urn"].rsplit("::", 1)[-1]: c for c in load_json(head)["changes"]}
    assert changes["backend"]["op"] == "same" and changes["backend"]["previousUrn"] == P + "x:index:Box::api"
    logs = changes["backend-logs"]  # aliased through its parent: api-logs, prefix swapped
    assert logs["op"] == "update" and logs["properties"] == ["retentionInDays"]
    assert logs["previousUrn"] == P + "x:index:Box$aws:cloudwatch/logGroup:LogGroup::api-logs"
    assert not [c for c in changes.values() if c["op"] in ("create", "delete")]
    assert "~ aws:cloudwatch/logGroup:LogGroup  backend-logs (was api-logs, by alias)" in proc.stdout
