"""tools/pr_comment.py: the PR comment of one stack's offline preview, from its report or its errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "pr_comment.py"
RUN_URL = "https://github.com/acme/ecs-platform/actions/runs/7"


def build(tmp_path: Path, code: int, markdown: str | None = None, stderr: str | None = None,
          note: str | None = None, *extra: str) -> tuple[int, str, str]:
    args = ["--stack", "prod", "--exit-code", str(code), "--output", str(tmp_path / "comment.md"),
            "--artifact", "offline-preview-prod", "--run-url", RUN_URL]
    for flag, text, name in (("--markdown", markdown, "preview.md"), ("--stderr", stderr, "preview.err"),
                             ("--baseline-note", note, "baseline.note")):
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        args += [flag, str(path)]  # an absent file reads as empty, as in the workflow
    proc = subprocess.run([sys.executable, str(TOOL), *args, *extra], capture_output=True, text=True, timeout=60)
    out = tmp_path / "comment.md"
    return proc.returncode, out.read_text() if out.exists() else "", proc.stderr


REPORT = "<!-- offline-preview:ecs-platform:prod -->\n### ✅ Offline preview: `prod` — no changes (112 unchanged)\n"


def test_a_report_is_the_comment_with_a_link_to_the_artifact(tmp_path: Path) -> None:
    code, comment, _ = build(tmp_path, 0, REPORT)
    assert code == 0
    assert comment.startswith(REPORT)
    assert comment.endswith(f"artifact `offline-preview-prod` of [this run]({RUN_URL}#artifacts)._\n")


def test_mandatory_violations_still_post_the_report(tmp_path: Path) -> None:
    assert build(tmp_path, 1, REPORT)[1].startswith(REPORT)


def test_no_baseline_is_said_before_the_report(tmp_path: Path) -> None:
    _, comment, _ = build(tmp_path, 0, REPORT, None, "the preview of the base commit failed (exit 2).\n"
                                                     "error (config error): Pulumi.prod.yaml: bad\n")
    assert comment.startswith("> [!NOTE]\n> No change set against the base branch: the preview of the base commit failed")
    assert "error (config error): Pulumi.prod.yaml: bad" in comment and comment.index(REPORT) > 0


def test_a_config_error_posts_its_lines(tmp_path: Path) -> None:
    stderr = ("error (config error): invalid stack config:\n"
              "  ecs-platform:services.web.cpu: Input should be a valid integer\n"
              "  ecs-platform:services.web.memory: required key is missing\n")
    code, comment, _ = build(tmp_path, 2, None, stderr)
    assert code == 0
    assert comment.startswith("### 💥 Offline preview: `prod` failed (exit 2)")
    assert "a usage, config, baseline, program or policy pack error" in comment
    assert "```text\nerror (config error): invalid stack config:\n  ecs-platform:services.web.cpu:" in comment
    assert "required key is missing\n```" in comment


def test_an_error_containing_a_fence_cannot_close_the_quote(tmp_path: Path) -> None:
    _, comment, _ = build(tmp_path, 2, None, "error: bad ``` value\n")
    assert "````text\nerror: bad ``` value\n````" in comment


def test_a_long_error_keeps_its_last_lines(tmp_path: Path) -> None:
    stderr = "".join(f"Traceback line {n}\n" for n in range(200)) + "error (program error): boom\n"
    _, comment, _ = build(tmp_path, 2, None, stderr)
    assert "error (program error): boom" in comment and "Traceback line 0\n" not in comment
    assert "(the last 40 lines)" in comment


def test_a_report_missing_after_exit_0_is_a_failure(tmp_path: Path) -> None:
    _, comment, _ = build(tmp_path, 0, None, "")
    assert "failed (exit 0)" in comment and "it wrote no report" in comment


def test_a_long_report_is_cut_with_a_note_and_its_blocks_closed(tmp_path: Path) -> None:
    rows = "".join(f"| delete | `svc-{n}` | `aws:iam/role:Role` | |\n" for n in range(5000))
    report = REPORT + "<details><summary>Changed resources</summary>\n\n```\n" + rows + "```\n</details>\n"
    code, comment, _ = build(tmp_path, 0, report, None, None, "--limit", "20000")
    assert code == 0 and len(comment) <= 20_000 < len(report)
    assert "This comment was cut to stay under 20,000 characters" in comment
    assert comment.count("```") % 2 == 0 and comment.count("<details>") == comment.count("</details>")
    assert comment.rstrip().endswith("#artifacts)._")


def test_a_too_small_limit_is_a_usage_error(tmp_path: Path) -> None:
    code, comment, stderr = build(tmp_path, 0, REPORT, None, None, "--limit", "10")
    assert code == 2 and not comment and "--limit must be at least 1000 characters" in stderr
