"""Exemption tags, and the hand-off of an exempted rule's findings to the advisory companion policies.

A resource exempts itself from named policies with the tags `ecs-guardrails:exempt` (names separated by
commas or spaces) and `ecs-guardrails:reason`. An exempted rule must stay silent, yet its findings must
still be shown: a mandatory policy cannot emit an advisory diagnostic (the level is fixed per policy), so
the exempted rule leaves its findings here and the advisory companions in `exemptions`
(`ecs-guardrails-exemptions`, `ecs-guardrails-stack-exemptions`) take and report them.

Why a module-global stash is safe: pulumi_policy's servicer runs the pack's policies one after another, in
list order, on one thread within a single Analyze (or AnalyzeStack) call, and `pack.build_rules` puts the
companions after every rule they report on. Findings are keyed by the resource's URN (stack findings by
`STACK_KEY`), so calls for other resources, served on other gRPC worker threads, do not mix; a lock guards
the dict itself. The companion takes (removes) the entry in the same call, and a rule that finds nothing
clears its entry, so a finding reaches only the companion of the call that produced it (with a companion
disabled by config, an entry waits at most until that URN is analyzed again)."""

from __future__ import annotations

import re
import threading
from typing import Any

from .values import Unknown, get

EXEMPT_TAG = "ecs-guardrails:exempt"
REASON_TAG = "ecs-guardrails:reason"
STACK_KEY = "__stack__"  # the stash key of the stack rules' exempted findings


def exemption(props: Any) -> tuple[list[str], str | None] | None:
    """(exempted policy names, reason or None) from the resource's tags; None when not exempt or unknown."""
    tags = get(props, "tags")
    if not isinstance(tags, dict):
        return None
    names = tags.get(EXEMPT_TAG)
    if not isinstance(names, str) or not names.strip():
        return None
    # Commas or spaces separate names: ECS tag values do not allow commas.
    policies = [n for n in re.split(r"[,\s]+", names) if n]
    reason = tags.get(REASON_TAG)
    if isinstance(reason, Unknown):
        return policies, "(reason unknown during preview)"
    return policies, reason.strip() if isinstance(reason, str) and reason.strip() else None


def exempt_reason(props: Any, rule_name: str) -> str | None:
    """The reason when the resource validly exempts itself from the rule (an exemption needs a reason)."""
    ex = exemption(props)
    if ex is None or ex[1] is None or rule_name not in ex[0]:
        return None
    return ex[1]


# {key (URN or STACK_KEY): {rule name: [messages]}}
_STASH: dict[str, dict[str, list[str]]] = {}
_STASH_LOCK = threading.Lock()


def stash(key: str, rule_name: str, messages: list[str]) -> None:
    """Leave the exempted findings of `rule_name` for the companion; no messages clears a stale entry."""
    with _STASH_LOCK:
        if messages:
            _STASH.setdefault(key, {})[rule_name] = messages
        elif key in _STASH:
            _STASH[key].pop(rule_name, None)


def take_stash(key: str) -> dict[str, list[str]]:
    """The findings left for `key` ({rule name: [messages]}), removed."""
    with _STASH_LOCK:
        return _STASH.pop(key, {})
