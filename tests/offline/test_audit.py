"""`python -m offline analyze`: the policy pack over a deployed stack's `pulumi stack export`.

Real exports come from `python -m offline preview --mode update --export-state` of the repository's
program: auditing one gives the preview's findings and verdict for the same stack and pack config.
Hand-written exports pin what the engine hands the pack (pulumi/pulumi v3.259.0,
pkg/resource/deploy/analyze_snapshot.go:147-179 per resource, :256-270 for AnalyzeStack), and what
an audit cannot check (encrypted secrets, pending operations, deletion, replacement) never passes.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from offline_testlib import FIXTURES, REPO

RECORDING_PACK = FIXTURES / "recording_pack"
SCHEMA = json.loads((REPO / "offline" / "report.schema.json").read_text())
SIG = "4dabf18193072939515e22adb298388d"
SECRET = "1b47061264138c4ac30d75fd1eb44270"
TIMEOUT = 300  # generous: a loaded 2-core machine


def run(command: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offline", command, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def previews(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any], int]]:
    """Per stack: the export of `preview --mode update`, its JSON report and its exit code."""
    out = {}
    for stack in ("dev", "prod"):
        folder = tmp_path_factory.mktemp(f"preview-{stack}")
        export, report = folder / "export.json", folder / "report.json"
        done = run("preview", "--stack", stack, "--mode", "update", "--export-state", str(export), "--json", str(report))
        assert done.returncode in (0, 1), done.stderr
        out[stack] = (export, json.loads(report.read_text()), done.returncode)
    return out


def findings(report: dict[str, Any]) -> list[tuple[str, str, str, str, Any]]:
    return [
        (d["enforcementLevel"], d["policyName"], d["urn"], d["message"], d["severity"]) for d in report["diagnostics"]
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_auditing_the_deployed_state_gives_the_previews_verdict(
    stack: str, previews: dict[str, tuple[Path, dict[str, Any], int]], tmp_path: Path
) -> None:
    export, preview, preview_code = previews[stack]
    report_file = tmp_path / "audit.json"
    done = run(
        "analyze", "--state", str(export), "--policy-pack-config", f"policies/config/{stack}.json",
        "--json", str(report_file),
    )
    assert done.returncode == preview_code, done.stderr
    audit = json.loads(report_file.read_text())
    jsonschema.validate(audit, SCHEMA)
    assert findings(audit) == findings(preview) and findings(audit)
    for key in ("verdict", "verdictText", "exitCode", "mandatory", "advisory", "policyPack", "disabledPolicies",
                "loweredPolicies", "deferred", "resources", "byType"):
        assert audit["summary"][key] == preview["summary"][key], key
    assert (audit["project"], audit["stack"], audit["mode"], audit["stateFile"]) == (
        "ecs-platform", stack, "audit", str(export)
    )
    assert [r["urn"] for r in audit["resources"]] == [r["urn"] for r in preview["resources"]]
    assert audit["unchecked"] == [] and audit["summary"]["unchecked"] == 0
    assert audit["outputs"] == preview["outputs"]
    assert done.stdout.startswith(f"Audit of deployed stack '{stack}' (project 'ecs-platform') from the state export")
    assert done.stdout.rstrip().endswith(preview["summary"]["verdictText"])


def test_the_stacks_own_policy_config_applies_by_default(
    previews: dict[str, tuple[Path, dict[str, Any], int]], tmp_path: Path
) -> None:
    export, preview, _ = previews["prod"]
    done = run("analyze", "--state", str(export), "--json", "-")
    assert done.returncode == 0, done.stderr
    audit = json.loads(done.stdout)
    assert audit["summary"]["policyConfig"] == "policies/config/prod.json"
    assert findings(audit) == findings(preview)


def _edit_container(export: dict[str, Any], task: str, change: Any) -> str:
    """Apply `change` to the first container of the task definition named `task`; its URN."""
    for r in export["deployment"]["resources"]:
        if r["type"] == "aws:ecs/taskDefinition:TaskDefinition" and r["urn"].endswith("::" + task):
            containers = json.loads(r["inputs"]["containerDefinitions"])
            change(containers[0])
            r["inputs"]["containerDefinitions"] = json.dumps(containers)
            return r["urn"]
    raise AssertionError(f"no task definition {task}")


def test_a_deployed_container_without_logging_or_memory_limit_fails_the_audit(
    previews: dict[str, tuple[Path, dict[str, Any], int]], tmp_path: Path
) -> None:
    export = json.loads(previews["dev"][0].read_text())

    def strip(container: dict[str, Any]) -> None:
        del container["logConfiguration"], container["memory"], container["memoryReservation"]

    urn = _edit_container(export, "web-task", strip)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(export))
    done = run("analyze", "--state", str(edited), "--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md"))
    assert done.returncode == 1, done.stderr
    audit = json.loads((tmp_path / "r.json").read_text())
    mandatory = {(d["policyName"], d["urn"]) for d in audit["diagnostics"] if d["enforcementLevel"] == "mandatory"}
    assert mandatory == {("ecs-container-logging-required", urn), ("ecs-container-resource-limits", urn)}
    messages = " ".join(d["message"] for d in audit["diagnostics"] if d["urn"] == urn)
    assert "container 'web' has no logConfiguration" in messages
    assert "container 'web' declares no memory limit" in messages
    assert audit["summary"]["verdict"] == "fail" and audit["summary"]["exitCode"] == 1
    assert done.stdout.rstrip().endswith("FAIL: 2 mandatory policy violation(s), 8 advisory")
    md = (tmp_path / "r.md").read_text()
    assert md.startswith("<!-- offline-audit:ecs-platform:dev -->\n### ❌ Audit of deployed stack: `dev`\n")


def test_reports_are_the_same_bytes_every_time(previews: dict[str, tuple[Path, dict[str, Any], int]], tmp_path: Path) -> None:
    export = previews["dev"][0]
    outputs = []
    for attempt in ("a", "b"):
        folder = tmp_path / attempt
        folder.mkdir()
        done = run("analyze", "--state", str(export), "--json", str(folder / "r.json"), "--markdown", str(folder / "r.md"))
        assert done.returncode == 0, done.stderr
        report = json.loads((folder / "r.json").read_text())
        assert set(report.pop("timings")) <= {"pack_start", "policies", "analyze_stack", "total"}
        outputs.append((done.stdout, json.dumps(report, indent=2), (folder / "r.md").read_bytes()))
    assert outputs[0] == outputs[1]


# ---- what the pack receives, from hand-written exports ----------------------------------------------

STACK_URN = "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev"
PROVIDER = "urn:pulumi:dev::shop::pulumi:providers:aws::main"
DEFAULT_PROVIDER = "urn:pulumi:dev::shop::pulumi:providers:aws::default_7_0_0"
APP = "urn:pulumi:dev::shop::my:app:App::app"
BUCKET = "urn:pulumi:dev::shop::my:app:App$aws:s3/bucket:Bucket::logs::eu"  # the name holds '::'
OTHER = "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::other"
VPC = "urn:pulumi:dev::shop::aws:ec2/vpc:Vpc::default"


def plaintext(value: Any) -> dict[str, Any]:
    return {SIG: SECRET, "plaintext": json.dumps(value)}


def ciphertext() -> dict[str, Any]:
    return {SIG: SECRET, "ciphertext": "v1:AAAAbase64=="}


def base_export() -> dict[str, Any]:
    resources = [
        {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack",
         "outputs": {"bucketName": "logs-1", "token": plaintext("s3cr3t-token")}},
        {"urn": PROVIDER, "custom": True, "id": "prov-1", "type": "pulumi:providers:aws", "parent": STACK_URN,
         "inputs": {"region": "eu-west-1", "version": "7.0.0", "__internal": True}, "outputs": {"region": "eu-west-1"}},
        {"urn": DEFAULT_PROVIDER, "custom": True, "id": "prov-2", "type": "pulumi:providers:aws",
         "inputs": {"region": "eu-west-1"}, "outputs": {"region": "eu-west-1"}},
        {"urn": APP, "custom": False, "type": "my:app:App", "parent": STACK_URN},
        {"urn": BUCKET, "custom": True, "id": "logs-1", "type": "aws:s3/bucket:Bucket", "parent": APP,
         "provider": PROVIDER + "::prov-1", "protect": True, "ignoreChanges": ["tags.team"],
         "customTimeouts": {"create": 600, "delete": 120}, "aliases": ["urn:pulumi:dev::shop::aws:s3/bucket:Bucket::logs"],
         "additionalSecretOutputs": ["policy"], "dependencies": [APP], "propertyDependencies": {"bucket": [APP]},
         "inputs": {"bucket": "logs-1", "tags": {"owner": "team-a"}, "__defaults": ["acl"]},
         "outputs": {"bucket": "logs-1", "tags": {"owner": "team-a"}, "arn": "arn:aws:s3:::logs-1",
                     "policy": plaintext("{}")}},
        {"urn": OTHER, "custom": True, "id": "other-1", "type": "aws:s3/bucket:Bucket", "parent": STACK_URN,
         "provider": DEFAULT_PROVIDER + "::prov-2", "inputs": {"bucket": "other-1", "tags": {"owner": "team-b"}},
         "outputs": {"bucket": "other-1", "tags": {"owner": "team-b"}}},
        {"urn": VPC, "custom": True, "id": "vpc-1", "type": "aws:ec2/vpc:Vpc", "parent": STACK_URN, "external": True,
         "provider": DEFAULT_PROVIDER + "::prov-2", "inputs": {}, "outputs": {"cidrBlock": "10.0.0.0/16"}},
    ]
    return {"version": 3, "deployment": {
        "manifest": {"time": "2026-01-01T00:00:00Z", "magic": "", "version": "v3.272.0"},
        "secrets_providers": {"type": "service"},
        "resources": resources,
    }}


def audit_with_recording(tmp_path: Path, export: dict[str, Any], *extra: str) -> tuple[
    subprocess.CompletedProcess[str], dict[str, Any], list[dict[str, Any]]
]:
    state, record, report = tmp_path / "state.json", tmp_path / "record.jsonl", tmp_path / "report.json"
    state.write_text(json.dumps(export))
    done = run(
        "analyze", "--state", str(state), "--policy-pack", str(RECORDING_PACK), "--json", str(report),
        "--pack-processes", "1", *extra, env={"RECORD_FILE": str(record)},
    )
    assert done.returncode in (0, 1), done.stderr
    calls = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    return done, json.loads(report.read_text()), calls


def test_the_pack_receives_each_resource_as_the_engine_sends_it(tmp_path: Path) -> None:
    done, report, calls = audit_with_recording(tmp_path, base_export())
    assert done.returncode == 0, done.stdout
    analyzed = {c["urn"]: c for c in calls if c["call"] == "analyze"}
    # Every resource of the snapshot but reads, providers included (analyze_snapshot.go:203-208).
    assert set(analyzed) == {STACK_URN, PROVIDER, DEFAULT_PROVIDER, APP, BUCKET, OTHER}
    assert analyzed[BUCKET] == {
        "call": "analyze",
        "type": "aws:s3/bucket:Bucket",
        "urn": BUCKET,
        "name": "logs::eu",  # everything after the URN's third '::' (urn.go:185)
        "props": {"bucket": "logs-1", "tags": {"owner": "team-a"}},  # recorded inputs, internal keys left out
        "opts": {
            "protect": True,
            "ignoreChanges": ["tags.team"],
            "aliases": ["urn:pulumi:dev::shop::aws:s3/bucket:Bucket::logs"],
            "additionalSecretOutputs": ["policy"],
            "customTimeouts": [600.0, 0.0, 120.0],
            "parent": APP,
        },
        "provider": {"type": "pulumi:providers:aws", "urn": PROVIDER, "name": "main",
                     "props": {"region": "eu-west-1", "version": "7.0.0"}},
    }
    assert analyzed[OTHER]["provider"]["urn"] == DEFAULT_PROVIDER
    assert analyzed[PROVIDER]["provider"] is None and analyzed[PROVIDER]["props"] == {
        "region": "eu-west-1", "version": "7.0.0"}
    stacked = {c["urn"]: c for c in calls if c["call"] == "stack"}
    assert set(stacked) == set(analyzed)
    # AnalyzeStack: outputs, secrets decrypted for the pack (`--show-secrets` exports), the graph.
    assert stacked[BUCKET]["props"] == {"arn": "arn:aws:s3:::logs-1", "bucket": "logs-1", "policy": "{}",
                                        "tags": {"owner": "team-a"}}
    assert (stacked[BUCKET]["parent"], stacked[BUCKET]["provider"], stacked[BUCKET]["dependencies"]) == (
        APP, PROVIDER, [APP])
    assert stacked[STACK_URN]["props"] == {"bucketName": "logs-1", "token": "s3cr3t-token"}
    # The reports never show a secret's value.
    text = (tmp_path / "report.json").read_text()
    assert "s3cr3t-token" not in text and "[secret]" in text
    assert report["summary"]["verdict"] == "pass" and report["unchecked"] == []
    assert report["summary"]["policyConfig"] is None
    assert VPC in {r["urn"] for r in report["resources"]}  # listed, not analysed (a read)


def test_a_violation_in_the_recorded_inputs_fails(tmp_path: Path) -> None:
    export = base_export()
    export["deployment"]["resources"][5]["inputs"]["tags"] = {"team": "b"}
    done, report, _ = audit_with_recording(tmp_path, export)
    assert done.returncode == 1
    assert [(d["policyName"], d["urn"], d["enforcementLevel"]) for d in report["diagnostics"]] == [
        ("tag-required", OTHER, "mandatory")]


def test_an_encrypted_secret_is_never_passed(tmp_path: Path) -> None:
    export = base_export()
    export["deployment"]["resources"][4]["inputs"]["tags"] = ciphertext()  # read by a mandatory policy
    export["deployment"]["resources"][0]["outputs"]["token"] = ciphertext()  # read by nothing
    done, report, calls = audit_with_recording(tmp_path, export)
    assert done.returncode == 0
    assert report["summary"]["verdict"] == "incomplete"
    assert report["summary"]["verdictText"].startswith("INCOMPLETE: no mandatory policy violations")
    assert "2 resource(s) not fully checked" in report["summary"]["verdictText"]
    unchecked = {u["urn"]: u["reason"] for u in report["unchecked"]}
    assert set(unchecked) == {BUCKET, STACK_URN}
    assert unchecked[BUCKET].startswith("encrypted secret(s) at inputs.tags: they cannot be decrypted offline")
    assert unchecked[STACK_URN].startswith("encrypted secret(s) at outputs.token:")
    # The pack saw an unknown, not a made-up value: the mandatory check could not run.
    bucket = next(c for c in calls if c["call"] == "analyze" and c["urn"] == BUCKET)
    assert bucket["props"]["tags"] == "<unknown>"
    assert [d["policyName"] for d in report["summary"]["deferred"]] == ["tag-required"]
    assert "PASS" not in done.stdout
    assert "Not fully checked (2): deployed resources the audit could not fully check" in done.stdout
    strict, _, _ = audit_with_recording(tmp_path, export, "--strict")
    assert strict.returncode == 1


def test_pending_deletion_replacement_and_operations_are_reported_not_passed(tmp_path: Path) -> None:
    export = base_export()
    resources = export["deployment"]["resources"]
    old = copy.deepcopy(resources[5])
    old.update(id="other-0", delete=True, inputs={"bucket": "other-0"})  # no owner tag: would fail if analysed
    resources.insert(6, old)
    resources[4]["pendingReplacement"] = True
    export["deployment"]["pending_operations"] = [{"type": "creating", "resource": {
        "urn": "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::new", "custom": True, "type": "aws:s3/bucket:Bucket",
        "inputs": {"bucket": "new"}}}]
    done, report, calls = audit_with_recording(tmp_path, export)
    assert done.returncode == 0 and report["diagnostics"] == []
    assert [c["urn"] for c in calls if c["call"] == "analyze"].count(OTHER) == 1  # the live copy only
    assert "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::new" not in {c["urn"] for c in calls}
    reasons = [(u["urn"], u["reason"].split(" (")[0].split(":")[0]) for u in report["unchecked"]]
    assert reasons == [
        (BUCKET, "pending replacement"),
        (OTHER, "pending deletion"),
        ("urn:pulumi:dev::shop::aws:s3/bucket:Bucket::new", "pending operation `creating`"),
    ]
    assert report["summary"]["verdict"] == "incomplete" and report["summary"]["unchecked"] == 3
    assert BUCKET in {c["urn"] for c in calls if c["call"] == "analyze"}  # analysed on its recorded inputs


# ---- bad exports: one line, exit 2, before any pack starts ------------------------------------------


def _resources(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"version": 3, "deployment": {"manifest": {}, "resources": list(entries)}}


BUCKET_ENTRY = {"urn": OTHER, "custom": True, "type": "aws:s3/bucket:Bucket"}

BAD = [
    ("not-json", "{version: 3", "invalid JSON at line 1, column 2"),
    ("a-list", [], "expected a `pulumi stack export` object, found a list"),
    ("no-deployment", {"version": 3}, "not a `pulumi stack export` (no `version` and `deployment` at the top level)"),
    ("version-4", {"version": 4, "features": ["refreshBeforeUpdate"], "deployment": {}},
     "deployment version 4 (features: refreshBeforeUpdate) is not supported: only version 3"),
    ("version-string", {"version": "3", "deployment": {}}, "deployment version '3' is not supported"),
    ("no-manifest", {"version": 3, "deployment": {"resources": []}}, "`deployment.manifest` is missing or not an object"),
    ("empty", _resources(), "the export holds no resources"),
    ("no-urn", _resources({"type": "aws:s3/bucket:Bucket"}), "resource #0: `urn` is not a URN"),
    ("wrong-type", _resources({**BUCKET_ENTRY, "type": "aws:s3/bucketV2:BucketV2"}),
     f"resource #0 ({OTHER}): `type` 'aws:s3/bucketV2:BucketV2' is not the type its URN names ('aws:s3/bucket:Bucket')"),
    ("protect-string", _resources({**BUCKET_ENTRY, "protect": "yes"}), f"({OTHER}): `protect` is not true or false: 'yes'"),
    ("inputs-list", _resources({**BUCKET_ENTRY, "inputs": []}), "`inputs` is not an object: []"),
    ("bad-timeouts", _resources({**BUCKET_ENTRY, "customTimeouts": {"create": "10m"}}),
     "`customTimeouts` is not an object of seconds"),
    ("missing-parent", _resources({**BUCKET_ENTRY, "parent": APP}), f"its `parent` {APP} is not in the export"),
    ("missing-provider", _resources({**BUCKET_ENTRY, "provider": PROVIDER + "::x"}),
     f"its `provider` {PROVIDER} is not in the export"),
    ("provider-not-urn", _resources({**BUCKET_ENTRY, "provider": "aws"}), "`provider` is not a provider reference"),
    ("provider-not-provider", _resources({**BUCKET_ENTRY, "urn": APP, "type": "my:app:App"},
                                         {**BUCKET_ENTRY, "provider": APP + "::x"}),
     f"its `provider` {APP} is a my:app:App, not a provider"),
    ("duplicate", _resources(BUCKET_ENTRY, BUCKET_ENTRY), f"resource #1 ({OTHER}): its URN appears twice"),
    ("secret-without-text", _resources({**BUCKET_ENTRY, "inputs": {"tags": {SIG: SECRET}}}),
     f"resource #0 ({OTHER}): inputs.tags: a secret without a `plaintext` or `ciphertext` string"),
    ("secret-not-json", _resources({**BUCKET_ENTRY, "outputs": {"a": [{SIG: SECRET, "plaintext": "{x"}]}}),
     "outputs.a[0]: the secret's plaintext is not JSON"),
    ("two-stacks", _resources(BUCKET_ENTRY, {**BUCKET_ENTRY, "urn": OTHER.replace(":dev:", ":prod:")}),
     "resources of several stacks ('dev' of project 'shop', 'prod' of project 'shop')"),
    ("pending-op", {"version": 3, "deployment": {"manifest": {}, "pending_operations": [{"type": "creating"}]}},
     "pending operation #0 resource: expected an object, found null"),
    ("deep", "[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),
]


@pytest.mark.parametrize(("content", "message"), [(c, m) for _, c, m in BAD], ids=[n for n, _, _ in BAD])
def test_a_bad_export_is_one_line_and_exit_2(
    content: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from offline.__main__ import main

    state = tmp_path / "state.json"
    state.write_text(content if isinstance(content, str) else json.dumps(content))
    code = main(["analyze", "--state", str(state), "--policy-pack", str(RECORDING_PACK)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith(f"error (input error): state {state}: ") or err.startswith(f"error (input error): {state}: ")
    assert message in err and err.count("\n") == 1, err


def test_a_huge_or_missing_export_is_refused_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from offline.__main__ import main

    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)  # sparse: nothing is written, nothing is read
    assert main(["analyze", "--state", str(huge)]) == 2
    assert capsys.readouterr().err == f"error (input error): {huge}: 67108865 bytes, over the limit of 64 MiB\n"
    assert main(["analyze", "--state", str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err == f"error (input error): {tmp_path / 'none.json'}: does not exist\n"
    assert main(["analyze", "--state", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_the_command_line_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from offline.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(["analyze"])
    assert stopped.value.code == 2 and "--state" in capsys.readouterr().err
    state = tmp_path / "s.json"
    state.write_text(json.dumps(base_export()))
    assert main(["analyze", "--state", str(state), "--json", "-", "--markdown", "-"]) == 2
    assert capsys.readouterr().err == (
        "error (usage error): --json and --markdown would all write to stdout; give files instead of '-'\n"
    )
    assert main(["analyze", "--state", str(state), "--policy-pack", "none", "--policy-pack-config", "x.json"]) == 2
    assert "no pack to configure" in capsys.readouterr().err
