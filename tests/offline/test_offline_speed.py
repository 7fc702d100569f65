"""Speed work-arounds change nothing: analysis spread over several pack processes gives the verdicts
of one, and the program run in its own process, analyzed as it registers, what the in-process run
analyzed afterwards gives. (The pack's request memo: test_pack_memo.py.)"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from google.protobuf import json_format
from offline_testlib import REPO
from test_offline_consistency import InProcessStub, _verdicts

from offline.analysis_session import AnalysisSession, analyze
from offline.analyzer import Analyzer
from offline.engine import run_program
from offline.language_host import ProgramProcess
from offline.policy_config import load_policy_config_file
from offline.stack_config import load_project, load_stack_config

POLICIES = REPO / "policies"


@pytest.fixture(scope="module")
def guardrails() -> Any:
    """The tests' driver of the real pack, whose `make_servicer()` builds its servicer (tests/policies/)."""
    sys.path.insert(0, str(REPO / "tests" / "policies"))
    try:
        import pack_driver

        yield pack_driver
    finally:
        sys.path.remove(str(REPO / "tests" / "policies"))


def test_analysis_spread_over_several_packs_equals_one_pack(guardrails: Any) -> None:
    pack = guardrails
    project = load_project(REPO)
    config = load_stack_config(project, "dev")
    kwargs: dict[str, Any] = dict(
        project=project.name, stack="dev", organization="organization", dry_run=True, config=config
    )
    given = load_policy_config_file(POLICIES / "config" / "dev.json")

    def start() -> Analyzer:
        analyzer = Analyzer(None, stub=InProcessStub(pack.make_servicer()), **kwargs)
        analyzer.start(given)
        return analyzer

    run = run_program(project, "dev", config)
    root = run.root.urn  # type: ignore[union-attr]
    spread = analyze(start(), run.registrations, root, [start(), start()])
    single = analyze(start(), run.registrations, root)
    assert _verdicts(spread) == _verdicts(single)
    assert spread.analyzed_inputs == single.analyzed_inputs


class _RecordingStub(InProcessStub):
    """The in-process stub, keeping the AnalyzeStack request it was given."""

    stack_request: Any = None

    def __getattr__(self, name: str) -> Any:
        call = super().__getattr__(name)
        if name != "AnalyzeStack":
            return call

        def record(request: Any, timeout: float | None = None) -> Any:
            self.stack_request = request
            return call(request, timeout)

        return record


def _stack_view(stub: _RecordingStub) -> dict[str, Any]:
    """AnalyzeStack's resources by URN; dependency lists sorted (the SDK sends them in set order)."""
    view = {}
    for resource in stub.stack_request.resources:
        r = json_format.MessageToDict(resource)
        r["dependencies"] = sorted(r.get("dependencies", []))
        for deps in r.get("propertyDependencies", {}).values():
            deps["urns"] = sorted(deps["urns"])
        view[r["urn"]] = r
    return view


def _records(registrations: list[Any]) -> dict[str, tuple[Any, ...]]:
    return {
        r.urn: (r.type, r.parent, r.provider, r.inputs, r.outputs, r.options, sorted(r.dependencies))
        for r in registrations
    }


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_language_host_streamed_equals_in_process_run(guardrails: Any, mode: str) -> None:
    """The program in its own process, each resource analyzed as it registers, gives the registrations,
    verdicts, remediated inputs and AnalyzeStack view of the in-process run analyzed afterwards."""
    pack = guardrails
    project = load_project(REPO)
    config = load_stack_config(project, "dev")
    dry_run = mode == "preview"
    kwargs: dict[str, Any] = dict(
        project=project.name, stack="dev", organization="organization", dry_run=dry_run, config=config
    )
    given = load_policy_config_file(POLICIES / "config" / "dev.json")

    def start() -> tuple[Analyzer, _RecordingStub]:
        stub = _RecordingStub(pack.make_servicer())
        analyzer = Analyzer(None, stub=stub, **kwargs)
        analyzer.start(given)
        return analyzer, stub

    host = ProgramProcess(project, "dev", config, dry_run=dry_run, organization="organization", timeout=120)
    try:
        (first, streamed_stub), (helper, _) = start(), start()
        session = AnalysisSession(first, [helper])
        for reg in host.registrations():
            session.add(reg)
        streamed_run = host.result()
        streamed = session.finish(
            streamed_run.registrations, streamed_run.root.urn, frozenset(streamed_run.outputs_registered)
        )
    finally:
        host.close()

    local_run = run_program(project, "dev", config, dry_run=dry_run)
    local, local_stub = start()
    in_process = analyze(local, local_run.registrations, local_run.root.urn)  # type: ignore[union-attr]

    assert streamed_run.outputs_registered, "components register outputs after they register"
    assert _records(streamed_run.registrations) == _records(local_run.registrations)
    assert _verdicts(streamed) == _verdicts(in_process)
    assert streamed.analyzed_inputs == in_process.analyzed_inputs
    assert _stack_view(streamed_stub) == _stack_view(local_stub)
