"""Run one workflow step's `run:` script as the runner does, with stand-ins for `pulumi` and `gh`.

The script runs in bash with the runner's flags (`bash -e`, or `bash --noprofile --norc -eo
pipefail` for `shell: bash`), the step's `env:` (the test gives the value of each expression),
GITHUB_OUTPUT, and real git and jq. Each stand-in records its arguments and working directory
and answers from a table of canned replies keyed by command prefix (the longest prefix wins).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
STAND_INS = ("pulumi", "gh")

STAND_IN = '''#!{python}
"""Stand-in for `{name}` in workflow step tests: records the call, answers from STEP_ANSWERS."""
import json, os, sys
with open(os.environ["STEP_CALLS"], "a") as calls:
    calls.write(json.dumps({{"argv": ["{name}", *sys.argv[1:]], "cwd": os.getcwd()}}) + "\\n")
command = " ".join(["{name}", *sys.argv[1:]])
with open(os.environ["STEP_ANSWERS"]) as f:  # a file: a reply may be larger than an environment variable may hold
    answers = json.load(f)
for prefix in sorted(answers, key=len, reverse=True):
    if command == prefix or command.startswith(prefix + " "):
        code, stdout = answers[prefix]
        sys.stdout.write(stdout)
        sys.exit(code)
'''


@dataclass(frozen=True)
class Call:
    argv: list[str]
    cwd: Path


@dataclass(frozen=True)
class StepRun:
    returncode: int
    output: str  # stdout and stderr, interleaved
    calls: list[Call]
    outputs: dict[str, str]  # what the step wrote to GITHUB_OUTPUT

    def argvs(self, program: str) -> list[list[str]]:
        return [call.argv[1:] for call in self.calls if call.argv[0] == program]


def find_step(workflow: str, job: str, step_id: str) -> dict:
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())["jobs"]
    return next(step for step in jobs[job]["steps"] if step.get("id") == step_id)


def run_step(
    workflow: str, job: str, step_id: str, *, cwd: Path, env: dict[str, str],
    answers: dict[str, tuple[int, str]] | None = None, runner_env: dict[str, str] | None = None,
) -> StepRun:
    step = find_step(workflow, job, step_id)
    assert set(env) == set(step.get("env", {})), f"give a value for each env of {workflow} {job} {step_id}"
    with tempfile.TemporaryDirectory(prefix="workflow-step-") as tmp:
        work = Path(tmp)
        for name in STAND_INS:
            stand_in = work / name
            stand_in.write_text(STAND_IN.format(python=sys.executable, name=name))
            stand_in.chmod(0o755)
        script = work / "script.sh"
        script.write_text(step["run"])
        calls, outputs, replies = work / "calls.jsonl", work / "outputs", work / "answers.json"
        replies.write_text(json.dumps(answers or {}))
        calls.write_text("")
        outputs.write_text("")
        flags = ["--noprofile", "--norc", "-eo", "pipefail"] if step.get("shell") == "bash" else ["-e"]
        result = subprocess.run(
            ["bash", *flags, str(script)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=120,
            env={"PATH": f"{work}{os.pathsep}{os.environ['PATH']}", "HOME": str(work), "LC_ALL": "C.UTF-8",
                 "GITHUB_OUTPUT": str(outputs), "STEP_CALLS": str(calls), "STEP_ANSWERS": str(replies),
                 **(runner_env or {}), **env},
        )
        recorded = [json.loads(line) for line in calls.read_text().splitlines()]
        written = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return StepRun(result.returncode, result.stdout, [Call(c["argv"], Path(c["cwd"])) for c in recorded], written)
