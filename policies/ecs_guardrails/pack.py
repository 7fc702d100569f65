"""The pack's rule list and its conversion to pulumi_policy policies. Importing this never starts a server."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from . import (
    autoscaling,
    exemptions,
    iam,
    load_balancers,
    logs,
    security_groups,
    services,
    stack,
    task_definitions,
)
from .core import PACK_NAME, Rule, to_resource_policy, to_stack_policy

DESCRIPTION = (
    "Guardrails for ECS on EC2 behind an ALB: resource limits, logging, load balancing and AWS controls."
)


def build_rules() -> list[Rule]:
    """Every rule, in evaluation order: the exemption companions run after the rules they report on."""
    rules = (
        task_definitions.RULES
        + services.RULES
        + load_balancers.RULES
        + autoscaling.RULES
        + logs.RULES
        + iam.RULES
        + security_groups.RULES
        + exemptions.RESOURCE_RULES
        + stack.RULES
        + exemptions.STACK_RULES
    )
    names = [r.name for r in rules]
    assert len(names) == len(set(names)), "duplicate policy names"
    exemptions.KNOWN_NAMES.update(names)
    return rules


def build_policies() -> list[Policy]:
    return [to_stack_policy(r) if r.stack else to_resource_policy(r) for r in build_rules()]


def make_servicer(version: str = "0.0.1"):  # -> pulumi_policy.policy._PolicyAnalyzerServicer
    """The analyzer servicer PolicyPack would serve, without starting a gRPC server.

    For tests and the offline preview."""
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    return _PolicyAnalyzerServicer(
        PACK_NAME, version, build_policies(), EnforcementLevel.ADVISORY, None, DESCRIPTION
    )
