"""Container lifecycle settings: the container health check, start order (`depends_on`), init
process, stop timeout and ulimits, with the ranges and names the ECS API takes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .base import Problem, Strict

# botocore ecs UlimitName
UlimitName = Literal[
    "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
    "rttime", "sigpending", "stack",
]
# botocore ecs ContainerCondition
ContainerCondition = Literal["START", "COMPLETE", "SUCCESS", "HEALTHY"]
# ECS waits this long between SIGTERM and SIGKILL when the container definition sets no stopTimeout.
ECS_STOP_TIMEOUT = 30


class ContainerHealthCheckConfig(Strict):
    """A command ECS runs in the container to decide it is healthy (exit code 0). An unhealthy
    essential container stops the task; `depends_on` can wait for HEALTHY."""

    command: list[str] = Field(
        min_length=2, max_length=64,
        description="[CMD, executable, args...] or [CMD-SHELL, \"one shell command\"].",
        examples=[["CMD-SHELL", "curl -fs http://localhost:8080/healthz || exit 1"]],
    )
    interval: int = Field(30, ge=5, le=300, description="Seconds between checks.")
    timeout: int = Field(5, ge=2, le=60, description="Seconds before a check counts as failed.")
    retries: int = Field(3, ge=1, le=10, description="Failed checks in a row that make the container unhealthy.")
    start_period: int | None = Field(
        None, ge=0, le=300, description="Seconds after start during which failures do not count; absent: none.")

    @field_validator("command")
    @classmethod
    def _command(cls, value: list[str]) -> list[str]:
        if value[0] not in ("CMD", "CMD-SHELL"):
            raise ValueError("must start with CMD (exec form) or CMD-SHELL (one shell command)")
        if value[0] == "CMD-SHELL" and len(value) != 2:
            raise ValueError("CMD-SHELL takes one string: the shell command line")
        if not all(part.strip() for part in value[1:]):
            raise ValueError("holds an empty argument")
        return value


class UlimitConfig(Strict):
    """One ulimit: the soft limit the process starts with and the hard limit it may raise it to."""

    soft: int = Field(ge=0, le=2147483647, description="Soft limit.")
    hard: int = Field(ge=0, le=2147483647, description="Hard limit (at least soft).")

    def problems(self, at: str) -> list[Problem]:
        if self.soft > self.hard:
            return [(f"{at}.soft", f"{self.soft} exceeds the hard limit {self.hard}")]
        return []
