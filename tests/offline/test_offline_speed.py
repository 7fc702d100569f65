"""Speed work-arounds change nothing: the pack's per-request memo gives the verdicts of the plain SDK
servicer, and analysis spread over several pack processes those of one."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from offline_testlib import REPO
from test_offline_consistency import InProcessStub, _verdicts

from offline.analyzer import Analyzer, load_policy_config_file
from offline.engine import run_program
from offline.stack_config import load_project, load_stack_config

POLICIES = REPO / "policies"


@pytest.fixture(scope="module")
def guardrails() -> Any:
    sys.path.insert(0, str(POLICIES))
    try:
        from ecs_guardrails import core, pack

        yield core, pack
    finally:
        core.install_request_memo(True)
        sys.path.remove(str(POLICIES))


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_request_memo_gives_the_verdicts_of_the_unpatched_servicer(guardrails: Any, mode: str) -> None:
    core, pack = guardrails
    project = load_project(REPO)
    config = load_stack_config(project, "dev")
    dry_run = mode == "preview"
    run = run_program(project, "dev", config, dry_run=dry_run)
    given = load_policy_config_file(POLICIES / "config" / "dev.json")
    kwargs: dict[str, Any] = dict(
        project=project.name, stack="dev", organization="organization", dry_run=dry_run, config=config
    )
    verdicts = {}
    for memo in (False, True):
        core.install_request_memo(memo)
        analyzer = Analyzer(None, stub=InProcessStub(pack.make_servicer()), **kwargs)
        analyzer.start(given)
        verdicts[memo] = _verdicts(analyzer.analyze(run.registrations, run.root.urn))  # type: ignore[union-attr]
    assert verdicts[True] == verdicts[False]
    assert verdicts[True][0], "the dev stack has findings"


def test_analysis_spread_over_several_packs_equals_one_pack(guardrails: Any) -> None:
    _core, pack = guardrails
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
    spread = start().analyze(run.registrations, root, [start(), start()])
    single = start().analyze(run.registrations, root)
    assert _verdicts(spread) == _verdicts(single)
    assert spread.analyzed_inputs == single.analyzed_inputs
