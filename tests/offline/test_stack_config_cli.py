"""Stack config as the Pulumi CLI reads it (`pkg/workspace/config.go`, `config.ParseKey`,
`Project.Validate`): project defaults and values, required keys, typed and secret keys, the
legacy `ns:config:key` form, `pulumi:disable-default-providers`; each refusal names the key, and
the offline preview exits 2 with it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from offline_testlib import run_cli

from offline.stack_config import ConfigError, disabled_default_providers, load_project, load_stack_config


def _project(tmp_path: Path, project_config: str, stack_config: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: app\nruntime: python\n" + textwrap.dedent(project_config))
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n" + stack_config)
    (tmp_path / "__main__.py").write_text("import pulumi\n")
    return tmp_path


def _load(tmp_path: Path, project_config: str, stack_config: str):
    program = _project(tmp_path, project_config, stack_config)
    return load_stack_config(load_project(program), "dev")


def test_project_defaults_and_values_fill_what_the_stack_does_not_set(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        """\
        config:
          replicas: 2
          app:size: {type: string, default: small}
          tags: [a, b]
          aws:region: eu-west-1
          aws:defaultTags: {value: {tags: {team: platform}}}
        """,
        "  app:replicas: 3\n",
    )
    assert config.values == {
        "app:replicas": "3",  # the stack's value wins
        "app:size": "small",
        "app:tags": '["a","b"]',
        "aws:region": "eu-west-1",  # a shorthand for another namespace is a value
        "aws:defaultTags": '{"tags":{"team":"platform"}}',
    }


def test_legacy_key_form_is_rewritten_and_malformed_keys_refused(tmp_path: Path) -> None:
    config = _load(tmp_path, "", "  aws:config:region: eu-west-1\n  app:config:size: large\n")
    assert config.values == {"aws:region": "eu-west-1", "app:size": "large"}
    with pytest.raises(ConfigError, match=r"Pulumi\.dev\.yaml: could not parse 'region' as a configuration key"):
        _load(tmp_path, "", "  region: eu-west-1\n")
    with pytest.raises(ConfigError, match=r"could not parse 'a:b:c' as a configuration key"):
        _load(tmp_path, "", "  a:b:c: x\n")


def test_required_keys_are_named_as_the_cli_names_them(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^Stack 'dev' is missing configuration value 'dbName'$"):
        _load(tmp_path, "config:\n  dbName: {type: string}\n", "  aws:region: eu-west-1\n")
    with pytest.raises(ConfigError, match=r"^Stack 'dev' is missing configuration values 'a', 'b' and 'c'$"):
        _load(tmp_path, "config:\n  c: {type: string}\n  a: {}\n  b: {description: x}\n", "  aws:region: eu-west-1\n")


@pytest.mark.parametrize(
    ("declared", "given", "type_name"),
    [
        ("{type: integer}", "lots", "integer"),
        ("{type: boolean}", "yes please", "boolean"),
        ("{type: object}", "flat", "object"),
        ("{type: array, items: {type: integer}}", "[1, two]", "array<integer>"),
        ("{type: string}", "[a]", "string"),
    ],
)
def test_typed_keys_refuse_values_of_another_type(tmp_path: Path, declared: str, given: str, type_name: str) -> None:
    with pytest.raises(ConfigError, match=rf"^Stack 'dev' with configuration key 'k' must be of type '{type_name}'$"):
        _load(tmp_path, f"config:\n  k: {declared}\n", f"  app:k: {given}\n")


def test_typed_keys_accept_what_the_cli_accepts(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "config:\n  n: {type: integer}\n  f: {type: boolean}\n  l: {type: array, items: {type: integer}}\n",
        '  app:n: "42"\n  app:f: true\n  app:l: [1, 2.0]\n',
    )
    assert config.values == {"app:n": "42", "app:f": "true", "app:l": "[1,2.0]"}


def test_secret_keys_given_in_plain_text_are_refused(tmp_path: Path) -> None:
    project = "config:\n  dbPassword: {type: string, secret: true}\n"
    with pytest.raises(ConfigError, match=r"^Stack 'dev' with configuration key 'dbPassword' must be encrypted as it's secret$"):
        _load(tmp_path, project, "  app:dbPassword: hunter2\n")
    config = _load(tmp_path, project, "  app:dbPassword:\n    secure: AAABAOfflineCipher\n")
    assert config.secret_keys == {"app:dbPassword"}


@pytest.mark.parametrize(
    ("project_config", "message"),
    [
        ("config:\n  k: {default: 1, value: 2}\n", r"project config 'k' cannot have both a 'default' and 'value' attribute"),
        ("config:\n  k: {type: array}\n", r"The configuration key 'k' declares an array but does not specify"),
        (
            "config:\n  k: {type: integer, default: x}\n",
            r"The default value specified for configuration key 'k' is not of the expected type 'integer'",
        ),
        (
            "config:\n  aws:region: {type: string, value: x}\n",
            r"Configuration key 'aws:region' is not namespaced by the project and should not define a type",
        ),
        (
            "config:\n  aws:region: {default: x}\n",
            r"Configuration key 'aws:region' is not namespaced by the project and should not define a default value",
        ),
        ("config:\n  k: {kind: string}\n", r"config key 'k' has unknown attribute\(s\) 'kind'"),
    ],
)
def test_invalid_project_config_is_refused(tmp_path: Path, project_config: str, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"^Pulumi\.yaml: {message}"):
        _load(tmp_path, project_config, "  aws:region: eu-west-1\n")


def test_disable_default_providers_is_read_as_the_engine_reads_it(tmp_path: Path) -> None:
    config = _load(tmp_path, "", '  pulumi:disable-default-providers: ["aws", " docker "]\n')
    assert disabled_default_providers(config) == {"aws", "docker"}
    with pytest.raises(ConfigError, match=r"pulumi:disable-default-providers\[1\] must be a string"):
        _load(tmp_path, "", '  pulumi:disable-default-providers: ["aws", 3]\n')
    assert disabled_default_providers(_load(tmp_path, "", "  aws:region: eu-west-1\n")) == frozenset()


def test_the_preview_exits_2_naming_the_key(tmp_path: Path) -> None:
    program = _project(tmp_path, "config:\n  dbName: {type: string}\n", "  aws:region: eu-west-1\n")
    proc = run_cli("--program", str(program), "--policy-pack", "none")
    assert proc.returncode == 2
    assert "Stack 'dev' is missing configuration value 'dbName'" in proc.stderr
