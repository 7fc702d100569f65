"""Entry point run by `pulumi` (python -m pulumi.policy): builds the pack, which serves and blocks."""

from ecs_guardrails.pack import DESCRIPTION, ENFORCEMENT_LEVEL, PACK_NAME, build_policies
from pulumi_policy import PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    enforcement_level=ENFORCEMENT_LEVEL,
    description=DESCRIPTION,
)
