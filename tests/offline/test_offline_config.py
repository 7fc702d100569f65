"""Stack config loading and policy config reconciliation (a port of the CLI's rules)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from offline_testlib import PROGRAM

from offline.policy_config import PolicyError, load_policy_config_file, reconcile_config
from offline.stack_config import ConfigError, load_project, load_stack_config

POLICIES = [
    {
        "name": "a",
        "level": "mandatory",
        "schema": {
            "properties": {"n": {"type": "integer", "default": 7}, "enforcementLevel": {"type": "string"}}
        },
    },
    {"name": "b", "level": "advisory", "schema": None},
]


def test_stack_config_namespaces_structured_and_secure() -> None:
    cfg = load_stack_config(load_project(PROGRAM), "dev")
    assert cfg.values["fixture-app:env"] == "dev"
    assert cfg.values["fixture-app:logDays"] == "3"  # project default
    assert json.loads(cfg.values["fixture-app:services"]) == [
        {"name": "web", "cpu": 256},
        {"name": "api", "cpu": 512},
    ]
    assert cfg.secret_keys == {"fixture-app:dbPassword"}
    assert cfg.namespace("aws") == {"region": "us-east-1"}


def test_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no Pulumi\.yaml"):
        load_project(tmp_path)


def test_reconcile_defaults_initial_file_and_all() -> None:
    out = reconcile_config(
        POLICIES,
        {"a": {"level": None, "properties": {"n": 9}}},
        {"all": {"level": "disabled", "properties": None}, "b": {"level": "mandatory", "properties": None}},
        "p",
        "1",
    )
    assert out["a"] == {"level": "disabled", "properties": {"n": 9}}
    assert out["b"]["level"] == "mandatory"


def test_reconcile_validates_with_policy_name() -> None:
    with pytest.raises(
        PolicyError, match=r"^validating policy config: p 1  a: n: Invalid type. Expected: integer, given: string$"
    ):
        reconcile_config(POLICIES, {}, {"a": {"level": None, "properties": {"n": "x"}}}, "p", "1")


def test_config_file_format(tmp_path: Path) -> None:
    f = tmp_path / "c.json"
    f.write_text('{"all": "advisory", "a": {"enforcementLevel": "mandatory", "n": 3}, "b": {}}')
    assert load_policy_config_file(f) == {
        "all": {"level": "advisory", "properties": None},
        "a": {"level": "mandatory", "properties": {"n": 3}},
    }
    f.write_text('{"a": "sometimes"}')
    with pytest.raises(PolicyError, match="not valid"):
        load_policy_config_file(f)


@pytest.mark.parametrize(
    "text,says",
    [
        ("", "the policy pack config file is empty"),
        ("\n\t ", "the policy pack config file is empty"),
        ("[]", "got an array"),
        ("null", "got null"),
        ("7", "got a number"),
        ('{"environments": ["org/policies"], "a": "advisory"}', '"environments" (Pulumi ESC environments)'),
    ],
)
def test_config_files_the_preview_refuses(tmp_path: Path, text: str, says: str) -> None:
    f = tmp_path / "c.json"
    f.write_text(text)
    with pytest.raises(PolicyError, match=r"^" + str(f).replace(".", r"\.") + ": ") as caught:
        load_policy_config_file(f)
    assert says in str(caught.value)


def test_unknown_policy_names_and_settings_are_refused_with_the_closest_name() -> None:
    with pytest.raises(PolicyError) as caught:
        reconcile_config(POLICIES, {}, {"aa": {"level": "advisory", "properties": None}, "zzz": {"level": "advisory",
                         "properties": None}}, "p", "1", source="cfg.json")
    assert str(caught.value).splitlines() == [
        "cfg.json: 'aa' is not a policy of p 1 (did you mean 'a'?)",
        "cfg.json: 'zzz' is not a policy of p 1",
    ]
    with pytest.raises(PolicyError) as caught:
        reconcile_config(POLICIES, {}, {"a": {"level": None, "properties": {"nn": 3, "n": 2}}}, "p", "1")
    assert str(caught.value) == (
        "validating policy config: p 1  a: unknown setting 'nn' (did you mean 'n'?); its settings are n"
    )
    # A policy without settings, and "all", which names no policy.
    with pytest.raises(PolicyError, match="b: unknown setting 'x'; it has no settings"):
        reconcile_config(
            [*POLICIES[:1], {**POLICIES[1], "schema": {"properties": {"enforcementLevel": {"type": "string"}}}}],
            {},
            {"all": {"level": "advisory", "properties": None}, "b": {"level": None, "properties": {"x": 1}}},
            "p",
            "1",
        )


def test_the_cli_passes_unknown_names_and_settings_on() -> None:
    out = reconcile_config(
        POLICIES, {}, {"zzz": {"level": "advisory", "properties": None}, "a": {"level": None, "properties": {"m": 1}}},
        "p", "1", closed=False,
    )
    assert out["zzz"]["level"] == "advisory" and out["a"]["properties"] == {"n": 7, "m": 1}
