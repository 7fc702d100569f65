"""Stack rule over AWS WAF: internet-facing Application Load Balancers are associated with a web ACL
(aws:wafv2/webAclAssociation or the classic aws:wafregional/webAclAssociation) in the same stack, unless
configured as protected elsewhere (Firewall Manager, a CloudFront distribution with its own web ACL)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from .resource_types import LB_TYPES
from .rule import ADVISORY, MEDIUM, Controls, Res, Rule, StackCtx
from .stack import Index
from .values import Unknown, as_list, to_bool

WAF_ASSOCIATIONS = (
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:wafregional/webAclAssociation:WebAclAssociation",
)


def _internet_facing_alb(ctx: StackCtx, lb: Res) -> bool:
    kind, internal = lb.props.get("loadBalancerType"), lb.props.get("internal")
    if not (ctx.known(kind) and ctx.known(internal)):
        return False
    is_alb = not kind or (isinstance(kind, str) and kind.strip().lower() == "application")
    return is_alb and to_bool(internal) is not True


def _names(lb: Res) -> set[str]:
    name = lb.props.get("name")
    return {lb.name} | ({name} if isinstance(name, str) and name else set())


def check_alb_waf(ctx: StackCtx) -> Iterator[tuple[str, Res | None]]:
    ix = Index(ctx.resources)
    associations = ix.of(WAF_ASSOCIATIONS)
    protected = {lb.urn for a in associations for lb in ix.resolve(a, "resourceArn", LB_TYPES)}
    # An association whose target is unknown and unresolved might protect any of the load balancers.
    unresolved = [
        a.props["resourceArn"]
        for a in associations
        if isinstance(a.props.get("resourceArn"), Unknown) and not ix.resolve(a, "resourceArn", LB_TYPES)
    ]
    external = [p for p in as_list(ctx.cfg.get("externallyProtected")) if isinstance(p, str)]
    for lb in ix.of(LB_TYPES):
        if lb.urn in protected or not _internet_facing_alb(ctx, lb):
            continue
        if any(fnmatch.fnmatchcase(n, p) for n in _names(lb) for p in external):
            continue
        if unresolved:
            ctx.known(unresolved[0])
            continue
        yield (
            f"internet-facing ALB '{lb.name}' has no WAF web ACL association in the stack: associate a web ACL "
            "(aws.wafv2.WebAclAssociation with resourceArn = the load balancer's arn), or list the load balancer "
            "in externallyProtected when Firewall Manager or a CloudFront web ACL protects it",
            lb,
        )


RULES = [
    Rule(
        name="lb-alb-waf",
        description="Internet-facing Application Load Balancers are associated with a WAF web ACL.",
        level=ADVISORY,
        severity=MEDIUM,
        resource_types=("stack",),
        stack=True,
        check=check_alb_waf,
        remediation_steps=(
            "Create an aws.wafv2.WebAcl (e.g. with the AWS managed rule groups) and an aws.wafv2.WebAclAssociation "
            "for the load balancer."
        ),
        config={
            "externallyProtected": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Load balancer names or resource names (globs) whose web ACL is managed outside the "
                "stack (Firewall Manager, CloudFront).",
            }
        },
        controls=Controls(
            fsbp=("ELB.16",),
            cdk_nag=("ALBWAFEnabled",),
            checkov=("CKV2_AWS_28",),
            relation={
                "ELB.16": "partial: internet-facing ALBs only",
                "ALBWAFEnabled": "partial: internet-facing ALBs only",
            },
        ),
    ),
]
