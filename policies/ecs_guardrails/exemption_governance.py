"""Which exemptions the pack honours: the organisation's rules for exemptions (the knobs of the
`ecs-guardrails-exemption-reason` policy, read into `Governance`) applied to one resource's exemption tags.

An exemption of policy P is honoured when P may be exempted (P is in `exemptable`), the reason is at least
`minReasonLength` characters and matches `reasonPattern` (when set), and the `ecs-guardrails:expires` date,
when present (required when `maxLifetimeDays` > 0), is a valid YYYY-MM-DD date after today (UTC) and at most
`maxLifetimeDays` ahead. Otherwise P is enforced. The governance policy reports every problem as a
violation; a lapsed exemption (today is on or after its date) is not a problem, only no longer honoured.

Owns these decisions and their messages; knows nothing of the SDK."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from .exemption_handoff import EXEMPT_TAG, EXPIRES_TAG, REASON_TAG, ExemptionTags, Honoured
from .values import Unknown, to_int

POLICY_NAME = "ecs-guardrails-exemption-reason"  # the policy whose knobs configure the governance
# Mandatory policies that may be exempted by default: workers run without a load balancer.
EXEMPTABLE_MANDATORY_BY_DEFAULT = ("ecs-service-load-balancer-required",)
DEFAULT_MIN_REASON_LENGTH = 10
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
ENFORCED = "until then the named policies are enforced"


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Governance:
    """The organisation's rules for exemptions. `config_error` (an invalid `reasonPattern`) refuses every
    exemption until the config is fixed."""

    exemptable: frozenset[str]
    min_reason_length: int = DEFAULT_MIN_REASON_LENGTH
    reason_pattern: str = ""
    max_lifetime_days: int = 0
    config_error: str = ""

    @classmethod
    def from_settings(cls, cfg: Mapping[str, Any]) -> Governance:
        """From the governance policy's resolved settings (schema defaults included)."""
        names = cfg.get("exemptable")
        pattern = cfg.get("reasonPattern")
        pattern = pattern if isinstance(pattern, str) else ""
        error = ""
        if pattern:
            try:
                re.compile(pattern)
            except re.error as e:
                error = (
                    f"the pack config's reasonPattern {pattern!r} ({POLICY_NAME}) is not a valid regular "
                    f"expression ({e}): no exemption is honoured until it is fixed"
                )
        return cls(
            exemptable=frozenset(n for n in names if isinstance(n, str)) if isinstance(names, list) else frozenset(),
            min_reason_length=max(1, to_int(cfg.get("minReasonLength")) or DEFAULT_MIN_REASON_LENGTH),
            reason_pattern=pattern,
            max_lifetime_days=max(0, to_int(cfg.get("maxLifetimeDays")) or 0),
            config_error=error,
        )


def default_exemptable(rules: Iterable[Any]) -> list[str]:
    """The policies exemptable by default: the mandatory ones listed above and every exemptible rule the pack
    makes advisory by default, in rule order."""
    return [
        r.name
        for r in rules
        if r.exemptible and (r.name in EXEMPTABLE_MANDATORY_BY_DEFAULT or r.level.value == "advisory")
    ]


@dataclass(frozen=True)
class TagCheck:
    """The verdict on an exemption's reason and expiry, whatever policies it names: `problems` refuse it,
    `lapsed` (its date) ends it, `unknown` (the reason or date during preview) leaves it undecided."""

    problems: tuple[str, ...]
    lapsed: str | None
    unknown: Unknown | None
    reason: str
    expires: str | None


def check_tags(tags: ExemptionTags, gov: Governance, today: date) -> TagCheck:
    problems: list[str] = []
    unknown: Unknown | None = None
    reason = tags.reason
    named = ",".join(tags.policies)
    if gov.config_error:
        problems.append(gov.config_error)
    if isinstance(reason, Unknown):
        unknown = Unknown(reason.sentinel, f".tags.{REASON_TAG}")
        reason_text = "(unknown during preview)"
    elif reason is None:
        reason_text = ""
        problems.append(
            f"tag {EXEMPT_TAG}={named} has no {REASON_TAG} tag: add a reason (who approved it and why) or "
            f"remove the exemption; {ENFORCED}"
        )
    else:
        reason_text = reason
        if len(reason) < gov.min_reason_length:
            problems.append(
                f"the {REASON_TAG} {reason!r} is shorter than {gov.min_reason_length} characters: say why the "
                f"resource is exempt and who approved it; {ENFORCED}"
            )
        elif gov.reason_pattern and not gov.config_error and not re.search(gov.reason_pattern, reason):
            problems.append(
                f"the {REASON_TAG} {reason!r} does not match the organisation's reasonPattern "
                f"{gov.reason_pattern!r} (e.g. the approving ticket's id); {ENFORCED}"
            )
    expires, lapsed = tags.expires, None
    expires_text: str | None = None
    if isinstance(expires, Unknown):
        unknown = unknown or Unknown(expires.sentinel, f".tags.{EXPIRES_TAG}")
    elif expires is None:
        if gov.max_lifetime_days:
            problems.append(
                f"the pack config limits exemptions to {gov.max_lifetime_days} days (maxLifetimeDays): add the "
                f"tag {EXPIRES_TAG} with the date it ends (YYYY-MM-DD); {ENFORCED}"
            )
    else:
        expires_text = expires
        day = _date(expires)
        if day is None:
            problems.append(f"the tag {EXPIRES_TAG} {expires!r} is not a date YYYY-MM-DD; {ENFORCED}")
        elif today >= day:
            lapsed = expires
        elif gov.max_lifetime_days and (day - today).days > gov.max_lifetime_days:
            problems.append(
                f"the tag {EXPIRES_TAG} {expires} is more than {gov.max_lifetime_days} days ahead (the pack "
                f"config's maxLifetimeDays): choose an earlier date; {ENFORCED}"
            )
    return TagCheck(tuple(problems), lapsed, unknown, reason_text, expires_text)


def _date(text: str) -> date | None:
    if not DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def refusal(policy: str, gov: Governance, exemptible: Mapping[str, bool]) -> str | None:
    """Why `policy` may not be exempted at all (None when it may); `exemptible` maps every policy of the pack
    to whether exemption tags can apply to it."""
    if policy not in exemptible:
        return None  # not a policy of this pack: the companion notes the typo
    if not exemptible[policy]:
        return f"tag {EXEMPT_TAG} names '{policy}', which no exemption can switch off; it is enforced"
    if policy not in gov.exemptable:
        return (
            f"tag {EXEMPT_TAG} names '{policy}', which may not be exempted: the exemptable list of "
            f"{POLICY_NAME} in the pack config does not name it; '{policy}' is enforced (fix the resource, or "
            "ask the platform team to make the policy exemptable)"
        )
    return None


@dataclass(frozen=True)
class Decision:
    """What a rule does with a resource's exemption tags: `honoured` (suppress the findings), `unknown` (the
    exemption cannot be decided during preview), or neither (enforce)."""

    honoured: Honoured | None = None
    unknown: Unknown | None = None


ENFORCE = Decision()


def decide(tags: ExemptionTags | None, policy: str, gov: Governance, today: date) -> Decision:
    """Whether the rule `policy` honours the exemption the tags declare."""
    if tags is None or policy not in tags.policies or policy not in gov.exemptable:
        return ENFORCE
    check = check_tags(tags, gov, today)
    if check.problems or check.lapsed:
        return ENFORCE
    if check.unknown is not None:
        return Decision(unknown=check.unknown)
    return Decision(honoured=Honoured(check.reason, check.expires))
