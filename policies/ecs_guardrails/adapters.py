"""Turn the pack's `Rule`s into pulumi_policy policies: `to_policies` (one pack instance), built from
`to_resource_policy` and `to_stack_policy`.

The wrappers read the SDK's arguments into `Ctx`/`StackCtx`, honour the exemptions the governance allows
(handing the findings they suppress to the companions, see `exemption_handoff`), turn an exception inside a
check (or a setting the rule does not have) into a violation that names the rule, defer a policy whose
verdict depends on an unknown (the SDK's preview note), and keep messages valid UTF-8 for protobuf. Built on
the public pulumi_policy API plus `sdk_internals`."""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from typing import Any

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .exemption_governance import ENFORCE, Decision, Governance, decide, default_exemptable, utc_today
from .exemption_handoff import STACK_KEY, Honoured, SharedState, exemption_tags
from .rule import Ctx, Res, Rule, StackCtx, control_tags
from .sdk_internals import defer_unknown, proxy_target
from .values import Malformed, Unknown, unwrap


def _internal_error(rule: Rule, e: Exception) -> str:
    if isinstance(e, Malformed):
        return str(e)
    return (
        f"could not evaluate '{rule.name}' on this input ({type(e).__name__}: {e}); the properties are "
        "malformed or of an unexpected shape; fix them or exempt the resource with a reason"
    )


def _utf8(message: str) -> str:
    """The message with lone surrogates (from JSON escapes like "\\ud800") escaped: protobuf strings must be
    valid UTF-8, and the servicer raises on anything else."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def _defer_if_unknown(unknowns: list[Unknown]) -> None:
    # The SDK turns this into its advisory "can't run policy during preview" note.
    if unknowns:
        first = unknowns[0]
        defer_unknown(first.sentinel, _utf8(first.path.lstrip(".")) or "?")


def _top_level(path: str) -> str:
    """The top-level property of an unknown's path (".iamInstanceProfile.arn" -> "iamInstanceProfile")."""
    return re.split(r"[.\[]", path.lstrip("."), maxsplit=1)[0]


def run_resource_check(rule: Rule, ctx: Ctx) -> list[str]:
    """The rule's messages for one resource; an exception becomes one message naming the rule."""
    try:
        return [m for m in rule.check(ctx) if m]
    except Exception as e:
        return [_internal_error(rule, e)]


def _ctx(rule: Rule, args: ResourceValidationArgs, state: SharedState | None = None) -> Ctx:
    return Ctx(
        args.resource_type,
        args.name,
        args.urn,
        unwrap(args.props),
        rule.settings(args.get_config()),
        shared=state,
    )


def _decision(rule: Rule, props: Any, state: SharedState, subject: str = "") -> Decision:
    if not rule.exemptible:
        return ENFORCE
    return decide(exemption_tags(props), subject or rule.name, state.governance, utc_today())


def to_policies(rules: list[Rule]) -> list[Policy]:
    """The rules as the policies of one pack instance, in order, sharing one `SharedState`."""
    state = SharedState(
        default=Governance(frozenset(default_exemptable(rules))),
        policies={r.name: r.exemptible and not r.completes for r in rules},
    )
    return [to_stack_policy(r, state) if r.stack else to_resource_policy(r, state) for r in rules]


def to_resource_policy(rule: Rule, state: SharedState) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if rule.decided_in_stack_view:
            # The stack rule completing this one reads its settings (a policy sees only its own config).
            with contextlib.suppress(Exception):  # a bad setting is reported below, where the rule applies
                state.settings[rule.name] = rule.settings(args.get_config())
        if not rule.applies_to(args.resource_type):
            return
        try:
            ctx = _ctx(rule, args, state)
            decision = _decision(rule, ctx.props, state)
        except Exception as e:
            report(_utf8(_internal_error(rule, e)))
            return
        findings = run_resource_check(rule, ctx)
        if decision.honoured is not None:
            state.stash(args.urn, rule.name, [replace(decision.honoured, findings=tuple(findings))])
            return
        state.stash(args.urn, rule.name, [])
        if decision.unknown is not None and findings:
            _defer_if_unknown([decision.unknown])  # whether the exemption holds is known only at deploy
        for message in findings:
            report(_utf8(message))
        _defer_if_unknown([u for u in ctx.unknowns if _top_level(u.path) not in rule.decided_in_stack_view])

    remediate = None
    if rule.remediate is not None:
        fix = rule.remediate

        def remediate(args: ResourceValidationArgs) -> dict[str, Any] | None:
            if not rule.applies_to(args.resource_type):
                return None
            try:
                ctx = _ctx(rule, args, state)
                # Never remediate a resource whose tags exempt it (honoured or not: the validation then
                # reports what the governance refuses), so the outcome never depends on call order.
                tags = exemption_tags(ctx.props)
                if tags is not None and rule.name in tags.policies:
                    return None
                changes = fix(ctx)
                if not changes:
                    return None
                # The SDK's own properties, unknowns and secrets intact, with the changed ones replaced.
                out = dict(proxy_target(args.props))
                out.update(changes)
                return out
            except Exception:
                return None  # a remediation never fails a deployment; the validation still reports

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=rule.level,
        config_schema=rule.config_schema,
        remediate=remediate,
        severity=rule.severity,
        remediation_steps=rule.remediation_steps,
        tags=control_tags(rule.controls),
    )


def _stack_resources(args: StackValidationArgs) -> list[Res]:
    out = []
    for r in args.resources:
        try:
            deps = {k: [d.urn for d in v] for k, v in dict(r.property_dependencies).items()}
            deps["__all__"] = [d.urn for d in r.dependencies]
            out.append(
                Res(
                    r.resource_type,
                    r.name,
                    r.urn,
                    unwrap(r.props, f".{r.name}"),  # unknowns' paths name the resource in preview notes
                    deps,
                    r.parent.urn if r.parent is not None else None,
                )
            )
        except Exception:  # an unreadable resource is skipped rather than failing the stack
            continue
    return out


def to_stack_policy(rule: Rule, state: SharedState) -> StackValidationPolicy:
    subject = rule.completes or rule.name  # whose exemptions apply

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        try:
            ctx = StackCtx(_stack_resources(args), rule.settings(args.get_config()), shared=state)
            findings = list(rule.check(ctx))
            decisions = {r.urn: _decision(rule, r.props, state, subject) for r in ctx.resources}
        except Exception as e:
            report(_utf8(_internal_error(rule, e)))
            return
        suppressed: dict[str, list[str]] = {}
        undecided: list[Unknown] = []
        for message, res in findings:
            decision = decisions.get(res.urn, ENFORCE) if res is not None else ENFORCE
            if decision.honoured is not None:
                suppressed.setdefault(res.urn, []).append(f"{res.name}: {message}")  # type: ignore[union-attr]
            elif decision.unknown is not None:
                undecided.append(replace(decision.unknown, path=f".{res.name}{decision.unknown.path}"))  # type: ignore[union-attr]
            else:
                report(_utf8(message), res.urn if res is not None else None)
        honoured: list[Honoured] = [
            replace(d.honoured, findings=tuple(suppressed.get(urn, ())), urn=urn)
            for urn, d in decisions.items()
            if d.honoured is not None and (urn in suppressed or not rule.completes)
        ]
        state.stash(STACK_KEY, subject, honoured)
        _defer_if_unknown(undecided + ctx.unknowns)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=rule.level,
        config_schema=rule.config_schema,
        severity=rule.severity,
        remediation_steps=rule.remediation_steps,
        tags=control_tags(rule.controls),
    )
