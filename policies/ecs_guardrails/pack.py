"""The pack's rule list and its conversion to pulumi_policy policies: what `policies/__main__.py` serves.
Importing this never starts a server."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from . import (
    PACK_NAME,
    autoscaling,
    aws_limits,
    ecs_exec,
    ecs_launches,
    exemptions,
    iam,
    load_balancers,
    logs,
    preview_references,
    security_groups,
    services,
    stack,
    tags,
    task_definitions,
    waf,
)
from .adapters import to_policies
from .rule import Rule

# The pack's enforcement level: applies to a policy that sets none (every rule here sets its own).
ENFORCEMENT_LEVEL = EnforcementLevel.ADVISORY
DESCRIPTION = (
    "Guardrails for ECS on EC2 behind an ALB: resource limits, logging, load balancing and AWS controls."
)


def build_rules() -> list[Rule]:
    """Every rule, in evaluation order: the exemption governance runs before every rule (it publishes the
    organisation's exemption rules for them), the exemption companions after the rules they report on."""
    resource_rules = (
        task_definitions.RULES
        + services.RULES
        + ecs_launches.RULES
        + ecs_exec.RULES
        + load_balancers.RULES
        + autoscaling.RULES
        + logs.RULES
        + iam.RULES
        + security_groups.RULES
        + tags.RULES
        + [r for r in aws_limits.RULES if not r.stack]
    )
    # Rules whose unknowns at preview a stack rule decides from property dependencies do not defer on them.
    resource_rules = [preview_references.mark_decided(r) for r in resource_rules]
    stack_rules = (
        stack.RULES + iam.STACK_RULES + waf.RULES + [r for r in aws_limits.RULES if r.stack] + preview_references.RULES
    )
    governance = exemptions.governance_rule(resource_rules + stack_rules)
    rules = [governance, *resource_rules, *exemptions.RESOURCE_RULES, *stack_rules, *exemptions.STACK_RULES]
    names = [r.name for r in rules]
    assert len(names) == len(set(names)), "duplicate policy names"
    assert set(preview_references.COVERED) <= set(names), "preview_references completes a rule the pack lacks"
    return rules


def build_policies() -> list[Policy]:
    """The rules as the pulumi_policy policies of one pack instance, in evaluation order."""
    return to_policies(build_rules())


__all__ = ["DESCRIPTION", "ENFORCEMENT_LEVEL", "PACK_NAME", "build_policies", "build_rules"]
