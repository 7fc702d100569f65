"""Writes or checks the committed snapshot of every stack's resource URNs.

A changed URN replaces a production resource (rename, re-parent, new type token). The test suite
compares the offline preview's URNs with tests/snapshots/urns-<stack>.txt; after a deliberate
change (new resources, or a rename carried by an alias) regenerate with:

    venv/bin/python tools/urn_snapshot.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "tests" / "snapshots"


def stacks() -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))


def current_urns(stack: str) -> list[str]:
    """The URNs the offline preview records for `stack` (policies skipped: only the program runs).

    Default providers are left out: their URNs carry the plugin version, and a version bump moves
    resources to the new provider without replacing them."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        proc = subprocess.run(
            [sys.executable, "-m", "offline", "preview", "--stack", stack, "--policy-pack", "none",
             "--json", str(report)],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"offline preview of {stack} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        resources = json.loads(report.read_text())["resources"]
        return sorted(r["urn"] for r in resources if not r["type"].startswith("pulumi:providers:"))


def snapshot_path(stack: str) -> Path:
    return SNAPSHOTS / f"urns-{stack}.txt"


def main() -> int:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for stack in stacks():
        urns = current_urns(stack)
        snapshot_path(stack).write_text("\n".join(urns) + "\n")
        print(f"{snapshot_path(stack).relative_to(ROOT)}: {len(urns)} URNs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
