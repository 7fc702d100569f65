"""Update mode's fake values never make a policy fire that the real values would not.

Every stack of the repository (dev, prod and the workloads example through the same program), and
the fixture program with the shapes of public ECS programs (an image pushed to a repository of the
stack and referenced by digest, one by the repository's URL and a tag, lookups, a stack reference,
an awsx component), runs through the real pack in both modes. Update mode differs from preview
only in values the cloud assigns (ids, ARNs, URLs, digests), which `offline.fakes` and
`offline.invokes` make up. So:
- each finding of update mode is one preview reports too (same policy, resource and message), or
  one preview could not decide (the SDK's "can't run policy during preview" advisory on that policy
  and resource: a value it reads was unknown until deployment);
- nothing preview decided disappears (a fake does not hide a finding);
- no mandatory finding is new in update mode: these programs set every value a rule reads in a
  compliant way, so a mandatory finding that only update mode has would be about a value the cloud
  assigned, i.e. about a fake (as `image 'x-repoDigest-9e89' has no tag` was).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from offline_testlib import FIXTURES, REPO, run_cli

NETWORK_OUTPUTS = {"vpcId": "vpc-0a1b2c3d4e5f60718"}
URN = "urn:pulumi:dev::lookup-app::"
UNDECIDED = "during preview"


def _program(name: str, tmp_path: Path) -> tuple[Path, str, list[str]]:
    """(program dir, stack, extra CLI arguments) of each case."""
    if name in ("dev", "prod"):
        return REPO, name, []
    if name == "workloads":  # the example stack file next to the repository's program
        program = tmp_path / "program"
        program.mkdir()
        for entry in ("Pulumi.yaml", "__main__.py", "components"):
            (program / entry).symlink_to(REPO / entry)
        shutil.copy(REPO / "examples" / "Pulumi.workloads.yaml", program)
        return program, "workloads", ["--policy-pack-config", str(REPO / "policies" / "config" / "prod.json")]
    outputs = tmp_path / "network.json"
    outputs.write_text(json.dumps(NETWORK_OUTPUTS))
    return FIXTURES / "lookup_program", "dev", ["--stack-reference", f"acme/network/prod={outputs}"]


def _findings(report: dict) -> set[tuple[str, str, str, str]]:
    return {(d["policyName"], d["urn"], d["enforcementLevel"], d["message"]) for d in report["diagnostics"]}


@pytest.mark.parametrize("case", ["dev", "prod", "workloads", "lookup_program"])
def test_update_mode_findings_are_preview_findings_or_undecided_in_preview(case: str, tmp_path: Path) -> None:
    program, stack, extra = _program(case, tmp_path)
    reports = {}
    for mode in ("preview", "update"):
        out = tmp_path / f"{mode}.json"
        proc = run_cli(
            "--program", str(program), "--stack", stack, "--mode", mode, "--json", str(out), *extra, timeout=600
        )
        assert proc.returncode in (0, 1), proc.stderr[-3000:]
        reports[mode] = json.loads(out.read_text())
    preview, update = _findings(reports["preview"]), _findings(reports["update"])
    undecided = {(policy, urn) for policy, urn, _, message in preview if UNDECIDED in message}
    assert not [f for f in update if UNDECIDED in f[3]], "update mode leaves a policy undecided"
    unexplained = sorted(f for f in update - preview if (f[0], f[1]) not in undecided)
    assert unexplained == [], "update-mode findings that preview neither reports nor leaves undecided"
    # Nothing preview decided disappears in update mode (a fake does not hide a finding either).
    lost = sorted(f for f in preview - update if UNDECIDED not in f[3])
    assert lost == [], "preview findings missing from update mode"
    new_mandatory = sorted(f for f in update - preview if f[2] == "mandatory")
    assert new_mandatory == [], "mandatory findings about values only the cloud assigns (fakes)"
    if case == "lookup_program":  # the rules on those values did run in update mode
        assert {("ecs-container-image-pinned", URN + "aws:ecs/taskDefinition:TaskDefinition::worker")} <= undecided
