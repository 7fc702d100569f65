"""What an offline preview's verdict rests on: PASS, FAIL or INCOMPLETE.

- FAIL: a mandatory violation.
- INCOMPLETE: no mandatory violation, but some mandatory check could not decide: a policy whose
  configured level is mandatory (or remediate) answered with the SDK's "can't run policy ...
  during preview" note (deferred to deploy), a remote component could not be expanded (its
  children were not analysed), the config disabled a policy the pack makes mandatory, or no
  policy pack ran at all; in an audit (`python -m offline analyze`), also a deployed resource not
  fully checked (an encrypted secret, a pending operation, deletion or replacement).
- PASS: every mandatory check decided and held.

Also reads what the policy config changed (policies disabled, or lowered below the pack's default
level) and the exemptions a pack honoured: pulumi_policy diagnostics are text only, so a pack
that reports honoured exemptions (ecs-guardrails' companions) writes a first line this module
parses, `exempt from '<policy>' (expires YYYY-MM-DD|no expiry), reason: <reason>`.

Owns: these facts and the verdict only; no rendering (see `report`), nothing pack-specific
beyond the two message formats above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .analyzer import AnalysisResult

# The SDK's note for a policy that read an unknown value (pulumi_policy/policy.py, Analyze,
# AnalyzeStack and Remediate).
CANT_RUN = re.compile(
    r"^can't run (?:policy|remediation) '(?P<policy>[^']+)' from policy pack '[^']*' during preview: "
    r"(?P<reason>.*)$",
    re.S,
)
EXEMPTION = re.compile(
    r"^exempt from '(?P<policy>[^']+)' \((?:expires (?P<expires>[0-9]{4}-[0-9]{2}-[0-9]{2})|no expiry)\), "
    r"reason: (?P<reason>.*)$"
)
ENFORCING = ("mandatory", "remediate")
_RANK = {"disabled": 0, "advisory": 1, "mandatory": 2, "remediate": 2}

Kind = Literal["pass", "fail", "incomplete"]


@dataclass(frozen=True)
class PolicyConfigSource:
    """The policy config file applied (`path` as given or found; None: the pack's defaults) and
    the stack's own file (`<pack>/config/<stack>.json`), which may not exist."""

    path: str | None
    own: str
    has_own: bool

    @property
    def shown(self) -> str:
        return self.path or "pack defaults, no config file"

    def warning(self, stack: str) -> str | None:
        if self.has_own:
            return None
        applied = f"{self.path} applies" if self.path else "the pack's defaults apply"
        return f"stack '{stack}' has no policy config file of its own ({self.own}): {applied}"


def shown_path(path: Path) -> str:
    """A found file's path relative to the working directory when it lies inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Deferred:
    policy_name: str
    urn: str
    reason: str


@dataclass(frozen=True)
class Lowered:
    policy_name: str
    default_level: str
    level: str


@dataclass(frozen=True)
class Exemption:
    urn: str
    policy_name: str
    reason: str
    expires: str | None


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    mandatory: int
    advisory: int
    deferred: list[Deferred] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    disabled_mandatory: list[str] = field(default_factory=list)
    lowered: list[Lowered] = field(default_factory=list)
    exemptions: list[Exemption] = field(default_factory=list)
    unanalysed: int = 0
    no_pack: bool = False
    unchecked: int = 0  # an audit's resources not fully checked (encrypted secrets, pending operations, ...)

    def exit_code(self, strict: bool = False) -> int:
        return 1 if self.kind == "fail" or (self.kind == "incomplete" and strict) else 0

    def line(self) -> str:
        """The verdict as the reports' last line."""
        if self.kind == "fail":
            return f"FAIL: {self.mandatory} mandatory policy violation(s), {self.advisory} advisory"
        if self.kind == "pass":
            return f"PASS: no mandatory policy violations ({self.advisory} advisory)"
        return f"INCOMPLETE: no mandatory policy violations ({self.advisory} advisory), but " + "; ".join(
            self.gaps()
        )

    def gaps(self) -> list[str]:
        """Why the verdict is incomplete, one phrase each."""
        gaps = []
        if self.no_pack:
            gaps.append("no policy pack ran (--policy-pack none)")
        if self.deferred:
            gaps.append(f"{len(self.deferred)} mandatory check(s) deferred to deploy")
        if self.unanalysed:
            gaps.append(f"{self.unanalysed} remote component(s) not analysed")
        if self.disabled_mandatory:
            gaps.append(f"the policy config disabled {len(self.disabled_mandatory)} mandatory policy(ies)")
        if self.unchecked:
            gaps.append(f"{self.unchecked} resource(s) not fully checked")
        return gaps


def _levels(analysis: AnalysisResult) -> tuple[dict[str, str], dict[str, str]]:
    """(the pack's default level, the configured level) of each policy."""
    defaults = {p["name"]: p["level"] for p in analysis.policies}
    configured = {**defaults, **{k: c["level"] for k, c in analysis.config.items() if c.get("level")}}
    return defaults, configured


def assess(analysis: AnalysisResult | None, unanalysed: int, unchecked: int = 0) -> Verdict:
    """`unchecked`: resources an audit could not fully check (none in a preview)."""
    if analysis is None:
        return Verdict("incomplete", 0, 0, unanalysed=unanalysed, no_pack=True, unchecked=unchecked)
    mandatory = sum(d.enforcement_level == "mandatory" for d in analysis.diagnostics)
    advisory = sum(d.enforcement_level == "advisory" for d in analysis.diagnostics)
    defaults, configured = _levels(analysis)
    deferred = []
    exemptions: dict[tuple[str, str], Exemption] = {}
    for d in analysis.diagnostics:
        m = CANT_RUN.match(d.message)
        if m and configured.get(m["policy"]) in ENFORCING:
            deferred.append(Deferred(m["policy"], d.urn, m["reason"]))
        for line in d.message.splitlines():
            e = EXEMPTION.match(line)
            if e:
                exemptions.setdefault((d.urn, e["policy"]), Exemption(d.urn, e["policy"], e["reason"], e["expires"]))
    disabled = sorted(n for n, level in configured.items() if level == "disabled" and defaults.get(n, "disabled") != "disabled")
    disabled_mandatory = [n for n in disabled if defaults[n] in ENFORCING]
    lowered = sorted(
        (Lowered(n, defaults[n], level) for n, level in configured.items() if n in defaults and level != "disabled"
         and _RANK.get(level, 1) < _RANK.get(defaults[n], 1)),
        key=lambda x: x.policy_name,
    )
    gap = deferred or unanalysed or disabled_mandatory or unchecked
    kind: Kind = "fail" if mandatory else "incomplete" if gap else "pass"
    return Verdict(
        kind,
        mandatory,
        advisory,
        deferred=deferred,
        disabled=disabled,
        disabled_mandatory=disabled_mandatory,
        lowered=lowered,
        exemptions=list(exemptions.values()),
        unanalysed=unanalysed,
        unchecked=unchecked,
    )
