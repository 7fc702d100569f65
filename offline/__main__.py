"""Offline preview: run a Pulumi stack's program and policy pack with no cloud and no Pulumi CLI.

Usage: `python -m offline preview [--program DIR] [--stack NAME] [--policy-pack DIR] ...`.

Owns: argument parsing, the order of work (start the program's language host, then the packs;
analyze each resource as it registers; AnalyzeStack; report) and exit codes: 0 no mandatory
violation, 1 mandatory violations, 2 usage, config, program or pack error. The language host and
the pack processes are stopped on every exit path.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Only what starting the program needs; the gRPC side (analyzer) and the report are imported
# once the program's process runs, so their import overlaps it.
from .engine import ProgramError
from .language_host import ProgramProcess
from .policy_config import PolicyError, load_policy_config_file
from .stack_config import ConfigError, load_project, load_stack_config

REPO = Path(__file__).resolve().parent.parent
# The packs yield the CPU to the program's process: its registrations are the critical path.
PACK_NICENESS = 5


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("preview", help="run a stack's program and policy pack offline")
    p.add_argument("--program", type=Path, default=REPO, help="program directory with Pulumi.yaml")
    p.add_argument("--stack", default="dev")
    p.add_argument(
        "--policy-pack",
        type=Path,
        default=None,
        help="policy pack directory (default: <repo>/policies); 'none' to skip policies",
    )
    p.add_argument(
        "--policy-pack-config",
        type=Path,
        default=None,
        help="--policy-pack-config JSON (default: <pack>/config/<stack>.json when present)",
    )
    p.add_argument("--mode", choices=("preview", "update"), default="preview")
    p.add_argument("--json", dest="json_file", type=Path, help="write the JSON report here ('-' for stdout)")
    p.add_argument("--markdown", type=Path, help="write a pull-request comment (Markdown) here")
    p.add_argument(
        "--graph", choices=("mermaid", "dot"), help="print the resource graph instead of the text report"
    )
    p.add_argument("--export-state", type=Path, help="write a Pulumi state export (deployment v3) here")
    p.add_argument("--organization", default="organization")
    p.add_argument(
        "--pack-processes",
        type=int,
        default=2 if (os.cpu_count() or 1) >= 2 else 1,
        help="pack processes sharing the per-resource analysis (default: 2 on 2+ cores)",
    )
    p.add_argument(
        "--timeout", type=float, default=120.0, help="seconds allowed for the program and the pack"
    )
    return parser


def _write(path: Path, content: str) -> None:
    if str(path) == "-":
        sys.stdout.write(content)
    else:
        path.write_text(content, encoding="utf-8")


def preview(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    project = load_project(args.program)
    config = load_stack_config(project, args.stack)
    pack_dir = args.policy_pack if args.policy_pack is not None else REPO / "policies"
    use_pack = str(pack_dir) != "none"
    given: dict = {}
    if use_pack:
        cfg_path = args.policy_pack_config or (pack_dir / "config" / f"{args.stack}.json")
        if args.policy_pack_config is not None or cfg_path.exists():
            given = load_policy_config_file(cfg_path)
    dry_run = args.mode == "preview"
    # The program runs in a language-host process of its own, started first; each resource it
    # registers is analyzed while it goes on (the engine's order), on the other core.
    program = ProgramProcess(
        project, args.stack, config, dry_run=dry_run, organization=args.organization, timeout=args.timeout
    )
    deployment = dict(project=project.name, stack=args.stack, organization=args.organization, dry_run=dry_run, config=config)
    packs: list[PolicyPackProcess] = []
    analysis = None
    try:
        from . import report
        from .analyzer import AnalysisSession, Analyzer, PolicyPackProcess

        if use_pack:
            for _ in range(args.pack_processes):
                packs.append(PolicyPackProcess(pack_dir, start_timeout=args.timeout, nice=PACK_NICENESS, **deployment))
        session = None
        if packs:

            def start(pack: PolicyPackProcess) -> Analyzer:
                analyzer = Analyzer(pack, rpc_timeout=args.timeout, **deployment)
                analyzer.start(given)
                return analyzer

            with ThreadPoolExecutor(max_workers=len(packs)) as pool:
                first, *helpers = list(pool.map(start, packs))
            timings["pack_start"] = time.perf_counter() - program.started
            session = AnalysisSession(first, helpers)
        for reg in program.registrations():
            if session is not None:
                session.add(reg)
        run = program.result()
        timings["program"] = program.duration
        if session is not None:
            t = time.perf_counter()
            root = run.root
            analysis = session.finish(run.registrations, root.urn if root else "", frozenset(run.outputs_registered))
            timings["policies"] = time.perf_counter() - t
            timings["analyze_stack"] = first.stack_seconds
    finally:
        program.close()
        for pack in packs:
            pack.close()
    timings["total"] = time.perf_counter() - started
    logs = [*(report.LogEntry("warning", w) for w in config.warnings), *run.logs]
    result = report.Preview(project.name, args.stack, args.mode, run.registrations, analysis, logs, timings)
    if args.json_file:
        _write(args.json_file, json.dumps(report.to_json(result), indent=2) + "\n")
    if args.markdown:
        _write(args.markdown, report.markdown(result))
    if args.export_state:
        _write(args.export_state, json.dumps(report.export_state(result), indent=2) + "\n")
    if args.graph:
        sys.stdout.write(report.graph(result, args.graph))
    elif str(args.json_file) != "-":
        sys.stdout.write(report.text(result))
    return result.exit_code


def _on_term(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through `finally`, which stops the pack


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _on_term)
    try:
        return preview(args)
    except (ConfigError, ProgramError, PolicyError) as e:
        kind = {ConfigError: "config error", ProgramError: "program error", PolicyError: "policy pack error"}
        print(f"error ({kind[type(e)]}): {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # A program that timed out leaves its thread running; do not wait for it.
    os._exit(code)
