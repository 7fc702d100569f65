"""Custom timeouts as the engine reads them: Go duration strings to seconds.

Owns: `time.ParseDuration`'s grammar (an optional sign, then one or more decimal numbers each with
a unit: ns, us/µs, ms, s, m, h; "0" alone) and the engine's message when a timeout does not parse
(`generateTimeoutInSeconds` in `pkg/resource/deploy/source_eval.go`). Pure functions.
"""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


class DurationError(ValueError):
    """Not a Go duration (the message is the engine's)."""


def seconds(text: str) -> float:
    """Seconds of a Go duration string ("75m", "1h30m", "1.5s", "-2m"); raises DurationError."""
    body = text[1:] if text[:1] in "+-" else text
    sign = -1.0 if text.startswith("-") else 1.0
    if body == "0":
        return 0.0
    total, position = 0.0, 0
    for match in _PART.finditer(body):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not body or position != len(body):
        raise DurationError(f"unable to parse customTimeout Value {text}")
    return sign * total
