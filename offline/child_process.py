"""Child processes that never outlive the preview: the program's language host and the pack.

Owns: the `preexec_fn` that asks the kernel to kill a child when the process that started it dies,
and puts the child in its own process group (a Ctrl-C reaches us; we stop the child ourselves).
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1

try:  # resolved before any fork: dlopen is not safe in a forked child of a threaded process
    _PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


def die_with_parent(parent_pid: int, nice: int = 0) -> Callable[[], None]:
    """preexec_fn: the kernel kills the child when `parent_pid` dies; `nice` lowers its priority."""

    def setup() -> None:
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent_pid:  # the parent died before prctl took effect
                os._exit(1)
        os.setpgrp()
        if nice:
            os.nice(nice)

    return setup
