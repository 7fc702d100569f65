"""Every stack in both modes: no mandatory violation, and real verdicts from the rules the
organisation relies on even while computed values are unknown (preview)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))
# Rules whose inputs the program keeps known at preview time (limits, log driver and group, LB).
MUST_DECIDE_AT_PREVIEW = {
    "ecs-container-resource-limits", "ecs-container-logging-required", "ecs-service-load-balancer-required",
    "ecs-log-group-managed", "log-group-retention", "ecs-task-max-containers", "ecs-container-image-pinned",
    "ec2-launch-template-imdsv2", "ecs-capacity-provider-termination-protection", "lb-https-tls-policy",
}


def preview(stack: str, mode: str, tmp_path: Path) -> dict:
    report = tmp_path / f"{stack}-{mode}.json"
    proc = subprocess.run(
        [sys.executable, "-m", "offline", "preview", "--stack", stack, "--mode", mode, "--json", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(report.read_text())


@pytest.mark.parametrize("mode", ["preview", "update"])
@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_the_pack(stack: str, mode: str, tmp_path: Path) -> None:
    report = preview(stack, mode, tmp_path)
    mandatory = [d for d in report["diagnostics"] if d["enforcementLevel"] == "mandatory"]
    assert mandatory == [] and report["summary"]["mandatory"] == 0
    undecided = [d for d in report["diagnostics"]
                 if "during preview" in d["message"] and d["policyName"] in MUST_DECIDE_AT_PREVIEW]
    assert undecided == [], undecided
    if mode == "update":
        assert not [d for d in report["diagnostics"] if "during preview" in d["message"]]
