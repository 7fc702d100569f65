"""The `scheduled_tasks` key: tasks EventBridge Scheduler runs on the cluster (no load balancer)."""

from __future__ import annotations

import zoneinfo

from pydantic import Field, field_validator

from .. import naming
from ..aws_limits import schedule_problems
from .base import Problem, Strict
from .task import TaskConfig


class RetryConfig(Strict):
    """EventBridge Scheduler's retries when RunTask fails (e.g. no capacity)."""

    maximum_retry_attempts: int = Field(2, ge=0, le=185, description="Retries of a failed invocation.")
    maximum_event_age_seconds: int = Field(3600, ge=60, le=86400, description="Give up after this many seconds.")


class ScheduledTaskConfig(TaskConfig):
    """A task run on a schedule by EventBridge Scheduler on the cluster (no load balancer); its main
    container is named after the task. Logs and limits as for services."""

    schedule_expression: str = Field(
        description="`rate(5 minutes)`, `cron(0 3 * * ? *)` or a one-off `at(2026-12-01T03:00:00)`, as EventBridge "
        "Scheduler takes them: rate() with the singular unit for 1; cron() with six fields in range and `?` in "
        "exactly one of day-of-month and day-of-week (docs/aws-limits.md).")
    schedule_timezone: str = Field("UTC", description="IANA time zone of cron and at expressions.")
    enabled: bool = Field(True, description="Schedule state; false pauses it (ENABLED / DISABLED).")
    flexible_window_minutes: int | None = Field(
        None, ge=1, le=1440, description="Let the scheduler start up to this many minutes late; absent: on time.")
    task_count: int = Field(1, ge=1, le=10, description="Tasks started per invocation.")
    retry: RetryConfig = Field(default_factory=RetryConfig)

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. UTC, Europe/Dublin)") from None
        return value

    def derived_names(self, name: str, cluster: str | None) -> list[naming.Named]:
        return naming.scheduled_task_names(name, cluster)

    def problems(self, at: str, name: str) -> list[Problem]:
        """The task's own rules; `name` is its key (its main container's name). Names shared with a
        service and the capacity providers' names are the stack's rules."""
        problems = [(f"{at}.schedule_expression", p) for p in schedule_problems(self.schedule_expression)]
        problems += self.all_containers_problems(at, name)
        if self.port is not None:
            problems.append((f"{at}.port", "a scheduled task takes no traffic: remove port"))
        problems += self.size_problems(at)
        problems += self.strategy_problems(at)
        problems += self.access_problems(at)
        return problems
