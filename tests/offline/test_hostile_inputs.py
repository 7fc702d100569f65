"""Hostile and broken input: every case ends in a clean outcome, never a crash read as violations.

One table, `CASES`: each builds a program, stack file, pack, policy config or flag in a temporary
directory and names the exit code and the line stderr must hold. Exit 1 only ever means mandatory
violations; every error is exit 2 with one line naming the file, flag, key or resource. After each
case nothing it started is left running: every case runs with a marker in its environment, which
everything it starts inherits (`processes_with_env`).

Cases run `offline.__main__.main` in this process when they can (cheap: most fail before anything
starts), and the real command in a subprocess (`run_cli`) when its process is the point: stdout,
signals, the exit path. The channel between the program's process and the command is checked
message by message in `test_channel_refuses`. `bench/hostile_inputs.py` prints the table and the
outcome of each case against any checkout (the before/after figures in the README).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from offline_testlib import FIXTURES, PACK, REPO, processes_with_env, wait_until_gone

MARKER_ENV = "OFFLINE_HOSTILE_CASE"
PACK_STDERR = "--- policy pack stderr ---"  # what follows is the pack's, appended to a pack error
PROJECT = "name: p\nruntime: python\n"
STACK = "config: {}\n"
PROGRAM = "import pulumi\n"


def program(tmp: Path, *, project: str | bytes | None = PROJECT, stack: str | bytes | None = STACK, main: str = PROGRAM) -> Path:
    """A Python project in `tmp/prog`: Pulumi.yaml, Pulumi.dev.yaml and __main__.py."""
    d = tmp / "prog"
    d.mkdir(exist_ok=True)
    for name, content in (("Pulumi.yaml", project), ("Pulumi.dev.yaml", stack), ("__main__.py", main)):
        if content is not None:
            (d / name).write_bytes(content.encode() if isinstance(content, str) else content)
    return d


def args_for(d: Path, *extra: str) -> list[str]:
    return ["--program", str(d), "--policy-pack", "none", *extra]


def with_stack(content: str | bytes, *extra: str) -> Callable[[Path], list[str]]:
    return lambda tmp: args_for(program(tmp, stack=content), *extra)


def with_project(content: str | bytes) -> Callable[[Path], list[str]]:
    return lambda tmp: args_for(program(tmp, project=content))


def with_program(main: str, *extra: str) -> Callable[[Path], list[str]]:
    return lambda tmp: args_for(program(tmp, main=main), *extra)


def special_stack(make: Callable[[Path], None]) -> Callable[[Path], list[str]]:
    """A project whose Pulumi.dev.yaml is made by `make(path)` (a FIFO, a link...)."""

    def setup(tmp: Path) -> list[str]:
        d = program(tmp, stack=None)
        make(d / "Pulumi.dev.yaml")
        return args_for(d)

    return setup


def pack(tmp: Path, *, policy_yaml: str | None = None, main: str | None = None) -> Path:
    """A copy of the fixture pack, with another PulumiPolicy.yaml or __main__.py."""
    d = Path(shutil.copytree(PACK, tmp / "pack"))
    if policy_yaml is not None:
        (d / "PulumiPolicy.yaml").write_text(policy_yaml)
    if main is not None:
        (d / "__main__.py").write_text(main)
    return d


def with_pack(**kwargs: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["--program", str(program(tmp)), "--policy-pack", str(pack(tmp, **kwargs)), "--pack-processes", "1"]


def with_policy_config(content: bytes | None, make: Callable[[Path], None] | None = None) -> Callable[[Path], list[str]]:
    def setup(tmp: Path) -> list[str]:
        path = tmp / "policy-config.json"
        if make is not None:
            make(path)
        else:
            path.write_bytes(content or b"")
        return ["--program", str(program(tmp)), "--policy-pack", str(PACK), "--policy-pack-config", str(path)]

    return setup


def billion_laughs() -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join([f'*{prev}'] * 10)}]")
    return "config:\n" + "".join(f"  p:{line}\n" for line in lines)


def sparse_file(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with open(path, "wb") as f:
            f.truncate(size)

    return make


def deny(monkeypatch: pytest.MonkeyPatch, function: str, suffix: str) -> None:
    """`os.<function>` fails with EACCES for paths ending in `suffix`, as for a user without the
    right (this suite may run as root, which no file mode stops)."""
    real = getattr(os, function)

    def denied(path: object, *args: object, **kwargs: object) -> object:
        if str(path).endswith(suffix):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, function, denied)


def deny_open(monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """The command's `open` of a report file fails with EACCES (its check before the run passes)."""
    import offline.__main__ as cli

    def denied(path: object, *args: object, **kwargs: object) -> object:
        if str(path).endswith(suffix):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(cli, "open", denied, raising=False)


@dataclass(frozen=True)
class Case:
    name: str
    measured: str  # the bullet of the "Measured" list
    setup: Callable[[Path], list[str]]  # builds the inputs under a temporary directory; returns the arguments
    code: int
    stderr: str = ""  # a line of stderr must contain it (exact text, `{tmp}` for the directory)
    stdout: str = ""  # stdout must contain it
    cli: bool = False  # run `python -m offline` in a subprocess rather than main() in this process
    patch: Callable[[pytest.MonkeyPatch], None] | None = None  # in-process only: what a non-root user meets
    check: Callable[[Path], None] | None = None  # a further assertion once the run ended
    stdout_file: str = ""  # the command's stdout goes to this file (cli only)
    env: dict[str, str] = field(default_factory=dict)


def consistent_report(tmp: Path) -> None:
    """The report holds each resource once, each after its parent, and counts what it holds."""
    report = json.loads((tmp / "r.json").read_text())
    urns = [r["urn"] for r in report["resources"]]
    assert len(urns) == len(set(urns)) == report["summary"]["resources"]
    for i, r in enumerate(report["resources"]):
        assert r["parent"] is None or r["parent"] in urns[:i], r


def no_file(name: str) -> Callable[[Path], None]:
    def check(tmp: Path) -> None:
        assert not (tmp / name).exists(), f"{name} was created: code from the input ran"

    return check


PICKLE_PAYLOAD = """
import os, pickle, sys
class Payload:
    def __reduce__(self):
        return (os.system, ("touch {tmp}/pwned",))
frame = pickle.dumps(("register", Payload()))
os.write(int(sys.argv[1]), len(frame).to_bytes(4, "big") + frame)
import pulumi
"""

FORGED_REGISTRATION = """
import json, os, sys
message = json.dumps({"kind": "register", "registration": {
    "urn": "urn:pulumi:prod::other::aws:s3/bucket:Bucket::x", "type": "aws:s3/bucket:Bucket", "name": "x",
    "custom": True}}).encode()
os.write(int(sys.argv[1]), len(message).to_bytes(4, "big") + message)
import pulumi
"""

NESTED_COMPONENTS = """
from pulumi import ComponentResource, ResourceOptions
class Layer(ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Layer", name, None, opts)
parent = None
for i in range(1200):
    parent = Layer(f"layer{i}", ResourceOptions(parent=parent))
"""

FOREIGN_PARENT = """
from pulumi import ComponentResource, ResourceOptions
class Thing(ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Thing", name, None, opts)
elsewhere = Thing("elsewhere", ResourceOptions(urn="urn:pulumi:prod::other::test:index:Thing::elsewhere"))
Thing("child", ResourceOptions(parent=elsewhere))
"""

LATE_THREAD = """
import threading
import pulumi
from pulumi.runtime import settings
from pulumi.runtime.proto import resource_pb2
monitor = settings.get_monitor()
def late():
    for i in range(20000):
        try:
            monitor.RegisterResource(resource_pb2.RegisterResourceRequest(type="test:index:Late", name=f"late{i}"))
        except Exception:
            return
threading.Thread(target=late, daemon=True).start()
"""

SUBPROCESSES = """
import subprocess, sys
import pulumi
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
# out of the process group, and orphaned: only the guard's sweep finds it
subprocess.Popen(["setsid", sys.executable, "-c",
                  "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])"])
"""

BIG_VALUE = """
import pulumi
assert len(pulumi.Config().require("big")) == 200_000
"""

HANGING_PACK = """
import pathlib, time
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def hang(args, report_violation):
    pathlib.Path("entered").touch()
    time.sleep(3600)

PolicyPack("hanging-pack", enforcement_level=EnforcementLevel.MANDATORY,
           policies=[ResourceValidationPolicy(name="hang", description="never returns", validate=hang)])
"""


PACK_WITH_CHILDREN = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
from fixture_rules import pack
pack()
"""


def fifo(path: Path) -> None:
    os.mkfifo(path)


def self_link(path: Path) -> None:
    os.symlink(path.name, path)


def device(path: Path) -> None:
    os.symlink("/dev/zero", path)


def directory(path: Path) -> None:
    path.mkdir()


def project_directory(tmp: Path) -> list[str]:
    (tmp / "prog" / "Pulumi.yaml").mkdir(parents=True)
    return args_for(program(tmp, project=None))


def fifo_main(tmp: Path) -> list[str]:
    d = program(tmp, project=PROJECT + "main: entry.py\n")
    os.mkfifo(d / "entry.py")
    return args_for(d)


def unexecutable_venv(tmp: Path) -> list[str]:
    d = pack(tmp)
    python = d / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o644)
    return ["--program", str(program(tmp)), "--policy-pack", str(d)]


def big_value(with_a_pack: bool) -> Callable[[Path], list[str]]:
    def setup(tmp: Path) -> list[str]:
        d = program(tmp, stack=f"config:\n  p:big: {'x' * 200_000}\n", main=BIG_VALUE)
        return ["--program", str(d), "--policy-pack", str(PACK) if with_a_pack else "none"]

    return setup


def output_into(flag: str, where: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    return lambda tmp: args_for(program(tmp), flag, str(where(tmp)))


def existing_dir(tmp: Path) -> Path:
    (tmp / "out").mkdir()
    return tmp / "out"


def same_file_twice(tmp: Path) -> list[str]:
    return args_for(program(tmp), "--json", str(tmp / "r.out"), "--markdown", str(tmp / "r.out"))


def stuck_pack(tmp: Path) -> list[str]:
    d = Path(shutil.copytree(FIXTURES / "stuck_pack", tmp / "stuck_pack"))
    return ["--program", str(program(tmp)), "--policy-pack", str(d), "--pack-start-timeout", "2", "--pack-processes", "1"]


def hanging_pack_args(tmp: Path) -> list[str]:
    """A pack whose policy never returns (it first touches `entered` in the pack directory)."""
    d = tmp / "pack"
    d.mkdir()
    (d / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (d / "__main__.py").write_text(HANGING_PACK)
    return ["--program", str(program(tmp)), "--policy-pack", str(d), "--pack-processes", "1"]


def unwritable(tmp: Path) -> Path:
    (tmp / "r.json").write_text("")
    (tmp / "r.json").chmod(0o444)
    return tmp / "r.json"


AS_ROOT = os.geteuid() == 0

CASES = [
    # Files
    Case("stack file not UTF-8", "files", with_stack(b"config:\n  p:x: caf\xe9\n"), 2,
         "error (config error): {tmp}/prog/Pulumi.dev.yaml: not UTF-8 text (byte 0xe9 at offset 18)"),
    Case("project file not UTF-8", "files", with_project(b"name: caf\xe9\nruntime: python\n"), 2,
         "{tmp}/prog/Pulumi.yaml: not UTF-8 text (byte 0xe9 at offset 9)"),
    Case("Pulumi.yaml is a directory", "files", project_directory, 2,
         "{tmp}/prog/Pulumi.yaml: is a directory, not a regular file"),
    Case("Pulumi.yaml is a YAML list", "files", with_project("- name\n- runtime\n"), 2,
         "{tmp}/prog/Pulumi.yaml: expected a mapping at the top level, found a list"),
    Case("stack config: is a list", "files", with_stack("config:\n  - a\n"), 2,
         "{tmp}/prog/Pulumi.dev.yaml: 'config' must be a mapping"),
    Case("project config: is a list", "files", with_project(PROJECT + "config: [a, b]\n"), 2,
         "error (config error): Pulumi.yaml: 'config' must be a mapping of keys to values or type declarations"),
    Case("recursive YAML alias", "files", with_stack("config:\n  p:x: &a [*a]\n"), 2,
         "Pulumi.dev.yaml: recursive YAML alias *a (line 2): it is inside its own value"),
    Case("stack file is a symlink loop", "files", special_stack(self_link), 2,
         "{tmp}/prog/Pulumi.dev.yaml: symlink loop (too many levels of symbolic links)"),
    Case("stack file permission denied", "files", with_stack(STACK), 2,
         "{tmp}/prog/Pulumi.dev.yaml: permission denied", patch=lambda mp: deny(mp, "open", "Pulumi.dev.yaml")),
    Case("program folder permission denied", "files", with_stack(STACK), 2,
         "error (config error): {tmp}/prog: permission denied", patch=lambda mp: deny(mp, "lstat", "Pulumi.yaml")),
    Case("stack file is a FIFO", "files", special_stack(fifo), 2,
         "{tmp}/prog/Pulumi.dev.yaml: is a FIFO (named pipe), not a regular file"),
    Case("stack file is a device", "files", special_stack(device), 2,
         "{tmp}/prog/Pulumi.dev.yaml: is a character device, not a regular file"),
    Case("program entry point is a FIFO", "files", fifo_main, 2, "entry.py is not a regular file"),
    Case("billion laughs", "files", with_stack(billion_laughs()), 2,
         "Pulumi.dev.yaml: more than 100000 values once its aliases are expanded (line 6)"),
    Case("over a thousand aliases", "files",
         with_stack("config:\n  p:a: &a x\n  p:b: [" + ", ".join(["*a"] * 1001) + "]\n"), 2,
         "Pulumi.dev.yaml: more than 1000 YAML aliases (line 3)"),
    Case("nested 100 deep", "files", with_stack("config:\n  p:x: " + "[" * 100 + "]" * 100 + "\n"), 2,
         "Pulumi.dev.yaml: nested deeper than 64 levels (line 2)"),
    Case("50 MB stack file", "files", special_stack(sparse_file(50 * 1024 * 1024)), 2,
         "Pulumi.dev.yaml: 52428800 bytes, over the limit of 2 MiB"),
    Case("duplicate key", "files", with_stack("config:\n  p:a: 1\n  p:a: 2\n"), 2,
         "Pulumi.dev.yaml: invalid YAML at line 3, column 3: found duplicate key 'p:a'"),
    Case("YAML python tag", "files",
         lambda tmp: args_for(program(tmp, stack=f"config: !!python/object/apply:os.system ['touch {tmp}/pwned']\n")),
         2, "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'",
         check=no_file("pwned")),
    Case("YAML syntax error", "files", with_stack("config: [\n"), 2,
         "Pulumi.dev.yaml: invalid YAML at line 2, column 1: did not find expected node content"),
    # Values
    Case("config value YAML reads as a date", "values", with_stack("config:\n  p:when: 2024-01-01\n"), 2,
         "Pulumi.dev.yaml: config.p:when: 2024-01-01 is a YAML date (line 2), not a config value;"
         " quote it to pass it as a string"),
    Case("config value YAML reads as binary", "values", with_stack("config:\n  p:blob: !!binary aGVsbG8=\n"), 2,
         "Pulumi.dev.yaml: config.p:blob: aGVsbG8= is YAML binary data (!!binary) (line 2), not a config value"),
    Case("config value is a YAML set", "values", with_stack("config:\n  p:s: !!set {a, b}\n"), 2,
         "config.p:s: is a YAML set (!!set) (line 2), not a config value"),
    Case("200 KB config value reaches the program", "values", big_value(with_a_pack=False), 0,
         stdout="no mandatory policy violations"),
    Case("200 KB config value and a pack", "values", big_value(with_a_pack=True), 2,
         "bytes for one environment variable, so no policy pack can be started with it (the Pulumi CLI hands packs"
         " their config the same way); the largest value is 'p:big' (200000 bytes)"),
    # Outputs
    Case("--json into a directory", "outputs", output_into("--json", existing_dir), 2,
         "error (output error): --json {tmp}/out: is a directory"),
    Case("--json into a missing folder", "outputs", output_into("--json", lambda tmp: tmp / "missing" / "r.json"), 2,
         "error (output error): --json {tmp}/missing/r.json: folder {tmp}/missing does not exist"),
    Case("--json to an unwritable file", "outputs", output_into("--json", unwritable), 2,
         "error (output error): --json {tmp}/r.json: cannot write: permission denied",
         patch=lambda mp: deny_open(mp, "r.json")),
    Case("--json to /dev/full", "outputs", output_into("--json", lambda _tmp: Path("/dev/full")), 2,
         "error (output error): --json /dev/full: cannot write: no space left on device"),
    Case("--markdown into a directory", "outputs", output_into("--markdown", existing_dir), 2,
         "error (output error): --markdown {tmp}/out: is a directory"),
    Case("--export-state into a missing folder", "outputs",
         lambda tmp: [*output_into("--export-state", lambda tmp: tmp / "no" / "s.json")(tmp), "--mode", "update"], 2,
         "error (output error): --export-state {tmp}/no/s.json: folder {tmp}/no does not exist"),
    Case("two reports into one file", "outputs", same_file_twice, 2,
         "error (usage error): --json and --markdown both write to {tmp}/r.out"),
    Case("--json - and --graph both on stdout", "outputs", with_stack(STACK, "--json", "-", "--graph", "dot"), 2,
         "error (usage error): --json and --graph would all write to stdout"),
    Case("stdout is /dev/full", "outputs", with_stack(STACK), 2,
         "error (output error): cannot write the report to stdout: no space left on device",
         cli=True, stdout_file="/dev/full"),
    # Packs and policy config
    Case("PulumiPolicy.yaml invalid YAML", "packs", with_pack(policy_yaml="runtime: [python\n"), 2,
         "error (policy pack error): {tmp}/pack/PulumiPolicy.yaml: invalid YAML at line 2, column 1"),
    Case("PulumiPolicy.yaml is a list", "packs", with_pack(policy_yaml="- runtime\n"), 2,
         "{tmp}/pack/PulumiPolicy.yaml: expected a mapping at the top level, found a list"),
    Case("pack virtualenv python not executable", "packs", unexecutable_venv, 2,
         "error (policy pack error): cannot start the policy pack with {tmp}/pack/venv/bin/python: permission denied"),
    Case("policy config nested 500 deep", "packs", with_policy_config(b'{"a": ' + b"[" * 500 + b"]" * 500 + b"}"), 2,
         "error (policy pack error): policy pack config {tmp}/policy-config.json: nested deeper than 64 levels"),
    Case("policy config not UTF-8", "packs", with_policy_config(b'{"log-retention": "adv\xefsory"}'), 2,
         "policy pack config {tmp}/policy-config.json: not UTF-8 text (byte 0xef at offset 22)"),
    Case("policy config is a FIFO", "packs", with_policy_config(None, fifo), 2,
         "policy pack config {tmp}/policy-config.json: is a FIFO (named pipe), not a regular file"),
    Case("policy config is a directory", "packs", with_policy_config(None, directory), 2,
         "policy pack config {tmp}/policy-config.json: is a directory, not a regular file"),
    Case("pack hangs before reporting its port", "packs", stuck_pack, 2,
         "error (policy pack error): policy pack did not report its port within 2 s (--pack-start-timeout)"),
    Case("policy hangs: --rpc-timeout", "packs", lambda tmp: [*hanging_pack_args(tmp), "--rpc-timeout", "2"], 2,
         "error (policy pack error): policy pack Analyze did not answer within 2 s (--rpc-timeout)"),
    Case("pack spawns children that outlive it", "packs", with_pack(main=PACK_WITH_CHILDREN), 1,
         stdout="FAIL: 1 mandatory policy violation(s)"),
    # Flags
    *(
        Case(f"{flag} {value}", "flags", with_stack(STACK, flag, value), 2,
             f"argument {flag}: {value!r} is not a {reason}")
        for flag, value, reason in (
            ("--timeout", "inf", "positive, finite number of seconds"),
            ("--timeout", "nan", "positive, finite number of seconds"),
            ("--timeout", "1e400", "positive, finite number of seconds"),
            ("--timeout", "1e300", "number of seconds up to 86400 (a day)"),
            ("--pack-start-timeout", "1e400", "positive, finite number of seconds"),
            ("--rpc-timeout", "1e300", "number of seconds up to 86400 (a day)"),
            ("--stack", "../../etc/passwd", "stack name (1 to 100 letters, digits, '-', '_' or '.')"),
        )
    ),
    Case("--pack-processes 1000000", "flags", with_stack(STACK, "--pack-processes", "1000000"), 2,
         "argument --pack-processes: '1000000' is more than 16"),
    # Programs
    Case("components nested 1,200 deep", "programs", with_program(NESTED_COMPONENTS), 0,
         stdout="test:index:Layer  layer1199"),
    Case("registrations from a thread after the program returns", "programs",
         lambda tmp: args_for(program(tmp, main=LATE_THREAD), "--json", str(tmp / "r.json")), 0,
         check=consistent_report),
    Case("parent URN from another stack", "programs", with_program(FOREIGN_PARENT, "--timeout", "600"), 2,
         "ValueError: unknown resource urn:pulumi:prod::other::test:index:Thing::elsewhere"),
    Case("program starts subprocesses", "programs", with_program(SUBPROCESSES), 0,
         stdout="no mandatory policy violations"),
    Case("program writes a pickle to the channel", "programs",
         lambda tmp: args_for(program(tmp, main=PICKLE_PAYLOAD.replace("{tmp}", str(tmp)))), 2,
         "error (program error): the program's process sent an invalid message on the engine's channel (not JSON",
         check=no_file("pwned")),
    Case("program forges a registration", "programs", with_program(FORGED_REGISTRATION), 2,
         "(registration 'urn:pulumi:prod::other::aws:s3/bucket:Bucket::x' is not the URN of aws:s3/bucket:Bucket 'x'"
         " in this stack)"),
    Case("program raises: its traceback is shown", "programs", with_program("raise ValueError('from the program')\n"),
         2, "ValueError: from the program", cli=True),
]


def _run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from offline.__main__ import main

    try:
        code = main(["preview", *args])
    except SystemExit as e:  # argparse
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _run_cli(args: list[str], env: dict[str, str], stdout_file: str) -> tuple[int, str, str]:
    with contextlib.ExitStack() as stack:
        stdout = stack.enter_context(open(stdout_file, "w")) if stdout_file else subprocess.PIPE
        proc = subprocess.run(
            [sys.executable, "-m", "offline", "preview", *args],
            cwd=REPO, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=300, env={**os.environ, **env},
        )
    return proc.returncode, proc.stdout or "", proc.stderr


@pytest.fixture
def marker(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A value of MARKER_ENV for this case only (in this process's environment, so inherited by
    whatever main() starts); at the end, nothing started with it may still run."""
    value = uuid.uuid4().hex
    monkeypatch.setenv(MARKER_ENV, value)
    yield value
    left = wait_until_gone(lambda: processes_with_env(MARKER_ENV, value))
    for pid in left:  # not to leave them running after a failure
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running: {left}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, tmp_path: Path, marker: str, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    args = case.setup(tmp_path)
    if case.patch is not None:
        case.patch(monkeypatch)
    if case.cli:
        code, out, err = _run_cli(args, {MARKER_ENV: marker, **case.env}, case.stdout_file)
    else:
        code, out, err = _run_main(args, capsys)
    assert code == case.code, f"exit {code}\n--- stdout\n{out[-2000:]}\n--- stderr\n{err[-3000:]}"
    expected = case.stderr.replace("{tmp}", str(tmp_path))
    assert expected in err, err[-3000:]
    assert case.stdout in out, out[-2000:]
    assert "internal error" not in err and "RecursionError" not in err
    if code == 2 and case.measured == "flags":  # argparse: its usage, then one line
        assert expected in err.strip().splitlines()[-1]
    elif code == 2 and case.measured != "programs":  # a program's own traceback is the user's to see
        lines = err.strip().splitlines()
        ours = lines[: lines.index(PACK_STDERR)] if PACK_STDERR in lines else lines  # then the pack's own stderr
        assert len(ours) == 1, err[-3000:]
    if case.check is not None:
        case.check(tmp_path)


@pytest.mark.skipif(AS_ROOT, reason="root reads and writes files whatever their mode")
@pytest.mark.parametrize("what", ["stack file", "program folder", "--json file"])
def test_permission_denied_for_real(what: str, tmp_path: Path, marker: str, capsys: pytest.CaptureFixture[str]) -> None:
    d = program(tmp_path)
    args = args_for(d)
    target = {"stack file": d / "Pulumi.dev.yaml", "program folder": d, "--json file": unwritable(tmp_path)}[what]
    if what == "--json file":
        args += ["--json", str(target)]
    target.chmod(0o444 if what == "--json file" else 0)
    try:
        code, _out, err = _run_main(args, capsys)
    finally:
        target.chmod(0o755)
    assert code == 2 and "permission denied" in err, err


# ---- the command's process: stdout closed early, internal errors, signals ----------------------------


LONG_REPORT = """
from pulumi import ComponentResource
for i in range(600):  # a text report of ~170 KiB, more than a pipe holds
    ComponentResource("test:index:Wide", f"{i:03}-" + "w" * 250)
"""


@pytest.mark.parametrize("lines_read", [1, 0], ids=["after a line", "before the report"])
def test_stdout_closed_early_is_quiet(lines_read: int, tmp_path: Path, marker: str) -> None:
    """`... | head -1`: the reader goes away after a line, or before anything is written. The rest
    of the report is dropped quietly (no traceback, no "Exception ignored"), and the exit code is
    still the verdict's."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "offline", "preview", *args_for(program(tmp_path, main=LONG_REPORT))],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, MARKER_ENV: marker},
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = [proc.stdout.readline() for _ in range(lines_read)]
    proc.stdout.close()  # as head does after its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert all(line.startswith(b"Offline preview of stack 'dev'") for line in first)
    assert err == "", err


def test_internal_error_is_exit_2_and_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import offline.__main__ as cli

    def bug(*_args: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "load_project", bug)
    code, _out, err = _run_main(args_for(program(tmp_path)), capsys)
    assert code == 2
    assert err == (
        "error (internal error): ZeroDivisionError: a bug (a bug in the offline preview; --verbose shows its traceback)\n"
    )
    code, _out, err = _run_main([*args_for(program(tmp_path)), "--verbose"], capsys)
    assert code == 2
    assert err.startswith("error (internal error): ZeroDivisionError: a bug\nTraceback (most recent call last):")
    assert 'raise ZeroDivisionError("a bug")' in err




@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_while_a_policy_hangs_ends_the_command(signum: int, tmp_path: Path, marker: str) -> None:
    args = [*hanging_pack_args(tmp_path), "--rpc-timeout", "3600"]
    d = tmp_path / "pack"
    proc = subprocess.Popen(
        [sys.executable, "-m", "offline", "preview", *args],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, MARKER_ENV: marker},
    )
    deadline = time.monotonic() + 120
    while not (d / "entered").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (d / "entered").exists(), "the policy never ran"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)  # far below the hour the policy would hang
    assert proc.returncode == 128 + signum, err
    assert err.strip().splitlines()[-1] == f"offline preview: stopped by {signal.Signals(signum).name}"


# ---- the channel from the program's process ---------------------------------------------------------


def _frame(message: object) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return len(body).to_bytes(4, "big") + body


ROOT_URN = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"
BUCKET_URN = "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b"


def _register(urn: str = BUCKET_URN, **fields: object) -> dict:
    reg = {"urn": urn, "type": urn.split("::")[2].rsplit("$", 1)[-1], "name": urn.rsplit("::", 1)[1], "custom": True,
           **fields}
    return {"kind": "register", "registration": reg}


DONE = {"kind": "done", "outputs": {}, "logs": [], "invokes": [], "duration": 0.5}


def _read(*frames: bytes) -> list[tuple[str, object]]:
    import queue

    from offline.language_host import ChannelReader

    read_fd, write_fd = os.pipe()
    data = b"".join(frames)
    writer = threading.Thread(target=lambda: (os.write(write_fd, data) if data else 0, os.close(write_fd)))
    writer.start()
    out: queue.Queue = queue.Queue()
    with os.fdopen(read_fd, "rb") as stream:
        ChannelReader(stream, "p", "dev", True).run(out)
    writer.join()
    return list(out.queue)


def test_channel_accepts_what_the_host_sends() -> None:
    root = _frame(_register(ROOT_URN, custom=False))
    got = _read(root, _frame(_register(parent=ROOT_URN)), _frame({**DONE, "outputs": {ROOT_URN: {"a": 1}}}))
    assert [kind for kind, _ in got] == ["register", "register", "done"]
    assert got[1][1].urn == BUCKET_URN and got[1][1].parent == ROOT_URN
    assert got[2][1]["outputs"] == {ROOT_URN: {"a": 1}}


CHANNEL_CASES = {
    "a pickle": (_frame(pickle.dumps(("register", {"urn": BUCKET_URN}))), "not JSON"),
    "a length over the limit": (b"\xff\xff\xff\xff", "a message of 4294967295 bytes, over the limit of 67108864 bytes"),
    "a torn message": (b"\x00\x00\x00\x64{}", "the stream ends inside a message"),
    "JSON nested 100,000 deep": (_frame(b"[" * 100_000 + b"]" * 100_000), "JSON nested too deeply"),
    "not an object": (_frame([1, 2]), "not an object with a 'kind'"),
    "an unknown kind": (_frame({"kind": "verdict", "pass": True}), "unknown message kind 'verdict'"),
    "an extra field": (_frame({**_register(), "verdict": "pass"}),
                       "a 'register' message has exactly the fields ['kind', 'registration']"),
    "an unknown registration field": (_frame(_register(exitCode=0)), "registration has unknown fields ['exitCode']"),
    "inputs not an object": (_frame(_register(inputs=[1])), "registration.inputs must be an object"),
    "custom not a boolean": (_frame(_register(custom="yes")), "registration.custom must be a bool"),
    "a URN of another stack": (_frame(_register("urn:pulumi:prod::p::aws:s3/bucket:Bucket::b")),
                               "is not the URN of aws:s3/bucket:Bucket 'b' in this stack"),
    "a URN that is not its type's": (_frame({**_register(), "registration": {**_register()["registration"],
                                                                              "type": "aws:ecs/service:Service"}}),
                                     "is not the URN of aws:ecs/service:Service 'b' in this stack"),
    "inputs nested 300 deep": (_frame(_register(inputs=json.loads('{"a": ' + "[" * 300 + "]" * 300 + "}"))),
                               "has values nested deeper than 200 levels"),
    "the same URN twice": (_frame(_register()) + _frame(_register()), f"registration {BUCKET_URN!r} was sent twice"),
    "a parent never registered": (_frame(_register(parent=ROOT_URN)), f"names a parent never registered: {ROOT_URN!r}"),
    "a fake default provider": (_frame(_register(default_provider=True)), "claims to be a default provider"),
    "done for a resource never registered": (_frame({**DONE, "outputs": {BUCKET_URN: {}}}),
                                             "done.outputs names resources never registered"),
    "done with an unknown severity": (_frame({**DONE, "logs": [{"severity": "pass", "message": "m"}]}),
                                      "done.logs[0].severity must be one of"),
    "done with a NaN duration": (_frame(b'{"kind": "done", "outputs": {}, "logs": [], "invokes": [], "duration": NaN}'),
                                 "done.duration must be a finite number of seconds"),
    "done with a field more": (_frame({**DONE, "exitCode": 0}), "a 'done' message has exactly the fields"),
    "an error of another shape": (_frame({"kind": "error", "error": {"code": 0}}), "error.error has exactly the fields"),
    "an error that is not text": (_frame({"kind": "error", "error": {"kind": "ProgramError", "cause": 0, "detail": "",
                                                                     "warnings": []}}), "error.error.cause must be a str"),
}


@pytest.mark.parametrize("name", list(CHANNEL_CASES))
def test_channel_refuses(name: str) -> None:
    """Each message the host never sends ends the stream as `invalid`, with the reason, which the
    command reports as a program error (exit 2); nothing after it is read."""
    data, reason = CHANNEL_CASES[name]
    got = _read(data, _frame(DONE))
    assert got[-1][0] == "invalid", got
    assert reason in got[-1][1], got[-1][1]
    assert [kind for kind, _ in got[:-1]] == ["register"] * (len(got) - 1)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_killed_command_leaves_nothing_the_program_started(tmp_path: Path, marker: str) -> None:
    """SIGKILL of the command (nothing of it runs afterwards): the guard of the program's process
    learns it from the kernel (PR_SET_PDEATHSIG) and clears the program's process tree, including
    what left its process group."""
    main = SUBPROCESSES + "import time\ntime.sleep(3600)\n"
    proc = subprocess.Popen(
        [sys.executable, "-m", "offline", "preview", *args_for(program(tmp_path, main=main), "--timeout", "3600")],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, MARKER_ENV: marker},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        sleepers = [p for p in processes_with_env(MARKER_ENV, marker) if b"time.sleep(600)" in _cmdline(p)]
        if len(sleepers) == 2 or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert len(sleepers) == 2, "the program never started its subprocesses"
    proc.kill()
    proc.wait(timeout=60)
    # the marker fixture asserts that nothing with the marker is left
