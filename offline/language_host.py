"""Run a stack's program in a process of its own, as Pulumi's language host does, and stream every
registration to the engine side the moment the stand-in monitor records it.

Owns: the child process (`python -m offline.language_host EVENTS_FD PARENT_PID`, its job as JSON on stdin),
the event stream (length-prefixed JSON messages on a dedicated pipe: `register` per resource, then
`done`, `error` or `sdk-error`), and the parent's side of it (`ProgramProcess`), which checks every
message against the shape it must have before anything else sees it. The program itself runs with
`engine.run_program`, unchanged, under `child_process.guard_process_tree`: whatever it starts ends
with it.

Trust boundary: the program is code from the pull request and runs in the child, so it can write
anything to the event pipe. The channel therefore carries data only (JSON, never pickles: nothing
read from it is executed), every message must match its dataclass's fields and types, and a
registration must be one the stand-in monitor could have produced (its URN derives from this
stack, its parent, type and name; no URN twice; its parent registered before it). What is left to
a program that forges messages is what it could do by registering resources (or not) itself:
which resources the pack sees. The program never chooses the pack, its config or the verdict.

Why a process: the engine analyzes each resource while the program is still registering the next
ones. In one process the analyzer's gRPC threads share the program's GIL (measured: no gain); here
the program has a core of its own and the packs and the gRPC client the other.
"""

from __future__ import annotations

import gc
import sys

if __name__ == "__main__":  # before the imports: the SDK's objects only grow, see engine.run_program
    gc.disable()
    import signal

    from .child_process import bind_to_parent, guard_process_tree

    bind_to_parent(int(sys.argv[2]), signal.SIGTERM)  # the guard clears the tree when the command dies
    guard_process_tree(close_fds=(int(sys.argv[1]),))  # from here on, this is the program's process

import contextlib
import dataclasses
import functools
import json
import math
import os
import queue
import signal
import subprocess
import threading
import time
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from .engine import LogEntry, OfflineAnswers, ProgramError, RecordingMonitor, Registration, RunResult, run_program
from .sdk_patches import SdkShapeError
from .stack_config import Project, StackConfig

_LENGTH = 4
MAX_MESSAGE = 64 * 1024 * 1024  # one registration's JSON; a 4-byte length could claim 4 GiB
_GRACE = 10.0  # seconds past the program's own timeout before the host is killed
_GUARD_GRACE = 30.0  # seconds the guard may take to clear the program's process tree
LOG_SEVERITIES = ("debug", "info", "warning", "error")
_ERROR_FIELDS = {"kind": str, "cause": str, "detail": str, "warnings": list[str]}  # ProgramError.payload()
# Property values the monitor can record nest less deep (its Struct conversion recurses); deeper
# ones would only reach the command's recursive conversions.
MAX_VALUE_DEPTH = 200


class ChannelError(Exception):
    """A message on the event channel is not one the language host sends."""


# ---- the wire form of dataclasses ------------------------------------------------------------------


def _plain(obj: Any) -> Any:
    """A dataclass as a JSON-ready dict: paths as strings, sets as sorted lists (one level deep:
    property values are JSON already)."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, set | frozenset):
            value = sorted(value)
        out[f.name] = value
    return out


def _value(value: Any, hint: Any, where: str) -> Any:
    """`value` read from JSON, checked against the type hint of its field."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if hint is bool or hint is str:
        if type(value) is not hint:
            raise ChannelError(f"{where} must be a {hint.__name__}")
        return value
    if hint is float or hint is int:
        if type(value) not in (int, float) or (hint is int and type(value) is not int):
            raise ChannelError(f"{where} must be a number")
        return hint(value)
    if hint is Path:
        return Path(_value(value, str, where))
    if hint is type(None):
        if value is not None:
            raise ChannelError(f"{where} must be null")
        return None
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _value(value, option, where)
            except ChannelError:
                continue
        raise ChannelError(f"{where} must be {' or '.join(getattr(a, '__name__', str(a)) for a in args)}")
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return tuple(_value(value, list[args[0]], where))  # type: ignore[valid-type]
    if origin in (list, set):
        if not isinstance(value, list):
            raise ChannelError(f"{where} must be a list")
        items = [_value(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)]
        return items if origin is list else set(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ChannelError(f"{where} must be an object")
        return {_value(k, args[0], f"{where} key"): _value(v, args[1], f"{where}.{k}") for k, v in value.items()}
    raise TypeError(f"{where}: no wire form for {hint!r}; extend language_host._value")


@functools.cache
def _fields(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    return typing.get_type_hints(cls), {f.name: f for f in dataclasses.fields(cls)}


def _dataclass(cls: type, data: Any, where: str) -> Any:
    """An instance of dataclass `cls` from a JSON object with exactly its fields (defaults may be
    left out), each of its declared type."""
    if not isinstance(data, dict):
        raise ChannelError(f"{where} must be an object")
    hints, fields = _fields(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ChannelError(f"{where} has unknown fields {unknown}")
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _value(data[name], hints[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ChannelError(f"{where} has no {name!r}")
    return cls(**kwargs)


def _too_deep(value: Any) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_VALUE_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _encode(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode()
    if len(data) > MAX_MESSAGE:
        raise ValueError(f"{len(data)} bytes, over the limit of {MAX_MESSAGE} bytes")
    return len(data).to_bytes(_LENGTH, "big") + data


def _decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ChannelError(f"not JSON ({e})") from None
    except RecursionError:
        raise ChannelError("JSON nested too deeply") from None
    if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
        raise ChannelError("not an object with a 'kind'")
    return message


def _expect(message: dict[str, Any], *keys: str) -> None:
    if set(message) != {"kind", *keys}:
        raise ChannelError(f"a {message['kind']!r} message has exactly the fields {sorted({'kind', *keys})}")


# ---- the command's side ----------------------------------------------------------------------------


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    return data if data is not None else b""


class ChannelReader:
    """The command's end of the event channel: reads each message, checks it and puts
    (kind, payload) on a queue; `invalid` (with the reason) for the first message that is not
    what the language host sends, after which nothing more is read."""

    def __init__(self, stream: BinaryIO, project: str, stack: str, dry_run: bool) -> None:
        self._stream = stream
        self._urns = RecordingMonitor(project, stack, StackConfig(), dry_run)  # URNs by the monitor's own rule
        self._seen: dict[str, Registration] = {}

    def run(self, out: queue.Queue[tuple[str, Any]]) -> None:
        """Checked messages to the queue (the pipe is drained at once, so the program never blocks
        on it); stops at `done` or at the first message that is not what the host sends."""
        try:
            while True:
                header = _read_exact(self._stream, _LENGTH)
                if len(header) < _LENGTH:
                    if header:
                        raise ChannelError("the stream ends inside a message")
                    break
                size = int.from_bytes(header, "big")
                if size > MAX_MESSAGE:
                    raise ChannelError(f"a message of {size} bytes, over the limit of {MAX_MESSAGE} bytes")
                body = _read_exact(self._stream, size)
                if len(body) < size:
                    raise ChannelError("the stream ends inside a message")
                kind, payload = self.check(_decode(body))
                out.put((kind, payload))
                if kind != "register":
                    return
        except ChannelError as e:
            out.put(("invalid", str(e)))
            return
        except Exception as e:  # a broken pipe or a bug: reported, never a hang
            out.put(("error", f"the language host's event stream broke: {e!r}"))
            return
        out.put(("eof", None))

    def check(self, message: dict[str, Any]) -> tuple[str, Any]:
        kind = message["kind"]
        if kind == "register":
            _expect(message, "registration")
            reg = _dataclass(Registration, message["registration"], "registration")
            self._check_registration(reg)
            self._seen[reg.urn] = reg
            return kind, reg
        if kind == "done":
            _expect(message, "outputs", "logs", "invokes", "duration")
            outputs = _value(message["outputs"], dict[str, dict[str, Any]], "done.outputs")
            if _too_deep(list(outputs.values())):
                raise ChannelError(f"done.outputs has values nested deeper than {MAX_VALUE_DEPTH} levels")
            strangers = sorted(set(outputs) - set(self._seen))
            if strangers:
                raise ChannelError(f"done.outputs names resources never registered: {strangers[:3]}")
            if not isinstance(message["logs"], list):
                raise ChannelError("done.logs must be a list")
            logs = [_dataclass(LogEntry, entry, f"done.logs[{i}]") for i, entry in enumerate(message["logs"])]
            for i, entry in enumerate(logs):
                if entry.severity not in LOG_SEVERITIES:
                    raise ChannelError(f"done.logs[{i}].severity must be one of {list(LOG_SEVERITIES)}")
            duration = _value(message["duration"], float, "done.duration")
            if not (math.isfinite(duration) and duration >= 0):
                raise ChannelError("done.duration must be a finite number of seconds")
            return kind, {
                "outputs": outputs,
                "logs": logs,
                "invokes": _value(message["invokes"], list[str], "done.invokes"),
                "duration": duration,
            }
        if kind == "error":
            _expect(message, "error")
            error = _value(message["error"], dict[str, Any], "error.error")
            if set(error) != set(_ERROR_FIELDS) or error["kind"] not in ("ProgramError", "EngineError"):
                raise ChannelError(f"error.error has exactly the fields {list(_ERROR_FIELDS)}, its kind a program's error")
            for name, hint in _ERROR_FIELDS.items():
                _value(error[name], hint, f"error.error.{name}")
            return kind, error
        if kind == "sdk-error":
            _expect(message, "message")
            return kind, _value(message["message"], str, f"{kind}.message")
        raise ChannelError(f"unknown message kind {kind!r}")

    def _check_registration(self, reg: Registration) -> None:
        """A registration the stand-in monitor could have produced, or ChannelError."""
        if not reg.type or not reg.name:
            raise ChannelError(f"registration {reg.urn!r} has no type or no name")
        if reg.urn in self._seen:
            raise ChannelError(f"registration {reg.urn!r} was sent twice")
        if reg.parent and reg.parent not in self._seen:
            raise ChannelError(f"registration {reg.urn!r} names a parent never registered: {reg.parent!r}")
        try:
            expected = self._urns.make_urn(reg.parent, reg.type, reg.name)
        except Exception:  # a malformed parent URN
            expected = None
        if reg.urn != expected:
            raise ChannelError(f"registration {reg.urn!r} is not the URN of {reg.type} {reg.name!r} in this stack")
        if reg.default_provider and (reg.parent or not reg.type.startswith("pulumi:providers:")):
            raise ChannelError(f"registration {reg.urn!r} claims to be a default provider")
        if _too_deep([reg.inputs, reg.outputs, reg.options]):
            raise ChannelError(f"registration {reg.urn!r} has values nested deeper than {MAX_VALUE_DEPTH} levels")


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
        self.dry_run = dry_run
        self.started = time.perf_counter()
        self.duration = 0.0
        read_fd, write_fd = os.pipe()
        repo = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH", "")) if p)
        try:
            # The guard (see guard_process_tree) gets SIGTERM when this process dies, so that it
            # can clear the program's process tree; the program's own stdout goes to stderr, so it
            # never mixes with a report on stdout.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "offline.language_host", str(write_fd), str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=sys.stderr.fileno() if _usable(sys.stderr) else subprocess.DEVNULL,
                env=env,
                pass_fds=(write_fd,),
                process_group=0,  # no preexec_fn: see child_process
            )
        except OSError as e:
            os.close(read_fd)
            raise ProgramError(f"cannot start the program's process ({sys.executable}): {e.strerror or e}") from None
        finally:
            os.close(write_fd)
        self._events = os.fdopen(read_fd, "rb")
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        job = {
            "project": _plain(project),
            "stack": stack,
            "config": _plain(config),
            "dry_run": dry_run,
            "organization": organization,
            "timeout": timeout,
            "answers": _plain(answers) if answers is not None else None,
        }
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(job).encode())
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # the host died at start; the reader reports it
        reader = ChannelReader(self._events, project.name, stack, dry_run)
        self._reader = threading.Thread(target=reader.run, args=(self._queue,), name="language-host-events", daemon=True)
        self._reader.start()
        self._registrations: list[Registration] = []
        self._result: RunResult | None = None

    def registrations(self) -> Iterator[Registration]:
        """Each registration as the monitor records it; returns when the program is done.

        Raises ProgramError when the program fails, the host dies or sends what it never sends,
        or the time is up."""
        deadline = self.started + self.timeout + _GRACE
        while True:
            try:
                kind, payload = self._queue.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                self.close()
                raise ProgramError(f"the program did not finish within {self.timeout:g} s (--timeout)") from None
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
            elif kind == "invalid":
                self.close()
                raise ProgramError(
                    f"the program's process sent an invalid message on the engine's channel ({payload});"
                    " a program must not write to it"
                )
            else:  # eof before done
                code = self._stop_guard()
                raise ProgramError(f"the language host exited with code {code} before the program finished")

    def _finish(self, done: dict[str, Any]) -> None:
        by_urn = {r.urn: r for r in self._registrations}
        for urn, outputs in done["outputs"].items():
            by_urn[urn].outputs = outputs
        self.duration = time.perf_counter() - self.started
        self._result = RunResult(
            self._registrations, done["logs"], done["invokes"], done["duration"], self.dry_run, list(done["outputs"])
        )

    def result(self) -> RunResult:
        """The whole run (after `registrations()` is exhausted), as `run_program` returns it."""
        if self._result is None:
            for _ in self.registrations():
                pass
        assert self._result is not None
        return self._result

    def _stop_guard(self) -> int:
        """Ask the guard to clear the program's process tree and wait for it (kill it if it does not
        end in time); returns its exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=_GUARD_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self) -> None:
        """Stop the host and everything the program started; safe to call twice."""
        self._stop_guard()
        self._events.close()


def _usable(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


# ---- the program's side ----------------------------------------------------------------------------


class _EventWriter:
    """Sends messages one at a time; after the last one (`finish`), a registration is refused."""

    def __init__(self, fd: int) -> None:
        self._stream = os.fdopen(fd, "wb")
        self._lock = threading.Lock()
        self._finished = False
        self.sent: set[str] = set()

    def register(self, reg: Registration) -> None:
        """Called by the monitor for each registration; raises into the program when it cannot be
        sent (too large, too deep) or comes after the program finished."""
        try:
            frame = _encode({"kind": "register", "registration": _plain(reg)})
        except (ValueError, TypeError, RecursionError) as e:
            raise ProgramError(f"resource {reg.urn}: its registration cannot be sent to the engine: {e}") from None
        with self._lock:
            if self._finished:
                raise ProgramError(f"resource {reg.urn} was registered after the program finished; it is not previewed")
            self._stream.write(frame)
            self._stream.flush()
            self.sent.add(reg.urn)

    def finish(self, build: Callable[[set[str]], dict[str, Any]]) -> NoReturn:
        """Send the last message, built from the URNs the command received, and end the process:
        what the program printed is flushed first, and nothing follows (the command reports the
        message at once, so anything printed after it would land in the middle of its report)."""
        with self._lock:
            self._finished = True
            try:
                frame = _encode(build(self.sent))
            except (ValueError, TypeError, RecursionError) as e:
                failure = ProgramError(f"the program's results cannot be sent to the engine: {e}")
                frame = _encode({"kind": "error", "error": failure.payload()})
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    stream.flush()
            self._stream.write(frame)
            self._stream.flush()
            os._exit(0)  # no teardown of the program's objects; a timed-out program's thread is abandoned


def main() -> None:
    events = _EventWriter(int(sys.argv[1]))
    job = json.loads(sys.stdin.buffer.read())
    try:
        run = run_program(
            _dataclass(Project, job["project"], "project"),
            job["stack"],
            _dataclass(StackConfig, job["config"], "config"),
            dry_run=job["dry_run"],
            organization=job["organization"],
            timeout=job["timeout"],
            on_register=events.register,
            answers=_dataclass(OfflineAnswers, job["answers"], "answers") if job["answers"] is not None else None,
        )
    except ProgramError as e:
        failure: dict[str, Any] = {"kind": "error", "error": e.payload()}
        events.finish(lambda _sent: failure)
    except SdkShapeError as e:
        failure = {"kind": "sdk-error", "message": str(e)}
        events.finish(lambda _sent: failure)
    else:
        by_urn = {r.urn: r for r in run.registrations}
        events.finish(
            lambda sent: {
                "kind": "done",
                "outputs": {urn: by_urn[urn].outputs for urn in dict.fromkeys(run.outputs_registered) if urn in sent},
                "logs": [_plain(LogEntry(e.severity, e.message, e.urn)) for e in run.logs],
                "invokes": run.invokes,
                "duration": run.duration,
            }
        )


if __name__ == "__main__":
    main()
