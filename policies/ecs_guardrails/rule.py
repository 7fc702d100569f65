"""The `Rule` record every rule module declares, what its check sees (`Ctx` for one resource, `StackCtx`
of `Res` for the stack), and shorthands for levels and severities.

Owns the rule's metadata and its settings; knows nothing of pulumi_policy's servicer (see `adapters`) nor
of any AWS resource (see the rule modules)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, Severity

from .values import Malformed, Unknown, get, unwrap

if TYPE_CHECKING:
    from .exemption_handoff import SharedState

# Shorthands used by the rule modules.
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL


@dataclass(frozen=True)
class Controls:
    """Ids of the controls this rule implements in other catalogues ("—" in the README when empty).

    A bare id means the same semantics on the engine's inputs. `relation` maps an id to how the rule differs
    ("stricter: ...", "partial: ..."); the README shows it next to the id, the policy tags show the id only."""

    fsbp: tuple[str, ...] = ()
    cdk_nag: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()
    relation: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


def control_tags(c: Controls) -> list[str]:
    """The controls as policy tags: "fsbp:<id>", "cdk-nag:<id>", "checkov:<id>"."""
    return (
        [f"fsbp:{i}" for i in c.fsbp]
        + [f"cdk-nag:{i}" for i in c.cdk_nag]
        + [f"checkov:{i}" for i in c.checkov]
    )


@dataclass
class Ctx:
    """What a resource check sees: plain properties, resolved settings, and a record of unknowns."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    cfg: dict[str, Any]
    unknowns: list[Unknown] = field(default_factory=list)
    shared: SharedState | None = None  # what the pack instance's policies share (exemptions, settings)

    def get(self, *path: str | int, default: Any = None) -> Any:
        return get(self.props, *path, default=default)

    def known(self, value: Any) -> bool:
        """False (and remembered) when the value is unknown during preview."""
        if isinstance(value, Unknown):
            self.unknowns.append(value)
            return False
        return True


@dataclass
class Res:
    """A resource as a stack check sees it; deps maps a top-level property to the URNs it depends on."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    deps: dict[str, list[str]]
    parent: str | None = None


@dataclass
class StackCtx:
    """What a stack check sees: every resource of the stack, resolved settings, and a record of unknowns."""

    resources: list[Res]
    cfg: dict[str, Any]
    unknowns: list[Unknown] = field(default_factory=list)
    shared: SharedState | None = None

    def known(self, value: Any) -> bool:
        if isinstance(value, Unknown):
            self.unknowns.append(value)
            return False
        return True


class UnknownSetting(Malformed):
    """The pack config gives a policy a setting it does not have (reported as a violation of that policy)."""


ResourceCheck = Callable[[Ctx], Iterable[str]]
StackCheck = Callable[[StackCtx], Iterable[tuple[str, Res | None]]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One policy: metadata plus a check that yields messages (stack checks yield (message, resource)).

    `level` is the default enforcement level (a pack config may change it); `severity` how bad a violation
    is. `resource_types` lists the type tokens checked ("*" for all; `("stack",)` with `stack=True`).
    `remediate` returns the changed top-level properties, or None. `config` is the JSON schema of the
    rule's settings (each with a default). `exemptible=False` ignores the exemption tags.

    A stack rule that `completes` a resource rule decides that rule's question at preview from the stack view
    (property dependencies), and honours that rule's exemptions; the resource rule then lists in
    `decided_in_stack_view` the top-level properties whose unknown values do not defer it (`pack.build_rules`
    sets it)."""

    name: str
    description: str
    level: EnforcementLevel
    severity: Severity
    resource_types: tuple[str, ...]
    check: Callable[..., Iterable[Any]]
    remediation_steps: str
    remediate: Callable[[Ctx], dict[str, Any] | None] | None = None
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    controls: Controls = field(default_factory=Controls)
    stack: bool = False
    exemptible: bool = True
    completes: str = ""
    decided_in_stack_view: tuple[str, ...] = ()

    def settings(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """Schema defaults overlaid with the configured values (the CLI also resolves defaults).

        A setting the rule does not have raises `UnknownSetting`: the Analyzer protocol's config schema
        carries only `properties` and `required`, so the CLI cannot refuse unknown settings itself."""
        merged = {k: v["default"] for k, v in self.config.items() if "default" in v}
        for k, v in dict(given or {}).items():
            if k not in self.config:
                raise UnknownSetting(self.unknown_setting(str(k)))
            merged[k] = unwrap(v)
        return merged

    def unknown_setting(self, key: str) -> str:
        """The message for a config setting `key` this rule does not have."""
        close = difflib.get_close_matches(key, list(self.config), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = f"its settings are {', '.join(self.config)}" if self.config else "it has no settings"
        return (
            f"the pack config gives {self.name} the setting {key!r}, which it does not have{hint}; {known}. "
            "Fix the policy config: until then this policy reports this on every resource it checks"
        )

    @property
    def config_schema(self) -> PolicyConfigSchema | None:
        # Closed in spirit: `settings` refuses other keys at run time, and the offline preview validates with
        # additionalProperties false (pulumi_policy's PolicyConfigSchema and the protocol carry no such key).
        return PolicyConfigSchema(properties=self.config) if self.config else None

    def applies_to(self, resource_type: str) -> bool:
        return "*" in self.resource_types or resource_type in self.resource_types
