"""The `tags` key: the stack's tags (team, cost centre, environment, extras).

They reach AWS two ways. Every taggable resource gets them from the default AWS provider's
`default_tags`, which the engine configures from the stack's `aws:defaultTags` key: the program
cannot set it, so `aws:defaultTags` must repeat these tags and `default_tags_problems` refuses a
stack whose copy differs. (An explicit `aws.Provider` with default tags would move every resource
to another provider reference instead: more state churn than an update of the default provider.)
ECS services, task definitions and the tasks EventBridge Scheduler starts also carry them
explicitly, so that `propagate_tags` copies them onto every task and the policy pack sees them in
the resources' own `tags`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, field_validator

from ..aws_limits import catalogue
from .base import Problem, Strict

# Characters every service we tag accepts (ECS TagKey/TagValue, EventBridge Scheduler, EC2), ASCII only.
TAG_CHARS = r"^[A-Za-z0-9 _.:/=+\-@]+$"
TagKey = Annotated[str, Field(min_length=1, max_length=128, pattern=TAG_CHARS)]
TagValue = Annotated[str, Field(min_length=1, max_length=256, pattern=TAG_CHARS)]
# The AWS tag key of each named field.
TAG_KEYS = {"team": "team", "cost_centre": "cost-centre", "environment": "environment"}
# An ECS resource holds 50 tags; a worker service adds the policy pack's two exemption tags.
MAX_TAGS = catalogue().tags.max_tags - 2
EXEMPTION_PREFIX = "ecs-guardrails:"


class TagsConfig(Strict):
    """The stack's tags: on every AWS resource (default provider's default tags, from
    `aws:defaultTags`, which must hold the same tags) and on ECS services, task definitions and
    scheduled tasks' tasks, which propagate them to every task."""

    team: TagValue = Field(description="Owning team: the `team` tag.", examples=["payments"])
    cost_centre: TagValue = Field(description="Cost centre billed: the `cost-centre` tag.", examples=["CC-4711"])
    environment: TagValue = Field(description="Environment: the `environment` tag.", examples=["prod"])
    extra: dict[TagKey, TagValue] = Field(
        default_factory=dict, description="More tags, key -> value (not `aws:` or `ecs-guardrails:` keys).",
        examples=[{"data-classification": "internal"}],
    )

    @field_validator("extra")
    @classmethod
    def _extra(cls, values: dict[str, str]) -> dict[str, str]:
        for key in values:
            if key.lower().startswith("aws:"):
                raise ValueError(f"{key}: the aws: prefix is reserved by AWS")
            if key.startswith(EXEMPTION_PREFIX):
                raise ValueError(f"{key}: policy pack exemptions are per resource (services: worker_reason), "
                                 "never on every resource of the stack")
            if key in TAG_KEYS.values():
                raise ValueError(f"{key}: set by the {next(f for f, k in TAG_KEYS.items() if k == key)} key")
        return values

    def as_aws(self) -> dict[str, str]:
        """The tags as AWS takes them, keys sorted (deterministic inputs)."""
        tags = {TAG_KEYS[field]: getattr(self, field) for field in TAG_KEYS}
        return dict(sorted({**tags, **self.extra}.items()))

    def problems(self, at: str) -> list[Problem]:
        if len(self.as_aws()) > MAX_TAGS:
            return [(f"{at}.extra", f"at most {MAX_TAGS} tags in all (an ECS resource holds 50, "
                     "two are kept for the policy pack's exemption tags)")]
        return []

    def default_tags_problems(self, at: str, aws_default_tags: str | None) -> list[Problem]:
        """`aws_default_tags`: the stack's `aws:defaultTags` value (JSON text) or None."""
        expected = default_tags_config(self)
        try:
            actual: Any = json.loads(aws_default_tags) if aws_default_tags is not None else None
        except ValueError:
            actual = aws_default_tags
        if actual == expected:
            return []
        return [(at, "the stack's aws:defaultTags must hold the same tags, so that the default AWS provider "
                 f"tags every resource: set `aws:defaultTags: {json.dumps(expected)}`")]


def default_tags_config(tags: TagsConfig) -> dict[str, dict[str, str]]:
    """The `aws:defaultTags` value that matches `tags`."""
    return {"tags": tags.as_aws()}
