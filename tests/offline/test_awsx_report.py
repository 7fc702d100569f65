"""The policy pack sees inside awsx components: a violation in a child is reported at the child's
URN; a remote component the preview cannot expand is named in every report format."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from offline_testlib import FIXTURES, REPO, load_json, run_cli

PROGRAM = FIXTURES / "awsx_program"
URN = "urn:pulumi:dev::awsx-fixture::"
TASK_DEFINITION = URN + "awsx:ecs:FargateService$awsx:ecs:FargateTaskDefinition$aws:ecs/taskDefinition:TaskDefinition::web"
TRAIL = URN + "awsx:cloudtrail:Trail::trail"


def test_violations_inside_awsx_components_and_unanalysed_components(tmp_path: Path) -> None:
    report_file, markdown_file = tmp_path / "report.json", tmp_path / "comment.md"
    proc = run_cli(
        "--program",
        str(PROGRAM),
        "--policy-pack",
        str(REPO / "policies"),
        "--json",
        str(report_file),
        "--markdown",
        str(markdown_file),
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    report = load_json(report_file)
    jsonschema.validate(report, json.loads((REPO / "offline" / "report.schema.json").read_text()))
    mandatory = {(d["policyName"], d["urn"]): d["message"] for d in report["diagnostics"] if d["enforcementLevel"] == "mandatory"}
    assert "nginx:latest" in mandatory[("ecs-container-image-pinned", TASK_DEFINITION)]
    assert "docker.io" in mandatory[("ecs-container-image-registry", TASK_DEFINITION)]
    assert ("ecs-service-no-public-ip", URN + "awsx:ecs:FargateService$aws:ecs/service:Service::web") in mandatory
    assert ("sg-no-public-ingress", URN + "awsx:ecs:FargateService$aws:ec2/securityGroup:SecurityGroup::web-sg") in mandatory
    log_groups = {urn for policy, urn in mandatory if policy == "log-group-retention"}
    assert URN + "awsx:ecs:FargateService$awsx:ecs:FargateTaskDefinition$aws:cloudwatch/logGroup:LogGroup::web" in log_groups
    assert not any(urn.endswith("::batch") for urn in log_groups)  # 30 days of retention set through awsx
    # The remote component that was not expanded, in every format.
    assert report["unanalysed"] == [{"urn": TRAIL, "type": "awsx:cloudtrail:Trail"}]
    assert report["summary"]["unanalysed"] == 1
    assert any(TRAIL in log["message"] for log in report["logs"] if log["severity"] == "warning")
    assert "Not analysed (1)" in proc.stdout and f"awsx:cloudtrail:Trail  {TRAIL}" in proc.stdout
    markdown = markdown_file.read_text()
    assert "| Not analysed (remote components) | 1 |" in markdown and f"`{TRAIL}`" in markdown
