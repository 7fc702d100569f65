"""Exemption tags, and what the policies of one pack instance hand each other (`SharedState`).

A resource exempts itself from named policies with the tags `ecs-guardrails:exempt` (names separated by
commas or spaces), `ecs-guardrails:reason` and optionally `ecs-guardrails:expires` (YYYY-MM-DD). Whether an
exemption is honoured is the governance's call (`exemption_governance`, configured on the
`ecs-guardrails-exemption-reason` policy). An exempted rule must stay silent, yet its findings must still be
shown: a mandatory policy cannot emit an advisory diagnostic (the level is fixed per policy), so the exempted
rule leaves its findings in the state's stash and the advisory companions in `exemptions`
(`ecs-guardrails-exemptions`, `ecs-guardrails-stack-exemptions`) take and report them.

The state also carries the settings of the resource rules that a stack rule completes at preview
(`preview_references`): each such rule publishes its settings whenever it runs, for the stack rule, since a
policy sees only its own config.

Why shared state is safe: pulumi_policy's servicer runs the pack's policies one after another, in list
order, on one thread within a single Analyze (or AnalyzeStack) call. `pack.build_rules` puts the governance
policy before every rule (it publishes its config for them in that same call) and the companions after every
rule they report on. The engine analyses every resource before AnalyzeStack, so by then each resource policy
has run in the process (the offline preview sends the first resource and AnalyzeStack to the same process);
until a policy has published, readers use the pack's defaults (governance) or defer (settings).

Stash entries are keyed by the resource's URN (stack findings by `STACK_KEY`), so calls for other resources,
served on other gRPC worker threads, do not mix; a lock guards the dict itself. The companion takes
(removes) the entry in the same call, and a rule that honours no exemption clears its entry, so a finding
reaches only the companion of the call that produced it. Each pack instance (`adapters.to_policies`) has its
own state, so two servicers in one process (the tests) never share it."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .values import Unknown, get

if TYPE_CHECKING:
    from .exemption_governance import Governance

EXEMPT_TAG = "ecs-guardrails:exempt"
REASON_TAG = "ecs-guardrails:reason"
EXPIRES_TAG = "ecs-guardrails:expires"
STACK_KEY = "__stack__"  # the stash key of the stack rules' exempted findings


@dataclass(frozen=True)
class ExemptionTags:
    """A resource's exemption tags: the policies it names, its reason (None when missing or blank) and its
    expiry date as written (None when absent); reason and expiry may be `Unknown` during preview."""

    policies: tuple[str, ...]
    reason: str | Unknown | None
    expires: str | Unknown | None


def _text(value: Any) -> str | Unknown | None:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())  # one line, single spaces: reports quote it
    return None


def exemption_tags(props: Any) -> ExemptionTags | None:
    """The resource's exemption tags; None when it names no policy (or the names are unknown)."""
    tags = get(props, "tags")
    if not isinstance(tags, dict):
        return None
    names = tags.get(EXEMPT_TAG)
    if not isinstance(names, str) or not names.strip():
        return None
    # Commas or spaces separate names: ECS tag values do not allow commas.
    policies = tuple(dict.fromkeys(n for n in re.split(r"[,\s]+", names) if n))
    return ExemptionTags(policies, _text(tags.get(REASON_TAG)), _text(tags.get(EXPIRES_TAG)))


@dataclass(frozen=True)
class Honoured:
    """An exemption a rule honoured on a resource, with the findings it suppressed (none when the resource
    complies) and, for stack rules, the URN of the exempted resource."""

    reason: str
    expires: str | None
    findings: tuple[str, ...] = ()
    urn: str = ""


@dataclass
class SharedState:
    """Shared by the policies of one pack instance: the governance in force (published by the governance
    policy at the start of each Analyze call), the pack's policies (name -> whether exemption tags can apply
    to it), the stash of honoured exemptions for the companions, and published settings of rules."""

    default: Governance
    policies: dict[str, bool] = field(default_factory=dict)
    published: Governance | None = None
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    _stash: dict[str, dict[str, list[Honoured]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def governance(self) -> Governance:
        """The configured governance once the governance policy ran in this process, else the pack's
        defaults (which never honour more than a configured governance would by default)."""
        return self.published or self.default

    def publish(self, governance: Governance) -> None:
        self.published = governance

    def stash(self, key: str, rule_name: str, honoured: list[Honoured]) -> None:
        """Leave the exemptions `rule_name` honoured for the companion; an empty list clears a stale entry."""
        with self._lock:
            if honoured:
                self._stash.setdefault(key, {})[rule_name] = honoured
            elif key in self._stash:
                self._stash[key].pop(rule_name, None)

    def take(self, key: str) -> dict[str, list[Honoured]]:
        """The exemptions left for `key` ({rule name: [Honoured]}), removed."""
        with self._lock:
            return self._stash.pop(key, {})
