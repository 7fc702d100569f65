"""Teardown and data safety, read from the options the engine receives (offline preview).

prod keeps its log groups on delete and protects its ALB; dev destroys cleanly: nothing retained
or protected, and the Auto Scaling group is force-deleted despite scale-in protected instances."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def resources(stack: str, tmp_path: Path) -> list[dict]:
    report = tmp_path / f"{stack}.json"
    proc = subprocess.run(
        [sys.executable, "-m", "offline", "preview", "--stack", stack, "--policy-pack", "none", "--json", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(report.read_text())["resources"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_retention_and_protection_per_environment(stack: str, tmp_path: Path) -> None:
    found = resources(stack, tmp_path)
    log_groups = [r for r in found if r["type"] == "aws:cloudwatch/logGroup:LogGroup"]
    albs = [r for r in found if r["type"] == "aws:lb/loadBalancer:LoadBalancer"]
    asg = next(r for r in found if r["type"] == "aws:autoscaling/group:Group")
    assert log_groups and albs
    if stack == "prod":
        assert all(r["options"].get("retainOnDelete") is True for r in log_groups)
        assert all(r["options"].get("protect") is True and r["inputs"]["enableDeletionProtection"] for r in albs)
        assert asg["inputs"].get("forceDelete") is not True
    else:
        protected = [r["urn"] for r in found if r["options"].get("protect") or r["options"].get("retainOnDelete")]
        assert protected == []
        assert asg["inputs"]["forceDelete"] is True
        assert not [r for r in found if r["type"].startswith("aws:s3/")]


def test_services_are_destroyed_before_their_capacity(tmp_path: Path) -> None:
    # Services depend on the capacity provider association, so `destroy` removes them first and
    # the capacity provider is not held by running tasks.
    found = resources("dev", tmp_path)
    association = next(r["urn"] for r in found if r["type"] == "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    for service in (r for r in found if r["type"] == "aws:ecs/service:Service"):
        assert association in service["dependencies"], service["urn"]
