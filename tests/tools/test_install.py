"""The project is installed into its venv: the offline preview runs from any directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _preview_elsewhere(cwd: Path, *args: str) -> dict:
    """`python -m offline preview ... --json -` from `cwd`, with nothing but the venv on the path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "offline", "preview", *args, "--json", "-"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, (
        f"exit {proc.returncode} outside the repository (`make venv` installs the project):\n{proc.stderr}")
    return json.loads(proc.stdout)


@pytest.mark.parametrize("program_args", [(), ("--program", str(ROOT))], ids=["default-program", "program-flag"])
def test_preview_runs_from_another_directory(tmp_path: Path, program_args: tuple[str, ...]) -> None:
    report = _preview_elsewhere(tmp_path, *program_args, "--stack", "dev")
    assert report["project"] == "ecs-platform" and report["stack"] == "dev"
    types = {r["type"] for r in report["resources"]}
    assert {"aws:ecs/cluster:Cluster", "aws:ecs/service:Service"} <= types
    # The default pack, found next to the installed package, ran over them.
    assert report["summary"]["policyPack"].startswith("ecs-guardrails@")
    assert report["summary"]["verdict"] == "pass"
    assert not list(tmp_path.iterdir()), "the preview wrote into its working directory"


def test_the_package_is_the_checkout(tmp_path: Path) -> None:
    # An editable install: the venv imports this checkout's code, not a copy of it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", "import offline; print(offline.__file__)"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == ROOT / "offline" / "__init__.py"
