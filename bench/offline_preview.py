"""Benchmark of the full offline preview (program + every policy of the pack) by service count.

Usage: venv/bin/python bench/offline_preview.py [--services N ...] [--runs K] [--json]

For each N it writes a stack with N services shaped like the dev stack's (distinct paths and
priorities) into a temporary copy of the program, runs `python -m offline preview` K times in
fresh processes, and prints median and min-max wall time, peak RSS (largest process), resource
count and the split the preview reports (program run, pack start, analysis, ...).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def write_program(workdir: Path, services: int) -> None:
    """A copy of the program whose stack `bench` has `services` services."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, workdir / name)
    (workdir / "components").symlink_to(ROOT / "components")
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    shapes = list(config["ecs-platform:services"].values())
    generated = {}
    for i in range(services):
        service = copy.deepcopy(shapes[i % len(shapes)])
        service["routing"] = {"priority": i + 1, "path_patterns": [f"/svc-{i:03d}/*"]}
        generated[f"svc-{i:03d}"] = service
    config["ecs-platform:services"] = generated
    # Each awsvpc service takes up to two ENIs at its peak (a deployment at 200%): Nitro types with
    # trunking (10 task ENIs each) and enough of them (components/config/eni.py).
    config["ecs-platform:cluster"].update(
        instance_types=["m5.large", "m5a.large"], awsvpc_trunking=True, max_size=max(4, -(-services * 3 // 10) + 2)
    )
    (workdir / "Pulumi.bench.yaml").write_text(yaml.safe_dump({"config": config}))


def run_once(workdir: Path) -> dict:
    report = workdir / "report.json"
    command = [sys.executable, "-m", "offline", "preview", "--program", str(workdir), "--stack", "bench",
               "--policy-pack", str(ROOT / "policies"),
               "--policy-pack-config", str(ROOT / "policies" / "config" / "dev.json"), "--json", str(report)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"offline preview failed ({code}):\n{stderr}")
    data = json.loads(report.read_text())
    summary = data["summary"]
    # ru_maxrss (KiB): the largest of the preview process and the pack process it waited for.
    return {"wall": wall, "rss_mib": usage.ru_maxrss / 1024, "resources": summary["resources"],
            "timings": data.get("timings", {}), "mandatory": summary["mandatory"]}


def bench(services: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="ecs-bench-") as tmp:
        workdir = Path(tmp)
        write_program(workdir, services)
        results = [run_once(workdir) for _ in range(runs)]
    walls = [r["wall"] for r in results]
    split = {key: round(statistics.median(r["timings"].get(key, 0.0) for r in results), 3)
             for key in results[0]["timings"]}
    return {
        "services": services, "resources": results[0]["resources"], "runs": runs,
        "median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3), "max_s": round(max(walls), 3),
        "peak_rss_mib": round(max(r["rss_mib"] for r in results), 1),
        "mandatory_violations": results[0]["mandatory"], "split_s": split,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, nargs="+", default=[1, 10, 50, 200])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    if not args.json:
        print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"{args.runs} runs each in fresh processes")
    for n in args.services:
        row = bench(n, args.runs)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            split = " ".join(f"{k}={v:.2f}s" for k, v in row["split_s"].items())
            print(f"services={n:<4} resources={row['resources']:<5} median={row['median_s']:.2f}s "
                  f"min-max={row['min_s']:.2f}-{row['max_s']:.2f}s peak_rss={row['peak_rss_mib']:.0f}MiB "
                  f"mandatory={row['mandatory_violations']} [{split}]", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
