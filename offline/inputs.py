"""Reading the files a pull request controls: bounded, regular files only, YAML and JSON parsed safely.

Owns: opening a file without blocking and refusing anything but a regular file (a FIFO would hang
the preview, a device never ends), size limits, strict UTF-8, and parsing YAML (`Pulumi.yaml`,
`Pulumi.<stack>.yaml`, `PulumiPolicy.yaml`) and JSON (policy config) within limits on size,
nesting depth and alias expansion (a "billion laughs" document is a few hundred bytes). YAML
values Pulumi's own reader would not hand to a program as config (dates, binary, sets) and
duplicate keys (which Pulumi's reader refuses) are errors naming the key. Every failure is an
`InputError` with one line: the file and the reason. Knows nothing of what the files mean.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml import events as ev
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, ScalarNode

from .errors import InputError

MAX_FILE_BYTES = 2 * 1024 * 1024  # a stack file is a few KiB; PyYAML parses ~0.5 MB/s on a busy core
MAX_DEPTH = 64  # nesting of mappings and lists, aliases expanded
MAX_NODES = 100_000  # values in a document once its aliases are expanded
MAX_ALIASES = 1_000

_ERRNO_REASONS = {
    errno.ENOENT: "does not exist",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "symlink loop (too many levels of symbolic links)",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EISDIR: "is a directory, not a regular file",
    errno.ENAMETOOLONG: "file name too long",
}


def os_reason(error: OSError) -> str:
    """A short reason for an OSError, without the path (the caller names the file)."""
    return _ERRNO_REASONS.get(error.errno or 0) or (error.strerror or str(error)).lower()


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 and n % (1024 * 1024) == 0 else f"{n} bytes"


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The whole content of a regular file of at most `limit` bytes.

    Opened with O_NONBLOCK, so a FIFO never blocks the open, then refused by its type, as is a
    device or a directory; symlinks are followed (a loop is an error)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise InputError(f"{path}: {os_reason(e)}") from None
    try:
        mode = os.fstat(fd)
        if not stat.S_ISREG(mode.st_mode):
            raise InputError(f"{path}: is {_file_kind(mode.st_mode)}, not a regular file")
        if mode.st_size > limit:
            raise InputError(f"{path}: {mode.st_size} bytes, over the limit of {_size(limit)}")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # the file grew while being read
                raise InputError(f"{path}: more than the limit of {_size(limit)}")
        return b"".join(chunks)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {os_reason(e)}") from None
    finally:
        os.close(fd)


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """A regular file's content as strict UTF-8 (`read_bytes` limits apply)."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})") from None


def find_file(directory: Path, names: tuple[str, ...]) -> Path | None:
    """The first of `names` present in `directory`, whatever it is (a broken link or a FIFO is
    found, so reading it reports why it cannot be used); None when none is there.

    Raises InputError when the directory itself cannot be searched (permission denied...)."""
    for name in names:
        candidate = directory / name
        try:
            os.lstat(candidate)
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            return None
        except OSError as e:
            raise InputError(f"{directory}: {os_reason(e)}") from None
        return candidate
    return None


# ---- YAML -----------------------------------------------------------------------------------------


class _Refused:
    """A YAML value constructed only to be reported with its key (see `_check_values`)."""

    def __init__(self, what: str, node: Any) -> None:
        self.what = what
        self.text = node.value if isinstance(node, ScalarNode) else ""
        self.line = node.start_mark.line + 1


def _refuse(what: str) -> Any:
    return lambda _constructor, node: _Refused(what, node)


class _Constructor(SafeConstructor):
    """SafeConstructor, but duplicate keys are an error and dates, binary, sets and ordered maps
    become `_Refused` (Pulumi hands config to programs as strings and JSON; none of these is one)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            seen: set[tuple[str, str]] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            f"found duplicate key {key_node.value!r}",
                            key_node.start_mark,
                        )
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


for _tag, _what in (
    ("timestamp", "a YAML date"),
    ("binary", "YAML binary data (!!binary)"),
    ("set", "a YAML set (!!set)"),
    ("omap", "a YAML ordered map (!!omap)"),
    ("pairs", "YAML pairs (!!pairs)"),
):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse(_what))

if getattr(yaml, "__with_libyaml__", False):

    class _Loader(yaml.cyaml.CParser, _Constructor, yaml.resolver.Resolver):  # libyaml: parses ~10x faster
        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            _Constructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

else:

    class _Loader(  # type: ignore[no-redef]
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Constructor,
        yaml.resolver.Resolver,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Constructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


def _yaml_error(path: Path, error: yaml.YAMLError) -> InputError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    if context and problem.startswith("but "):  # "expected a single document in the stream, but found another"
        problem = f"{context}, {problem}"
    return InputError(f"{path}: invalid YAML{where}: {problem}")


def _check_structure(path: Path, text: str) -> None:
    """Depth, alias count and expanded size from the parser's events, before anything is built.

    Each open collection is a frame [anchor, size, height]; an anchor's size and height are known
    at its end, so an alias adds them where it is used. An alias to a collection still open is a
    recursive document."""
    frames: list[list[Any]] = []
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (size, height)
    expanded = aliases = 0

    def grow(size: int, line: int) -> None:
        nonlocal expanded
        expanded += size
        if expanded > MAX_NODES:
            raise InputError(
                f"{path}: more than {MAX_NODES} values once its aliases are expanded (line {line});"
                " refusing a document that grows like a 'billion laughs'"
            )

    def nest(size: int, height: int, line: int) -> None:
        """A finished value of `size` nodes and `height` levels, in the innermost open collection."""
        if len(frames) + height > MAX_DEPTH:
            raise InputError(f"{path}: nested deeper than {MAX_DEPTH} levels (line {line})")
        if frames:
            frames[-1][1] += size
            frames[-1][2] = max(frames[-1][2], height + 1)

    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1
        if isinstance(event, ev.CollectionStartEvent):
            grow(1, line)
            frames.append([event.anchor, 1, 1])
            if len(frames) > MAX_DEPTH:
                raise InputError(f"{path}: nested deeper than {MAX_DEPTH} levels (line {line})")
        elif isinstance(event, ev.CollectionEndEvent):
            anchor, size, height = frames.pop()
            if anchor is not None:
                anchors[anchor] = (size, height)
            nest(size, height, line)
        elif isinstance(event, ev.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
            grow(1, line)
            nest(1, 0, line)
        elif isinstance(event, ev.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise InputError(f"{path}: more than {MAX_ALIASES} YAML aliases (line {line})")
            if any(frame[0] == event.anchor for frame in frames):
                raise InputError(f"{path}: recursive YAML alias *{event.anchor} (line {line}): it is inside its own value")
            size, height = anchors.get(event.anchor, (1, 0))  # an undefined alias fails the load below
            grow(size, line)
            nest(size, height, line)


def _key_path(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the document"


def _check_values(path: Path, doc: Any) -> None:
    """Report the first refused value (or key) with its key path."""
    stack: list[tuple[list[Any], Any]] = [([], doc)]
    while stack:
        parts, value = stack.pop()
        if isinstance(value, _Refused):
            shown = f" {value.text}" if value.text and len(value.text) <= 40 else ""
            hint = "; quote it to pass it as a string" if value.what == "a YAML date" else ""
            raise InputError(f"{path}: {_key_path(parts)}:{shown} is {value.what} (line {value.line}), not a config value{hint}")
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, _Refused):
                    raise InputError(f"{path}: {_key_path(parts)}: the key {key.text} is {key.what} (line {key.line}); quote it")
                stack.append(([*parts, key], item))
        elif isinstance(value, list):
            stack.extend(([*parts, i], item) for i, item in enumerate(value))


def load_yaml(path: Path, limit: int = MAX_FILE_BYTES) -> Any:
    """One YAML document from a regular UTF-8 file, within the limits of this module."""
    text = read_text(path, limit)
    try:
        _check_structure(path, text)
        doc = yaml.load(text, Loader=_Loader)  # SafeConstructor-based: no Python objects
    except yaml.YAMLError as e:
        raise _yaml_error(path, e) from None
    _check_values(path, doc)
    return doc


def _kind_of(value: Any) -> str:
    for type_, name in ((list, "a list"), (str, "a string"), (bool, "a boolean"), (int, "a number"), (float, "a number")):
        if isinstance(value, type_):
            return name
    return type(value).__name__


def load_yaml_mapping(path: Path, limit: int = MAX_FILE_BYTES) -> dict[Any, Any]:
    """`load_yaml` of a file whose top level must be a mapping; an empty document is {}."""
    doc = load_yaml(path, limit)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a mapping at the top level, found {_kind_of(doc)}")
    return doc


# ---- JSON -----------------------------------------------------------------------------------------


def _json_depth(doc: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((item, depth) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


def parse_json(path: Path, text: str) -> Any:
    """One JSON document (`text`, read from `path`), nested at most `MAX_DEPTH` levels."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise InputError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    if _json_depth(doc) > MAX_DEPTH:
        raise InputError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    return doc


def load_json(path: Path, limit: int = MAX_FILE_BYTES) -> Any:
    """One JSON document from a regular UTF-8 file of at most `limit` bytes (`parse_json`)."""
    return parse_json(path, read_text(path, limit))
