"""The change set against a baseline (offline/changes.py), on resources built here: each rule of
how the engine decides create, update, replace, delete or same, and reading both baseline kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from offline_testlib import REPO  # noqa: F401  (puts the repository on sys.path)

from offline import provider_check
from offline.changes import BaselineError, ChangeSet, StackResource, compare, load_baseline
from offline.properties import SECRET_SIG, SIG, UNKNOWN

STACK, PROJECT = "prod", "ecs-platform"
PREFIX = f"urn:pulumi:{STACK}::{PROJECT}::"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
LOGS = "aws:cloudwatch/logGroup:LogGroup"
COMPONENT = "ecs-platform:service:Service"


def urn(type_: str, name: str, parent_type: str = "") -> str:
    return f"{PREFIX}{parent_type + '$' if parent_type else ''}{type_}::{name}"


def res(type_: str, name: str, inputs: dict | None = None, **kw) -> StackResource:
    return StackResource(urn=kw.pop("urn", None) or urn(type_, name), type=type_, inputs=inputs or {}, **kw)


def baseline(*resources: StackResource, kind: str = "report") -> object:
    from offline.changes import Baseline

    return Baseline("base.json", kind, STACK, {r.urn: r for r in resources})


def ops(cs: ChangeSet) -> dict[str, str]:
    return {c.name: c.op for c in cs.changes}


def one(cs: ChangeSet, name: str):
    return next(c for c in cs.changes if c.name == name)


CONTAINERS = [{"name": "app", "image": "api:1", "cpu": 512, "memory": 1024}]


def task(cpu: int = 512, image: str = "api:1", **kw) -> StackResource:
    containers = [{**CONTAINERS[0], "cpu": cpu, "image": image}]
    return res(TASK, "api-task", {"family": "api", "cpu": str(cpu), "containerDefinitions": json.dumps(containers),
                                  "tags": {"team": "platform"}}, **kw)


def service(**kw) -> StackResource:
    task_urn = urn(TASK, "api-task")
    return res(SERVICE, "api-service", {"name": "api", "taskDefinition": UNKNOWN, "desiredCount": 3},
               dependencies=(task_urn,), property_dependencies={"taskDefinition": (task_urn,), "name": ()}, **kw)


def test_identical_resources_are_same() -> None:
    cs = compare([task(), service()], baseline(task(), service()))
    assert ops(cs) == {"api-task": "same", "api-service": "same"}
    assert cs.counts() == {"create": 0, "update": 0, "replace": 0, "delete": 0, "same": 2}
    assert not cs.changed and not cs.warned


def test_a_forcenew_property_replaces_with_the_reason_and_the_path_inside_the_json_document() -> None:
    cs = compare([task(cpu=1024), service()], baseline(task(), service()))
    change = one(cs, "api-task")
    assert change.op == "replace"
    assert change.properties == ["containerDefinitions[0].cpu", "cpu"]
    assert change.reasons == ("containerDefinitions cannot change in place", "cpu cannot change in place")
    assert [(d.old, d.new) for d in change.diffs] == [("512", "1024"), ('"512"', '"1024"')]
    # The service's task definition ARN is computed by the replaced task definition.
    svc = one(cs, "api-service")
    assert svc.op == "update" and svc.properties == ["taskDefinition"]
    assert svc.diffs[0].new == "(known after apply: api-task is replaced)"


def test_an_unknown_input_from_an_unchanged_resource_is_unchanged() -> None:
    cs = compare([task(), service()], baseline(task(), service()))
    assert one(cs, "api-service").op == "same"


def test_an_in_place_property_updates() -> None:
    new = res(TASK, "api-task", {**task().inputs, "tags": {"team": "apps"}})
    change = one(compare([new], baseline(task())), "api-task")
    assert (change.op, change.properties, change.reasons) == ("update", ["tags.team"], ())


def test_ignore_changes_hides_a_change() -> None:
    new = service(ignore_changes=("desiredCount",))
    changed = res(SERVICE, "api-service", {**new.inputs, "desiredCount": 5}, ignore_changes=("desiredCount",),
                  dependencies=new.dependencies, property_dependencies=new.property_dependencies)
    assert one(compare([changed], baseline(service())), "api-service").op == "same"


def test_replace_on_changes_forces_a_replacement() -> None:
    new = res(SERVICE, "api-service", {"name": "api", "desiredCount": 5}, replace_on_changes=("desiredCount",))
    change = one(compare([new], baseline(res(SERVICE, "api-service", {"name": "api", "desiredCount": 3}))), "api-service")
    assert change.op == "replace" and change.reasons == ("desiredCount is in replaceOnChanges",)


def test_a_rename_without_an_alias_deletes_and_creates() -> None:
    old = res(LOGS, "api-logs", {"name": "/ecs/api"})
    new = res(LOGS, "backend-logs", {"name": "/ecs/backend"})
    cs = compare([new], baseline(old))
    assert ops(cs) == {"api-logs": "delete", "backend-logs": "create"}
    assert one(cs, "backend-logs").reasons == ("new URN",)
    assert "renamed or moved without an alias" in one(cs, "api-logs").reasons[0]


def test_an_alias_keeps_the_resource() -> None:
    old = res(LOGS, "api-logs", {"name": "/ecs/api", "retentionInDays": 30})
    new = res(LOGS, "backend-logs", {"name": "/ecs/api", "retentionInDays": 90}, aliases=(old.urn,))
    cs = compare([new], baseline(old))
    change = one(cs, "backend-logs")
    assert (change.op, change.previous_urn, change.properties) == ("update", old.urn, ["retentionInDays"])
    assert [c.name for c in cs.changes] == ["backend-logs"]  # no delete of the aliased URN


def test_an_alias_whose_urn_is_still_declared_does_not_claim_it() -> None:
    old = res(LOGS, "api-logs", {"name": "/ecs/api"})
    kept = res(LOGS, "api-logs", {"name": "/ecs/api"})
    new = res(LOGS, "copy-logs", {"name": "/ecs/copy"}, aliases=(old.urn,))
    assert ops(compare([kept, new], baseline(old))) == {"api-logs": "same", "copy-logs": "create"}


def test_replacing_or_deleting_stateful_protected_or_retained_resources_warns() -> None:
    logs = res(LOGS, "api-logs", {"name": "/ecs/api"}, retain_on_delete=True)
    lb = res("aws:lb/loadBalancer:LoadBalancer", "alb", {"name": "alb", "internal": False}, protect=True)
    moved_lb = res("aws:lb/loadBalancer:LoadBalancer", "alb", {"name": "alb", "internal": True}, protect=True)
    cs = compare([moved_lb], baseline(logs, lb), fail_on_replace=True)
    assert ops(cs) == {"alb": "replace", "api-logs": "delete"}
    assert one(cs, "alb").reasons == ("internal cannot change in place",)
    assert [w.split(":")[0] for w in one(cs, "alb").warnings] == ["protected", "stateful"]
    assert [w.split(":")[0] for w in one(cs, "api-logs").warnings] == ["retainOnDelete", "stateful"]
    assert [c.name for c in cs.warned] == ["api-logs", "alb"] and cs.blocked  # URN order


def test_an_ordinary_replacement_is_not_blocked() -> None:
    cs = compare([task(cpu=1024)], baseline(task()), fail_on_replace=True)
    assert one(cs, "api-task").op == "replace" and not cs.warned and not cs.blocked


def test_deleting_a_component_is_not_a_warning_and_providers_never_are() -> None:
    comp = res(COMPONENT, "api", custom=False, protect=False)
    provider = res("pulumi:providers:aws", "default_7_51_1", {"region": "eu-west-1"}, protect=True)
    cs = compare([], baseline(comp, provider))
    assert ops(cs) == {"api": "delete", "default_7_51_1": "delete"} and not cs.warned


def test_switching_a_security_group_rule_source_replaces() -> None:
    type_ = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
    old = res(type_, "out", {"securityGroupId": "sg-1", "cidrIpv4": "10.0.0.0/8", "ipProtocol": "tcp"})
    new = res(type_, "out", {"securityGroupId": "sg-1", "prefixListId": "pl-1", "ipProtocol": "tcp"})
    change = one(compare([new], baseline(old)), "out")
    assert change.op == "replace"
    assert change.reasons == ("the rule's source changes from cidrIpv4 to prefixListId, which cannot change in place",)
    port = res(type_, "out", {"securityGroupId": "sg-1", "cidrIpv4": "10.0.0.0/16", "ipProtocol": "tcp"})
    assert one(compare([port], baseline(old)), "out").op == "update"


def test_a_nested_forcenew_path_replaces_and_a_sibling_updates() -> None:
    type_ = "aws:ecs/capacityProvider:CapacityProvider"
    old = res(type_, "cp", {"name": "cp", "autoScalingGroupProvider": {"autoScalingGroupArn": "a1",
                                                                       "managedScaling": {"targetCapacity": 90}}})
    scaling = res(type_, "cp", {"name": "cp", "autoScalingGroupProvider": {"autoScalingGroupArn": "a1",
                                                                           "managedScaling": {"targetCapacity": 80}}})
    asg = res(type_, "cp", {"name": "cp", "autoScalingGroupProvider": {"autoScalingGroupArn": "a2",
                                                                       "managedScaling": {"targetCapacity": 90}}})
    assert one(compare([scaling], baseline(old)), "cp").op == "update"
    assert one(compare([asg], baseline(old)), "cp").reasons == (
        "autoScalingGroupProvider.autoScalingGroupArn cannot change in place",)


def test_secrets_are_compared_by_value_and_never_shown() -> None:
    def param(value: str) -> StackResource:
        return res("aws:ssm/parameter:Parameter", "p", {"value": {SIG: SECRET_SIG, "value": value}})

    assert one(compare([param("a")], baseline(param("a"))), "p").op == "same"
    change = one(compare([param("b")], baseline(param("a"))), "p")
    assert change.op == "update" and (change.diffs[0].old, change.diffs[0].new) == ("[secret]", "[secret]")


def test_a_removed_and_an_added_property_are_changes() -> None:
    old = res(LOGS, "l", {"name": "/l", "kmsKeyId": "k"})
    new = res(LOGS, "l", {"name": "/l", "retentionInDays": 7})
    change = one(compare([new], baseline(old)), "l")
    assert [(d.path, d.old, d.new) for d in change.diffs] == [("kmsKeyId", '"k"', "(none)"),
                                                              ("retentionInDays", "(none)", "7")]


def test_booleans_are_not_numbers() -> None:
    old = res("aws:ecs/service:Service", "s", {"name": "s", "enableExecuteCommand": 1})
    new = res("aws:ecs/service:Service", "s", {"name": "s", "enableExecuteCommand": True})
    assert one(compare([new], baseline(old)), "s").op == "update"


def test_changes_are_sorted_by_urn_whatever_the_input_order() -> None:
    a, b = res(LOGS, "a", {"name": "/a"}), res(LOGS, "b", {"name": "/b"})
    assert [c.name for c in compare([b, a], baseline()).changes] == ["a", "b"]
    assert compare([b, a], baseline(a)) == compare([a, b], baseline(a))


# ---- baselines ----------------------------------------------------------------------------------------


def write(tmp_path: Path, data: object, name: str = "base.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def report(resources: list[dict], stack: str = STACK) -> dict:
    return {"project": PROJECT, "stack": stack, "mode": "preview", "resources": resources, "summary": {}}


def test_a_report_baseline_keeps_options(tmp_path: Path) -> None:
    entry = {"urn": urn(LOGS, "l"), "type": LOGS, "name": "l", "parent": None, "inputs": {"name": "/l"},
             "options": {"retainOnDelete": True, "protect": True}}
    base = load_baseline(write(tmp_path, report([entry])), PROJECT, STACK)
    r = base.resources[urn(LOGS, "l")]
    assert (base.kind, r.retain_on_delete, r.protect, r.inputs) == ("report", True, True, {"name": "/l"})


def test_an_export_baseline(tmp_path: Path) -> None:
    tg = "aws:lb/targetGroup:TargetGroup"
    export = {"version": 3, "deployment": {"manifest": {}, "resources": [
        {"urn": urn(tg, "web-tg"), "type": tg, "custom": True, "protect": True,
         "inputs": {"__defaults": ["name"], "name": "web-tg-1a2b3c4", "port": 8080, "deregistrationDelay": "300",
                    "tags": {SIG: SECRET_SIG, "ciphertext": "AAAA"}}},
        {"urn": urn(tg, "gone-tg"), "type": tg, "custom": True, "delete": True, "inputs": {}},
        {"urn": urn(LOGS, "read"), "type": LOGS, "custom": True, "external": True, "inputs": {}},
    ]}}
    base = load_baseline(write(tmp_path, export), PROJECT, STACK)
    assert base.kind == "export" and list(base.resources) == [urn(tg, "web-tg")]  # pending deletes, reads: not managed
    # Head: its own auto-name, no provider default, the same port: unchanged; the secret is not compared.
    auto = provider_check.expected_autoname(tg, "web-tg", urn(tg, "web-tg"), {})
    assert auto is not None and auto[0] == "name" and auto[1] != "web-tg-1a2b3c4"
    head = res(tg, "web-tg", {"name": auto[1], "port": 8080, "tags": {"a": "b"}})
    cs = compare([head], base)
    assert one(cs, "web-tg").op == "same" and cs.uncompared_secrets == 1
    assert any("encrypted" in n for n in cs.notes()) and any("deployment export" in n for n in cs.notes())
    named = res(tg, "web-tg", {"name": "web", "port": 8080})  # a name the program sets: a new target group
    assert one(compare([named], base), "web-tg").reasons == ("name cannot change in place",)
    moved = res(tg, "web-tg", {"name": auto[1], "port": 9090})
    change = one(compare([moved], base), "web-tg")
    assert change.op == "replace" and change.reasons == ("port cannot change in place",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ({"resources": []}, "neither a JSON report"),
        ([1, 2], "neither a JSON report"),
        (report([], stack="dev"), "a report of stack 'dev' of project 'ecs-platform', not of stack 'prod'"),
        (report([{"urn": 1}]), "resource #0 has no `urn` and `type` strings"),
        (report([{"urn": urn(LOGS, "l"), "type": LOGS, "inputs": []}]), "`inputs` is not an object"),
        (report([{"urn": urn(LOGS, "l"), "type": LOGS}] * 2), "appears twice"),
        ({"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:dev::ecs-platform::x:y:Z::n", "type": "x:y:Z"}]}},
         "belongs to stack 'dev'"),
    ],
)
def test_a_bad_baseline_is_a_one_line_error_naming_the_file(tmp_path: Path, content: object, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(BaselineError) as info:
        load_baseline(path, PROJECT, STACK)
    assert message in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_missing_baseline_file(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="cannot read it"):
        load_baseline(tmp_path / "nope.json", PROJECT, STACK)
