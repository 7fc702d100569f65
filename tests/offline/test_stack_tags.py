"""The stack's tags as Pulumi Cloud carries them (offline/stack_tags.py): the CLI's defaults
(pkg/backend/stack.go:176-255), gitutil's reading of the origin remote (gitutil/git.go:151-250),
`--stack-tag` and the service's rules for names and values (pkg/util/validation/stack.go)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from offline_testlib import run_cli

from offline.stack_tags import StackTagError, parse_flag, stack_tags, vcs_info


@pytest.mark.parametrize(
    "url,want",
    [
        ("git@github.com:acme/ecs-platform.git", ("acme", "ecs-platform", "github.com")),
        ("https://github.com/acme/ecs-platform.git", ("acme", "ecs-platform", "github.com")),
        ("https://user@gitlab.com/group/sub/repo", ("group", "sub/repo", "gitlab.com")),
        ("git@ssh.dev.azure.com:v3/org/project/repo", ("org", "project/_git/repo", "dev.azure.com")),
        ("https://dev.azure.com/org/project/_git/repo", ("org", "project/_git/repo", "dev.azure.com")),
        ("https://org.visualstudio.com/project/_git/repo", ("org", "project/_git/repo", "dev.azure.com")),
    ],
)
def test_vcs_tags_from_the_remote_url(url: str, want: tuple[str, str, str]) -> None:
    assert vcs_info(url) == dict(zip(("vcs:owner", "vcs:repo", "vcs:kind"), want, strict=True))


@pytest.mark.parametrize("url", ["/srv/git/repo.git", "file:///srv/git/repo.git", "https://github.com/justone"])
def test_remotes_gitutil_cannot_read_give_no_vcs_tags(url: str) -> None:
    assert vcs_info(url) is None


def test_defaults_config_tags_and_flags(tmp_path: Path) -> None:
    config = {"pulumi:tags": '{"team": "platform"}'}
    tags = stack_tags("app", "python", "An app", tmp_path, config, ["foo=bar", "team=core", "empty="])
    assert tags == {
        "empty": "",
        "foo": "bar",
        "pulumi:description": "An app",
        "pulumi:project": "app",
        "pulumi:runtime": "python",
        "team": "core",
    }
    assert "pulumi:description" not in stack_tags("app", "python", "", None, {}, [])


def test_git_metadata_of_the_project_directory(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "infra" / "app").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", "git@github.com:acme/infra.git"], check=True)
    tags = stack_tags("app", "python", "", repo / "infra" / "app", {}, [])
    assert {k: v for k, v in tags.items() if k.startswith("vcs:")} == {
        "vcs:kind": "github.com",
        "vcs:owner": "acme",
        "vcs:repo": "infra",
        "vcs:root": "infra/app",
    }


@pytest.mark.parametrize(
    "flag,says",
    [
        ("foo", "--stack-tag 'foo': expected KEY=VALUE"),
        ("=bar", "--stack-tag '=bar': invalid stack tag ''"),
        ("a b=c", "--stack-tag 'a b=c': stack tag 'a b': names may only contain alphanumerics"),
        ("k" * 41 + "=v", "is too long (max length 40 characters)"),
        ("k=" + "v" * 257, "stack tag 'k' value is too long (max length 256 characters)"),
    ],
)
def test_bad_flags_are_refused_naming_the_flag(flag: str, says: str) -> None:
    with pytest.raises(StackTagError) as caught:
        parse_flag(flag)
    assert says in str(caught.value)


def test_a_bad_pulumi_tags_config_is_refused() -> None:
    with pytest.raises(StackTagError, match=r"^pulumi:tags\[n\] must be a string$"):
        stack_tags("app", "python", "", None, {"pulumi:tags": '{"n": 1}'}, [])


def test_the_cli_refuses_a_bad_stack_tag_before_any_work(tmp_path: Path) -> None:
    proc = run_cli("--stack-tag", "no-equals-sign", "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 2
    assert proc.stderr == "error (usage error): --stack-tag 'no-equals-sign': expected KEY=VALUE\n"
    assert not (tmp_path / "r.json").exists()
