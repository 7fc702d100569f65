"""Child processes that never outlive the preview: the program's language host and the packs.

Owns: how a child is started (`launch_command`: never with a `preexec_fn`, so CPython starts it
with vfork, which runs no fork handlers; this file, run as a script, is the launcher that asks the
kernel to signal the child when the process that started it dies, then execs the real command),
stopping a whole process group, and the guard the program's process runs under
(`guard_process_tree`): whatever the program starts is gone when the program's process ends, when
the command stops it, and when the command dies (even of SIGKILL). Standard library only: the
language host calls the guard before it imports anything else, and a pack's own Python, which may
lack our dependencies, runs the launcher.

Why no `preexec_fn`: it makes CPython fork() the whole process, and fork() runs gRPC's
pthread_atfork handlers; in grpcio >= 1.80 the child's handler restarts an epoll poller thread
that aborts (SIGABRT, "epoll_wait error: Bad file descriptor") once the child closes its file
descriptors before exec (grpc/grpc#43055, open for 1.85.3). vfork runs no handlers.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from typing import Any, NoReturn

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}

try:  # resolved before any fork: dlopen is not safe in a forked child of a threaded process
    _PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


def bind_to_parent(parent_pid: int, signum: int) -> None:
    """In a child: the kernel sends `signum` to this process when `parent_pid` dies; if it died
    before this took effect, exit at once. The setting survives exec."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(1)


def launch_command(argv: list[str], python: str, *, signum: int = signal.SIGKILL, nice: int = 0) -> list[str]:
    """`argv` behind the launcher (this file, run by `python`, isolated and without site): it
    binds the child to this process (`bind_to_parent`), lowers its priority by `nice`, then execs
    `argv` in its place (same pid). Start it with `Popen(..., process_group=0)` and no
    `preexec_fn`: the child leads a process group of its own (a Ctrl-C reaches us; we stop the
    child ourselves)."""
    return [python, "-I", "-S", os.path.abspath(__file__), str(os.getpid()), str(int(signum)), str(nice), *argv]


def _launch(args: list[str]) -> NoReturn:
    parent_pid, signum, nice, command = int(args[0]), int(args[1]), int(args[2]), args[3:]
    bind_to_parent(parent_pid, signum)
    if nice:
        os.nice(nice)
    try:
        os.execv(command[0], command)
    except OSError as e:
        os.write(2, f"cannot run {command[0]}: {e.strerror or e}\n".encode(errors="replace"))
        os._exit(127)


def signal_group(pgid: int, signum: int) -> None:
    """Send `signum` to every process of group `pgid`; a group already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def wait_unreaped(pid: int, timeout: float) -> Any:
    """Wait up to `timeout` s for child `pid` to exit, without reaping it; its waitid result, or
    None if it still runs (or was reaped already). While a child is an unreaped zombie its pid,
    and so its process group id, cannot be reused: signalling the group then hits no stranger."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ended = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return None
        if ended is not None or time.monotonic() >= deadline:
            return ended
        time.sleep(0.01)


def exit_code(ended: Any) -> int | None:
    """A waitid result as Popen reports it: the exit code, or minus the signal that killed it."""
    if ended is None:
        return None
    return ended.si_status if ended.si_code == os.CLD_EXITED else -ended.si_status


# ---- the guard of the program's process ------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """Pids whose parent is `pid` (Linux /proc; elsewhere none are found)."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2 :].split()  # after "(comm)", which may hold spaces
            if len(fields) > 1 and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _exit_code(status: Any) -> int:
    if status is None:
        return 1
    if status.si_code == os.CLD_EXITED:
        return status.si_status
    return 128 + status.si_status  # killed by a signal


def _wait(pid: int, watched: set[int]) -> Any:
    """The program's process's exit status (it stays a zombie), or None when a stop signal came
    first; orphans handed to us meanwhile are reaped as they end."""
    while True:
        if signal.sigwaitinfo(watched).si_signo != signal.SIGCHLD:
            return None
        while (ended := os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)) is not None:
            if ended.si_pid == pid:
                return ended
            os.waitpid(ended.si_pid, 0)


def _sweep(group: int) -> None:
    """Kill the program's group, then every process left to us (the subreaper) until none is."""
    signal_group(group, signal.SIGKILL)
    while True:
        for pid in _children(os.getpid()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)  # one ends; what it started is handed to us and killed next round
        except ChildProcessError:
            return


def guard_process_tree(close_fds: tuple[int, ...] = ()) -> None:
    """Fork: the child returns and goes on as the program's process, in a process group of its
    own; this process stays behind as its guard and never returns.

    The guard is a child subreaper (processes orphaned below it are handed to it, not to init).
    When the program's process exits, or the guard gets SIGTERM, SIGINT or SIGHUP (the command
    stopping it, or the command's death through PR_SET_PDEATHSIG), the guard kills the program's
    group and every process left below it, then exits with the program's exit code. `close_fds`
    are closed in the guard (the write end of the event pipe: the command sees EOF when the
    program's process ends)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    # Blocked before the fork, so neither a stop nor the child's end can come unnoticed.
    watched = {*_STOP_SIGNALS, signal.SIGCHLD}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    guard = os.getpid()
    pid = os.fork()
    if pid == 0:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
        with contextlib.suppress(PermissionError):
            os.setpgid(0, 0)
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != guard:
                os._exit(1)
        return
    with contextlib.suppress(PermissionError, ProcessLookupError):
        os.setpgid(pid, pid)  # as the child does: whichever runs first, the group exists
    for fd in close_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the job on stdin is the program's process's to read
    os.close(devnull)
    status = _wait(pid, watched)
    if status is None:  # stopped: the program's process goes first, its status is still ours
        signal_group(pid, signal.SIGKILL)
        status = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    _sweep(pid)
    os._exit(_exit_code(status))


if __name__ == "__main__":  # the launcher: `launch_command`
    _launch(sys.argv[1:])
