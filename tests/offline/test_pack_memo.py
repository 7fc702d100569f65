"""The per-request memo the offline preview installs in the packs it starts (offline/pack_bootstrap.py):
active in those packs, off with OFFLINE_PREVIEW_NO_MEMO=1, refused (with one note) on another
pulumi-policy version or a changed target, and without effect on verdicts.

The in-process tests patch a private copy of `pulumi_policy.policy`, never the module itself."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from offline_testlib import FIXTURES, PROGRAM, REPO, load_json, run_cli
from pulumi.runtime import proto
from test_offline_consistency import _verdicts

from offline import pack_bootstrap
from offline.analysis_session import analyze
from offline.analyzer import Analyzer
from offline.engine import run_program
from offline.pack_process import BOOTSTRAP, NO_MEMO_ENV, PolicyPackProcess
from offline.policy_config import load_policy_config_file
from offline.properties import dict_to_struct
from offline.stack_config import load_project, load_stack_config

POLICIES = REPO / "policies"
SDK_VERSION = importlib.metadata.version("pulumi-policy")
PROBE = "properties shared between policies: "


@pytest.fixture
def probe_pack(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "memo_probe_pack", tmp_path / "memo_probe_pack"))


@pytest.fixture
def fake_sdk_version(tmp_path: Path) -> dict[str, str]:
    """An environment whose processes see pulumi-policy as version 0.0.0 (a sitecustomize module)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import importlib.metadata as _m\n"
        "_version = _m.version\n"
        "_m.version = lambda name: '0.0.0' if name == 'pulumi-policy' else _version(name)\n",
        encoding="utf-8",
    )
    return {"PYTHONPATH": str(site)}


def _probe(report: dict, pack: Path) -> set[str]:
    """What the probe pack reported for each resource: {"True"} when the memo is active. Checks on
    the way that the pack's sys.path starts as the CLI's `python -m pulumi.policy` makes it."""
    answers = {d["message"].rsplit(PROBE, 1)[1] for d in report["diagnostics"] if d["policyName"] == "b-compare"}
    paths = {d["message"].rsplit("\n", 1)[1] for d in report["diagnostics"] if d["policyName"] == "c-path"}
    assert answers, "the probe pack reported nothing"
    assert paths == {f"first on sys.path: {['.', str(pack.resolve())]}"}
    return answers


# ---- in the packs the preview starts -------------------------------------------------------------------


def test_preview_runs_its_packs_with_the_memo(tmp_path: Path, probe_pack: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", str(probe_pack), "--json", str(out), env={NO_MEMO_ENV: ""})
    assert proc.returncode == 0, proc.stderr
    assert _probe(load_json(out), probe_pack) == {"True"}
    assert "request memo" not in proc.stderr


def test_switched_off_the_packs_run_as_the_cli_starts_them(tmp_path: Path, probe_pack: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", str(probe_pack), "--json", str(out), env={NO_MEMO_ENV: "1"})
    assert proc.returncode == 0, proc.stderr
    assert _probe(load_json(out), probe_pack) == {"False"}


def test_another_sdk_version_runs_unpatched_and_says_so_once(
    tmp_path: Path, probe_pack: Path, fake_sdk_version: dict[str, str]
) -> None:
    out = tmp_path / "r.json"
    proc = run_cli(
        "--program", str(PROGRAM), "--policy-pack", str(probe_pack), "--pack-processes", "2", "--json", str(out),
        env={**fake_sdk_version, NO_MEMO_ENV: ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert _probe(load_json(out), probe_pack) == {"False"}
    notes = [line for line in proc.stderr.splitlines() if "request memo" in line]
    assert notes == [
        "offline preview: request memo: not installed: pulumi-policy 0.0.0 is not 1.21.0, the version the memo "
        "was written for (the pack runs unpatched: same verdicts, slower)"
    ]


def _deployment(dry_run: bool) -> dict[str, Any]:
    project = load_project(REPO)
    return dict(
        project=project.name, stack="dev", organization="organization", dry_run=dry_run,
        config=load_stack_config(project, "dev"),
    )


def test_pack_process_reports_the_memo(monkeypatch: pytest.MonkeyPatch, probe_pack: Path) -> None:
    monkeypatch.delenv(NO_MEMO_ENV, raising=False)
    process = PolicyPackProcess(probe_pack, **_deployment(True))
    try:
        process.connect()
        assert process.memo and process.command[2] == str(BOOTSTRAP)
        assert process.memo_report == f"installed (pulumi-policy {SDK_VERSION})"
        assert [line for line in process.stderr.splitlines() if "request memo" in line] == [
            f"offline preview: request memo: installed (pulumi-policy {SDK_VERSION})"
        ]
    finally:
        process.close()
    monkeypatch.setenv(NO_MEMO_ENV, "1")
    process = PolicyPackProcess(probe_pack, **_deployment(True))
    try:
        process.connect()
        assert not process.memo and process.command[2:4] == ["-m", "pulumi.policy"]
        assert process.memo_report is None
    finally:
        process.close()


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_memo_gives_the_verdicts_of_the_unpatched_sdk(mode: str) -> None:
    """The project's pack on the dev stack, in two processes: one with the memo, one without."""
    deployment = _deployment(mode == "preview")
    project = load_project(REPO)
    run = run_program(project, "dev", deployment["config"], dry_run=deployment["dry_run"])
    given = load_policy_config_file(POLICIES / "config" / "dev.json")
    results = {}
    for memo in (True, False):
        process = PolicyPackProcess(POLICIES, memo=memo, **deployment)
        try:
            analyzer = Analyzer(process, **deployment)
            analyzer.start(given)
            results[memo] = analyze(analyzer, run.registrations, run.root.urn)  # type: ignore[union-attr]
            assert (process.memo_report or "").startswith("installed") is memo
        finally:
            process.close()
    assert _verdicts(results[True]) == _verdicts(results[False])
    assert results[True].analyzed_inputs == results[False].analyzed_inputs
    assert _verdicts(results[True])[0], "the dev stack has findings"


# ---- the bootstrap's checks and the memo, on a private copy of the SDK module ----------------------------


@pytest.fixture
def policy_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A fresh copy of pulumi_policy.policy, with functions and a servicer class of its own."""
    import pulumi_policy.policy

    name = "pulumi_policy._memo_test_copy"
    spec = importlib.util.spec_from_file_location(name, pulumi_policy.policy.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_the_installed_sdk_has_the_expected_shape(policy_module: types.ModuleType) -> None:
    assert SDK_VERSION == pack_bootstrap.WRITTEN_FOR, "pulumi-policy was upgraded: review pack_bootstrap's memo"
    assert pack_bootstrap.memo_blockers(policy_module, SDK_VERSION) == []


def test_another_version_is_refused(policy_module: types.ModuleType) -> None:
    assert pack_bootstrap.memo_blockers(policy_module, "1.21.1") == [
        "pulumi-policy 1.21.1 is not 1.21.0, the version the memo was written for"
    ]


TARGETS = [
    ("", "deserialize_properties"),
    ("", "unknown_checking_proxy"),
    ("_PolicyAnalyzerServicer", "Analyze"),
    ("_PolicyAnalyzerServicer", "AnalyzeStack"),
    ("_PolicyAnalyzerServicer", "Remediate"),
    ("_PolicyAnalyzerServicer", "_get_resource_options"),
    ("_PolicyAnalyzerServicer", "_get_provider_resource"),
]


def _owner(module: types.ModuleType, owner: str) -> Any:
    return getattr(module, owner) if owner else module


@pytest.mark.parametrize(("owner", "name"), TARGETS)
def test_a_missing_target_is_refused(policy_module: types.ModuleType, owner: str, name: str) -> None:
    delattr(_owner(policy_module, owner), name)
    where = ".".join(p for p in (policy_module.__name__, owner, name) if p)
    assert pack_bootstrap.memo_blockers(policy_module, SDK_VERSION) == [f"{where} does not exist"]


@pytest.mark.parametrize(("owner", "name"), TARGETS)
def test_a_changed_signature_is_refused(policy_module: types.ModuleType, owner: str, name: str) -> None:
    def changed(request: Any, extra: Any) -> None:
        return None

    setattr(_owner(policy_module, owner), name, changed)
    [problem] = pack_bootstrap.memo_blockers(policy_module, SDK_VERSION)
    assert problem.endswith(f".{name} takes (request, extra), not ({', '.join(_params(owner, name))})")


def _params(owner: str, name: str) -> tuple[str, ...]:
    if not owner:
        return pack_bootstrap._MODULE_FUNCTIONS[name]
    return {**pack_bootstrap._SERVICER_CALLS, **pack_bootstrap._SERVICER_HELPERS}[name]


def test_a_replaced_json_format_is_refused(policy_module: types.ModuleType) -> None:
    policy_module.json_format = types.ModuleType("json_format")  # type: ignore[attr-defined]
    assert pack_bootstrap.memo_blockers(policy_module, SDK_VERSION) == [
        f"{policy_module.__name__}.json_format is not google.protobuf.json_format"
    ]


def _probe_servicer(module: types.ModuleType) -> tuple[Any, list[Any]]:
    """A servicer of `module` whose two policies record the properties object each is handed."""
    seen: list[Any] = []

    def record(args: Any, report_violation: Any) -> None:
        seen.append(args.props)
        if args.props["size"] > 1:
            report_violation(f"size {args.props['size']}")

    policies = [
        module.ResourceValidationPolicy(name=f"p{i}", description="records", validate=record) for i in (1, 2)
    ]
    servicer = module._PolicyAnalyzerServicer("probe", "0.0.1", policies, module.EnforcementLevel.ADVISORY)
    return servicer, seen


def _analyze(servicer: Any) -> Any:
    request = proto.AnalyzeRequest(type="t:m:R", urn="urn:pulumi:s::p::t:m:R::r", name="r",
                                   properties=dict_to_struct({"size": 2, "tags": {"a": "b"}}))
    return json_format.MessageToDict(servicer.Analyze(request, None))


def test_installed_memo_shares_conversions_within_a_call_only(policy_module: types.ModuleType) -> None:
    servicer, seen = _probe_servicer(policy_module)
    unpatched = _analyze(servicer)
    assert seen[0] is not seen[1]
    seen.clear()

    original = policy_module._PolicyAnalyzerServicer.__dict__["Analyze"]
    pack_bootstrap.install_request_memo(policy_module)
    pack_bootstrap.install_request_memo(policy_module)  # idempotent: wraps the SDK's functions once
    wrapper = policy_module._PolicyAnalyzerServicer.__dict__["Analyze"]
    assert wrapper is not original and wrapper.__wrapped__ is original
    assert _analyze(servicer) == unpatched
    assert seen[0] is seen[1], "both policies of one call get the same converted properties"
    first_call = seen[0]
    seen.clear()
    _analyze(servicer)
    assert seen[0] is not first_call, "nothing is kept from one call to the next"
    props = {"a": 1}
    assert policy_module.deserialize_properties(props) is not policy_module.deserialize_properties(props)
