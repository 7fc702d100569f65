"""Offline preview: run a Pulumi stack's program and policy pack with no cloud and no Pulumi CLI.

Usage: `python -m offline preview [--program DIR] [--stack NAME] [--policy-pack DIR] ...`;
`python -m offline analyze --state FILE ...` audits a deployed stack's `pulumi stack export` instead
(`audit`), with the same reports and exit codes.

Owns: argument parsing, the order of work (start the program's language host, then the packs;
analyze each resource as it registers; AnalyzeStack; compare with the baseline; report), writing
the reports, its time limits and exit codes: 0 PASS or INCOMPLETE (no mandatory violation;
`--strict` makes INCOMPLETE 1) and nothing else blocking, 1 a blocking finding (mandatory
violations, INCOMPLETE under --strict, or with --fail-on-replace a replacement or deletion of a
protected, retained or stateful resource) and never an error, 2 any error (usage, input, config,
baseline, program, engine, pack, output, environment, or an internal error of the preview: one line
on stderr, the traceback of an internal error only with --verbose), 128 + N when stopped by signal
N (SIGTERM, SIGINT). The language host and the pack processes are stopped on every exit path,
without waiting for threads that may block (pending pack start-ups).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

# Only what starting the program needs; the gRPC side (analyzer) and the report are imported
# once the program's process runs, so their import overlaps it.
from .changes import BaselineError, load_baseline
from .engine import EngineError, OfflineAnswers, ProgramError
from .errors import InputError, OutputError, UsageError
from .inputs import os_reason
from .language_host import ProgramProcess
from .pack_run import PackStarts, choose_policy, note_memo, start_packs
from .policy_config import PolicyError
from .sdk_patches import SdkShapeError
from .stack_config import ConfigError, Project, StackConfig, load_project, load_stack_config

if TYPE_CHECKING:
    from . import report
    from .analyzer import Analyzer
    from .engine import Registration
    from .pack_process import PolicyPackProcess

REPO = Path(__file__).resolve().parent.parent
# The packs yield the CPU to the program's process: its registrations are the critical path.
PACK_NICENESS = 5
_TIMINGS = ("pack_start", "program", "policies", "analyze_stack", "total")  # their order in the report
MAX_SECONDS = 86_400.0  # any time limit: a day
MAX_PACK_PROCESSES = 16
_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # what `pulumi stack init` accepts for the stack part


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("preview", help="run a stack's program and policy pack offline")
    p.add_argument("--program", type=Path, default=REPO, help="program directory with Pulumi.yaml")
    p.add_argument("--stack", type=_stack_name, default="dev")
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
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when the verdict is INCOMPLETE (mandatory checks deferred to deploy, resources not analysed, "
        "mandatory policies disabled by the config)",
    )
    p.add_argument("--mode", choices=("preview", "update"), default="preview")
    p.add_argument("--json", dest="json_file", type=Path, help="write the JSON report here ('-' for stdout)")
    p.add_argument("--markdown", type=Path, help="write a pull-request comment (Markdown) here")
    p.add_argument(
        "--graph", choices=("mermaid", "dot"), help="print the resource graph instead of the text report"
    )
    p.add_argument(
        "--export-state", type=Path, help="write a Pulumi state export (deployment v3) here (--mode update only)"
    )
    p.add_argument(
        "--baseline",
        type=Path,
        help="compare with this earlier JSON report of the stack (or a `pulumi stack export`): "
        "each resource's create/update/replace/delete/same in every report",
    )
    p.add_argument(
        "--fail-on-replace",
        action="store_true",
        help="with --baseline: exit 1 when a protected, retained or stateful resource would be replaced or deleted",
    )
    p.add_argument("--organization", default="organization")
    p.add_argument(
        "--invokes",
        type=Path,
        metavar="FILE",
        help="answers for data-source invokes (YAML or JSON: token -> result, or {args, result} entries)",
    )
    p.add_argument(
        "--stack-reference",
        action="append",
        default=[],
        metavar="ORG/PROJECT/STACK=FILE",
        help="outputs of a referenced stack (a JSON of outputs, a JSON report or a state export); repeatable",
    )
    p.add_argument(
        "--stack-tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tag of the stack, sent to the pack (besides pulumi:project, pulumi:runtime, pulumi:description "
        "and the git remote's vcs:* tags, as Pulumi Cloud sets them); repeatable",
    )
    p.add_argument("--timeout", type=_seconds, default=120.0, help="seconds allowed for the program run (default: 120)")
    _pack_run_flags(p)
    _analyze_parser(sub)
    return parser


def _pack_run_flags(p: argparse.ArgumentParser) -> None:
    """The flags of running the pack, the same for a preview and an audit."""
    p.add_argument(
        "--pack-processes",
        type=_positive_int,
        default=2 if (os.cpu_count() or 1) >= 2 else 1,
        help="pack processes sharing the per-resource analysis (default: 2 on 2+ cores)",
    )
    p.add_argument(
        "--pack-start-timeout",
        type=_seconds,
        default=60.0,
        help="seconds allowed for a pack to start and report its port (default: 60)",
    )
    p.add_argument(
        "--rpc-timeout", type=_seconds, default=60.0, help="seconds allowed for each call to the pack (default: 60)"
    )
    p.add_argument("--verbose", action="store_true", help="show the traceback of an internal error")


def _analyze_parser(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser(
        "analyze",
        help="run the policy pack over a deployed stack's `pulumi stack export` (an audit)",
        description="Audit a deployed stack: every resource of a `pulumi stack export` to the pack's Analyze, "
        "the stack to AnalyzeStack; the preview's reports and exit codes.",
    )
    a.add_argument("--state", type=Path, required=True, help="a `pulumi stack export` file (deployment version 3)")
    a.add_argument(
        "--policy-pack",
        type=Path,
        default=None,
        help="policy pack directory (default: <repo>/policies); 'none' to skip policies",
    )
    a.add_argument(
        "--policy-pack-config",
        type=Path,
        default=None,
        help="--policy-pack-config JSON (default: <pack>/config/<stack>.json when present, the stack named by the URNs)",
    )
    a.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when the verdict is INCOMPLETE (resources not fully checked, mandatory checks that could not run, "
        "mandatory policies disabled by the config)",
    )
    a.add_argument("--json", dest="json_file", type=Path, help="write the JSON report here ('-' for stdout)")
    a.add_argument("--markdown", type=Path, help="write the report as Markdown here")
    a.add_argument("--organization", default="organization")
    _pack_run_flags(a)
    # What the preview's report writing reads and an audit never has.
    a.set_defaults(graph=None, export_state=None, baseline=None, fail_on_replace=False)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive, finite number of seconds")
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds up to {MAX_SECONDS:g} (a day)")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not at least 1")
    if value > MAX_PACK_PROCESSES:
        raise argparse.ArgumentTypeError(f"{text!r} is more than {MAX_PACK_PROCESSES}")
    return value


def _stack_name(text: str) -> str:
    if not _STACK_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a stack name (1 to 100 letters, digits, '-', '_' or '.')"
        )
    return text


# ---- outputs ---------------------------------------------------------------------------------------


class StdoutClosed(Exception):
    """The reader of stdout went away (`| head -1`): the rest of the report is dropped quietly and
    the exit code is still the verdict's."""


def _file_outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    flags = (("--json", args.json_file), ("--markdown", args.markdown), ("--export-state", args.export_state))
    return [(flag, path) for flag, path in flags if path is not None]


def check_outputs(args: argparse.Namespace) -> None:
    """Before any work: each report can be written where it is asked for, and no two go to the
    same place (OutputError, UsageError). A disk that fills up is only found when writing."""
    to_stdout = [flag for flag, path in _file_outputs(args) if str(path) == "-"] + (["--graph"] if args.graph else [])
    if len(to_stdout) > 1:
        raise UsageError(f"{' and '.join(to_stdout)} would all write to stdout; give files instead of '-'")
    seen: dict[str, str] = {}
    for flag, path in _file_outputs(args):
        if str(path) == "-":
            continue
        where = os.path.realpath(path)
        if where in seen:
            raise UsageError(f"{seen[where]} and {flag} both write to {path}")
        seen[where] = flag
        try:
            folder = Path(where).parent
            if os.path.isdir(where):
                raise OutputError(f"{flag} {path}: is a directory")
            if not folder.is_dir():
                raise OutputError(f"{flag} {path}: folder {folder} does not exist")
            if os.path.exists(where) and not os.access(where, os.W_OK):
                raise OutputError(f"{flag} {path}: permission denied")
            if not os.path.exists(where) and not os.access(folder, os.W_OK | os.X_OK):
                raise OutputError(f"{flag} {path}: folder {folder} is not writable")
        except OSError as e:
            raise OutputError(f"{flag} {path}: {os_reason(e)}") from None


def write_stdout(content: str) -> None:
    try:
        sys.stdout.write(content)
        sys.stdout.flush()
    except BrokenPipeError:
        raise StdoutClosed from None
    except (OSError, ValueError, AttributeError) as e:  # full disk, or stdout closed before we started
        reason = os_reason(e) if isinstance(e, OSError) else "it is closed"
        raise OutputError(f"cannot write the report to stdout: {reason}") from None


def _write(flag: str, path: Path, content: str) -> None:
    if str(path) == "-":
        write_stdout(content)
        return
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
    except OSError as e:
        raise OutputError(f"{flag} {path}: cannot write: {os_reason(e)}") from None


def preview(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    check_outputs(args)
    if args.export_state is not None and args.mode == "preview":
        raise UsageError(
            "--export-state needs --mode update: a preview's ids and computed outputs are unknown, so its "
            "export would not be a real state (`pulumi stack import` would record made-up values)"
        )
    project = load_project(args.program)
    config = load_stack_config(project, args.stack)
    baseline = load_baseline(args.baseline, project.name, args.stack) if args.baseline else None
    choice = choose_policy(args.policy_pack, args.stack, args.policy_pack_config, REPO / "policies")
    config_source = choice.source
    dry_run = args.mode == "preview"
    tags = _stack_tags(args, project, config) if choice.pack_dir is not None else {}
    old_urns = frozenset(baseline.resources) if baseline is not None else frozenset()
    # The program runs in a language-host process of its own, started first; each resource it
    # registers is analyzed while it goes on (the engine's order), on the other core.
    answers = offline_answers(args, project.name)
    program = ProgramProcess(
        project,
        args.stack,
        config,
        dry_run=dry_run,
        organization=args.organization,
        timeout=args.timeout,
        answers=answers,
    )
    deployment = dict(project=project.name, stack=args.stack, organization=args.organization, dry_run=dry_run, config=config)
    packs: list[PolicyPackProcess] = []
    starts: PackStarts | None = None
    session = None
    analysis = None
    try:
        from . import report
        from .analysis_session import AnalysisSession
        from .pack_process import close_all

        if choice.pack_dir is not None:
            packs, starts = start_packs(
                choice,
                args.pack_processes,
                deployment,
                rpc_timeout=args.rpc_timeout,
                start_timeout=args.pack_start_timeout,
                nice=PACK_NICENESS,
                old_urns=old_urns,
                stack_tags=tags,
            )

        def open_session(analyzers: list[Analyzer]) -> AnalysisSession:
            note_memo(packs[0])
            return AnalysisSession(analyzers[0], analyzers[1:])

        waiting: list[Registration] = []  # registered, not yet handed to the analysis
        for reg in program.registrations():
            if starts is None:
                continue
            waiting.append(reg)
            if session is None and (analyzers := starts.ready()) is not None:
                session = open_session(analyzers)
            if session is not None:
                for ready in waiting:
                    session.add(ready)
                waiting.clear()
        run = program.result()
        timings["program"] = program.duration
        if starts is not None:
            after_program = time.perf_counter()
            if session is None:  # the program finished before the packs started
                session = open_session(starts.wait())
                for ready in waiting:
                    session.add(ready)
            timings["pack_start"] = starts.finished_at - program.started
            root = run.root
            analysis = session.finish(run.registrations, root.urn if root else "", frozenset(run.outputs_registered))
            timings["policies"] = time.perf_counter() - after_program
            timings["analyze_stack"] = session.first.stack_seconds
    finally:
        if session is not None:
            session.close()
        if starts is not None:
            starts.cancel()
        program.close()
        if packs:
            close_all(packs)
    timings["total"] = time.perf_counter() - started
    timings = {key: timings[key] for key in _TIMINGS if key in timings}
    logs = [*(report.LogEntry("warning", w) for w in config.warnings + answers.warnings), *run.logs]
    change_set = None
    if baseline is not None:
        from .changes import compare, head_resources

        analyzed = analysis.analyzed_inputs if analysis else {}
        change_set = compare(head_resources(run.registrations, analyzed), baseline, args.fail_on_replace)
    result = report.Preview(
        project.name, args.stack, args.mode, run.registrations, analysis, logs, timings, config_source, args.strict,
        change_set,
    )
    return write_reports(args, result)


def write_reports(args: argparse.Namespace, result: report.Preview) -> int:
    """Each report asked for, the text report on stdout unless another goes there; the exit code."""
    from . import report

    try:
        if args.json_file:
            _write("--json", args.json_file, json.dumps(report.to_json(result), indent=2) + "\n")
        if args.markdown:
            _write("--markdown", args.markdown, report.markdown(result))
        if args.export_state:
            _write("--export-state", args.export_state, json.dumps(report.export_state(result), indent=2) + "\n")
        if args.graph:
            write_stdout(report.graph(result, args.graph))
        elif str(args.json_file) != "-":
            write_stdout(report.text(result))
    except StdoutClosed:
        _drop_stdout()
    return result.exit_code


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so nothing later (the interpreter's final flush) fails on it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _stack_tags(args: argparse.Namespace, project: Project, config: StackConfig) -> dict[str, str]:
    """The stack's tags for the pack (offline/stack_tags.py); a bad `--stack-tag` is a usage error."""
    from .stack_tags import StackTagError, stack_tags

    try:
        return stack_tags(
            project.name, project.runtime, project.description, project.directory, config.values, args.stack_tag
        )
    except StackTagError as e:
        raise UsageError(str(e)) from None


def offline_answers(args: argparse.Namespace, project: str) -> OfflineAnswers:
    """`--invokes` and `--stack-reference` read into the data the language host needs; a file that
    cannot be used is a config error (exit 2) naming it."""
    from .invokes import InvokesFileError, load_invokes_file
    from .stack_references import StackReferenceError, load_outputs, parse_flag, qualified_name

    answers = OfflineAnswers()
    try:
        if args.invokes is not None:
            answers.invokes, answers.invokes_file = load_invokes_file(args.invokes), str(args.invokes)
        for value in args.stack_reference:
            name, path = parse_flag(value)
            outputs, warnings = load_outputs(path)
            answers.stack_references[qualified_name(name, args.organization, project)] = outputs
            answers.warnings.extend(warnings)
    except (InvokesFileError, StackReferenceError) as e:
        raise ConfigError(str(e)) from None
    return answers


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived: unwinds through every `finally`, which stop the children."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_stopping = False


def _on_signal(signum: int, _frame: object) -> None:
    global _stopping
    if not _stopping:  # a second signal must not interrupt the clean-up the first one started
        _stopping = True
        raise Stopped(signum)


# What each error is called on stderr; all of them exit 2.
_LABELS: dict[type[BaseException], str] = {
    UsageError: "usage error",
    InputError: "input error",
    ConfigError: "config error",
    BaselineError: "baseline error",
    EngineError: "engine error",  # before ProgramError, its base class
    ProgramError: "program error",
    PolicyError: "policy pack error",
    SdkShapeError: "unsupported Pulumi SDK",
    OutputError: "output error",
}


def _error(message: str) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):  # stderr gone too: the exit code tells
        print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    global _stopping
    parser = _parser()
    args = parser.parse_args(argv)
    if args.fail_on_replace and not args.baseline:
        parser.error("--fail-on-replace needs --baseline (the changes it judges are against a baseline)")
    previous = {signum: signal.signal(signum, _on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        if args.command == "analyze":
            from .audit import audit

            check_outputs(args)
            return write_reports(args, audit(args, REPO / "policies"))
        return preview(args)
    except tuple(_LABELS) as e:
        label = next(label for cls, label in _LABELS.items() if isinstance(e, cls))
        _error(f"error ({label}): {e}")
        return 2
    except Stopped as e:
        _error(f"offline {args.command}: stopped by {signal.Signals(e.signum).name}")
        return 128 + e.signum
    except (OSError, MemoryError) as e:  # the machine, not the inputs: no descriptor, no memory, ...
        where = f"{e.filename}: " if isinstance(e, OSError) and e.filename else ""
        reason = os_reason(e) if isinstance(e, OSError) else "out of memory"
        _error(f"error (environment): {where}{reason}")
        return 2
    except Exception as e:  # a bug of the preview itself: never mistaken for a verdict
        _error(
            f"error (internal error): {type(e).__name__}: {e}".splitlines()[0]
            + ("" if args.verbose else " (a bug in the offline preview; --verbose shows its traceback)")
        )
        if args.verbose:
            _error(traceback.format_exc().rstrip())
        return 2
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _stopping = False


if __name__ == "__main__":
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    # Exit now: a timed-out program's thread or a pack start-up still blocked is not waited for.
    os._exit(code)
