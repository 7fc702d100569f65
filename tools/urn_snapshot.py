"""Writes the committed snapshot of every stack's resource URNs, tests/snapshots/urns-<stack>.txt.

A changed URN replaces a production resource (rename, re-parent, new type token). The test suite
compares the offline preview's URNs with the snapshot; after a deliberate change (a new service or
resource, or a rename carried by an alias) regenerate it with:

    make snapshot          # or: venv/bin/python tools/urn_snapshot.py [--stack NAME ...]
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/urn_snapshot.py",
        description="Rewrite tests/snapshots/urns-<stack>.txt from the offline preview of each stack's program.",
        epilog="Only after a deliberate change: a URN that changes replaces a production resource unless aliased.",
    )
    parser.add_argument("--stack", action="append", choices=stacks(), metavar="NAME",
                        help="only this stack (repeatable; default: every Pulumi.<stack>.yaml)")
    args = parser.parse_args(argv)
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for stack in args.stack or stacks():
        urns = current_urns(stack)
        snapshot_path(stack).write_text("\n".join(urns) + "\n")
        print(f"{snapshot_path(stack).relative_to(ROOT)}: {len(urns)} URNs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
