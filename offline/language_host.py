"""Run a stack's program in a process of its own, as Pulumi's language host does, and stream every
registration to the engine side the moment the stand-in monitor records it.

Owns: the child process (`python -m offline.language_host EVENTS_FD`, job pickled on its stdin),
the event stream (length-prefixed pickles on a dedicated pipe: `register` per resource, then `done`,
`error` or `sdk-error`) and the parent's side of it (`ProgramProcess`). The program itself runs with
`engine.run_program`, unchanged.

Why a process: the engine analyzes each resource while the program is still registering the next
ones. In one process the analyzer's gRPC threads share the program's GIL (measured: no gain); here
the program has a core of its own and the packs and the gRPC client the other.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":  # before the imports: the SDK's objects only grow, see engine.run_program
    gc.disable()

import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .child_process import die_with_parent
from .engine import LogEntry, OfflineAnswers, ProgramError, Registration, RunResult, run_program
from .sdk_patches import SdkShapeError
from .stack_config import Project, StackConfig

_LENGTH = 4
_GRACE = 10.0  # seconds past the program's own timeout before the host is killed


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    return data if data is not None else b""


class ProgramProcess:
    """The program running in a language-host child; `registrations()` yields them as they come."""

    def __init__(
        self,
        project: Project,
        stack: str,
        config: StackConfig,
        *,
        dry_run: bool,
        organization: str,
        timeout: float,
        answers: OfflineAnswers | None = None,
    ) -> None:
        self.timeout = timeout
        self.started = time.perf_counter()
        self.duration = 0.0
        read_fd, write_fd = os.pipe()
        repo = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "offline.language_host", str(write_fd)],
                stdin=subprocess.PIPE,
                env=env,
                pass_fds=(write_fd,),
                preexec_fn=die_with_parent(os.getpid()),
            )
        finally:
            os.close(write_fd)
        self._events = os.fdopen(read_fd, "rb")
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        job = (project, stack, config, dry_run, organization, timeout, answers)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # the host died at start; the reader reports it
        self._reader = threading.Thread(target=self._read, name="language-host-events", daemon=True)
        self._reader.start()
        self._registrations: list[Registration] = []
        self._result: RunResult | None = None

    def _read(self) -> None:
        """Frames to the queue (the pipe is drained at once, so the program never blocks on it)."""
        try:
            while True:
                header = _read_exact(self._events, _LENGTH)
                if len(header) < _LENGTH:
                    break
                body = _read_exact(self._events, int.from_bytes(header, "big"))
                self._queue.put(pickle.loads(body))
        except Exception as e:  # a torn frame: the host died mid-write
            self._queue.put(("error", f"the language host's event stream broke: {e!r}"))
        self._queue.put(("eof", None))

    def registrations(self) -> Iterator[Registration]:
        """Each registration as the monitor records it; returns when the program is done.

        Raises ProgramError when the program fails, the host dies or the time is up."""
        deadline = self.started + self.timeout + _GRACE
        while True:
            try:
                kind, payload = self._queue.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                self.close()
                raise ProgramError(f"the program did not finish within {self.timeout:g} s") from None
            if kind == "register":
                self._registrations.append(payload)
                yield payload
            elif kind == "done":
                self._finish(payload)
                return
            elif kind == "error":
                self.close()
                raise ProgramError.from_payload(payload)
            elif kind == "sdk-error":
                self.close()
                raise SdkShapeError(payload)
            else:  # eof before done
                code = self.proc.wait()
                raise ProgramError(f"the language host exited with code {code} before the program finished")

    def _finish(self, done: dict[str, Any]) -> None:
        by_urn = {r.urn: r for r in self._registrations}
        for urn, outputs in done["outputs"].items():
            by_urn[urn].outputs = outputs
        self.duration = time.perf_counter() - self.started
        self._result = RunResult(
            self._registrations,
            done["logs"],
            done["invokes"],
            done["duration"],
            done["dry_run"],
            list(done["outputs"]),
        )

    def result(self) -> RunResult:
        """The whole run (after `registrations()` is exhausted), as `run_program` returns it."""
        if self._result is None:
            for _ in self.registrations():
                pass
        assert self._result is not None
        return self._result

    def close(self) -> None:
        """Stop the host if it still runs; safe to call twice."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._events.close()


def _send(stream: BinaryIO, kind: str, payload: Any) -> None:
    data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(_LENGTH, "big") + data)
    stream.flush()


def main() -> None:
    events = os.fdopen(int(sys.argv[1]), "wb")
    project, stack, config, dry_run, organization, timeout, answers = pickle.load(sys.stdin.buffer)
    try:
        run = run_program(
            project,
            stack,
            config,
            dry_run=dry_run,
            organization=organization,
            timeout=timeout,
            on_register=lambda reg: _send(events, "register", reg),
            answers=answers,
        )
    except ProgramError as e:
        _send(events, "error", e.payload())
    except SdkShapeError as e:
        _send(events, "sdk-error", str(e))
    else:
        by_urn = {r.urn: r for r in run.registrations}
        done = {
            "outputs": {urn: by_urn[urn].outputs for urn in dict.fromkeys(run.outputs_registered)},
            "logs": [LogEntry(e.severity, e.message, e.urn) for e in run.logs],
            "invokes": run.invokes,
            "duration": run.duration,
            "dry_run": run.dry_run,
        }
        _send(events, "done", done)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no teardown of the program's objects; a timed-out program's thread is abandoned


if __name__ == "__main__":
    main()
