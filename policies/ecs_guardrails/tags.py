"""Required tag keys on the platform's taggable resources.

A resource's tags are its `tags` input plus, in the real engine, `tagsAll`: pulumi-aws 7.x merges the
provider's `defaultTags` into `tagsAll` when it checks the inputs (its PreCheckCallback `applyTags`, for the
resources implemented on the Terraform plugin SDK that have `tags` and `tags_all`), so the pack sees default
tags there before the resource exists. Not for the plugin-framework ones (the ECS daemon task definition and
Express service here) nor for Auto Scaling groups (their `tags` are tag blocks, without `tags_all`): those show
only their own tags, so keys that come from provider default tags are not seen and must be set on them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .resource_types import (
    ASG,
    CAPACITY_PROVIDER,
    CLUSTER,
    DAEMON_TASK_DEF,
    EXPRESS_SERVICE,
    LAUNCH_TEMPLATE,
    LB_TYPES,
    LISTENER_TYPES,
    LOG_GROUP,
    SERVICE,
    SG,
    TARGET_GROUP_TYPES,
    TASK_DEF,
    TASK_SET,
)
from .rule import ADVISORY, LOW, Controls, Ctx, Rule
from .values import Unknown, as_list, get

ROLE = "aws:iam/role:Role"
TAGGED_TYPES = (
    CLUSTER,
    SERVICE,
    TASK_DEF,
    TASK_SET,
    CAPACITY_PROVIDER,
    DAEMON_TASK_DEF,
    EXPRESS_SERVICE,
    *LB_TYPES,
    *LISTENER_TYPES,
    *TARGET_GROUP_TYPES,
    LOG_GROUP,
    SG,
    LAUNCH_TEMPLATE,
    ASG,
    ROLE,
)


def _keys(tags: Any) -> tuple[set[str], Unknown | None]:
    """The tag keys of a tags map (or an Auto Scaling group's [{key, value, propagateAtLaunch}] list), and
    the first unknown met (a key whose presence cannot be told yet)."""
    if isinstance(tags, Unknown):
        return set(), tags
    if isinstance(tags, dict):
        return set(tags), None
    keys, unknown = set(), None
    for t in as_list(tags):
        key = get(t, "key")
        if isinstance(key, str):
            keys.add(key)
        elif isinstance(key, Unknown) or isinstance(t, Unknown):
            unknown = unknown or (key if isinstance(key, Unknown) else t)
    return keys, unknown


def check_required_tags(ctx: Ctx) -> Iterator[str]:
    required = [k for k in as_list(ctx.cfg.get("requiredTagKeys")) if isinstance(k, str) and k]
    if not required:
        return
    own, own_unknown = _keys(ctx.get("tags"))
    merged, merged_unknown = _keys(ctx.get("tagsAll"))
    missing = [k for k in required if k not in own and k not in merged]
    if not missing:
        return
    unknown = own_unknown or merged_unknown
    if unknown is not None:
        ctx.known(unknown)
        return
    yield (
        f"tag key(s) {', '.join(repr(k) for k in missing)} missing: set them in tags (or in the provider's "
        "defaultTags, which pulumi-aws merges into tagsAll)"
    )


RULES = [
    Rule(
        name="required-tag-keys",
        description=(
            "ECS, load balancing, log, network and IAM resources carry the tag keys in requiredTagKeys (tags or "
            "the provider's default tags); nothing is required while the list is empty."
        ),
        level=ADVISORY,
        severity=LOW,
        resource_types=TAGGED_TYPES,
        check=check_required_tags,
        remediation_steps="Add the keys to the resource's tags, or to the AWS provider's defaultTags.",
        config={
            "requiredTagKeys": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Tag keys every listed resource must carry (e.g. owner, cost-center).",
            }
        },
        controls=Controls(
            fsbp=("ECS.13", "ECS.14", "ECS.15"),
            relation={
                c: "partial: requires the keys in requiredTagKeys; with the list empty (the default) nothing, where "
                "FSBP then requires at least one tag"
                for c in ("ECS.13", "ECS.14", "ECS.15")
            },
        ),
    ),
]
