"""pytest's warning filters (pyproject.toml): a DeprecationWarning from our code fails the test,
one that a third-party package raises about itself is silenced."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["offline.report", "components.service", "ecs_guardrails.core", "__main__",
                                    "test_offline_cli", "urn_snapshot"])
def test_a_deprecation_warning_from_our_code_is_an_error(module: str) -> None:
    with pytest.raises(DeprecationWarning, match="old API"):
        warnings.warn_explicit("old API", DeprecationWarning, f"{module.replace('.', '/')}.py", 1, module=module)


@pytest.mark.parametrize("module", ["pulumi_aws.s3.bucket_v2", "pulumi_awsx.ec2.default_vpc"])
def test_a_third_party_deprecation_is_silenced(module: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn_explicit("deprecated", DeprecationWarning, f"{module.replace('.', '/')}.py", 1, module=module)
    assert caught == []


def test_only_those_packages_are_silenced() -> None:
    # A package whose name merely starts the same way is not covered by the pulumi_aws filter.
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old API", DeprecationWarning, "pulumi_awsome.py", 1, module="pulumi_awsome")


def test_a_test_that_calls_deprecated_code_fails(tmp_path: Path) -> None:
    # End to end, with the repository's configuration: a module's own warnings.warn fails the test
    # that calls it, the way a deprecated call in offline/ or components/ would.
    (tmp_path / "legacy.py").write_text(
        "import warnings\n\ndef old():\n    warnings.warn('old() is deprecated', DeprecationWarning)\n    return 1\n")
    (tmp_path / "test_probe.py").write_text("import legacy\n\ndef test_calls_old():\n    assert legacy.old() == 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", "-p", "no:xdist", str(tmp_path / "test_probe.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "DeprecationWarning: old() is deprecated" in proc.stdout
    assert "1 failed" in proc.stdout
