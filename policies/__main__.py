"""Entry point run by `pulumi` (python -m pulumi.policy): builds the pack, which serves and blocks."""

from ecs_guardrails.pack import DESCRIPTION, PACK_NAME, build_policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    enforcement_level=EnforcementLevel.ADVISORY,
    description=DESCRIPTION,
)
