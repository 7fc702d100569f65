"""Project and stack configuration, loaded the way the Pulumi CLI loads it.

Owns: reading `Pulumi.yaml` (name, runtime, main, project config defaults) and
`Pulumi.<stack>.yaml`, qualifying keys with the project namespace, encoding structured values as
JSON strings and turning `secure:` values into secrets with a placeholder. Knows nothing about
running programs or policy packs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .inputs import find_file, load_yaml_mapping, os_reason

# Value handed to the program for every `secure:` value: the ciphertext cannot be decrypted offline.
SECRET_PLACEHOLDER = "offline-secret-placeholder"


class ConfigError(Exception):
    """The project or stack configuration cannot be loaded (exit code 2)."""


@dataclass(frozen=True)
class Project:
    name: str
    runtime: str
    directory: Path
    main: Path
    description: str = ""


@dataclass
class StackConfig:
    """Fully qualified keys (`namespace:key`) to string values, as the language host receives them."""

    values: dict[str, str] = field(default_factory=dict)
    secret_keys: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def namespace(self, ns: str) -> dict[str, str]:
        """The keys of one namespace without their prefix (a default provider's config)."""
        prefix = ns + ":"
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}


def _read_yaml(path: Path) -> dict[Any, Any]:
    """A project or stack file's top-level mapping, read within `offline.inputs`' limits."""
    try:
        return load_yaml_mapping(path)
    except InputError as e:
        raise ConfigError(str(e)) from None


def _find(directory: Path, names: tuple[str, ...]) -> Path | None:
    try:
        return find_file(directory, names)
    except InputError as e:
        raise ConfigError(str(e)) from None


def load_project(program_dir: Path) -> Project:
    program_dir = program_dir.resolve()
    path = _find(program_dir, ("Pulumi.yaml", "Pulumi.yml"))
    if path is None:
        raise ConfigError(f"no Pulumi.yaml in {program_dir}: not a Pulumi project directory")
    doc = _read_yaml(path)
    if not doc.get("name"):
        raise ConfigError(f"{path}: missing project 'name'")
    runtime = doc.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ConfigError(
            f"{path}: runtime is {runtime_name!r}; the offline preview runs Python programs only"
        )
    main = program_dir / str(doc.get("main") or ".")
    if main.is_dir():
        main = main / "__main__.py"
    try:
        if not main.exists():
            raise ConfigError(f"{path}: program entry point {main} not found")
        if not main.is_file():  # a FIFO or a device would hang or never end the program's start
            raise ConfigError(f"{path}: program entry point {main} is not a regular file")
    except OSError as e:
        raise ConfigError(f"{path}: program entry point {main}: {os_reason(e)}") from None
    return Project(str(doc["name"]), "python", program_dir, main, str(doc.get("description") or ""))


def _qualify(key: str, project: str) -> str:
    """`key` -> `project:key`; `ns:key` stays; `ns:a:b` (path syntax) is rejected by Pulumi too."""
    if ":" in key:
        ns, _, rest = key.partition(":")
        if not ns or not rest:
            raise ConfigError(f"invalid config key {key!r}")
        return key
    return f"{project}:{key}"


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return True
        return any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _strip_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return {k: _strip_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_secure(v) for v in value]
    return value


def _encode(value: Any) -> str:
    """Config values reach the program as strings; objects and lists as JSON (read by get_object)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"))


def load_stack_config(project: Project, stack: str) -> StackConfig:
    result = StackConfig()
    proj_path = _find(project.directory, ("Pulumi.yaml", "Pulumi.yml")) or project.directory / "Pulumi.yaml"
    proj_doc = _read_yaml(proj_path)
    proj_config = proj_doc.get("config") or {}
    if not isinstance(proj_config, dict):
        raise ConfigError(f"{proj_path}: 'config' must be a mapping")
    # Project-level config: `key: {type, default, secret}` or `ns:key: value`.
    for key, spec in proj_config.items():
        qkey = _qualify(str(key), project.name)
        if isinstance(spec, dict) and ("default" in spec or "type" in spec or "description" in spec):
            if "default" in spec:
                result.values[qkey] = _encode(spec["default"])
            if spec.get("secret"):
                result.secret_keys.add(qkey)
        elif isinstance(spec, dict) and "value" in spec:
            result.values[qkey] = _encode(spec["value"])
        else:
            result.values[qkey] = _encode(spec)

    stack_path = _find(project.directory, (f"Pulumi.{stack}.yaml", f"Pulumi.{stack}.yml"))
    if stack_path is None:
        raise ConfigError(f"stack {stack!r} has no Pulumi.{stack}.yaml in {project.directory}")
    doc = _read_yaml(stack_path)
    if doc.get("environment"):
        result.warnings.append(f"{stack_path.name}: ESC environments are not resolved offline")
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{stack_path}: 'config' must be a mapping")
    for key, value in config.items():
        qkey = _qualify(str(key), project.name)
        if _has_secure(value):
            result.secret_keys.add(qkey)
            value = _strip_secure(value)
        result.values[qkey] = _encode(value)
    return result
