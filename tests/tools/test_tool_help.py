"""Every tool prints its usage on --help and changes nothing."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
# name -> (command, working directory). A new script with a `__main__` guard must be listed here.
TOOLS: dict[str, tuple[list[str], Path]] = {
    "offline": ([PY, "-m", "offline", "--help"], ROOT),
    "offline preview": ([PY, "-m", "offline", "preview", "--help"], ROOT),
    "components.reference": ([PY, "-m", "components.reference", "--help"], ROOT),
    "components.aws_limits_doc": ([PY, "-m", "components.aws_limits_doc", "--help"], ROOT),
    "ecs_guardrails.docs": ([PY, "-m", "ecs_guardrails.docs", "--help"], ROOT / "policies"),
    "tools/actionlint.cjs": (["node", "tools/actionlint.cjs", "--help"], ROOT),
    **{f"{p.parent.name}/{p.name}": ([PY, str(p.relative_to(ROOT)), "--help"], ROOT)
       for p in sorted([*ROOT.glob("tools/*.py"), *ROOT.glob("bench/*.py")])},
}
# Entry points that are not tools: run by the preview itself, with arguments it passes.
NOT_TOOLS = {"offline/language_host.py", "offline/pack_bootstrap.py", "offline/child_process.py"}  # run by the preview only
MAIN_GUARD = re.compile(r"""^if __name__ == ["']__main__["']:""", re.MULTILINE)


def _tool_name(path: Path) -> str:
    relative = path.relative_to(ROOT)
    if relative.parts[0] in ("tools", "bench"):
        return str(relative)
    module = relative.with_suffix("")
    if relative.parts[0] == "policies":
        module = module.relative_to("policies")
    return ".".join(module.parts).removesuffix(".__main__")


def _files() -> dict[str, str]:
    """sha256 and mtime of every file git sees (tracked, and untracked but not ignored): a rewrite
    with the same bytes still counts as a change."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True, timeout=60).stdout.decode()
    hashes = {}
    for name in filter(None, listed.split("\0")):
        path = ROOT / name
        if path.is_symlink():
            hashes[name] = "link:" + str(path.readlink())
        elif path.is_file():
            hashes[name] = f"{hashlib.sha256(path.read_bytes()).hexdigest()} {path.stat().st_mtime_ns}"
    return hashes


def test_every_script_is_listed() -> None:
    scripts = {
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if not {"venv", "node_modules", "tests"} & set(p.relative_to(ROOT).parts) and MAIN_GUARD.search(p.read_text())
    }
    unlisted = {s for s in scripts - NOT_TOOLS if _tool_name(ROOT / s) not in TOOLS}
    assert not unlisted, f"add these to TOOLS (their --help is checked): {sorted(unlisted)}"


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_help_prints_usage_and_changes_nothing(name: str) -> None:
    command, cwd = TOOLS[name]
    if command[0] == "node":
        command = [shutil.which("node") or "node", *command[1:]]
    before = _files()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    after = _files()
    changed = sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))
    assert not changed, f"`{' '.join(command[1:])}` changed {changed}"
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("usage: "), proc.stdout
    assert "--help" in proc.stdout
