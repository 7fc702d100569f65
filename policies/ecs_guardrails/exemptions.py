"""The exemption policies.

`ecs-guardrails-exemption-reason` is the governance policy: its knobs are the organisation's rules for
exemptions (`exemption_governance`). It runs before every other policy of each Analyze call, publishes those
rules for them (each rule honours only the exemptions they allow) and reports every exemption that breaks
them: a policy that may not be exempted, a missing, short or non-matching reason, a malformed expiry date or
one beyond the maximum lifetime.

A mandatory policy cannot emit an advisory diagnostic (its level is fixed per policy), so a rule that honours
an exemption stays silent and hands what it suppressed to advisory companions that run last:
`ecs-guardrails-exemptions` (per resource) and `ecs-guardrails-stack-exemptions` (stack rules) report one
note per honoured exemption, in the format `honoured_note` writes (the offline preview reads it back into
its report's `exemptions`), plus lapsed exemptions and names that are not policies of the pack."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from .exemption_governance import (
    DEFAULT_MIN_REASON_LENGTH,
    POLICY_NAME,
    Governance,
    check_tags,
    default_exemptable,
    refusal,
    utc_today,
)
from .exemption_handoff import EXEMPT_TAG, EXPIRES_TAG, REASON_TAG, STACK_KEY, Honoured, exemption_tags
from .rule import ADVISORY, LOW, MANDATORY, MEDIUM, Ctx, Res, Rule, StackCtx

ALL = ("*",)


def honoured_note(policy: str, h: Honoured) -> str:
    """The companions' note for an honoured exemption. Its first line is a format the offline preview parses:
    `exempt from '<policy>' (expires YYYY-MM-DD|no expiry), reason: <reason>`."""
    head = f"exempt from '{policy}' ({f'expires {h.expires}' if h.expires else 'no expiry'}), reason: {h.reason}"
    if not h.findings:
        return f"{head}\n  nothing suppressed: no finding of this policy here"
    return "\n".join([head, *(f"  suppressed: {f}" for f in h.findings)])


def check_governance(ctx: Ctx) -> Iterator[str]:
    gov = Governance.from_settings(ctx.cfg)
    state = ctx.shared
    if state is not None:
        state.publish(gov)  # for the policies that run after this one in this call (see exemption_handoff)
    tags = exemption_tags(ctx.props)
    if tags is None:
        return
    for name in tags.policies:
        why = refusal(name, gov, state.policies if state is not None else {})
        if why:
            yield why
    check = check_tags(tags, gov, utc_today())
    yield from check.problems
    if check.unknown is not None:
        ctx.unknowns.append(check.unknown)  # the reason or date decides at deploy


def check_exempted(ctx: Ctx) -> Iterator[str]:
    state = ctx.shared
    if state is None:
        return
    for rule_name, entries in sorted(state.take(ctx.urn).items()):
        for h in entries:
            yield honoured_note(rule_name, h)
    tags = exemption_tags(ctx.props)
    if tags is None:
        return
    for name in tags.policies:
        if state.policies and name not in state.policies:
            close = difflib.get_close_matches(name, list(state.policies), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "typo?"
            yield f"tag {EXEMPT_TAG} names '{name}', which is not a policy of this pack ({hint})"
    lapsed = check_tags(tags, state.governance, utc_today()).lapsed
    if lapsed:
        yield (
            f"the exemption from {', '.join(tags.policies)} lapsed on {lapsed} ({EXPIRES_TAG}): the named "
            "policies are enforced again; remove the exemption tags, or renew them with a new date and reason"
        )


def check_stack_exempted(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    state = ctx.shared
    if state is None:
        return
    by_urn = {r.urn: r for r in ctx.resources}
    for rule_name, entries in sorted(state.take(STACK_KEY).items()):
        for h in entries:
            yield honoured_note(rule_name, h), by_urn.get(h.urn)


def governance_rule(rules: list[Rule]) -> Rule:
    """The governance policy for a pack of `rules` (its `exemptable` list names them)."""
    exemptible = [r.name for r in rules if r.exemptible and not r.completes]
    return Rule(
        name=POLICY_NAME,
        description=(
            f"Exemptions ({EXEMPT_TAG}) name only exemptable policies and carry a real {REASON_TAG} and, when "
            f"required, an {EXPIRES_TAG} date within the allowed lifetime; the policies honour no other."
        ),
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=ALL,
        check=check_governance,
        remediation_steps=(
            f"Remove the exemption and fix the resource, or give {REASON_TAG} the reason and approver (and ticket "
            f"id when required) and {EXPIRES_TAG} a date (YYYY-MM-DD) within the allowed lifetime."
        ),
        config={
            "exemptable": {
                "type": "array",
                "items": {"type": "string", "enum": exemptible},
                "uniqueItems": True,
                "default": default_exemptable(rules),
                "description": (
                    "The policies a resource may exempt itself from (the whole list: a config replaces it). "
                    "Default: ecs-service-load-balancer-required and the policies the pack makes advisory."
                ),
            },
            "minReasonLength": {
                "type": "integer",
                "minimum": 1,
                "maximum": 256,
                "default": DEFAULT_MIN_REASON_LENGTH,
                "description": f"Fewest characters in {REASON_TAG}.",
            },
            "reasonPattern": {
                "type": "string",
                "default": "",
                "description": f"Regular expression {REASON_TAG} must contain (re.search), e.g. a ticket id; empty: any.",
            },
            "maxLifetimeDays": {
                "type": "integer",
                "minimum": 0,
                "maximum": 3650,
                "default": 0,
                "description": f"When above 0, every exemption needs {EXPIRES_TAG} at most this many days ahead.",
            },
        },
        exemptible=False,
    )


RESOURCE_RULES = [
    Rule(
        name="ecs-guardrails-exemptions",
        description=(
            "Reports, as advisory notes, each exemption honoured (with its reason, expiry and the violations it "
            "suppresses), lapsed exemptions and exemption tags naming no policy of the pack."
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
        description="Reports, as advisory notes, each exemption a stack-level policy honoured and what it suppresses.",
        level=ADVISORY,
        severity=LOW,
        resource_types=("stack",),
        stack=True,
        check=check_stack_exempted,
        remediation_steps="Review exemptions periodically.",
        exemptible=False,
    ),
]
