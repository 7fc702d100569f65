"""Project and stack configuration, loaded the way the Pulumi CLI loads it.

Owns: reading `Pulumi.yaml` (name, runtime, main, the `config:` block) and `Pulumi.<stack>.yaml`,
the CLI's rules for them (keys parsed by `config.ParseKey`, the legacy `ns:config:key` form
rewritten; project values and defaults merged; required, typed and `secret:` keys enforced, with
the CLI's messages), encoding structured values as JSON strings, turning `secure:` values into
secrets with a placeholder and reading `pulumi:disable-default-providers`. Knows nothing about
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


# ---- the CLI's rules for config keys and project config (pkg/workspace/config.go, sdk/go/common) -------

_CONFIG_TYPES = ("string", "integer", "boolean", "array", "object")
_TYPE_ATTRIBUTES = frozenset({"type", "items", "description", "secret", "default", "value"})
DISABLE_DEFAULT_PROVIDERS = "pulumi:disable-default-providers"


def parse_key(key: str, where: str = "") -> str:
    """A stack file's key as the CLI parses it (`config.ParseKey`): `ns:name`, or the legacy
    `ns:config:name` rewritten to `ns:name`; anything else is refused."""
    parts = key.split(":")
    if len(parts) == 2 and all(parts):
        return key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    raise ConfigError(
        f"{where}could not parse {key!r} as a configuration key "
        "(configuration keys should be of the form `<namespace>:<name>`)"
    )


def _project_key(project: str, key: str) -> str:
    """A Pulumi.yaml config key: bare keys belong to the project's namespace (`parseConfigKey`)."""
    return parse_key(key, "Pulumi.yaml: ") if ":" in key else f"{project}:{key}"


@dataclass(frozen=True)
class ConfigSpec:
    """One key of Pulumi.yaml's `config:` block (`ProjectConfigType`)."""

    key: str  # as written in Pulumi.yaml
    qualified: str
    type: str | None = None
    items: dict[str, Any] | None = None
    secret: bool = False
    default: Any = None
    value: Any = None
    has_default: bool = False
    has_value: bool = False


def project_config(project: str, block: Any) -> list[ConfigSpec]:
    """Pulumi.yaml's `config:` block, validated as `Project.Validate` does; sorted by key.

    Shorthands (`RewriteShorthandConfigValues`): a scalar or list given for a key of the project's
    namespace is its default, for any other namespace its value."""
    if block is None or isinstance(block, str):  # a string: the deprecated config directory
        return []
    if not isinstance(block, dict):
        raise ConfigError("Pulumi.yaml: 'config' must be a mapping of keys to values or type declarations")
    specs = []
    for raw_key, decl in block.items():
        key = str(raw_key)
        qualified = _project_key(project, key)
        own = qualified.startswith(project + ":")
        if not isinstance(decl, dict):
            decl = {"default": decl} if own else {"value": decl}
        unknown = sorted(set(map(str, decl)) - _TYPE_ATTRIBUTES)
        if unknown:
            raise ConfigError(f"Pulumi.yaml: config key {key!r} has unknown attribute(s) {', '.join(map(repr, unknown))}")
        spec = ConfigSpec(
            key,
            qualified,
            type=decl.get("type"),
            items=decl.get("items"),
            secret=bool(decl.get("secret")),
            default=decl.get("default"),
            value=decl.get("value"),
            has_default=decl.get("default") is not None,
            has_value=decl.get("value") is not None,
        )
        _validate_spec(spec, own)
        specs.append(spec)
    return sorted(specs, key=lambda s: s.key)


def _validate_spec(spec: ConfigSpec, own: bool) -> None:
    if spec.has_default and spec.has_value:
        raise ConfigError(f"Pulumi.yaml: project config '{spec.key}' cannot have both a 'default' and 'value' attribute")
    if spec.type is not None and spec.type not in _CONFIG_TYPES:
        raise ConfigError(
            f"Pulumi.yaml: config key '{spec.key}' has type {spec.type!r}; expected one of {', '.join(_CONFIG_TYPES)}"
        )
    if own:
        if spec.type == "array" and spec.items is None:
            raise ConfigError(
                f"Pulumi.yaml: The configuration key '{spec.key}' declares an array but does not specify the "
                "underlying type via the 'items' attribute"
            )
        if spec.type is not None and spec.has_default and not _valid_value(spec.type, spec.items, spec.default):
            raise ConfigError(
                f"Pulumi.yaml: The default value specified for configuration key '{spec.key}' is not of the "
                f"expected type '{_full_type_name(spec.type, spec.items)}'"
            )
        return
    if spec.type is not None:
        raise ConfigError(
            f"Pulumi.yaml: Configuration key '{spec.key}' is not namespaced by the project and should not define a type"
        )
    if spec.has_default:
        raise ConfigError(
            f"Pulumi.yaml: Configuration key '{spec.key}' is not namespaced by the project and should not define a "
            "default value. Did you mean to use the 'value' attribute instead of 'default'?"
        )
    if not spec.has_value:
        raise ConfigError(f"Pulumi.yaml: Configuration key '{spec.key}' is namespaced and must provide an attribute 'value'")


def _full_type_name(type_: str, items: dict[str, Any] | None) -> str:
    if isinstance(items, dict):
        return f"array<{_full_type_name(str(items.get('type')), items.get('items'))}>"
    return type_


def _valid_value(type_: str, items: dict[str, Any] | None, value: Any) -> bool:
    """`workspace.ValidateConfigValue`: integers may be whole floats or integer strings, booleans
    the strings "true"/"false"; arrays are checked item by item."""
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        return isinstance(value, str) and _is_go_int(value)
    if type_ == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_ == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not isinstance(items, dict):
        return False
    return all(_valid_value(str(items.get("type")), items.get("items"), v) for v in value)


def _is_go_int(text: str) -> bool:
    """strconv.Atoi: an optional sign and decimal digits."""
    body = text[1:] if text[:1] in "+-" else text
    return body.isascii() and body.isdigit()


def _missing_keys_error(stack: str, keys: list[str]) -> ConfigError:
    if len(keys) == 1:
        return ConfigError(f"Stack '{stack}' is missing configuration value '{keys[0]}'")
    keys = sorted(keys)
    listed = ", ".join(f"'{k}'" for k in keys[:-2])
    listed = (listed + ", " if listed else "") + f"'{keys[-2]}' and '{keys[-1]}'"
    return ConfigError(f"Stack '{stack}' is missing configuration values {listed}")


def apply_project_config(
    project: str, stack: str, specs: list[ConfigSpec], raw: dict[str, Any], result: StackConfig
) -> None:
    """Project values and defaults for the keys the stack file does not set, then the CLI's checks
    (`mergeConfig` with validation): required keys of the project's namespace, then, for typed
    keys, that a `secret: true` key is encrypted and that the value has the declared type. Values
    the CLI would decrypt are not type-checked (the ciphertext cannot be read offline)."""
    missing = []
    for spec in specs:
        if spec.qualified in raw:
            continue
        if spec.has_value or spec.has_default:
            value = spec.default if spec.has_default else spec.value
            raw[spec.qualified] = value
            result.values[spec.qualified] = _encode(value)
        elif spec.qualified.startswith(project + ":"):
            missing.append(spec.key)
    if missing:
        raise _missing_keys_error(stack, missing)
    for spec in specs:
        if spec.type is None or spec.qualified not in raw:
            continue
        value = raw[spec.qualified]
        if spec.secret and not _has_secure(value):
            raise ConfigError(f"Stack '{stack}' with configuration key '{spec.key}' must be encrypted as it's secret")
        if _has_secure(value):
            continue
        content: Any = value if isinstance(value, (dict, list)) else _encode(value)
        if not _valid_value(spec.type, spec.items, content):
            raise ConfigError(
                f"Stack '{stack}' with configuration key '{spec.key}' must be of type "
                f"'{_full_type_name(spec.type, spec.items)}'"
            )


def disabled_default_providers(config: StackConfig) -> frozenset[str]:
    """Packages whose default provider the engine denies (`pulumi:disable-default-providers`, a
    JSON list of package names or "*"), as `defaultProviders.shouldDenyRequest` reads it."""
    text = config.values.get(DISABLE_DEFAULT_PROVIDERS)
    if not text:
        return frozenset()
    try:
        names = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{DISABLE_DEFAULT_PROVIDERS}: Failed to parse {text}: {e}") from None
    if not isinstance(names, list):
        raise ConfigError(f"{DISABLE_DEFAULT_PROVIDERS}: Unexpected encoding of {DISABLE_DEFAULT_PROVIDERS}")
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise ConfigError(f"{DISABLE_DEFAULT_PROVIDERS}[{i}] must be a string")
    return frozenset(name.strip() for name in names)


def load_stack_config(project: Project, stack: str) -> StackConfig:
    """The stack's config as the CLI hands it to the program: the stack file's values, then the
    project's defaults and values for keys the stack does not set; validated as the CLI validates
    it (`pkg/workspace/config.go`): required keys, typed keys, secret keys; raises ConfigError."""
    result = StackConfig()
    proj_path = _find(project.directory, ("Pulumi.yaml", "Pulumi.yml")) or project.directory / "Pulumi.yaml"
    declared = project_config(project.name, _read_yaml(proj_path).get("config"))

    stack_path = _find(project.directory, (f"Pulumi.{stack}.yaml", f"Pulumi.{stack}.yml"))
    if stack_path is None:
        raise ConfigError(f"stack {stack!r} has no Pulumi.{stack}.yaml in {project.directory}")
    doc = _read_yaml(stack_path)
    if doc.get("environment"):
        result.warnings.append(f"{stack_path.name}: ESC environments are not resolved offline")
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{stack_path}: 'config' must be a mapping")
    raw: dict[str, Any] = {}  # qualified key -> the stack file's value (secure parts kept)
    for key, value in config.items():
        qkey = parse_key(str(key), f"{stack_path.name}: ")
        if qkey in raw:
            raise ConfigError(f"{stack_path.name}: config key {qkey!r} is given twice ({key!r})")
        raw[qkey] = value
        if _has_secure(value):
            result.secret_keys.add(qkey)
            value = _strip_secure(value)
        result.values[qkey] = _encode(value)
    apply_project_config(project.name, stack, declared, raw, result)
    disabled_default_providers(result)  # fails early on a malformed list, as the engine would
    return result
