"""Fuzz the ecs-guardrails pack through its real analyzer servicer (issue 6, item 2, benchmark size).

    venv/bin/python bench/fuzz_policies.py [--cases 3000] [--seed N]

Runs generated resources (every type token the pack knows, plus one it does not) through Remediate and
Analyze, and generated resource sets through AnalyzeStack, under the default, dev, prod and flipped configs.
Prints cases run, failures (with the first failing example per policy), the policies that fired, and the
elapsed time; exits 1 on any failure. Strategies: tests/hardening/policy_strategies.py."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "hardening"))
import policy_strategies as ps


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=3000, help="total cases (about 1 in 8 is a resource set)")
    ap.add_argument("--seed", type=int, default=None, help="fixed seed (default: derandomized)")
    args = ap.parse_args(argv)

    stack_cases = max(1, args.cases // 8)
    resource_cases = max(1, args.cases - stack_cases)
    failures: dict[str, tuple[str, object]] = {}
    counts = {"resource": 0, "stack": 0, "failed": 0}
    fired: set[str] = set()
    base = settings(deadline=None, database=None, derandomize=args.seed is None, print_blob=False,
                    suppress_health_check=list(HealthCheck))

    def record(problems: list[tuple[str, str]], example: object) -> None:
        if problems:
            counts["failed"] += 1
        for policy, message in problems:
            failures.setdefault(policy, (message, example))

    @settings(base, max_examples=resource_cases)
    @given(case=ps.resource_case())
    def resources(case):
        counts["resource"] += 1
        record(ps.check_resource(*case, fired=fired), {"type": case[0], "props": case[1]})

    @settings(base, max_examples=stack_cases)
    @given(rs=ps.stack_case())
    def stacks(rs):
        counts["stack"] += 1
        record(ps.check_stack(rs, fired=fired), [{"type": r.type, "urn": r.urn, "props": r.props} for r in rs])

    if args.seed is not None:
        from hypothesis import seed

        resources, stacks = seed(args.seed)(resources), seed(args.seed)(stacks)
    start = time.perf_counter()
    resources()
    stacks()
    elapsed = time.perf_counter() - start

    total = counts["resource"] + counts["stack"]
    names = ps.policy_names()
    print(f"type tokens: {len(ps.type_tokens())} (+1 unlisted); configs: {', '.join(ps.analyzers())}")
    print(f"cases run: {total} ({counts['resource']} resources, {counts['stack']} resource sets)")
    print(f"policies that reported on some case: {len(fired & names)}/{len(names)}")
    print(f"never reported: {', '.join(sorted(names - fired)) or '-'}")
    print(f"failures: {counts['failed']} cases, {len(failures)} policies")
    for policy, (message, example) in sorted(failures.items()):
        text = json.dumps(example, default=str, ensure_ascii=True)
        print(f"  {policy}: {message[:400]}\n    first example: {text[:1500]}")
    print(f"elapsed: {elapsed:.1f} s ({1000 * elapsed / max(total, 1):.1f} ms/case)")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
