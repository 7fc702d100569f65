"""Rules over load balancers, listeners and target groups (aws:lb/... and aws:alb/... tokens, classic ELB)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .resource_types import LB_TYPES, LISTENER_TYPES, TARGET_GROUP_TYPES
from .rule import ADVISORY, HIGH, LOW, MANDATORY, MEDIUM, Controls, Ctx, Rule
from .values import Unknown, as_list, get, to_bool

CLASSIC_ELB = "aws:elb/loadBalancer:LoadBalancer"


def _is_alb(ctx: Ctx) -> bool | None:
    t = ctx.get("loadBalancerType")
    if not ctx.known(t):
        return None
    return t in (None, "application")


def check_classic(ctx: Ctx) -> Iterator[str]:
    yield "classic load balancers are not allowed: use an Application Load Balancer (aws.lb.LoadBalancer)"


def check_drop_invalid_headers(ctx: Ctx) -> Iterator[str]:
    if not _is_alb(ctx):
        return
    v = ctx.get("dropInvalidHeaderFields")
    if ctx.known(v) and to_bool(v) is not True:
        yield "dropInvalidHeaderFields is not true: set dropInvalidHeaderFields true on the ALB"


def fix_drop_invalid_headers(ctx: Ctx) -> dict[str, Any] | None:
    if (
        _is_alb(ctx)
        and ctx.known(ctx.get("dropInvalidHeaderFields"))
        and to_bool(ctx.get("dropInvalidHeaderFields")) is not True
    ):
        return {"dropInvalidHeaderFields": True}
    return None


def check_deletion_protection(ctx: Ctx) -> Iterator[str]:
    v = ctx.get("enableDeletionProtection")
    if ctx.known(v) and to_bool(v) is not True:
        yield (
            "enableDeletionProtection is not true: set it true (turn it off explicitly before a "
            "planned delete)"
        )


def check_access_logs(ctx: Ctx) -> Iterator[str]:
    logs = ctx.get("accessLogs")
    if not ctx.known(logs):
        return
    enabled, bucket = get(logs, "enabled"), get(logs, "bucket")
    if not (ctx.known(enabled) and ctx.known(bucket)):
        return
    if not bucket or to_bool(enabled) is False:
        yield "access logs are off: set accessLogs {bucket: <S3 bucket>, enabled: true}"


def check_desync(ctx: Ctx) -> Iterator[str]:
    if not _is_alb(ctx):
        return
    v = ctx.get("desyncMitigationMode")
    if ctx.known(v) and isinstance(v, str) and v.lower() == "monitor":
        yield "desyncMitigationMode is 'monitor': use 'defensive' (default) or 'strictest'"


def _redirects_to_https(action: Any) -> bool:
    return (
        get(action, "type") == "redirect"
        and str(get(action, "redirect", "protocol", default="")).upper() == "HTTPS"
    )


def check_http_redirect(ctx: Ctx) -> Iterator[str]:
    proto = ctx.get("protocol", default="HTTP")  # the ALB listener default
    if not ctx.known(proto) or not isinstance(proto, str) or proto.upper() != "HTTP":
        return
    if ctx.cfg.get("allowPlainHttp"):
        return
    actions = ctx.get("defaultActions")
    if not ctx.known(actions):
        return
    actions = as_list(actions)
    if any(isinstance(v, Unknown) for a in actions for v in (get(a, "type"), get(a, "redirect", "protocol"))):
        ctx.known(Unknown(path=".defaultActions"))
        return
    if not actions or not all(
        _redirects_to_https(a) for a in actions if get(a, "type") != "authenticate-oidc"
    ):
        yield (
            f"HTTP listener on port {ctx.get('port')} does not redirect to HTTPS: set its default action to "
            "{type: 'redirect', redirect: {protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301'}}"
        )


def check_tls_policy(ctx: Ctx) -> Iterator[str]:
    proto = ctx.get("protocol")
    if not ctx.known(proto) or not isinstance(proto, str) or proto.upper() not in ("HTTPS", "TLS"):
        return
    policy = ctx.get("sslPolicy")
    if not ctx.known(policy):
        return
    allowed = [p for p in as_list(ctx.cfg.get("allowedSslPolicies")) if isinstance(p, str)]
    if policy not in allowed:
        shown = policy if policy else "unset (AWS default ELBSecurityPolicy-2016-08)"
        yield f"sslPolicy is {shown}: use one of {', '.join(allowed)}"


def check_health_check(ctx: Ctx) -> Iterator[str]:
    if ctx.get("targetType") == "lambda":
        return
    hc = ctx.get("healthCheck")
    if not ctx.known(hc):
        return
    if to_bool(get(hc, "enabled")) is False:
        yield "healthCheck.enabled is false: enable health checks so ECS replaces unhealthy tasks"
        return
    proto, path = get(hc, "protocol", default=ctx.get("protocol") or "HTTP"), get(hc, "path")
    if not (ctx.known(proto) and ctx.known(path) and ctx.known(get(hc, "enabled"))):
        return
    if str(proto).upper() in ("HTTP", "HTTPS") and not path:
        yield "healthCheck has no path: set healthCheck {path: '/health', matcher: '200-399', ...}"


TLS_DEFAULTS = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
]

RULES = [
    Rule(
        name="lb-no-classic-elb",
        description="No classic Elastic Load Balancers.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=(CLASSIC_ELB,),
        check=check_classic,
        remediation_steps="Replace the classic ELB with an Application Load Balancer and target groups.",
        controls=Controls(cdk_nag=("AwsSolutions-ELB1",)),
    ),
    Rule(
        name="lb-drop-invalid-headers",
        description="Application Load Balancers drop invalid HTTP header fields.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=LB_TYPES,
        check=check_drop_invalid_headers,
        remediate=fix_drop_invalid_headers,
        remediation_steps="Set dropInvalidHeaderFields true (remediable).",
        controls=Controls(fsbp=("ELB.4",), checkov=("CKV_AWS_131",)),
    ),
    Rule(
        name="lb-deletion-protection",
        description="Load balancers have deletion protection.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=LB_TYPES,
        check=check_deletion_protection,
        remediation_steps="Set enableDeletionProtection true.",
        controls=Controls(fsbp=("ELB.6",), checkov=("CKV_AWS_150",)),
    ),
    Rule(
        name="lb-access-logs",
        description="Load balancers write access logs to S3.",
        level=ADVISORY,
        severity=LOW,
        resource_types=LB_TYPES,
        check=check_access_logs,
        remediation_steps="Set accessLogs {bucket, enabled: true} with a bucket policy for the ELB service.",
        controls=Controls(fsbp=("ELB.5",), cdk_nag=("AwsSolutions-ELB2",), checkov=("CKV_AWS_91",)),
    ),
    Rule(
        name="lb-desync-mitigation",
        description="ALBs use defensive or strictest desync mitigation.",
        level=ADVISORY,
        severity=LOW,
        resource_types=LB_TYPES,
        check=check_desync,
        remediation_steps="Set desyncMitigationMode 'defensive' or 'strictest'.",
        controls=Controls(fsbp=("ELB.12",)),
    ),
    Rule(
        name="lb-http-redirects-to-https",
        description="HTTP listeners redirect to HTTPS (config may allow plain HTTP, e.g. dev).",
        level=MANDATORY,
        severity=HIGH,
        resource_types=LISTENER_TYPES,
        check=check_http_redirect,
        remediation_steps=(
            "Make the HTTP listener's default action a redirect to HTTPS (HTTP_301) and serve on an HTTPS "
            "listener."
        ),
        config={
            "allowPlainHttp": {
                "type": "boolean",
                "default": False,
                "description": "Allow HTTP listeners that serve traffic (no certificate).",
            }
        },
        controls=Controls(fsbp=("ELB.1",), checkov=("CKV_AWS_2",)),
    ),
    Rule(
        name="lb-https-tls-policy",
        description="HTTPS/TLS listeners use an allowed TLS security policy.",
        level=MANDATORY,
        severity=HIGH,
        resource_types=LISTENER_TYPES,
        check=check_tls_policy,
        remediation_steps="Set sslPolicy to a TLS 1.2+/1.3 policy from the allowed list.",
        config={
            "allowedSslPolicies": {
                "type": "array",
                "items": {"type": "string"},
                "default": TLS_DEFAULTS,
                "description": "Accepted sslPolicy names.",
            }
        },
        controls=Controls(fsbp=("ELB.17",), checkov=("CKV_AWS_103",)),
    ),
    Rule(
        name="lb-target-group-health-check",
        description="Target groups have health checks with a path.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=TARGET_GROUP_TYPES,
        check=check_health_check,
        remediation_steps="Set healthCheck {enabled: true, path, matcher, interval}.",
        controls=Controls(checkov=("CKV_AWS_261",)),
    ),
]
