"""Rules over CloudWatch log groups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .resource_types import LOG_GROUP
from .rule import ADVISORY, LOW, MANDATORY, MEDIUM, Controls, Ctx, Rule
from .values import to_int

# The values CloudWatch Logs accepts for retentionInDays.
VALID_RETENTION = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _minimum(ctx: Ctx) -> int:
    return to_int(ctx.cfg.get("minRetentionDays")) or 14


def check_retention(ctx: Ctx) -> Iterator[str]:
    raw = ctx.get("retentionInDays")
    if not ctx.known(raw):
        return
    days, minimum = to_int(raw), _minimum(ctx)
    if raw is None or days == 0:
        if not ctx.cfg.get("allowNeverExpire"):
            yield f"retentionInDays is not set (logs never expire): set it to at least {minimum}"
    elif days is None:
        yield f"retentionInDays {raw!r} is not a number: set an integer such as {minimum}"
    elif days < minimum:
        yield f"retentionInDays is {days}, below the minimum {minimum}: raise it"


def fix_retention(ctx: Ctx) -> dict[str, Any] | None:
    raw = ctx.get("retentionInDays")
    if not ctx.known(raw):
        return None
    days, minimum = to_int(raw), _minimum(ctx)
    if days is not None and days != 0 and days >= minimum:
        return None
    if (raw is None or days == 0) and ctx.cfg.get("allowNeverExpire"):
        return None
    return {"retentionInDays": next((v for v in VALID_RETENTION if v >= minimum), 3653)}


def check_kms(ctx: Ctx) -> Iterator[str]:
    v = ctx.get("kmsKeyId")
    if ctx.known(v) and not v:
        yield (
            "the log group is not encrypted with a KMS key: set kmsKeyId (the key policy must "
            "allow logs.<region>)"
        )


RULES = [
    Rule(
        name="log-group-retention",
        description="Log groups have a retention of at least the configured minimum.",
        level=MANDATORY,
        severity=MEDIUM,
        resource_types=(LOG_GROUP,),
        check=check_retention,
        remediate=fix_retention,
        remediation_steps="Set retentionInDays >= the minimum (remediable to the next valid value).",
        config={
            "minRetentionDays": {
                "type": "integer",
                "enum": list(VALID_RETENTION),
                "default": 14,
                "description": "Minimum retentionInDays.",
            },
            "allowNeverExpire": {
                "type": "boolean",
                "default": False,
                "description": "Accept log groups without retention.",
            },
        },
        controls=Controls(
            fsbp=("CloudWatch.16",),
            cdk_nag=("CloudWatchLogGroupRetentionPeriod",),
            checkov=("CKV_AWS_66", "CKV_AWS_338"),
            relation={
                "CloudWatch.16": "partial: the minimum is configurable (default 14 days, prod 90, vs 365) and "
                "never-expire is refused unless allowNeverExpire; set minRetentionDays 365 for parity",
                "CloudWatchLogGroupRetentionPeriod": "stricter: a minimum, and never-expire refused",
                "CKV_AWS_66": "stricter: a minimum, not only some retention",
                "CKV_AWS_338": "partial: configurable minimum instead of one year; never-expire refused",
            },
        ),
    ),
    Rule(
        name="log-group-kms",
        description="Log groups are encrypted with a customer managed KMS key.",
        level=ADVISORY,
        severity=LOW,
        resource_types=(LOG_GROUP,),
        check=check_kms,
        remediation_steps="Set kmsKeyId to a KMS key whose policy lets CloudWatch Logs use it.",
        controls=Controls(cdk_nag=("CloudWatchLogGroupEncrypted",), checkov=("CKV_AWS_158",)),
    ),
]
