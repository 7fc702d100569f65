"""Config schemas, the environment configs, and the CLI's resolution and validation."""

from __future__ import annotations

import jsonschema
import pytest
from ecs_guardrails.pack import build_rules
from pack_driver import Analyzer, PolicyError, resolve_config
from pack_fixtures import load_config

RULES = build_rules()


@pytest.mark.parametrize("rule", [r for r in RULES if r.config], ids=lambda r: r.name)
def test_schema_is_valid_and_defaults_validate(rule):
    schema = {"type": "object", "properties": rule.config, "additionalProperties": False}
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(rule.settings(None), schema)
    bad = {k: ({"x": 1} if v.get("type") != "object" else 1) for k, v in rule.config.items()}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_env_configs_validate_strictly(env):
    resolved = resolve_config(load_config(env), strict=True)
    assert set(resolved) == {r.name for r in RULES}


def test_org_rules_mandatory_everywhere():
    for env in ("dev", "prod"):
        resolved = resolve_config(load_config(env))
        for name in (
            "ecs-container-resource-limits",
            "ecs-service-load-balancer-required",
            "ecs-container-logging-required",
            "ecs-guardrails-exemption-reason",
        ):
            assert resolved[name][0] == "mandatory", (env, name)
        assert resolved["ecs-guardrails-exemptions"][0] == "advisory"


def test_prod_is_stricter():
    dev, prod = resolve_config(load_config("dev")), resolve_config(load_config("prod"))
    assert dev["lb-http-redirects-to-https"][1]["allowPlainHttp"] is True
    assert prod["lb-http-redirects-to-https"][1]["allowPlainHttp"] is False
    assert prod["lb-deletion-protection"][0] == "mandatory" and dev["lb-deletion-protection"][0] == "advisory"
    assert prod["log-group-retention"][1]["minRetentionDays"] >= 90
    assert prod["lb-access-logs"][0] == "advisory"
    # Exemptions: both name the exemptable policies explicitly; prod wants a ticket id in every reason.
    dev_ex, prod_ex = dev["ecs-guardrails-exemption-reason"][1], prod["ecs-guardrails-exemption-reason"][1]
    assert dev_ex["exemptable"] == prod_ex["exemptable"]
    assert "ecs-service-load-balancer-required" in prod_ex["exemptable"]
    assert not {"ecs-container-no-privileged", "ecs-container-image-registry"} & set(prod_ex["exemptable"])
    assert dev_ex["reasonPattern"] == "" and prod_ex["reasonPattern"]
    assert dev_ex["minReasonLength"] == prod_ex["minReasonLength"] == 10


def test_env_configs_name_exactly_the_default_exemptable_policies():
    """The configs state the organisation's choice explicitly; today it is the pack's default (a new advisory
    rule fails this test until the configs say whether it may be exempted)."""
    governance = next(r for r in RULES if r.name == "ecs-guardrails-exemption-reason")
    for env in ("dev", "prod"):
        assert set(load_config(env)["ecs-guardrails-exemption-reason"]["exemptable"]) == set(
            governance.config["exemptable"]["default"]
        ), env


def test_unknown_setting_is_reported_by_the_pack():
    """The CLI passes settings the schema does not name through (the protocol's config schema cannot be
    closed); the pack reports them as a violation of the policy, with the closest setting."""
    from pack_fixtures import LG, good

    a = Analyzer({"log-group-retention": {"minRetentionDayz": 30}})
    diags = [d for d in a.analyze(LG, good(LG)) if d.policy == "log-group-retention"]
    assert [d.level for d in diags] == ["mandatory"]
    assert "'minRetentionDayz', which it does not have (did you mean 'minRetentionDays'?)" in diags[0].message
    b = Analyzer({"log-group-kms": {"enforcementLevel": "mandatory", "keyArn": "x"}})
    diags = [d for d in b.analyze(LG, good(LG)) if d.policy == "log-group-kms"]
    assert len(diags) == 1 and "it has no settings" in diags[0].message


def test_all_key_and_bad_values():
    resolved = resolve_config({"all": "advisory", "ecs-container-logging-required": "mandatory"})
    assert resolved["ecs-container-resource-limits"][0] == "advisory"
    assert resolved["ecs-container-logging-required"][0] == "mandatory"
    cli_wording = "log-group-retention: minRetentionDays: minRetentionDays must be one of the following: 1, 3, 5, 7, 14,"
    with pytest.raises(PolicyError, match=cli_wording):
        resolve_config({"log-group-retention": {"minRetentionDays": 8}})
    with pytest.raises(PolicyError, match="'sometimes' is not valid"):
        resolve_config({"log-group-retention": "sometimes"})
    with pytest.raises(ValueError, match="typo-policy"):
        resolve_config({"typo-policy": {}}, strict=True)
    with pytest.raises(
        ValueError, match=r"log-group-retention: config names unknown properties: \['minRetention'\]"
    ):
        resolve_config({"log-group-retention": {"minRetention": 30}}, strict=True)
    assert resolve_config({"log-group-retention": {"minRetention": 30}})["log-group-retention"][1] == {
        "minRetentionDays": 14,
        "allowNeverExpire": False,
        "minRetention": 30,
    }, "without strict, an unknown property passes through as the CLI passes it"


def test_disabled_policy_does_not_run():
    from pack_fixtures import TD, container, task_def

    a = Analyzer({"ecs-container-logging-required": "disabled"})
    diags = a.analyze(TD, task_def([container(logConfiguration=None)]))
    assert "ecs-container-logging-required" not in {d.policy for d in diags}


def test_analyzer_info_matches_rules():
    info = Analyzer(configure=False).info()
    assert info.name == "ecs-guardrails" and info.supportsConfig
    by_name = {p.name: p for p in info.policies}
    for r in RULES:
        p = by_name[r.name]
        assert p.remediation_steps == r.remediation_steps
        assert set(p.configSchema.properties.keys()) == set(r.config)


def test_unconfigured_servicer_uses_defaults():
    from pack_fixtures import LG, good

    a = Analyzer(configure=False)
    assert "log-group-retention" in {d.policy for d in a.analyze(LG, good(LG, retentionInDays=7))}
    assert a.analyze(LG, good(LG, retentionInDays=14)) == []
