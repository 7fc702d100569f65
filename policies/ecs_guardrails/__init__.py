"""ecs-guardrails: a Pulumi policy pack over raw aws:* resources (never the program's code).

Modules: `values` (reading properties without raising), `rule` (the Rule record and what checks see),
`resource_types` (shared type tokens), `exemption_handoff` (exemption tags, exempted findings for the
companions), `adapters` (Rule -> pulumi_policy policy), `sdk_internals` (the one, checked, use of SDK
internals), one module of rules per AWS area, `exemptions` (the companion rules), `pack` (the rule list)
and `docs` (the README table). Importing the package changes nothing in pulumi_policy."""

PACK_NAME = "ecs-guardrails"

__all__ = ["PACK_NAME"]
