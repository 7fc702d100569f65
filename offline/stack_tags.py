"""The stack's tags as a Pulumi Cloud stack carries them, for ConfigureStack (`tags`).

Owns: the tags the CLI computes for every update (`GetEnvironmentTagsForCurrentStack`,
pulumi/pulumi pkg/backend/stack.go:176-211: `pulumi:project`, `pulumi:runtime`,
`pulumi:description` from Pulumi.yaml, the `pulumi:tags` config object, then the git metadata of
`addGitMetadataToStackTags`, :215-255: `vcs:root`, and `vcs:owner`, `vcs:repo`, `vcs:kind` from the
`origin` remote as `gitutil.TryGetVCSInfo` reads it, sdk/go/common/util/gitutil/git.go:151-250,
each silently skipped when it cannot be found), the user's `--stack-tag KEY=VALUE` over them, and
their validation (`ValidateStackTags`, pkg/util/validation/stack.go:24-58).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

FLAG = "--stack-tag"
TAGS_CONFIG_KEY = "pulumi:tags"
MAX_NAME, MAX_VALUE = 40, 256
_NAME = re.compile(r"[a-zA-Z0-9\-_.:]{1,40}")
_GIT_TIMEOUT = 10.0
# gitutil's regexes (git.go:72-74), written out here.
_CLOUD_SSH = re.compile(r"git@(?P<host>[a-zA-Z.-]*\.[a-zA-Z]+):(?P<path>[^/]+/[^/]+\.git).?$")
_AZURE_SSH = re.compile(r"git@([a-zA-Z]+\.)?(?P<host>([a-zA-Z]+\.)*[a-zA-Z]*\.[a-zA-Z]+):(v[0-9]/)?(?P<path>.*)")
_LEGACY_AZURE = re.compile(r"(?P<owner>[a-zA-Z0-9-]*)\.visualstudio\.com$")
_AZURE = "dev.azure.com"


class StackTagError(ValueError):
    """A tag that Pulumi Cloud would refuse (the message names the flag or key)."""


def tag_name_problem(name: str) -> str | None:
    """Why Pulumi Cloud refuses a tag name (`validateStackTagName`), None when it is valid."""
    if not name:
        return f"invalid stack tag {name!r}"
    if len(name) > MAX_NAME:
        return f"stack tag {name!r} is too long (max length {MAX_NAME} characters)"
    if not _NAME.fullmatch(name):
        return f"stack tag {name!r}: names may only contain alphanumerics, hyphens, underscores, periods, or colons"
    return None


def parse_flag(text: str) -> tuple[str, str]:
    """`KEY=VALUE` of one `--stack-tag`; raises StackTagError naming the flag."""
    name, sep, value = text.partition("=")
    if not sep:
        raise StackTagError(f"{FLAG} {text!r}: expected KEY=VALUE")
    problem = tag_name_problem(name)
    if problem is None and len(value) > MAX_VALUE:
        problem = f"stack tag {name!r} value is too long (max length {MAX_VALUE} characters)"
    if problem is not None:
        raise StackTagError(f"{FLAG} {text!r}: {problem}")
    return name, value


def vcs_info(remote_url: str) -> dict[str, str] | None:
    """`vcs:owner`, `vcs:repo`, `vcs:kind` of a remote URL; None when gitutil cannot read it."""
    if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", remote_url):
        scheme, _, rest = remote_url.partition("://")
        scheme = scheme.lower()
    elif re.match(r"[^/:@]+@[^/:]+:", remote_url):  # scp-like: user@host:path
        scheme, rest = "ssh", remote_url
    else:
        return None
    if scheme == "ssh":
        match = _CLOUD_SSH.search(remote_url) or _AZURE_SSH.search(remote_url)
        if match is None:
            return None
        kind, project = match.group("host"), match.group("path").removesuffix(".git")
    elif scheme in ("http", "https"):
        hostport, _, path = rest.partition("/")
        kind = hostport.rsplit("@", 1)[-1].split(":", 1)[0]
        project = path.split("?", 1)[0].split("#", 1)[0].removesuffix(".git")
    else:
        return None
    if not project:
        return None
    if kind == _AZURE:
        owner, _, repo = project.partition("/")
        if "_git" not in repo:
            first, _, last = repo.partition("/")
            repo = f"{first}/_git/{last}"
        return {"vcs:owner": owner, "vcs:repo": repo, "vcs:kind": kind}
    legacy = _LEGACY_AZURE.search(kind)
    if legacy is not None:
        return {"vcs:owner": legacy.group("owner"), "vcs:repo": project, "vcs:kind": _AZURE}
    owner, sep, repo = project.partition("/")
    if not sep:
        return None
    return {"vcs:owner": owner, "vcs:repo": repo, "vcs:kind": kind}


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_tags(directory: Path) -> dict[str, str]:
    """The git metadata tags of the project's directory ({} outside a repository, or without git)."""
    tags: dict[str, str] = {}
    top = _git(directory, "rev-parse", "--show-toplevel")
    if not top:
        return tags
    relative = os.path.relpath(os.path.realpath(directory), os.path.realpath(top))
    if not relative.startswith(".."):
        tags["vcs:root"] = Path(relative).as_posix()
    remote = _git(directory, "config", "--get", "remote.origin.url")
    if remote:
        tags.update(vcs_info(remote) or {})
    return tags


def _config_tags(config: dict[str, str]) -> dict[str, str]:
    raw = config.get(TAGS_CONFIG_KEY)
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise StackTagError(f"{TAGS_CONFIG_KEY} must be an object of strings")
    for name, tag in value.items():
        if not isinstance(tag, str):
            raise StackTagError(f"{TAGS_CONFIG_KEY}[{name}] must be a string")
    return dict(value)


def stack_tags(
    project: str,
    runtime: str,
    description: str,
    directory: Path | None,
    config: dict[str, str],
    given: list[str],
) -> dict[str, str]:
    """Every tag the stack carries, sorted by name: the defaults, the `pulumi:tags` config,
    the git metadata (when `directory` is given), then each `--stack-tag` (the last of a name wins)."""
    tags = {"pulumi:project": project, "pulumi:runtime": runtime}
    if description:
        tags["pulumi:description"] = description
    tags.update(_config_tags(config))
    if directory is not None:
        tags.update(git_tags(directory))
    for text in given:
        name, value = parse_flag(text)
        tags[name] = value
    for name, value in tags.items():
        problem = tag_name_problem(name)
        if problem is None and len(value) > MAX_VALUE:
            problem = f"stack tag {name!r} value is too long (max length {MAX_VALUE} characters)"
        if problem is not None:
            raise StackTagError(problem)
    return dict(sorted(tags.items()))
