"""Every stack the project ships or documents, run through the offline preview as the engine would
record it: dev, prod, the example stack and a bridge-mode variant of dev.

`run_preview` copies no code: it points a temporary program directory at the repository's program
(symlinks) and writes the stack file there, then runs `python -m offline preview --json`. The JSON
holds each resource's inputs, options, `dependencies` and `propertyDependencies`: the graph the
engine records and walks in reverse to delete.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "prod", "workloads", "bridge")
MODES = ("preview", "update")


def stack_file(stack: str) -> dict[str, Any]:
    """The stack file's content (`config:` and all) for one of STACKS."""
    if stack == "workloads":
        return yaml.safe_load((ROOT / "examples" / "Pulumi.workloads.yaml").read_text())
    if stack == "bridge":  # dev with every service in bridge mode (instance ports, no task ENIs)
        content = copy.deepcopy(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text()))
        for service in content["config"]["ecs-platform:services"].values():
            service["network_mode"] = "bridge"
        return content
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())


def program_dir(tmp: Path, stack: str, content: dict[str, Any] | None = None) -> Path:
    """A program directory running the repository's program with `content` (default: the stack's
    file) as Pulumi.<stack>.yaml."""
    program = tmp / f"program-{stack}"
    program.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py", "components"):
        link = program / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    (program / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(content or stack_file(stack), sort_keys=False))
    return program


def run_preview(tmp: Path, stack: str, mode: str = "preview", content: dict[str, Any] | None = None) -> list[dict]:
    """The resources the offline preview records for `stack` in `mode` (policy pack skipped)."""
    program = program_dir(tmp, stack, content)
    report = tmp / f"{stack}-{mode}.json"
    proc = subprocess.run(
        [sys.executable, "-m", "offline", "preview", "--program", str(program), "--stack", stack,
         "--mode", mode, "--policy-pack", "none", "--json", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(report.read_text())["resources"]


class Graph:
    """The dependency graph of one preview: a resource depends on its `dependencies` (which include
    every property dependency, and explicit depends_on); destroy deletes dependents first."""

    def __init__(self, resources: list[dict]) -> None:
        self.resources = {r["urn"]: r for r in resources}
        self.edges = {r["urn"]: set(r.get("dependencies", [])) for r in resources}
        for r in resources:  # property dependencies are dependencies too (the engine records both)
            for urns in (r.get("propertyDependencies") or {}).values():
                self.edges[r["urn"]].update(urns)

    def of_type(self, type_: str) -> list[dict]:
        return [r for r in self.resources.values() if r["type"] == type_]

    def one(self, type_: str, name: str | None = None) -> dict:
        found = [r for r in self.of_type(type_) if name is None or r["name"] == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}: {[r['name'] for r in found]}"
        return found[0]

    def closure(self, urn: str) -> set[str]:
        """Everything `urn` depends on, directly or through other resources."""
        seen: set[str] = set()
        stack = list(self.edges.get(urn, ()))
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.edges.get(current, ()))
        return seen

    def depends_on(self, urn: str, other: str) -> bool:
        return other in self.closure(urn)

    def deletion_order(self) -> list[str]:
        """The custom resources in an order `pulumi destroy` may delete them: a resource before
        everything it depends on (reverse topological order; ties by URN, for a stable report)."""
        custom = {u for u, r in self.resources.items() if r.get("custom")}
        dependents: dict[str, set[str]] = {u: set() for u in custom}
        for urn in custom:
            for dep in self.edges[urn] & custom:
                dependents[dep].add(urn)
        waiting = {u: len(dependents[u]) for u in custom}  # dependents not yet deleted
        ready = sorted(u for u, n in waiting.items() if n == 0)
        order: list[str] = []
        while ready:
            urn = ready.pop(0)
            order.append(urn)
            for dep in sorted(self.edges[urn] & custom):
                waiting[dep] -= 1
                if waiting[dep] == 0:
                    ready.append(dep)
            ready.sort()
        assert len(order) == len(custom), "the dependency graph has a cycle"
        return order
