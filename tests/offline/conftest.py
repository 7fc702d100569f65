"""Fixtures of the offline preview tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from offline_testlib import PACK


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A private copy of the fixture pack, so leftover-process checks only see this test's pack."""
    dest = tmp_path / "pack"
    shutil.copytree(PACK, dest)
    return dest
