"""End to end on the prod stack: `python -m offline preview --baseline` after renaming a service and
after changing one service's cpu; byte-identical reports from identical runs; the size of the
50-service stack's comment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from offline_testlib import REPO, load_json, run_cli

sys.path.insert(0, str(REPO / "bench"))
from offline_preview import write_program

TIMEOUT = 300  # seconds: generous for a loaded 2-core machine
COMMENT_LIMIT = 60_000
PROD = (REPO / "Pulumi.prod.yaml").read_text()


def program_with(tmp_path: Path, name: str, stack_yaml: str, stack: str = "prod") -> Path:
    """A copy of the program (components shared) whose `stack` config is `stack_yaml`."""
    directory = tmp_path / name
    directory.mkdir()
    for item in ("Pulumi.yaml", "__main__.py", "components"):
        (directory / item).symlink_to(REPO / item)
    (directory / f"Pulumi.{stack}.yaml").write_text(stack_yaml)
    return directory


def replaced(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


RENAMED = replaced(
    PROD,
    ("    api:\n      image:", "    backend:\n      image:"),
    ("        - service: api ", "        - service: backend "),  # web's egress: web calls api by name
    ("log-group:/ecs/ecs-platform-prod/api:*", "log-group:/ecs/ecs-platform-prod/backend:*"),
)
API_CPU = PROD[: PROD.index("    api:")] + replaced(PROD[PROD.index("    api:"):], ("      cpu: 512\n", "      cpu: 1024\n"))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JSON report of prod as it is (the base commit's preview)."""
    path = tmp_path_factory.mktemp("baseline") / "baseline-prod.json"
    proc = run_cli("--stack", "prod", "--json", str(path), timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    return path


def name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def test_renaming_a_service_deletes_its_resources_creates_the_new_ones_and_warns(baseline: Path, tmp_path: Path) -> None:
    head = program_with(tmp_path, "renamed", RENAMED)
    md, report = tmp_path / "comment.md", tmp_path / "report.json"
    proc = run_cli("--program", str(head), "--stack", "prod", "--baseline", str(baseline), "--fail-on-replace",
                   "--markdown", str(md), "--json", str(report), timeout=TIMEOUT)
    data = load_json(report)
    ops = {c["urn"]: c["op"] for c in data["changes"]}
    api = {u for u in ops if "ecs-platform:service:Service" in u and name_of(u).startswith("api")}
    backend = {u for u in ops if "ecs-platform:service:Service" in u and name_of(u).startswith("backend")}
    assert len(api) == len(backend) >= 20
    assert {ops[u] for u in api} == {"delete"} and {ops[u] for u in backend} == {"create"}
    # web's egress to api is renamed with it; the rest of web, the load balancer and the cluster stay.
    changed = {name_of(u): op for u, op in ops.items() if op != "same" and u not in api | backend}
    assert changed == {"web-to-api-8080": "delete", "web-to-backend-8080": "create"}
    for type_, name in [("aws:lb/loadBalancer:LoadBalancer", "alb"), ("aws:ecs/cluster:Cluster", "cluster-cluster"),
                        ("aws:ecs/service:Service", "web-service"), ("aws:ecs/taskDefinition:TaskDefinition", "web-task")]:
        assert [op for u, op in ops.items() if u.endswith(f"{type_}::{name}")] == ["same"], name
    assert data["summary"]["changes"] == {"create": len(backend) + 1, "update": 0, "replace": 0,
                                          "delete": len(api) + 1, "same": len(ops) - 2 * len(api) - 2}
    # The retained log group holding the logs is called out first, and --fail-on-replace blocks.
    warned = [c for c in data["changes"] if c.get("warnings")]
    assert [(name_of(c["urn"]), c["op"]) for c in warned] == [("api-logs", "delete")]
    assert proc.returncode == 1 and data["summary"]["changesBlocked"] and data["summary"]["verdict"] == "pass"
    assert "Blocked by --fail-on-replace" in proc.stdout and "not a policy violation" in proc.stdout
    text = md.read_text()
    assert text.index("> [!WARNING]") < text.index("api-logs") < text.index("<details><summary>Changed resources")
    assert text.index("#### Changes:") < text.index("| Verdict |")


def test_changing_a_services_cpu_replaces_its_task_definition_and_updates_its_service(
        baseline: Path, tmp_path: Path) -> None:
    head = program_with(tmp_path, "cpu", API_CPU)
    outputs = []
    for run in ("first", "second"):  # twice: identical runs give identical reports
        md, report = tmp_path / f"{run}.md", tmp_path / f"{run}.json"
        proc = run_cli("--program", str(head), "--stack", "prod", "--baseline", str(baseline), "--markdown", str(md),
                       "--json", str(report), timeout=TIMEOUT)
        assert proc.returncode == 0, proc.stderr
        outputs.append((proc.stdout, md.read_bytes(), load_json(report)))
    data = outputs[0][2]
    changed = {name_of(c["urn"]): c for c in data["changes"] if c["op"] != "same"}
    assert sorted((n, c["op"]) for n, c in changed.items()) == [("api-service", "update"), ("api-task", "replace")]
    task = changed["api-task"]
    assert "cpu cannot change in place" in task["reasons"] and "containerDefinitions[0].cpu" in task["properties"]
    assert changed["api-service"]["properties"] == ["taskDefinition"]
    assert "| replace | `api-task` |" in outputs[0][1].decode()
    # Determinism: text, Markdown and JSON (but its timings) byte for byte.
    assert outputs[0][0] == outputs[1][0]
    assert outputs[0][1] == outputs[1][1]
    first, second = (json.dumps({k: v for k, v in o[2].items() if k != "timings"}, indent=2) for o in outputs)
    assert first == second and "timings" in data and "timings" not in data["summary"]


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_two_runs_give_the_same_graph(fmt: str) -> None:
    graphs = [run_cli("--stack", "prod", "--policy-pack", "none", "--graph", fmt, timeout=TIMEOUT) for _ in range(2)]
    assert all(g.returncode == 0 for g in graphs), graphs[0].stderr
    assert graphs[0].stdout == graphs[1].stdout and len(graphs[0].stdout.splitlines()) > 200


def comment(tmp_path: Path, markdown: Path, code: int) -> str:
    out = tmp_path / "comment.md"
    proc = subprocess.run(
        [sys.executable, "tools/pr_comment.py", "--stack", "bench", "--exit-code", str(code), "--markdown",
         str(markdown), "--artifact", "offline-preview-bench", "--run-url", "https://github.com/o/r/actions/runs/1",
         "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return "<!-- ecs-platform offline preview: bench -->\n" + out.read_text()  # the marker the workflow adds


def test_the_50_service_stacks_comment_stays_under_the_limit(tmp_path: Path) -> None:
    base_dir, head_dir = tmp_path / "base", tmp_path / "head"
    base_dir.mkdir()
    write_program(base_dir, 50)
    config = (base_dir / "Pulumi.bench.yaml").read_text()
    base_json, base_md = tmp_path / "base.json", tmp_path / "base.md"
    common = ["--stack", "bench", "--policy-pack-config", str(REPO / "policies" / "config" / "dev.json")]
    proc = run_cli("--program", str(base_dir), *common, "--json", str(base_json), "--markdown", str(base_md),
                   timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    plain = comment(tmp_path, base_md, 0)
    assert len(plain) < COMMENT_LIMIT and "Resource tree (7" in plain and "left out of this comment" in plain
    # Every service renamed: ~1,400 changed resources, far more than fit; the comment is cut with notes.
    head_dir.mkdir()
    for item in ("Pulumi.yaml", "__main__.py", "components"):
        (head_dir / item).symlink_to(base_dir / item)
    (head_dir / "Pulumi.bench.yaml").write_text(config.replace("svc-", "app-"))
    head_md = tmp_path / "head.md"
    proc = run_cli("--program", str(head_dir), *common, "--baseline", str(base_json), "--markdown", str(head_md),
                   timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    text = comment(tmp_path, head_md, 0)
    assert len(text) < COMMENT_LIMIT
    assert "more changed resources not shown here" in text and "to delete" in text.splitlines()[2]
    assert text.count("<details>") == text.count("</details>")
    assert "offline-preview-bench" in text
