"""Resource URNs stay as committed: a rename or re-parent would replace a production resource."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import urn_snapshot  # noqa: E402

REGENERATE = "make snapshot"


@pytest.mark.parametrize("stack", urn_snapshot.stacks())
def test_urns_match_the_committed_snapshot(stack: str) -> None:
    path = urn_snapshot.snapshot_path(stack)
    assert path.exists(), f"no URN snapshot for stack {stack}: run `{REGENERATE}`"
    committed = set(path.read_text().split())
    current = set(urn_snapshot.current_urns(stack))
    gone, new = sorted(committed - current), sorted(current - committed)
    assert not gone, (
        f"{stack}: these URNs would be deleted or replaced (renamed, re-parented or retyped):\n  "
        + "\n  ".join(gone)
        + f"\nUse aliases for renames; if the change is deliberate, run `{REGENERATE}`."
    )
    assert not new, f"{stack}: new resources not in the snapshot:\n  " + "\n  ".join(new) + f"\nRun `{REGENERATE}`."
