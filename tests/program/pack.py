"""Runs a recorded program through the real ecs-guardrails pack (policies/) with a config file."""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

from .harness import ROOT, Recorder

sys.path.insert(0, str(ROOT / "tests" / "policies"))
from pack_driver import Analyzer, StackResource, urn_of

EXAMPLES = ROOT / "examples"


def example_config(name: str) -> dict[str, Any]:
    """The `config:` of examples/Pulumi.<name>.yaml."""
    return yaml.safe_load((EXAMPLES / f"Pulumi.{name}.yaml").read_text())["config"]


def examples() -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in EXAMPLES.glob("Pulumi.*.yaml"))


def diagnostics(rec: Recorder, stack: str, pack_config: str) -> list[Any]:
    """Every diagnostic of the pack (per resource, then the stack rules) over the recorded resources."""
    analyzer = Analyzer(json.loads((ROOT / "policies" / "config" / f"{pack_config}.json").read_text()))
    found, resources = [], []
    for r in rec.resources:
        if r.type.startswith(("ecs-platform:", "awsx:")):
            continue
        found += analyzer.analyze(r.type, r.inputs, r.name)
        resources.append(StackResource(r.type, r.name, r.inputs, urn_of(r.type, r.name, stack)))
    return found + analyzer.analyze_stack(resources)


def mandatory(rec: Recorder, stack: str, pack_config: str) -> list[str]:
    return [f"{d.policy} {d.urn}: {d.message}" for d in diagnostics(rec, stack, pack_config) if d.level == "mandatory"]
