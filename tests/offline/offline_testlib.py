"""Shared helpers of the offline preview tests: run the CLI in a subprocess, find leftover packs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
PROGRAM = FIXTURES / "program"
PACK = FIXTURES / "pack"
BOOTSTRAP = REPO / "offline" / "pack_bootstrap.py"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def run_cli(*args: str, timeout: float = 90, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m offline preview ARGS` from the repository root; `env` adds to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "offline", "preview", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def pack_processes(marker: str) -> list[int]:
    """Pids of running packs (`-m pulumi.policy`, or through `offline/pack_bootstrap.py`) whose
    working directory contains `marker`."""
    return _processes(b"pulumi.policy", marker) + _processes(str(BOOTSTRAP).encode(), marker)


def language_hosts(marker: str) -> list[int]:
    """Pids of running program processes (`offline.language_host`, whose cwd is the program's)."""
    return _processes(b"offline.language_host", marker)


def processes_with_env(name: str, value: str) -> list[int]:
    """Pids, other than this process, started with NAME=VALUE in their environment. Whatever a
    command starts inherits its environment (a program's subprocesses, a pack's children, even
    those that left the process group), so this finds everything a command left behind."""
    needle = f"{name}={value}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in environ:
            pids.append(int(entry.name))
    return pids


def wait_until_gone(find: Callable[[], list[int]], deadline_s: float = 60) -> list[int]:
    """Poll `find` until it finds nothing or the (generous) deadline passes; returns what is left."""
    deadline = time.monotonic() + deadline_s
    while (left := find()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _processes(command: bytes, marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if command in cmd and marker in cwd:
            pids.append(int(entry.name))
    return pids


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
