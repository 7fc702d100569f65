"""Exemption handling. A mandatory policy cannot emit an advisory diagnostic (its level is fixed per policy),
so an exempted rule stays silent and hands its findings to advisory companion policies that run last:
`ecs-guardrails-exemptions` (per resource) and `ecs-guardrails-stack-exemptions` (stack rules).
`ecs-guardrails-exemption-reason` makes an exemption without a reason a violation."""

from __future__ import annotations

from collections.abc import Iterator

from .exemption_handoff import EXEMPT_TAG, REASON_TAG, STACK_KEY, exemption, take_stash
from .rule import ADVISORY, LOW, MANDATORY, MEDIUM, Ctx, Res, Rule, StackCtx

ALL = ("*",)
KNOWN_NAMES: set[str] = set()  # filled by pack.build_rules()


def check_reason(ctx: Ctx) -> Iterator[str]:
    ex = exemption(ctx.props)
    if ex is not None and ex[1] is None:
        yield (
            f"tag {EXEMPT_TAG}={','.join(ex[0])} has no {REASON_TAG} tag: add a reason (who "
            "approved it and why) "
            "or remove the exemption; until then the named policies are enforced"
        )


def check_exempted(ctx: Ctx) -> Iterator[str]:
    for rule_name, messages in sorted(take_stash(ctx.urn).items()):
        for m in messages:
            yield f"exempted from '{rule_name}': {m}"
    ex = exemption(ctx.props)
    if ex is not None and KNOWN_NAMES:
        for name in ex[0]:
            if name not in KNOWN_NAMES:
                yield f"tag {EXEMPT_TAG} names '{name}', which is not a policy of this pack (typo?)"


def check_stack_exempted(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    for rule_name, messages in sorted(take_stash(STACK_KEY).items()):
        for m in messages:
            yield f"exempted from '{rule_name}': {m}", None


RESOURCE_RULES = [
    Rule(
        name="ecs-guardrails-exemption-reason",
        description=f"A resource exempting itself with {EXEMPT_TAG} also carries a non-empty {REASON_TAG} tag.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=ALL,
        check=check_reason,
        remediation_steps=f"Add the {REASON_TAG} tag or remove {EXEMPT_TAG}.",
        exemptible=False,
    ),
    Rule(
        name="ecs-guardrails-exemptions",
        description=(
            "Reports, as advisory notes, the violations that exemption tags suppress, with the reason."
        ),
        level=ADVISORY,
        severity=LOW,
        resource_types=ALL,
        check=check_exempted,
        remediation_steps="Review exemptions periodically; remove them when the resource complies.",
        exemptible=False,
    ),
]
STACK_RULES = [
    Rule(
        name="ecs-guardrails-stack-exemptions",
        description="Reports, as advisory notes, the stack-level violations that exemption tags suppress.",
        level=ADVISORY,
        severity=LOW,
        resource_types=("stack",),
        stack=True,
        check=check_stack_exempted,
        remediation_steps="Review exemptions periodically.",
        exemptible=False,
    ),
]
