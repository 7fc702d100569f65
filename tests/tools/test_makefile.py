"""The Makefile: the venv follows its requirements and locks; the documented targets exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_INPUTS = ["requirements.txt", "requirements-dev.txt", "policies/requirements.txt",
               "constraints.txt", "policies/constraints.txt"]
MAKE = shutil.which("make") or "make"


def _targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


@pytest.fixture
def built_checkout(tmp_path: Path) -> Path:
    """The Makefile and the venv's inputs in a scratch directory, with a venv built after them."""
    for name in ["Makefile", *VENV_INPUTS]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
        os.utime(tmp_path / name, (1_000_000, 1_000_000))
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / ".installed").touch()
    return tmp_path


def _dry_run(cwd: Path, *args: str) -> str:
    proc = subprocess.run([MAKE, "-n", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_an_up_to_date_venv_is_left_alone(built_checkout: Path) -> None:
    assert "pip install" not in _dry_run(built_checkout, "venv")


@pytest.mark.parametrize("changed", VENV_INPUTS)
def test_the_venv_is_rebuilt_when_an_input_changes(built_checkout: Path, changed: str) -> None:
    # -W: as if `changed` had just been modified; -n: print the commands, run none.
    commands = _dry_run(built_checkout, "-W", changed, "venv")
    assert "tools/lock.py --check" in commands
    assert "rm -rf venv" in commands  # afresh: nothing of the old set is left behind
    assert re.search(r"pip install .*-r requirements\.txt -r requirements-dev\.txt -r policies/requirements\.txt", commands)
    assert "ecs-platform.pth" in commands


def test_make_snapshot_regenerates_the_urn_snapshots() -> None:
    assert "tools/urn_snapshot.py" in _dry_run(ROOT, "snapshot")


def test_make_lock_regenerates_the_locks() -> None:
    assert "tools/lock.py" in _dry_run(ROOT, "lock").replace("tools/lock.py --check", "")


def test_every_documented_make_target_exists() -> None:
    documented = set()
    for path in (ROOT / "README.md", ROOT / ".ci" / "run", *sorted((ROOT / ".github" / "workflows").glob("*.yml"))):
        documented |= set(re.findall(r"(?:`|^|run: )make ([a-z][\w-]*)", path.read_text(), re.MULTILINE))
    assert {"preview", "test", "snapshot", "lock"} <= documented
    assert documented <= _targets(), f"not Makefile targets: {sorted(documented - _targets())}"


def test_ci_runs_the_readme_test_command() -> None:
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
    assert "make test      # ruff + the whole test suite" in (ROOT / "README.md").read_text()
