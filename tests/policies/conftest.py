"""Fixtures: the pack's real servicer in-process (see policies/ecs_guardrails/testing.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_POLICIES = str(Path(__file__).resolve().parents[2] / "policies")
if _POLICIES not in sys.path:
    sys.path.insert(0, _POLICIES)

from ecs_guardrails.testing import Analyzer  # noqa: E402
from pack_fixtures import load_config  # noqa: E402


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.fixture(scope="session")
def dev() -> Analyzer:
    return Analyzer(load_config("dev"))


@pytest.fixture(scope="session")
def prod() -> Analyzer:
    return Analyzer(load_config("prod"))
