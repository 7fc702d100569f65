"""`python -m offline analyze`: the policy pack over a deployed stack's `pulumi stack export`.

Owns: the order of an audit's work: read the export (`state`), choose and start the pack
(`pack_run`), hand every resource as recorded to Analyze and the whole stack to AnalyzeStack
(`analysis_session`), and build the report (`report.Preview`, mode "audit") whose verdict and
exit code are the preview's. What the engine does for a snapshot (pulumi/pulumi v3.259.0,
pkg/resource/deploy/analyze_snapshot.go, the `pulumi policy analyze --file` command):
- each resource not marked `delete` goes to Remediate and Analyze with its recorded inputs, its
  provider's inputs, and the options the state records (:147-179, :203-254); a remediation is
  reported, never applied (:235-237), so Analyze sees the recorded inputs;
- AnalyzeStack receives every such resource with its outputs (:256-270); a finding naming no
  resource of the stack is the root stack's (:100-130).
Unlike `pulumi policy analyze`, which analyses an undecryptable secret as the string "[secret]",
an encrypted secret reaches the pack as unknown and its resource is listed as not fully checked,
so the verdict cannot pass it. Reads (`external`) are left out of both calls, as in the preview.
The pack is configured as for a deployment of the stack (ConfigureStack: the URNs' project and
stack, not a dry run); the export carries no stack config, so none is sent.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import report
from .engine import PROVIDER_TYPE_PREFIX, LogEntry
from .pack_run import choose_policy, note_memo, start_packs
from .stack_config import StackConfig
from .state import DeployedStack, load_state, redact


def audit(args: argparse.Namespace, default_pack: Path) -> report.Preview:
    """Run the audit `args` describe (`--state`, `--policy-pack`, ...); the report to write."""
    started = time.perf_counter()
    deployed = load_state(args.state)
    choice = choose_policy(args.policy_pack, deployed.stack, args.policy_pack_config, default_pack)
    deployment = dict(
        project=deployed.project,
        stack=deployed.stack,
        organization=args.organization,
        dry_run=False,
        config=StackConfig(),
    )
    timings: dict[str, float] = {}
    analysis = None
    if choice.pack_dir is not None:
        from .analysis_session import AnalysisSession
        from .pack_process import close_all

        packs, starts = start_packs(
            choice,
            min(args.pack_processes, max(1, len(deployed.registrations))),
            deployment,
            rpc_timeout=args.rpc_timeout,
            start_timeout=args.pack_start_timeout,
            old_urns=None,  # the aliases the state recorded, as they are (analyze_snapshot.go:161)
        )
        session = None
        try:
            analyzers = starts.wait()
            timings["pack_start"] = starts.finished_at - started
            note_memo(packs[0])
            for analyzer in analyzers:
                analyzer.apply_remediations = False
            session = AnalysisSession(analyzers[0], analyzers[1:])
            # Every provider known before any resource is sent, wherever it stands in the file
            # (buildSnapshotProviderMap, analyze_snapshot.go:133-141).
            session.providers.update({r.urn: r for r in deployed.registrations if r.type.startswith(PROVIDER_TYPE_PREFIX)})
            analysed_at = time.perf_counter()
            for reg in deployed.registrations:
                session.add(reg)
            analysis = session.finish(deployed.registrations, deployed.root_urn)
            timings["policies"] = time.perf_counter() - analysed_at
            timings["analyze_stack"] = session.first.stack_seconds
        finally:
            if session is not None:
                session.close()
            starts.cancel()
            close_all(packs)
    timings["total"] = time.perf_counter() - started
    _redact(deployed, analysis)
    return report.Preview(
        deployed.project,
        deployed.stack,
        report.AUDIT,
        deployed.registrations,
        analysis,
        [LogEntry("warning", w) for w in deployed.warnings],
        timings,
        choice.source,
        args.strict,
        state_file=str(args.state),
        unchecked=deployed.unchecked,
    )


def _redact(deployed: DeployedStack, analysis: report.AnalysisResult | None) -> None:
    """Secrets' values out of what the reports show (inputs, outputs, remediations), once the
    pack has seen them: an export taken with `--show-secrets` holds them in plaintext."""
    for reg in deployed.registrations:
        reg.inputs, reg.outputs = redact(reg.inputs), redact(reg.outputs)
    if analysis is None:
        return
    analysis.analyzed_inputs = {urn: redact(props) for urn, props in analysis.analyzed_inputs.items()}
    for rem in analysis.remediations:
        rem.before, rem.after = redact(rem.before), redact(rem.after)
