"""How often a child dies before it starts while gRPC is busy in the starting process.

`venv/bin/python bench/child_start.py --children 300` starts N trivial children from a process
that serves gRPC and calls it from three threads (as the offline preview does while it starts the
packs and the program), once with a `preexec_fn` (CPython fork()s, gRPC's fork handlers run) and
once through `child_process.launch_command` (vfork, no handlers), and prints how many children
died before running (grpc/grpc#43055: SIGABRT, "epoll_wait error: Bad file descriptor").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from offline.child_process import launch_command


def _busy(port: int, stop: threading.Event) -> None:
    call = grpc.insecure_channel(f"127.0.0.1:{port}").unary_unary("/bench/Nothing")
    while not stop.is_set():
        with contextlib.suppress(grpc.RpcError):
            call(b"", timeout=0.05)


def _start(way: str, children: int) -> list[int]:
    failed = []
    command = [sys.executable, "-S", "-c", "pass"]
    for _ in range(children):
        if way == "preexec_fn":
            proc = subprocess.Popen(command, preexec_fn=os.setpgrp, stderr=subprocess.DEVNULL)
        else:
            proc = subprocess.Popen(launch_command(command, sys.executable), process_group=0, stderr=subprocess.DEVNULL)
        if (code := proc.wait()) != 0:
            failed.append(code)
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=300)
    args = parser.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stop = threading.Event()
    threads = [threading.Thread(target=_busy, args=(port, stop), daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for way in ("preexec_fn", "launch_command"):
            failed = _start(way, args.children)
            print(f"{way:15} children={args.children} died_before_start={len(failed)} exit_codes={sorted(set(failed))}")
    finally:
        stop.set()
        server.stop(0)


if __name__ == "__main__":
    main()
