"""Turn a `Rule` into a pulumi_policy policy: `to_resource_policy` and `to_stack_policy`.

The wrappers read the SDK's arguments into `Ctx`/`StackCtx`, honour exemption tags (handing exempted
findings to the companions, see `exemption_handoff`), turn an exception inside a check into a violation
that names the rule, defer a policy whose verdict depends on an unknown (the SDK's preview note), and keep
messages valid UTF-8 for protobuf. Built on the public pulumi_policy API plus `sdk_internals`."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .exemption_handoff import STACK_KEY, exempt_reason, stash
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


def run_resource_check(rule: Rule, ctx: Ctx) -> list[str]:
    """The rule's messages for one resource; an exception becomes one message naming the rule."""
    try:
        return [m for m in rule.check(ctx) if m]
    except Exception as e:
        return [_internal_error(rule, e)]


def _ctx(rule: Rule, args: ResourceValidationArgs) -> Ctx:
    return Ctx(args.resource_type, args.name, args.urn, unwrap(args.props), rule.settings(args.get_config()))


def to_resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        try:
            ctx = _ctx(rule, args)
            reason = exempt_reason(ctx.props, rule.name) if rule.exemptible else None
        except Exception as e:
            report(_utf8(_internal_error(rule, e)))
            return
        findings = run_resource_check(rule, ctx)
        if reason is not None:
            stash(args.urn, rule.name, [f"{m} [exempt: {reason}]" for m in findings])
            return
        stash(args.urn, rule.name, [])
        for message in findings:
            report(_utf8(message))
        _defer_if_unknown(ctx.unknowns)

    remediate = None
    if rule.remediate is not None:
        fix = rule.remediate

        def remediate(args: ResourceValidationArgs) -> dict[str, Any] | None:
            if not rule.applies_to(args.resource_type):
                return None
            try:
                ctx = _ctx(rule, args)
                if exempt_reason(ctx.props, rule.name) is not None:
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
                    unwrap(r.props),
                    deps,
                    r.parent.urn if r.parent is not None else None,
                )
            )
        except Exception:  # an unreadable resource is skipped rather than failing the stack
            continue
    return out


def to_stack_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        try:
            ctx = StackCtx(_stack_resources(args), rule.settings(args.get_config()))
            findings = list(rule.check(ctx))
        except Exception as e:
            report(_utf8(_internal_error(rule, e)))
            return
        exempted: list[str] = []
        for message, res in findings:
            reason = exempt_reason(res.props, rule.name) if res is not None and rule.exemptible else None
            if reason is not None:
                exempted.append(f"{res.name if res else ''}: {message} [exempt: {reason}]")
            else:
                report(_utf8(message), res.urn if res is not None else None)
        stash(STACK_KEY, rule.name, exempted)
        _defer_if_unknown(ctx.unknowns)

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
