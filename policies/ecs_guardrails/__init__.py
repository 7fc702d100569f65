"""ecs-guardrails: a Pulumi policy pack over raw aws:* resources (never the program's code).

Modules: `values` (reading properties without raising), `rule` (the Rule record and what checks see),
`resource_types` (shared type tokens), `exemption_handoff` (exemption tags; what the policies of one pack
instance share), `exemption_governance` (which exemptions are honoured), `adapters` (Rules -> the
pulumi_policy policies of one pack instance), `sdk_internals` (the one, checked, use of SDK internals), one
module of rules per AWS area, `preview_references` (stack rules deciding at preview from references),
`exemptions` (the governance policy and the companions), `pack` (the rule list) and `docs` (the README
table). Importing the package changes nothing in pulumi_policy."""

PACK_NAME = "ecs-guardrails"

__all__ = ["PACK_NAME"]
