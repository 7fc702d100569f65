"""Fuzz the stack config (issue 6, item 1, benchmark size).

    venv/bin/python bench/fuzz_config.py [--cases 3000] [--seed N]

Generated configs, valid and broken (wrong types, missing keys, out-of-range numbers, unknown keys,
unicode names, nested garbage, huge maps, mutations of the real dev/prod configs), go through
parse_stack_config: every case must end in a StackConfig or a ConfigError naming `ecs-platform:`
key paths. About 1 case in 100 also runs the whole program under the Pulumi mocks: valid configs
build, broken ones fail before anything is registered. Prints cases run, the valid/invalid split,
failures (with the first examples) and the elapsed time; exits 1 on any failure.
Strategies: tests/hardening/config_strategies.py."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "hardening"))
import config_strategies as cs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=3000, help="total cases (about 1 in 100 is a program run)")
    ap.add_argument("--seed", type=int, default=None, help="fixed seed (default: derandomized)")
    args = ap.parse_args(argv)

    program_cases = max(2, args.cases // 100)
    huge_cases = max(1, args.cases // 40)
    valid_cases = max(1, (args.cases - program_cases - huge_cases) * 2 // 5)
    invalid_cases = max(1, args.cases - program_cases - huge_cases - valid_cases)
    counts = {"cases": 0, "valid": 0, "invalid": 0, "program runs": 0, "failed": 0}
    failures: list[tuple[str, object]] = []
    base = settings(deadline=None, database=None, derandomize=args.seed is None, print_blob=False,
                    suppress_health_check=list(HealthCheck))

    def record(valid: bool, problems: list[str], raw: object) -> None:
        counts["cases"] += 1
        counts["valid" if valid else "invalid"] += 1
        if problems:
            counts["failed"] += 1
            if len(failures) < 5:
                failures.append(("; ".join(problems[:3]), raw))

    def parsed(n: int, strategy: st.SearchStrategy) -> object:
        @settings(base, max_examples=n)
        @given(raw=strategy)
        def run(raw):
            record(*cs.check_parse(raw), raw)
        return run

    @settings(base, max_examples=program_cases)
    @given(raw=st.one_of(cs.valid_config(max_services=3),
                         st.sampled_from(sorted(cs.REAL)).flatmap(lambda s: cs.mutated(cs.REAL[s]))))
    def programs(raw):
        counts["program runs"] += 1
        record(*cs.check_program(raw), raw)

    runs = [parsed(valid_cases, cs.valid_config()), parsed(invalid_cases, cs.invalid_config()),
            parsed(huge_cases, cs.huge_config()), programs]
    if args.seed is not None:
        from hypothesis import seed

        runs = [seed(args.seed)(r) for r in runs]
    start = time.perf_counter()
    for run in runs:
        run()  # the checks record failures instead of raising: hypothesis neither stops nor shrinks
    elapsed = time.perf_counter() - start
    print(f"cases run: {counts['cases']} (valid {counts['valid']}, invalid {counts['invalid']}; "
          f"program runs under mocks {counts['program runs']})")
    print(f"failures: {counts['failed']}")
    for problem, raw in failures:
        print(f"  {problem}\n    config: {str(raw)[:600]}")
    print(f"elapsed: {elapsed:.1f} s")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
