"""Children start without fork(): the launcher binds them to us, then execs the real command.

With a `preexec_fn`, CPython fork()s the whole process and gRPC's fork handlers run; in grpcio
1.85 the child's handler starts a poller thread that aborts the child before exec
(grpc/grpc#43055). The tests watch the Python-level fork handlers, which CPython runs on every
fork() it makes for a child and never on vfork.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from offline_testlib import PROGRAM, wait_until_gone

from offline.analyzer import Analyzer
from offline.child_process import launch_command
from offline.language_host import ProgramProcess
from offline.pack_process import PolicyPackProcess
from offline.stack_config import load_project, load_stack_config

_PR_GET_PDEATHSIG = 2
_FORKS = {"count": 0}
_FORKS_LOCK = threading.Lock()


def _count_fork() -> None:
    with _FORKS_LOCK:
        _FORKS["count"] += 1


os.register_at_fork(before=_count_fork)


@pytest.fixture
def forks() -> Callable[[], int]:
    """How many fork()s this process has made since the test began."""
    with _FORKS_LOCK:
        start = _FORKS["count"]

    def made() -> int:
        with _FORKS_LOCK:
            return _FORKS["count"] - start

    return made


def _report_state() -> str:
    return (
        "import ctypes, os\n"
        "sig = ctypes.c_int()\n"
        f"ctypes.CDLL(None).prctl({_PR_GET_PDEATHSIG}, ctypes.byref(sig), 0, 0, 0)\n"
        "print(os.getpid(), os.getpgrp(), os.nice(0), sig.value)\n"
    )


def test_the_launcher_execs_in_place_bound_to_its_parent(forks: Callable[[], int]) -> None:
    proc = subprocess.Popen(
        launch_command([sys.executable, "-c", _report_state()], sys.executable, nice=3),
        stdout=subprocess.PIPE,
        text=True,
        process_group=0,
    )
    out, _ = proc.communicate(timeout=120)
    pid, pgid, niceness, deathsig = (int(v) for v in out.split())
    assert proc.returncode == 0
    assert pid == proc.pid, "exec keeps the pid Popen reported"
    assert pgid == proc.pid, "the child leads a process group of its own"
    assert niceness == os.nice(0) + 3
    assert deathsig == signal.SIGKILL
    assert forks() == 0


def test_the_launcher_names_a_command_it_cannot_run(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-python")
    done = subprocess.run(
        launch_command([missing, "-c", "pass"], sys.executable), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 127
    assert f"cannot run {missing}: No such file or directory" in done.stderr


def test_a_child_dies_with_the_process_that_launched_it() -> None:
    # A middle process launches a sleeper, prints its pid and exits: the kernel kills the sleeper.
    middle = (
        "import subprocess, sys\n"
        "from offline.child_process import launch_command\n"
        "p = subprocess.Popen(launch_command([sys.executable, '-c', 'import time; time.sleep(600)'],"
        " sys.executable), process_group=0)\n"
        "print(p.pid, flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", middle], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    sleeper = int(done.stdout)

    def alive() -> list[int]:
        try:
            state = Path(f"/proc/{sleeper}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return []
        return [] if state == "Z" else [sleeper]

    assert wait_until_gone(alive) == []


def test_starting_the_pack_and_the_program_forks_nothing(forks: Callable[[], int], pack_copy: Path) -> None:
    project = load_project(PROGRAM)
    config = load_stack_config(project, "dev")
    kwargs: dict[str, Any] = dict(
        project=project.name, stack="dev", organization="organization", dry_run=True, config=config
    )
    pack = PolicyPackProcess(pack_copy, **kwargs)
    try:
        Analyzer(pack, **kwargs).start({})  # the pack is up and answers over gRPC
        host = ProgramProcess(project, "dev", config, dry_run=True, organization="organization", timeout=120)
        try:
            assert list(host.registrations())
            assert host.result().root is not None
        finally:
            host.close()
    finally:
        pack.close()
    assert forks() == 0, "a fork() runs gRPC's fork handlers in the child (grpc/grpc#43055)"

