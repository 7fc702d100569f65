"""Builds the pull request comment of one stack's offline preview (.github/workflows/pull-request.yml).

Usage: venv/bin/python tools/pr_comment.py --stack NAME --exit-code N --output FILE
           [--markdown FILE] [--stderr FILE] [--baseline-note FILE] [--artifact NAME --run-url URL]
           [--limit 59500]

- The preview wrote its Markdown report (exit 0 or 1): the comment is that report (the change set
  first, then the verdict and the findings), with a note when the base commit could not be
  previewed (no change set) and a link to the run's artifact holding the full reports.
- It did not (exit 2: a usage, config, baseline, program or pack error; or any other failure): the
  comment says so and quotes the error lines from its stderr, so the author sees them in the PR.
- The comment stays under --limit characters (GitHub refuses more than 65,536; the workflow adds
  a one-line marker): a longer one is cut at a line, open code blocks and <details> closed, with
  a note saying so.
Writes FILE and nothing else; exit 0, or 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LIMIT = 59_500
MAX_ERROR_LINES = 40
MAX_ERROR_CHARS = 6_000


def _read(path: Path | None) -> str:
    if path is None or not path.is_file():
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _quoted_lines(text: str) -> str:
    """The last error lines (the one-line errors come last), in a fence that cannot be closed early."""
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    cut = len(lines) > MAX_ERROR_LINES
    lines = lines[-MAX_ERROR_LINES:]
    body = "\n".join(lines)[-MAX_ERROR_CHARS:]
    fence = "```"
    while fence in body:
        fence += "`"
    head = f"(the last {MAX_ERROR_LINES} lines)\n" if cut else ""
    return f"{head}{fence}text\n{body}\n{fence}"


def failure(stack: str, code: int, stderr: str) -> str:
    kind = {
        2: "a usage, config, baseline, program or policy pack error: fix it and push again",
    }.get(code, "stopped or crashed" if code >= 128 else "it wrote no report")
    lines = [f"### 💥 Offline preview: `{stack}` failed (exit {code})", "",
             f"The preview stopped before writing its report: {kind}.", ""]
    lines.append(_quoted_lines(stderr) if stderr.strip() else "_It printed nothing on stderr; the job log has its output._")
    return "\n".join(lines) + "\n"


def baseline_note(note: str) -> str:
    note = note.strip()
    if not note:
        return ""
    first, _, rest = note.partition("\n")
    text = f"> [!NOTE]\n> No change set against the base branch: {first}\n"
    if rest.strip():
        text += "\n<details><summary>Its error</summary>\n\n" + _quoted_lines(rest) + "\n\n</details>\n"
    return text + "\n"


def artifact_line(artifact: str, run_url: str) -> str:
    if not artifact:
        return ""
    where = f"[this run]({run_url}#artifacts)" if run_url else "this run"
    return (f"\n_Full reports (text with the resource tree, JSON, Markdown): artifact `{artifact}` of {where}._\n")


def fit(body: str, room: int, limit: int) -> str:
    """`body` cut at a line so that it takes at most `room` characters, with a note (the whole
    comment's `limit` is what the note states)."""
    if len(body) <= room:
        return body
    note = (f"\n\n_✂️ This comment was cut to stay under {limit:,} characters (GitHub takes at most 65,536); "
            "the full report is in the artifact._\n")
    room -= len(note) + 40  # the closing fence and </details> below
    kept = body[:room].rsplit("\n", 1)[0]
    closing = []
    if kept.count("```") % 2:
        closing.append("```")
    opened = kept.count("<details>") - kept.count("</details>")
    closing += ["</details>"] * max(opened, 0)
    return kept + ("\n" + "\n".join(closing) if closing else "") + note


def build(args: argparse.Namespace) -> str:
    report = _read(args.markdown)
    if args.exit_code in (0, 1) and report.strip():
        body = baseline_note(_read(args.baseline_note)) + report
    else:
        body = failure(args.stack, args.exit_code, _read(args.stderr))
    tail = artifact_line(args.artifact, args.run_url)
    return fit(body, args.limit - len(tail), args.limit) + tail


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tools/pr_comment.py",
        description="Build the pull request comment of one stack's offline preview.",
        epilog="Used by .github/workflows/pull-request.yml; writes --output and nothing else.",
    )
    parser.add_argument("--stack", required=True)
    parser.add_argument("--exit-code", type=int, required=True, help="the offline preview's exit code")
    parser.add_argument("--markdown", type=Path, help="its --markdown report (absent when it failed)")
    parser.add_argument("--stderr", type=Path, help="its stderr (quoted when it failed)")
    parser.add_argument("--baseline-note", type=Path,
                        help="why there is no change set (the base commit's preview failed, a new stack, ...)")
    parser.add_argument("--artifact", default="", help="name of the workflow artifact with the full reports")
    parser.add_argument("--run-url", default="", help="the workflow run's URL (links the artifact)")
    parser.add_argument("--limit", type=int, default=LIMIT, help=f"most characters in the comment (default {LIMIT})")
    parser.add_argument("--output", type=Path, required=True, help="where to write the comment")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.limit < 1_000:
        _parser().error("--limit must be at least 1000 characters")
    args.output.write_text(build(args), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
