"""The gRPC path agrees with pulumi_policy's own servicer called in-process on the same properties."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import grpc
import pytest
from offline_testlib import PACK, PROGRAM

from offline.analysis_session import analyze
from offline.analyzer import Analyzer
from offline.engine import run_program
from offline.pack_process import PolicyPackProcess
from offline.policy_config import load_policy_config_file
from offline.stack_config import load_project, load_stack_config


class _Unimplemented(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNIMPLEMENTED

    def details(self) -> str:
        return "unimplemented"


class InProcessStub:
    """Calls a servicer's methods directly, as the gRPC stub would remotely."""

    def __init__(self, servicer: Any) -> None:
        self.servicer = servicer

    def __getattr__(self, name: str) -> Any:
        if name == "Handshake":

            def fail(request: Any, timeout: float | None = None) -> Any:
                raise _Unimplemented()

            return fail
        method = getattr(self.servicer, name)
        return lambda request, timeout=None: method(request, None)


def _in_process_servicer() -> Any:
    from pulumi_policy import EnforcementLevel
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    sys.path.insert(0, str(PACK))
    try:
        import fixture_rules

        return _PolicyAnalyzerServicer(
            "fixture-guardrails", "0.0.1", fixture_rules.policies(), EnforcementLevel.ADVISORY
        )
    finally:
        sys.path.remove(str(PACK))
        sys.modules.pop("fixture_rules", None)


def _verdicts(result: Any) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    diags = sorted((d.policy_name, d.enforcement_level, d.urn, d.message) for d in result.diagnostics)
    rems = sorted((r.policy_name, r.urn, repr(sorted(r.after.items()))) for r in result.remediations)
    return diags, rems


@pytest.mark.parametrize(
    ("mode", "config_file"), [("preview", None), ("update", None), ("preview", "strict.json")]
)
def test_grpc_path_equals_in_process_servicer(mode: str, config_file: str | None, pack_copy: Path) -> None:
    project = load_project(PROGRAM)
    config = load_stack_config(project, "dev")
    dry_run = mode == "preview"
    given = load_policy_config_file(PACK / "config" / config_file) if config_file else {}
    run = run_program(project, "dev", config, dry_run=dry_run)
    root = run.root.urn  # type: ignore[union-attr]
    kwargs: dict[str, Any] = dict(
        project=project.name, stack="dev", organization="organization", dry_run=dry_run, config=config
    )

    process = PolicyPackProcess(pack_copy, **kwargs)
    try:
        remote = Analyzer(process, **kwargs)
        remote.start(given)
        over_grpc = analyze(remote, run.registrations, root)
    finally:
        process.close()

    local = Analyzer(None, stub=InProcessStub(_in_process_servicer()), **kwargs)
    local.start(given)
    in_process = analyze(local, run.registrations, root)

    assert _verdicts(over_grpc) == _verdicts(in_process)
    assert over_grpc.diagnostics, "the fixture has known violations"
