"""The `pulumi` commands that workflow scripts run, and their check against the CLI reference.

`simple_commands` splits a bash script into its simple commands (words with quotes removed,
expansions kept as written, commands inside `$(...)` included); `pulumi_invocations` picks those
that run `pulumi`; `Reference.check` resolves an invocation's command path, flags and positional
arguments against pulumi_cli_reference.yaml (data read from the CLI's source) and says what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REFERENCE_FILE = Path(__file__).with_name("pulumi_cli_reference.yaml")

# Words before the command name that do not change which program runs.
RESERVED_WORDS = {"if", "then", "elif", "else", "fi", "do", "done", "while", "until", "!", "{", "}"}
WRAPPERS = {"command", "exec", "time", "env", "nice", "nohup", "xargs"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")
REDIRECTION = re.compile(r"<<<|<<-|<<|>>|>&|<&|&>>|&>|>\||<>|>|<")
OPERATOR = re.compile(r"&&|\|\||;;&?|;&|\|&|[;|&()]")


class ShellSyntaxError(ValueError):
    """A script this small lexer cannot split (it names the construct to avoid)."""


@dataclass
class _Lexer:
    text: str
    commands: list[list[str]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    word: str | None = None  # the word being read; None between words
    drop_next_word: bool = False  # the next word is a redirection target
    heredoc_pending: bool = False
    heredocs: list[tuple[str, bool]] = field(default_factory=list)  # (delimiter, strip tabs)
    i: int = 0

    def run(self) -> list[list[str]]:
        text = self.text
        while self.i < len(text):
            char = text[self.i]
            if text.startswith("\\\n", self.i):
                self.i += 2
            elif char == "\\":
                self._append(text[self.i + 1 : self.i + 2])
                self.i += 2
            elif char in " \t":
                self._end_word()
                self.i += 1
            elif char == "\n":
                self._end_command()
                self.i += 1
                self._skip_heredoc_bodies()
            elif char == "#" and self.word is None:
                end = text.find("\n", self.i)
                self.i = len(text) if end < 0 else end
            elif char == "'":
                end = text.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated single quote")
                self._append(text[self.i + 1 : end])
                self.i = end + 1
            elif char == '"':
                self._double_quoted()
            elif char == "`":
                raise ShellSyntaxError("backquote command substitution (use $(...))")
            elif text.startswith("$((", self.i):
                end = text.find("))", self.i)
                if end < 0:
                    raise ShellSyntaxError("unterminated $((")
                self._append(text[self.i : end + 2])
                self.i = end + 2
            elif text.startswith("$(", self.i):
                self._append(self._substitution())
            elif text.startswith("${", self.i):
                end = text.find("}", self.i)
                if end < 0:
                    raise ShellSyntaxError("unterminated ${")
                self._append(text[self.i : end + 1])
                self.i = end + 1
            elif (match := REDIRECTION.match(text, self.i)) and (char != "&" or match.group().startswith("&>")):
                if self.word is not None and self.word.isdigit():
                    self.word = None  # the file descriptor of `2>&1`
                self._end_word()
                self.i = match.end()
                self.drop_next_word = True
                self.heredoc_pending = match.group() in ("<<", "<<-")
                if self.heredoc_pending:
                    self.heredocs.append(("", match.group() == "<<-"))
            elif match := OPERATOR.match(text, self.i):
                self._end_command()
                self.i = match.end()
            else:
                self._append(char)
                self.i += 1
        self._end_command()
        if self.heredocs:
            raise ShellSyntaxError(f"unterminated here-document {self.heredocs[0][0]!r}")
        return self.commands

    def _append(self, chars: str) -> None:
        self.word = (self.word or "") + chars

    def _end_word(self) -> None:
        if self.word is None:
            return
        if self.drop_next_word:
            if self.heredoc_pending:
                self.heredocs[-1] = (self.word, self.heredocs[-1][1])
                self.heredoc_pending = False
            self.drop_next_word = False
        else:
            self.words.append(self.word)
        self.word = None

    def _end_command(self) -> None:
        self._end_word()
        if self.words:
            self.commands.append(self.words)
        self.words = []

    def _skip_heredoc_bodies(self) -> None:
        for delimiter, strip_tabs in self.heredocs:
            while self.i < len(self.text):
                end = self.text.find("\n", self.i)
                end = len(self.text) if end < 0 else end
                line = self.text[self.i : end]
                self.i = end + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
            else:
                raise ShellSyntaxError(f"unterminated here-document {delimiter!r}")
        self.heredocs = []

    def _double_quoted(self) -> None:
        text, self.i = self.text, self.i + 1
        self._append("")
        while self.i < len(text):
            char = text[self.i]
            if char == '"':
                self.i += 1
                return
            if char == "\\" and text[self.i + 1 : self.i + 2] in ('"', "\\", "$", "`", "\n"):
                self._append(text[self.i + 1].replace("\n", ""))
                self.i += 2
            elif char == "`":
                raise ShellSyntaxError("backquote command substitution (use $(...))")
            elif text.startswith("$(", self.i) and not text.startswith("$((", self.i):
                self._append(self._substitution())
            else:
                self._append(char)
                self.i += 1
        raise ShellSyntaxError("unterminated double quote")

    def _substitution(self) -> str:
        """Lex the commands of `$(...)` starting at self.i into self.commands; return its text."""
        start, depth, i, text = self.i, 0, self.i + 1, self.text
        while i < len(text):
            char = text[i]
            if char == "\\":
                i += 2
                continue
            if char == "'":
                i = text.find("'", i + 1)
                if i < 0:
                    break
            elif char == '"':
                i += 1
                while i < len(text) and text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    self.commands.extend(_Lexer(text[start + 2 : i]).run())
                    self.i = i + 1
                    return text[start : i + 1]
            i += 1
        raise ShellSyntaxError("unterminated $(")


def simple_commands(script: str) -> list[list[str]]:
    """The simple commands of a bash script (a command substitution's commands come first)."""
    return _Lexer(script).run()


def pulumi_invocations(script: str) -> list[list[str]]:
    """The arguments of every `pulumi` command in a bash script."""
    found = []
    for words in simple_commands(script):
        rest = list(words)
        while rest and (rest[0] in RESERVED_WORDS or rest[0] in WRAPPERS or ASSIGNMENT.match(rest[0])):
            rest.pop(0)
        if rest and rest[0] == "timeout":  # timeout [-k N] [-s SIG] DURATION COMMAND
            rest.pop(0)
            while rest and rest[0].startswith("-"):
                rest = rest[2:] if rest[0] in ("-k", "-s") else rest[1:]
            rest = rest[1:]
        if rest and (rest[0] == "pulumi" or rest[0].endswith("/pulumi")):
            found.append(rest[1:])
    return found


@dataclass(frozen=True)
class Check:
    """One invocation checked: the resolved command path and what is wrong with it."""

    path: tuple[str, ...]
    problems: list[str]


class Reference:
    """The CLI facts in pulumi_cli_reference.yaml."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.commands: dict[str, dict] = data["commands"]
        self.global_flags: dict[str, dict] = data["global_flags"]["flags"]

    @classmethod
    def load(cls, path: Path = REFERENCE_FILE) -> Reference:
        return cls(yaml.safe_load(path.read_text()))

    @property
    def pinned_version(self) -> str:
        return str(self.data["cli"]["pinned"])

    def _flag(self, command: dict, word: str) -> tuple[str, dict] | None:
        for flags in (command.get("flags") or {}, self.global_flags):
            for name, spec in flags.items():
                if word in (name, spec.get("short")):
                    return name, spec
        return None

    def _subcommand(self, path: tuple[str, ...], word: str) -> tuple[str, ...] | str:
        """The path of `word` under `path`, or a message saying why there is none."""
        parent = self.commands[" ".join(path)]
        shown = " ".join(("pulumi", *path))
        for name, aliases in parent["subcommands"].items():
            child = self.commands.get(" ".join((*path, name)))
            if word == name or word in aliases:
                if child is None:
                    return (f"`{shown} {name}` is a command of the CLI ({parent['source']}) but the reference"
                            " records none of its flags: add it from its source")
                return (*path, name)
        if parent.get("complete"):
            return f"`{shown}` has no subcommand `{word}` (its subcommands: {', '.join(parent['subcommands'])})"
        return f"`{shown} {word}` is not in the reference ({REFERENCE_FILE.name}): add it from the CLI's source"

    def check(self, argv: list[str]) -> Check:
        path: tuple[str, ...] = ()
        problems: list[str] = []
        positionals: list[str] = []
        given: set[str] = set()
        words = list(argv)
        only_positionals = False
        while words:
            word = words.pop(0)
            command = self.commands[" ".join(path)]
            if word == "--" and not only_positionals:
                only_positionals = True
            elif word.startswith("-") and word != "-" and not only_positionals:
                name, has_value, value = word.partition("=")
                found = self._flag(command, name)
                if found is None:
                    problems.append(f"`pulumi {' '.join(path)}` has no flag {name} ({command['source']})")
                    continue
                name, spec = found
                given.add(name)
                if spec["value"] == "required" and not has_value:
                    if not words:
                        problems.append(f"{name} needs a value")
                        continue
                    value = words.pop(0)
                elif spec["value"] == "none" and has_value and value not in ("true", "false"):
                    problems.append(f"{name} is a switch: {word} gives it {value!r}")
                choices = spec.get("choices")
                if choices and value and "$" not in value and value not in choices:
                    problems.append(f"{name} {value!r} is not one of {', '.join(choices)}")
            elif "subcommands" in command and not positionals:
                resolved = self._subcommand(path, word)
                if isinstance(resolved, str):
                    return Check(path, [*problems, resolved])
                path = resolved
            else:
                positionals.append(word)
        command = self.commands[" ".join(path)]
        shown = " ".join(("pulumi", *path))
        if "flags" not in command:
            return Check(path, [*problems, f"`{shown}` needs a subcommand ({', '.join(command['subcommands'])})"])
        low, high = command["args"]
        if not low <= len(positionals) <= (len(positionals) if high is None else high):
            problems.append(f"`{shown}` takes {low}..{high} positional arguments, got {len(positionals)}: {positionals}")
        for name, spec in command["flags"].items():
            if spec.get("required") and name not in given:
                problems.append(f"`{shown}` needs {name}")
        return Check(path, problems)

    def check_action(self, inputs: dict) -> Check:
        """A `pulumi/actions` step's `with:` inputs, as the CLI command the action runs."""
        action = self.data["pulumi_actions"]
        problems = [f"pulumi/actions has no input {name!r} ({action['source']})"
                    for name in inputs if name not in action["inputs"]]
        if "command" not in inputs:
            return Check((), problems)  # installs the CLI only
        command = action["commands"].get(str(inputs["command"]))
        if command is None:
            return Check((), [*problems, f"pulumi/actions has no command {inputs['command']!r} "
                                         f"(it has: {', '.join(action['commands'])})"])
        argv = command.split()
        for name, value in inputs.items():
            if name in action["flags"]:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                argv.append(f"{action['flags'][name]}={text}")
        checked = self.check(argv)
        return Check(checked.path, problems + checked.problems)
