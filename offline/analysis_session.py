"""The engine's analysis of one deployment, spread over one or several processes of a pack.

Owns: the order of the calls (each resource analyzed as soon as it is added, AnalyzeStack once at
the end), the spreading of the per-resource calls over the packs, and collecting the results in
the order resources were added, so reports are deterministic.
"""

from __future__ import annotations

import time
from concurrent import futures
from typing import Any

from .analyzer import AnalysisResult, Analyzer
from .engine import Registration


class AnalysisSession:
    """Each resource is analyzed as soon as it is added (while the program goes on registering),
    AnalyzeStack once at the end.

    The per-resource calls are spread over `first` and its `helpers`, further processes of the
    same pack configured alike: each resource is analyzed whole by one process, as the pack keeps
    nothing between requests. The stack view of a resource is built as soon as its analysis is
    done; only resources whose outputs arrive later (components) are rebuilt at the end."""

    def __init__(self, first: Analyzer, helpers: list[Analyzer] | None = None) -> None:
        self.first = first
        self.workers = [first, *(helpers or [])]
        self.providers: dict[str, Registration] = {}
        self._pool = futures.ThreadPoolExecutor(max_workers=first.parallel * len(self.workers))
        self._pending: list[tuple[Registration, futures.Future[Any]]] = []

    def add(self, reg: Registration) -> None:
        if reg.type.startswith("pulumi:providers:"):
            self.providers[reg.urn] = reg  # before any resource that names it
        if reg.read:  # reads are not analysed, nor part of AnalyzeStack (the engine keeps them apart)
            return
        worker = self.workers[len(self._pending) % len(self.workers)]
        self._pending.append((reg, self._pool.submit(self._one, worker, reg)))

    def _one(self, worker: Analyzer, reg: Registration) -> tuple[Any, ...]:
        diags, rems, props, request = worker.analyze_one(reg, self.providers)
        return diags, rems, props, self.first.stack_resource(reg, props, self.providers, request)

    def finish(
        self, registrations: list[Registration], root_urn: str, outputs_changed: frozenset[str] = frozenset()
    ) -> AnalysisResult:
        """Wait for the per-resource analysis, then AnalyzeStack over `registrations` (every one
        added before); `outputs_changed` names those whose outputs changed since they were added."""
        first = self.first
        result = AnalysisResult(first.info.name, first.version, first.policies, first.config)
        stack_view: dict[str, Any] = {}
        try:
            for reg, fut in self._pending:
                diags, rems, props, stack_resource = fut.result()
                result.diagnostics.extend(diags)
                result.remediations.extend(rems)
                result.analyzed_inputs[reg.urn] = props
                stack_view[reg.urn] = stack_resource
        finally:
            self.close()
        stack_started = time.perf_counter()
        for reg in registrations:
            if reg.urn in outputs_changed and not reg.read:
                stack_view[reg.urn] = first.stack_resource(reg, result.analyzed_inputs[reg.urn], self.providers)
        resources = [stack_view[r.urn] for r in registrations if not r.read]
        result.diagnostics.extend(first.analyze_stack(resources, set(stack_view), root_urn))
        first.stack_seconds = time.perf_counter() - stack_started
        return result

    def close(self) -> None:
        """Drop the analysis not started yet; never waits for calls in flight (the packs are
        stopped by their owner). Safe to call twice."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def analyze(
    first: Analyzer, registrations: list[Registration], root_urn: str, helpers: list[Analyzer] | None = None
) -> AnalysisResult:
    """Per resource Remediate then Analyze (on the remediated inputs); then AnalyzeStack once.

    `helpers` are further processes of the same pack, configured alike."""
    session = AnalysisSession(first, helpers)
    for reg in registrations:
        session.add(reg)
    return session.finish(registrations, root_urn)
