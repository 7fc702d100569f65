"""Every imported package is declared where its code runs, and the locks pin the full set."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import lock  # noqa: E402

SKIP_DIRS = {"venv", "node_modules", ".git", "__pycache__"}
SOURCES = sorted(p for p in ROOT.rglob("*.py") if not SKIP_DIRS & set(p.relative_to(ROOT).parts))
# Names our own files and folders provide (packages, and the helpers tests and tools put on the path).
LOCAL = {p.stem for p in SOURCES} | {d.name for p in SOURCES for d in p.relative_to(ROOT).parents if d.name}


def imported_modules(path: Path) -> Iterator[str]:
    """The absolute imports of a file, functions' lazy imports included."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def third_party(paths: list[Path]) -> dict[str, set[str]]:
    """Third-party module -> the files that import it."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top not in sys.stdlib_module_names and top not in LOCAL:
                found.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    return found


def distribution_of(module: str) -> str | None:
    """The installed distribution providing `module` (canonical name)."""
    top = module.split(".")[0]
    names = set(metadata.packages_distributions().get(top, []))
    if len(names) > 1:  # a namespace package (google) shared by several distributions
        prefix = module.replace(".", "/")
        names = {n for n in names
                 if any(str(f).startswith(prefix + "/") or str(f) == prefix + ".py" for f in metadata.files(n) or [])}
    return lock.canonical(names.pop()) if len(names) == 1 else None


def pack_files() -> list[Path]:
    """The pack's import closure from policies/__main__.py: what runs under the Pulumi CLI (its
    test helpers, such as ecs_guardrails.testing, run only in venv/)."""
    root = ROOT / "policies"
    seen: set[Path] = set()
    todo = [root / "__main__.py"]
    while todo:
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        package = path.parent
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[Path] = []
            if isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.parent
                if node.level == 0:
                    base = root
                module = base.joinpath(*(node.module or "").split(".")) if node.module else base
                targets = [module, *(module / alias.name for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [root.joinpath(*alias.name.split(".")) for alias in node.names]
            for target in targets:
                # Each package on the way is imported too (its __init__.py).
                for candidate in [target, *target.parents]:
                    if candidate == root or root not in candidate.parents:
                        break
                    todo += [candidate.with_suffix(".py"), candidate / "__init__.py"]
    return sorted(seen)


def declared(*requirements: str) -> set[str]:
    problems: list[str] = []
    names = set().union(*(lock.read_requirements(ROOT, r, problems) for r in requirements))
    assert not problems, problems
    return names


PACK_BOOTSTRAP = ROOT / "offline" / "pack_bootstrap.py"

# Who runs what: each part of the code may import only what its environment's requirements name.
ENVIRONMENTS = {
    "the program": ([ROOT / "__main__.py", *sorted((ROOT / "components").rglob("*.py"))], ("requirements.txt",)),
    "the offline preview": (
        sorted(p for p in (ROOT / "offline").rglob("*.py") if p != PACK_BOOTSTRAP), ("requirements.txt",)
    ),
    # The bootstrap runs in the pack's own interpreter (its virtualenv), like the pack.
    "the policy pack": ([*pack_files(), PACK_BOOTSTRAP], ("policies/requirements.txt",)),
    "tests, tools and bench": (SOURCES, ("requirements.txt", "requirements-dev.txt", "policies/requirements.txt")),
}


def test_the_pack_closure_is_the_pack() -> None:
    names = {str(p.relative_to(ROOT)) for p in pack_files()}
    assert {"policies/__main__.py", "policies/ecs_guardrails/__init__.py"} <= names
    assert len(names) > 5, names  # follows the package's relative imports
    assert "policies/ecs_guardrails/testing.py" not in names


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_every_import_is_declared(environment: str) -> None:
    files, requirements = ENVIRONMENTS[environment]
    names = declared(*requirements)
    problems = []
    for module, importers in sorted(third_party(files).items()):
        distribution = distribution_of(module)
        if distribution is None:
            problems.append(f"{module} (imported by {sorted(importers)[0]}): no installed distribution provides it")
        elif distribution not in names:
            problems.append(f"{module} (imported by {sorted(importers)[0]}) comes from {distribution}, "
                            f"not declared in {' or '.join(requirements)}")
    assert not problems, "\n".join(problems)


def test_the_scan_sees_the_packages_we_use() -> None:
    # Guards the scan itself: these imports are known to be there.
    found = {m.split(".")[0] for m in third_party(SOURCES)}
    assert {"pulumi", "pulumi_aws", "pulumi_policy", "grpc", "google", "pydantic", "yaml", "pytest"} <= found
    assert {distribution_of("google.protobuf"), distribution_of("grpc"), distribution_of("yaml")} == {
        "protobuf", "grpcio", "pyyaml"}


@pytest.mark.parametrize("path", ["constraints.txt", "policies/constraints.txt"])
def test_every_lock_line_is_pinned(path: str) -> None:
    lines = [line for line in (ROOT / path).read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) > 10
    unpinned = [line for line in lines if not lock.PIN.match(line)]
    assert not unpinned, f"{path}: not pinned with ==: {unpinned}"


def test_requirements_agree_with_their_locks() -> None:
    assert lock.check() == []


def test_the_check_names_each_disagreement(tmp_path: Path) -> None:
    for name in ("requirements.txt", "requirements-dev.txt", "constraints.txt", "policies/requirements.txt",
                 "policies/constraints.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(requirements.read_text().replace("pulumi-aws==7.51.1", "pulumi-aws==7.99.0"))
    with (tmp_path / "constraints.txt").open("a") as f:
        f.write("some-package>=1.0\n")
    pack = tmp_path / "policies" / "requirements.txt"
    pack.write_text(pack.read_text().replace("-c constraints.txt\n", ""))
    problems = lock.check(tmp_path)
    assert any("pulumi-aws==7.99.0 but constraints.txt has pulumi-aws==7.51.1" in p for p in problems), problems
    assert any("`some-package>=1.0` is not pinned" in p for p in problems), problems
    assert any(p.startswith("policies/requirements.txt: needs exactly one line `-c constraints.txt`") for p in problems)
    assert len(problems) == 3, problems


def test_the_venv_holds_the_locked_versions() -> None:
    # `make` installs from the locks: every locked package is there, at its locked version.
    problems: list[str] = []
    locked = lock.read_lock(ROOT, "constraints.txt", problems)
    installed = {lock.canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    wrong = {name: (version, installed.get(name)) for name, version in locked.items() if installed.get(name) != version}
    assert not problems and not wrong, f"locked vs installed (run `make venv`): {wrong}"
