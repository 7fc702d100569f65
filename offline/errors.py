"""The errors the offline preview reports as a one-line message and exit code 2.

Owns: the classes for failures of input, output and environment that are not about the stack's
config, the program or the pack (those keep their own classes: `ConfigError`, `ProgramError`,
`PolicyError`). `__main__` maps every class to its label; anything else that escapes is an
internal error (a bug of the preview itself).
"""

from __future__ import annotations


class InputError(Exception):
    """A file the preview reads cannot be used: names the file and the reason (exit code 2)."""


class OutputError(Exception):
    """A report cannot be written: names the flag, the file and the reason (exit code 2)."""


class UsageError(Exception):
    """The command line is contradictory in a way argparse cannot tell (exit code 2)."""
