"""Rules over load balancers, listeners and target groups (aws:lb/... and aws:alb/... tokens, classic ELB)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .resource_types import LB_TYPES, LISTENER_TYPES, TARGET_GROUP_TYPES
from .rule import ADVISORY, HIGH, LOW, MANDATORY, MEDIUM, Controls, Ctx, Rule
from .values import Unknown, as_list, get, to_bool, to_int

CLASSIC_ELB = "aws:elb/loadBalancer:LoadBalancer"


def _lb_type(ctx: Ctx) -> str | None:
    """application (the default), network or gateway; None when unknown (recorded)."""
    t = ctx.get("loadBalancerType")
    if not ctx.known(t):
        return None
    return t.strip().lower() if isinstance(t, str) and t.strip() else "application"


def _is_alb(ctx: Ctx) -> bool | None:
    t = _lb_type(ctx)
    return None if t is None else t == "application"


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
    kind = _lb_type(ctx)
    if kind is None or kind == "gateway":
        return  # Gateway Load Balancers have no access logs
    logs = ctx.get("accessLogs")
    if not ctx.known(logs):
        return
    enabled, bucket = get(logs, "enabled"), get(logs, "bucket")
    if not ctx.known(enabled):
        return
    if isinstance(bucket, Unknown) and to_bool(enabled) is True:
        return  # a bucket that is only known after the update (an S3 bucket of the stack): never empty
    nlb = " (an NLB logs its TLS listeners only)" if kind == "network" else ""
    if to_bool(enabled) is not True:
        missing = (
            "accessLogs is not set"
            if not logs
            else "accessLogs.enabled is not true (it defaults to false, even with a bucket)"
        )
        yield f"access logs are off: {missing}; set accessLogs {{bucket: <S3 bucket>, enabled: true}}{nlb}"
    elif not isinstance(bucket, str) or not bucket.strip():
        yield f"accessLogs.enabled is true but no bucket is named: set accessLogs.bucket{nlb}"


def check_cross_zone(ctx: Ctx) -> Iterator[str]:
    kind = _lb_type(ctx)
    if kind not in ("network", "gateway"):
        return  # always on for Application Load Balancers
    v = ctx.get("enableCrossZoneLoadBalancing")
    if ctx.known(v) and to_bool(v) is not True:
        yield (
            f"enableCrossZoneLoadBalancing is not true: a {kind} load balancer sends each zone's traffic only "
            "to targets in that zone unless it is on (off by default); set it true"
        )


def check_multi_az(ctx: Ctx) -> Iterator[str]:
    kind = _lb_type(ctx)
    if kind not in ("network", "gateway"):
        return  # AWS itself refuses an Application Load Balancer in fewer than two subnets
    subnets, mappings = ctx.get("subnets"), ctx.get("subnetMappings")
    if not (ctx.known(subnets) and ctx.known(mappings)):
        return
    need = to_int(ctx.cfg.get("minSubnets")) or 2
    n = max(len(as_list(subnets)), len(as_list(mappings)))
    if n < need:
        yield (
            f"the {kind} load balancer is in {n} subnet(s): list at least {need} subnets in different "
            "Availability Zones (subnets or subnetMappings)"
        )


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
    if ctx.get("protocol") is None and ctx.get("port") is None:
        return  # a Gateway Load Balancer listener: it has neither (ALB and NLB listeners need a port)
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


ENCRYPTED_TG_PROTOCOLS = ("HTTPS", "TLS", "QUIC", "TCP_QUIC")


def check_target_group_encrypted(ctx: Ctx) -> Iterator[str]:
    target_type, proto = ctx.get("targetType"), ctx.get("protocol")
    if not (ctx.known(target_type) and ctx.known(proto)):
        return
    if isinstance(target_type, str) and target_type.lower() in ("lambda", "alb"):
        return  # not applicable (FSBP ELB.22)
    if not isinstance(proto, str) or not proto or proto.upper() == "GENEVE" or proto.upper() in ENCRYPTED_TG_PROTOCOLS:
        return
    yield (
        f"protocol is {proto!r}: traffic from the load balancer to the tasks is not encrypted; use HTTPS (or "
        "TLS) with a certificate in the container, or accept it for a private path with an exemption reason"
    )


TLS_DEFAULTS = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",  # recommended with Res-PQ by the ELB guides (2025)
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
]

CLASSIC = "stricter: every Classic Load Balancer is refused"

RULES = [
    Rule(
        name="lb-no-classic-elb",
        description="No classic Elastic Load Balancers.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=(CLASSIC_ELB,),
        check=check_classic,
        remediation_steps="Replace the classic ELB with an Application Load Balancer and target groups.",
        controls=Controls(
            fsbp=("ELB.2", "ELB.3", "ELB.5", "ELB.7", "ELB.8", "ELB.9", "ELB.10", "ELB.14"),
            cdk_nag=(
                "AwsSolutions-ELB1",
                "AwsSolutions-ELB2",
                "AwsSolutions-ELB3",
                "AwsSolutions-ELB4",
                "AwsSolutions-ELB5",
            ),
            checkov=("CKV_AWS_92", "CKV_AWS_127", "CKV_AWS_138", "CKV_AWS_328", "CKV_AWS_376"),
            relation={
                c: CLASSIC
                for c in (
                    "ELB.2", "ELB.3", "ELB.5", "ELB.7", "ELB.8", "ELB.9", "ELB.10", "ELB.14", "AwsSolutions-ELB1",
                    "AwsSolutions-ELB2", "AwsSolutions-ELB3", "AwsSolutions-ELB4", "AwsSolutions-ELB5",
                    "CKV_AWS_92", "CKV_AWS_127", "CKV_AWS_138", "CKV_AWS_328", "CKV_AWS_376",
                )
            },
        ),
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
        controls=Controls(
            fsbp=("ELB.4",), cdk_nag=("ALBHttpDropInvalidHeaderEnabled",), checkov=("CKV_AWS_131",)
        ),
    ),
    Rule(
        name="lb-deletion-protection",
        description="Load balancers have deletion protection.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=LB_TYPES,
        check=check_deletion_protection,
        remediation_steps="Set enableDeletionProtection true.",
        controls=Controls(
            fsbp=("ELB.6",), cdk_nag=("ELBDeletionProtectionEnabled",), checkov=("CKV_AWS_150",)
        ),
    ),
    Rule(
        name="lb-access-logs",
        description=(
            "Application and Network Load Balancers write access logs to S3 (accessLogs.enabled true with a "
            "bucket; it defaults to false even with a bucket)."
        ),
        level=ADVISORY,
        severity=LOW,
        resource_types=LB_TYPES,
        check=check_access_logs,
        remediation_steps="Set accessLogs {bucket, enabled: true} with a bucket policy for the ELB service.",
        controls=Controls(
            fsbp=("ELB.5",),
            cdk_nag=("AwsSolutions-ELB2", "ELBLoggingEnabled"),
            checkov=("CKV_AWS_91",),
            relation={
                "ELB.5": "stricter: Network Load Balancers too; ELB.5 covers ALBs and Classic",
                "AwsSolutions-ELB2": "partial: Gateway Load Balancers, which cannot log, are not flagged",
                "ELBLoggingEnabled": "partial: as for AwsSolutions-ELB2",
            },
        ),
    ),
    Rule(
        name="lb-desync-mitigation",
        description="ALBs use defensive or strictest desync mitigation.",
        level=ADVISORY,
        severity=LOW,
        resource_types=LB_TYPES,
        check=check_desync,
        remediation_steps="Set desyncMitigationMode 'defensive' or 'strictest'.",
        controls=Controls(
            fsbp=("ELB.12",),
            checkov=("CKV_AWS_328",),
            relation={"CKV_AWS_328": "partial: ALBs here; Classic LBs are refused by lb-no-classic-elb"},
        ),
    ),
    Rule(
        name="lb-cross-zone",
        description="Network and Gateway Load Balancers balance across zones (enableCrossZoneLoadBalancing).",
        level=ADVISORY,
        severity=LOW,
        resource_types=LB_TYPES,
        check=check_cross_zone,
        remediation_steps="Set enableCrossZoneLoadBalancing true (cross-AZ data transfer is charged).",
        controls=Controls(checkov=("CKV_AWS_152",)),
    ),
    Rule(
        name="lb-multi-az",
        description="Network and Gateway Load Balancers span at least two subnets (AZs).",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=LB_TYPES,
        check=check_multi_az,
        remediation_steps="List subnets of two or more Availability Zones in subnets or subnetMappings.",
        config={
            "minSubnets": {
                "type": "integer",
                "minimum": 1,
                "default": 2,
                "description": "Minimum number of subnets (AZs) of a Network or Gateway Load Balancer.",
            }
        },
        controls=Controls(
            fsbp=("ELB.13",),
            relation={
                "ELB.13": "partial: counts the configured subnets, not the registered AZs; ALBs left to AWS, "
                "which refuses fewer than two"
            },
        ),
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
        controls=Controls(
            fsbp=("ELB.1",),
            cdk_nag=("ALBHttpToHttpsRedirection",),
            checkov=("CKV_AWS_2", "CKV2_AWS_20"),
        ),
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
        controls=Controls(
            fsbp=("ELB.17",),
            checkov=("CKV_AWS_103", "CKV2_AWS_74"),
            relation={
                "ELB.17": "stricter: TLS 1.3-capable policies only (no TLS 1.2-only Ext/FS policies); the "
                "2025 post-quantum policies are accepted",
                "CKV_AWS_103": "stricter: TLS 1.3-capable policies only",
                "CKV2_AWS_74": "stricter: an allow-list of TLS 1.3-capable policies",
            },
        ),
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
    Rule(
        name="lb-target-group-encrypted",
        description=(
            "Target groups forward over an encrypted protocol (HTTPS, TLS, QUIC); lambda and alb targets are "
            "exempt."
        ),
        level=ADVISORY,
        severity=LOW,
        resource_types=TARGET_GROUP_TYPES,
        check=check_target_group_encrypted,
        remediation_steps=(
            "Set protocol HTTPS (ALB) or TLS (NLB) and serve TLS from the container (a self-signed certificate "
            "is accepted by the load balancer)."
        ),
        controls=Controls(fsbp=("ELB.22",)),
    ),
]
