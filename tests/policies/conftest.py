"""Fixtures: the pack's real servicer in-process (see pack_driver.py)."""

from __future__ import annotations

import pytest
from pack_driver import Analyzer
from pack_fixtures import load_config


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.fixture(scope="session")
def dev() -> Analyzer:
    return Analyzer(load_config("dev"))


@pytest.fixture(scope="session")
def prod() -> Analyzer:
    return Analyzer(load_config("prod"))
