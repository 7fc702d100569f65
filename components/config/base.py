"""What every config model shares: the namespace, the error type, the strict base model.

A model checks its own fields (pydantic) and, in `problems(at, ...)`, the rules across its fields
that pydantic's per-field checks cannot see. `at` is the model's key path in the stack config
(e.g. `services.web`); each problem is `(key path, message)`, shown as `ecs-platform:<path>: <message>`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NAMESPACE = "ecs-platform"

# A key path in the stack config and what is wrong there.
Problem = tuple[str, str]

# A map key naming a service, scheduled task, sidecar or capacity provider.
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")]


class ConfigError(Exception):
    """Invalid stack config: one line per bad value, each naming its full key path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"{NAMESPACE}:{path}: {message}" if path else message for path, message in problems]
        super().__init__("invalid stack config:\n  " + "\n  ".join(lines))


class Strict(BaseModel):
    """Unknown keys are errors; parsed values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
