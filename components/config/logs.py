"""The `logs` key: the CloudWatch log groups of the stack's tasks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Strict

# The values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy).
RetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
]


class LogsConfig(Strict):
    """CloudWatch log groups of the services."""

    retention_days: RetentionDays = Field(30, description="Log retention; a value CloudWatch accepts.")
    kms_key_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$", description="KMS key for the log groups."
    )
    retain_on_delete: bool = Field(
        False, description="Keep the log groups (and their logs) in AWS when the stack or a service is deleted (prod: true)."
    )
    adopt_existing: bool = Field(
        False, description="Import the log groups that already exist under their names (kept by an earlier "
        "destroy) instead of creating them; retention and KMS key must match. Only for the `up` that re-creates "
        "the stack: a log group that does not exist cannot be imported.",
    )
