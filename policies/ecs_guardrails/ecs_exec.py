"""Rules over ECS Exec (interactive shells into running containers): the cluster's
configuration.executeCommandConfiguration decides whether sessions are logged and encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .resource_types import CLUSTER
from .rule import ADVISORY, HIGH, LOW, MANDATORY, Controls, Ctx, Rule
from .values import Unknown, get, to_bool

EXEC = ("configuration", "executeCommandConfiguration")


def _exec_config(ctx: Ctx) -> tuple[dict[str, Any], str] | None:
    """(executeCommandConfiguration, its logging mode: NONE, DEFAULT when unset, or OVERRIDE); None when the
    cluster configures no ECS Exec settings or they are unknown (recorded)."""
    cfg = ctx.get(*EXEC)
    if not ctx.known(cfg) or not isinstance(cfg, dict):
        return None
    logging = cfg.get("logging")
    if not ctx.known(logging):
        return None
    return cfg, logging.strip().upper() if isinstance(logging, str) and logging.strip() else "DEFAULT"


def check_exec_logging(ctx: Ctx) -> Iterator[str]:
    found = _exec_config(ctx)
    if found is None:
        return
    cfg, logging = found
    if logging == "NONE":
        yield (
            "executeCommandConfiguration.logging is 'NONE': ECS Exec sessions (shells into running containers) "
            "are not logged; use 'DEFAULT' (the task's awslogs configuration) or 'OVERRIDE' with a log group or "
            "S3 bucket"
        )
    elif logging == "OVERRIDE":
        lc = cfg.get("logConfiguration")
        if not ctx.known(lc):
            return
        group, bucket = get(lc, "cloudWatchLogGroupName"), get(lc, "s3BucketName")
        if isinstance(group, Unknown) or isinstance(bucket, Unknown):
            if not (group or bucket):
                ctx.known(group if isinstance(group, Unknown) else bucket)
            return
        if not (group or bucket):
            yield (
                "executeCommandConfiguration.logging is 'OVERRIDE' without a destination: ECS requires "
                "logConfiguration with cloudWatchLogGroupName or s3BucketName"
            )


def check_exec_kms(ctx: Ctx) -> Iterator[str]:
    found = _exec_config(ctx)
    if found is None or found[1] == "NONE":
        return  # no ECS Exec settings, or no logging (ecs-cluster-exec-logging reports that)
    cfg, _ = found
    key, lc = cfg.get("kmsKeyId"), cfg.get("logConfiguration")
    if not (ctx.known(key) and ctx.known(lc)):
        return
    cw, s3 = get(lc, "cloudWatchEncryptionEnabled"), get(lc, "s3BucketEncryptionEnabled")
    if not (ctx.known(cw) and ctx.known(s3)):
        return
    if not key:
        yield (
            "executeCommandConfiguration has no kmsKeyId: set a customer managed KMS key to encrypt ECS Exec "
            "session data between the client and the container"
        )
    if to_bool(cw) is not True and to_bool(s3) is not True:
        yield (
            "executeCommandConfiguration.logConfiguration encrypts neither the CloudWatch nor the S3 session "
            "log: set cloudWatchEncryptionEnabled (log group with a KMS key) or s3BucketEncryptionEnabled true"
        )


RULES = [
    Rule(
        name="ecs-cluster-exec-logging",
        description="ECS Exec sessions are logged (logging is not NONE; OVERRIDE names a log group or bucket).",
        level=MANDATORY,
        severity=HIGH,
        resource_types=(CLUSTER,),
        check=check_exec_logging,
        remediation_steps=(
            "Set configuration.executeCommandConfiguration.logging 'DEFAULT', or 'OVERRIDE' with "
            "logConfiguration {cloudWatchLogGroupName | s3BucketName}."
        ),
        controls=Controls(
            checkov=("CKV_AWS_223",),
            relation={"CKV_AWS_223": "stricter: also fails OVERRIDE without a destination (which ECS rejects)"},
        ),
    ),
    Rule(
        name="ecs-cluster-exec-kms",
        description=(
            "Clusters configuring ECS Exec encrypt session data with a KMS key and encrypt the session log."
        ),
        level=ADVISORY,
        severity=LOW,
        resource_types=(CLUSTER,),
        check=check_exec_kms,
        remediation_steps=(
            "Set executeCommandConfiguration.kmsKeyId and logConfiguration.cloudWatchEncryptionEnabled (or "
            "s3BucketEncryptionEnabled) true."
        ),
        controls=Controls(checkov=("CKV_AWS_224",)),
    ),
]
