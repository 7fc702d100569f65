"""Run the hostile-input cases against any checkout of the offline preview and print the outcomes.

    venv/bin/python bench/hostile_inputs.py [--repo PATH] [--timeout 60] [--only TEXT]

The cases are the table of tests/offline/test_hostile_inputs.py (CASES), each run as the real
command, `<repo>/venv/bin/python -m offline preview ...` with the repository as working directory,
plus the cases that drive the command's own process (stdout closed after a line, SIGTERM while a
policy hangs, SIGKILL while the program's subprocesses run). For each: the exit code (or how long
it hung), the last line of stderr, a traceback if any, the processes left running (killed
afterwards), and whether the outcome is the one the test expects. Cases that need a non-root
user's permissions are only run in-process by the test. Each process may use 3 GiB of address
space. Compare a checkout before and after a change (`--repo ../main`); exits 1 if any case does
not end as expected.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests" / "offline"))

import test_hostile_inputs as table  # noqa: E402
from offline_testlib import processes_with_env  # noqa: E402


def _python(repo: Path) -> str:
    venv = repo / "venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


MEMORY_LIMIT = 3 * 1024**3  # address space per process: a "billion laughs" must not take the machine down


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _left(marker: str) -> list[int]:
    deadline = time.monotonic() + 5
    while (left := processes_with_env(table.MARKER_ENV, marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _wait(proc: subprocess.Popen, timeout: float) -> object:
    """The exit code, or how long it hung (then it is killed)."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return f"hung ({timeout:g} s)"


def _summary(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    last = lines[-1].strip() if lines else ""
    return (last[:150] + "...") if len(last) > 150 else last


def run_case(case: table.Case, repo: Path, timeout: float) -> dict[str, object]:
    marker = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp_name:
        tmp = Path(tmp_name)
        args = case.setup(tmp)
        started = time.monotonic()
        # stderr to a file, not a pipe: a process left behind would hold a pipe open
        with open(case.stdout_file or os.devnull, "w") as stdout, tempfile.TemporaryFile("w+") as stderr:
            proc = subprocess.Popen(
                [_python(repo), "-m", "offline", "preview", *args], cwd=repo, stdout=stdout, stderr=stderr, text=True,
                env={**os.environ, table.MARKER_ENV: marker, **case.env}, start_new_session=True,
                preexec_fn=_limit_memory,
            )
            code: object = _wait(proc, timeout)
            stderr.seek(0)
            err = stderr.read()
        seconds = time.monotonic() - started
        left = _left(marker)
        _kill(left)
        checked = ""
        if case.check is not None:
            try:
                case.check(tmp)
            except AssertionError as e:
                checked = str(e)
        expected = case.stderr.replace("{tmp}", str(tmp))
        ok = code == case.code and expected in err and not left and not checked and "internal error" not in err
    return {
        "case": case.name, "measured": case.measured, "code": code, "seconds": seconds, "stderr": _summary(err),
        "traceback": "Traceback" in err, "left": len(left), "check": checked, "ok": ok,
    }


def stdout_closed(repo: Path, timeout: float, lines_read: int) -> dict[str, object]:
    marker = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp_name:
        tmp = Path(tmp_name)
        args = table.args_for(table.program(tmp, main=table.LONG_REPORT))
        proc = subprocess.Popen(
            [_python(repo), "-m", "offline", "preview", *args], cwd=repo, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={**os.environ, table.MARKER_ENV: marker}, preexec_fn=_limit_memory,
        )
        assert proc.stdout is not None and proc.stderr is not None
        for _ in range(lines_read):
            proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=timeout)
        left = _left(marker)
        _kill(left)
    when = "after one line (| head -1)" if lines_read else "before the report (| true)"
    return {"case": f"stdout closed {when}", "measured": "outputs", "code": code, "seconds": 0.0,
            "stderr": _summary(err), "traceback": "Traceback" in err or "Exception ignored" in err, "left": len(left),
            "check": "", "ok": code == 0 and not err and not left}


def sigterm_while_a_policy_hangs(repo: Path, timeout: float) -> dict[str, object]:
    marker = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp_name:
        tmp = Path(tmp_name)
        pack = tmp / "pack"
        pack.mkdir()
        (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
        (pack / "__main__.py").write_text(table.HANGING_PACK)
        with tempfile.TemporaryFile("w+") as stderr:
            proc = subprocess.Popen(
                [_python(repo), "-m", "offline", "preview", "--program", str(table.program(tmp)), "--policy-pack",
                 str(pack)],
                cwd=repo, stdout=subprocess.DEVNULL, stderr=stderr, text=True,
                env={**os.environ, table.MARKER_ENV: marker}, start_new_session=True, preexec_fn=_limit_memory,
            )
            deadline = time.monotonic() + timeout
            while not (pack / "entered").exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            code = _wait(proc, timeout)
            if isinstance(code, str):
                code = f"still running {timeout:g} s after SIGTERM"
            stderr.seek(0)
            err = stderr.read()
        left = _left(marker)
        _kill(left)
    return {"case": "SIGTERM while a policy hangs", "measured": "signals", "code": code, "seconds": 0.0,
            "stderr": _summary(err), "traceback": "Traceback" in err, "left": len(left), "check": "",
            "ok": code == 128 + signal.SIGTERM and not left}


def sigkill_with_program_subprocesses(repo: Path, timeout: float) -> dict[str, object]:
    marker = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp_name:
        tmp = Path(tmp_name)
        main = table.SUBPROCESSES + "import time\ntime.sleep(3600)\n"
        proc = subprocess.Popen(
            [_python(repo), "-m", "offline", "preview", *table.args_for(table.program(tmp, main=main), "--timeout", "3600")],
            cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, table.MARKER_ENV: marker},
            preexec_fn=_limit_memory,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            pids = processes_with_env(table.MARKER_ENV, marker)
            if sum(b"time.sleep(600)" in table._cmdline(p) for p in pids) == 2:
                break
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        left = _left(marker)
        _kill(left)
    return {"case": "SIGKILL of the command while the program's subprocesses run", "measured": "programs",
            "code": "killed", "seconds": 0.0, "stderr": "", "traceback": False, "left": len(left), "check": "",
            "ok": not left}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=HERE, help="the checkout to run (default: this one)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before a case counts as hung")
    ap.add_argument("--only", default="", help="run only the cases whose name contains this text")
    args = ap.parse_args(argv)
    repo = args.repo.resolve()
    rows = []
    for case in table.CASES:
        if args.only not in case.name:
            continue
        if case.patch is not None:
            rows.append({"case": case.name, "measured": case.measured, "code": "-", "seconds": 0.0,
                         "stderr": "(in-process only: a non-root user's permissions)", "traceback": False, "left": 0,
                         "check": "", "ok": True})
            continue
        rows.append(run_case(case, repo, args.timeout))
        print(f"... {rows[-1]['case']}: {rows[-1]['code']}", file=sys.stderr, flush=True)
    if args.only in "stdout closed after one line (| head -1)":
        rows.append(stdout_closed(repo, args.timeout, 1))
    if args.only in "stdout closed before the report (| true)":
        rows.append(stdout_closed(repo, args.timeout, 0))
    if args.only in "SIGTERM while a policy hangs":
        rows.append(sigterm_while_a_policy_hangs(repo, args.timeout))
    if args.only in "SIGKILL of the command while the program's subprocesses run":
        rows.append(sigkill_with_program_subprocesses(repo, args.timeout))
    print(f"repository: {repo}")
    print("| case | exit | as expected | traceback | left running | stderr (last line) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        stderr = str(r["stderr"]).replace("|", "\\|") + (f" ({r['check']})" if r["check"] else "")
        print(f"| {r['case']} | {r['code']} | {'yes' if r['ok'] else 'NO'} | {'yes' if r['traceback'] else ''} "
              f"| {r['left'] or ''} | {stderr} |")
    bad = [r for r in rows if not r["ok"]]
    print(f"{len(rows)} cases, {len(rows) - len(bad)} as expected, {len(bad)} not")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
