"""Import the pack as policies/__main__.py does, run it, and report any attribute of pulumi_policy it changed.

    python tests/policies/sdk_snapshot.py [--patch | --break-sdk]

Run in a fresh interpreter (the tests start it as a subprocess). Snapshots every attribute of every
pulumi_policy module and of every class those modules define, imports the pack (and every module of
ecs_guardrails; none may import offline/), builds its policies, drives Configure, Remediate, Analyze and
AnalyzeStack through the servicer, and compares. Prints "unchanged" and exits 0, or one line per changed
attribute and exits 1. For the tests of this check: `--patch` replaces a servicer method after the snapshot
(it must be reported); `--break-sdk` removes pulumi_policy.proxy.UnknownValueError before the pack is
imported (the import must fail with a clear error)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1] / "policies"), str(HERE)]

import pulumi_policy  # noqa: E402


def _sdk_modules() -> list[Any]:
    for info in pkgutil.walk_packages(pulumi_policy.__path__, "pulumi_policy."):
        importlib.import_module(info.name)
    return [
        m
        for name, m in sorted(sys.modules.items())
        if name == "pulumi_policy" or name.startswith("pulumi_policy.")
    ]


def snapshot() -> dict[str, Any]:
    """Every attribute of the SDK's modules and of the classes they define, by dotted name (values kept, so
    their ids stay theirs)."""
    found: dict[str, Any] = {}
    for module in _sdk_modules():
        for name, value in vars(module).items():
            found[f"{module.__name__}.{name}"] = value
            if isinstance(value, type) and value.__module__ == module.__name__:
                for attr, member in vars(value).items():
                    found[f"{module.__name__}.{name}.{attr}"] = member
    return found


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = [f"removed {k}" for k in before if k not in after]
    out += [f"added {k}" for k in after if k not in before]
    out += [f"replaced {k}" for k in before if k in after and after[k] is not before[k]]
    return sorted(out)


def run_pack() -> None:
    """What policies/__main__.py does (short of serving), then one request of each kind."""
    from ecs_guardrails.pack import DESCRIPTION, ENFORCEMENT_LEVEL, PACK_NAME, build_policies

    assert build_policies() and DESCRIPTION and ENFORCEMENT_LEVEL and PACK_NAME
    import ecs_guardrails

    for info in pkgutil.iter_modules(ecs_guardrails.__path__):
        importlib.import_module(f"ecs_guardrails.{info.name}")
    # The published pack stands alone: the offline preview drives it, never the other way round.
    assert not [m for m in sys.modules if m == "offline" or m.startswith("offline.")], (
        "the pack imported offline"
    )

    from pack_driver import UNKNOWN, Analyzer, StackResource, secret

    analyzer = Analyzer({"log-group-retention": "remediate"})
    log_group = {"name": "app", "retentionInDays": 1, "kmsKeyId": secret("arn:aws:kms:eu-west-1:1:key/k")}
    assert analyzer.remediate("aws:cloudwatch/logGroup:LogGroup", log_group) is not None
    diags = analyzer.analyze("aws:ecs/service:Service", {"launchType": "EC2", "cluster": UNKNOWN})
    assert diags, "the service violates something"
    analyzer.analyze_stack([StackResource("aws:cloudwatch/logGroup:LogGroup", "app", log_group)])


def main(argv: list[str]) -> int:
    if "--break-sdk" in argv:
        import pulumi_policy.proxy

        del pulumi_policy.proxy.UnknownValueError
    before = snapshot()
    run_pack()
    if "--patch" in argv:
        import pulumi_policy.policy

        pulumi_policy.policy._PolicyAnalyzerServicer.Analyze = lambda self, request, context: None  # type: ignore[method-assign]
    found = changes(before, snapshot())
    print("\n".join(found) if found else "unchanged")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
