"""The pack's rule list and its conversion to pulumi_policy policies: what `policies/__main__.py` serves.
Importing this never starts a server."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from . import (
    PACK_NAME,
    autoscaling,
    aws_limits,
    exemptions,
    iam,
    load_balancers,
    logs,
    security_groups,
    services,
    stack,
    task_definitions,
)
from .adapters import to_resource_policy, to_stack_policy
from .rule import Rule

# The pack's enforcement level: applies to a policy that sets none (every rule here sets its own).
ENFORCEMENT_LEVEL = EnforcementLevel.ADVISORY
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
        + aws_limits.RULES
        + exemptions.RESOURCE_RULES
        + stack.RULES
        + exemptions.STACK_RULES
    )
    names = [r.name for r in rules]
    assert len(names) == len(set(names)), "duplicate policy names"
    exemptions.KNOWN_NAMES.update(names)
    return rules


def build_policies() -> list[Policy]:
    """The rules as pulumi_policy policies, in evaluation order."""
    return [to_stack_policy(r) if r.stack else to_resource_policy(r) for r in build_rules()]


__all__ = ["DESCRIPTION", "ENFORCEMENT_LEVEL", "PACK_NAME", "build_policies", "build_rules"]
