"""A policy pack's process, started as the Pulumi CLI starts it, and the Engine service it is given.

Owns: reading `PulumiPolicy.yaml`, choosing the pack's Python (its virtualenv, as the CLI does),
starting `<python> -u -m pulumi.policy <engine address> .` in the pack directory with the
`PULUMI_*` environment (through `pack_bootstrap`, which adds the per-request memo, unless
`OFFLINE_PREVIEW_NO_MEMO=1`), reading the port it reports, opening the Analyzer channel, and
stopping the process and its process group (neither the pack nor what it starts outlives the
preview). Knows nothing of the Analyzer protocol.

The pack is trusted code (in pull requests, the base branch's; see README): its process group is
killed when the preview ends, but a process it moves out of that group survives a SIGKILL of the
command. The program, which is not trusted, runs under `child_process.guard_process_tree`.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from .child_process import exit_code, launch_command, signal_group, wait_unreaped
from .errors import InputError
from .inputs import load_yaml_mapping, os_reason
from .pack_bootstrap import MEMO_REPORT
from .policy_config import PolicyError
from .stack_config import ConfigError, StackConfig

BOOTSTRAP = Path(__file__).resolve().with_name("pack_bootstrap.py")
NO_MEMO_ENV = "OFFLINE_PREVIEW_NO_MEMO"
# Linux refuses to start a process with one environment string longer than this (MAX_ARG_STRLEN,
# 32 pages): "Argument list too long". The CLI hands a pack its stack config in PULUMI_CONFIG too.
MAX_ENV_STRING = 32 * 4096


def read_pack_metadata(pack_dir: Path) -> dict[str, Any]:
    """PulumiPolicy.yaml: its mapping, with `runtime` checked (a Python pack) and `runtime.options`
    a mapping; raises PolicyError naming the file and the key."""
    path = pack_dir / "PulumiPolicy.yaml"
    if not os.path.lexists(path):
        raise PolicyError(f"no PulumiPolicy.yaml in {pack_dir}: not a policy pack directory")
    try:
        meta = load_yaml_mapping(path)
    except InputError as e:
        raise PolicyError(str(e)) from None
    runtime = meta.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise PolicyError(f"policy pack runtime {runtime_name!r} is not supported offline (python only)")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    if options is not None and not isinstance(options, dict):
        raise PolicyError(f"{path}: runtime.options must be a mapping")
    if not isinstance((options or {}).get("virtualenv") or "", str):
        raise PolicyError(f"{path}: runtime.options.virtualenv must be a string")
    return meta


def config_environment(config: StackConfig) -> str | None:
    """PULUMI_CONFIG as the CLI sets it for a pack, or ConfigError when Linux cannot pass it."""
    if not config.values:
        return None
    value = json.dumps(config.values)
    size = len(b"PULUMI_CONFIG=") + len(value.encode()) + 1
    if size > MAX_ENV_STRING:
        largest = max(config.values, key=lambda k: len(config.values[k].encode()))
        raise ConfigError(
            f"the stack config is {size} bytes as PULUMI_CONFIG, over Linux's limit of {MAX_ENV_STRING} bytes"
            f" for one environment variable, so no policy pack can be started with it (the Pulumi CLI hands"
            f" packs their config the same way); the largest value is {largest!r}"
            f" ({len(config.values[largest].encode())} bytes)"
        )
    return value


def memo_enabled() -> bool:
    """The per-request memo is on unless OFFLINE_PREVIEW_NO_MEMO is set to anything but "" or "0"."""
    return os.environ.get(NO_MEMO_ENV, "") in ("", "0")


class EngineServicer(engine_pb2_grpc.EngineServicer):
    """The Engine service the pack receives the address of; collects its log messages."""

    def __init__(self) -> None:
        self.logs: list[str] = []

    def Log(self, request: Any, context: Any) -> Any:
        self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse()

    def SetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()


class PolicyPackProcess:
    """A running pack: `<python> -u -m pulumi.policy <engine address> .` in the pack directory."""

    def __init__(
        self,
        pack_dir: Path,
        *,
        project: str,
        stack: str,
        organization: str,
        dry_run: bool,
        config: StackConfig,
        python: str | None = None,
        start_timeout: float = 60.0,
        nice: int = 0,
        memo: bool | None = None,
    ) -> None:
        """`nice` lowers the pack's scheduling priority (it yields the CPU to the program); `memo`
        (default: `memo_enabled()`) starts the pack through `pack_bootstrap`."""
        self.pack_dir = pack_dir.resolve()
        meta = read_pack_metadata(self.pack_dir)
        runtime = meta.get("runtime")
        pulumi_config = config_environment(config)
        self.version = str(meta.get("version") or "")
        self.start_timeout = start_timeout
        self.memo = memo_enabled() if memo is None else memo
        self._engine = EngineServicer()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self._engine, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.engine_address = f"127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(
            {
                "PULUMI_PROJECT": project,
                "PULUMI_STACK": stack,
                "PULUMI_ORGANIZATION": organization,
                "PULUMI_DRY_RUN": "true" if dry_run else "false",
            }
        )
        if pulumi_config is not None:
            env["PULUMI_CONFIG"] = pulumi_config
        options = (runtime.get("options") if isinstance(runtime, dict) else None) or {}
        self.python = python or _pack_python(self.pack_dir, str(options.get("virtualenv") or ""))
        # What the CLI's `pulumi-analyzer-policy-python` shim runs; it consumes the runtime options
        # (virtualenv, toolchain) itself, so they are not passed on. The bootstrap ends by running
        # the same entry point with the same arguments.
        entry = [str(BOOTSTRAP)] if self.memo else ["-m", "pulumi.policy"]
        # A file, not a pipe: a chatty pack must never block on a full pipe.
        self.command = [self.python, "-u", *entry, self.engine_address, "."]  # what the launcher execs
        self._stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        try:
            self.proc = subprocess.Popen(
                launch_command(self.command, self.python, nice=nice),
                cwd=self.pack_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._stderr_file,
                process_group=0,
            )
        except OSError as e:
            self._server.stop(0)
            raise PolicyError(f"cannot start the policy pack with {self.python}: {os_reason(e)}") from None
        self.channel: grpc.Channel | None = None
        self._closed = False

    @property
    def stderr(self) -> str:
        try:
            self._stderr_file.seek(0)
            return self._stderr_file.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""

    def stderr_tail(self, lines: int = 30) -> str:
        """The last lines of the pack's stderr, as a block to append to an error message."""
        stderr = self.stderr
        return ("\n--- policy pack stderr ---\n" + "\n".join(stderr.splitlines()[-lines:])) if stderr else ""

    @property
    def memo_report(self) -> str | None:
        """What `pack_bootstrap` reported about the memo ("installed (...)" or "not installed: ...");
        None when the pack was started without it. Complete once `connect` returned."""
        lines = self.stderr.splitlines()
        return next((m[len(MEMO_REPORT) :] for m in lines if m.startswith(MEMO_REPORT)), None)

    def connect(self) -> Any:
        """Read the port the pack prints first, then open the Analyzer channel; returns its stub."""
        from pulumi.runtime.proto import analyzer_pb2_grpc

        assert self.proc.stdout is not None
        fd, buf = self.proc.stdout.fileno(), b""
        deadline = time.monotonic() + self.start_timeout
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PolicyError(
                    f"policy pack did not report its port within {self.start_timeout:g} s"
                    " (--pack-start-timeout)" + self.stderr_tail()
                )
            if select.select([fd], [], [], remaining)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    if self._closed:
                        raise PolicyError("policy pack stopped before it started")
                    code = exit_code(wait_unreaped(self.proc.pid, 5))  # `close` reaps it, after its group
                    raise PolicyError(f"policy pack exited with code {code} before it started" + self.stderr_tail())
                buf += chunk
        try:
            port = int(buf.split(b"\n", 1)[0].strip())
        except ValueError as e:
            raise PolicyError(f"policy pack printed {buf[:80]!r} instead of its port" + self.stderr_tail()) from e
        # Keep reading stdout so a pack that prints never blocks on a full pipe.
        threading.Thread(target=_discard, args=(self.proc.stdout,), daemon=True).start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.channel = channel
        try:
            grpc.channel_ready_future(channel).result(timeout=self.start_timeout)
        except grpc.FutureTimeoutError as e:
            raise PolicyError(f"cannot connect to the policy pack on port {port}" + self.stderr_tail()) from e
        return analyzer_pb2_grpc.AnalyzerStub(channel)

    def stop(self) -> None:
        """Ask the pack and its process group to stop (SIGTERM) without waiting; `close` finishes
        the job."""
        self._closed = True
        if self.proc.returncode is None:  # not reaped (only `close` reaps): its pid still names its group
            signal_group(self.proc.pid, signal.SIGTERM)

    def close(self, grace: float = 3.0) -> None:
        """Stop the pack (TERM, then KILL after `grace` s), everything left in its process group
        (KILL), and the engine server; safe to call twice."""
        self.stop()
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.proc.returncode is None:
            # Until it is reaped, its pid names its group and no other process's: what the pack
            # started goes with it (a group outlives its leader).
            wait_unreaped(self.proc.pid, grace)
            signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._server.stop(0)


def close_all(packs: list[PolicyPackProcess]) -> None:
    """Stop every pack: all are asked at once, then each is waited for (and killed if need be)."""
    for pack in packs:
        pack.stop()
    for pack in packs:
        pack.close()


def _discard(stream: Any) -> None:
    with contextlib.suppress(Exception):
        while stream.read(65536):
            pass


def _pack_python(pack_dir: Path, virtualenv: str = "") -> str:
    """The pack's own virtualenv when it has one (as the CLI uses), else this interpreter."""
    for venv in (virtualenv, "venv", ".venv") if virtualenv else ("venv", ".venv"):
        candidate = pack_dir / venv / "bin" / "python"
        if candidate.exists():
            return str(candidate)
    return sys.executable
