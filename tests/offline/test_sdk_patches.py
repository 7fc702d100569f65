"""Each reach past the Pulumi SDK's public API (offline/sdk_patches.py) works on this SDK, and fails
loudly, naming its target and the SDK version, when the target is gone or has changed shape.

Targets are changed with pytest's monkeypatch, which puts the SDK back after each test."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi._types
import pulumi.runtime.resource
import pulumi.runtime.rpc
import pulumi_aws
import pytest
from offline_testlib import PROGRAM, REPO, run_cli
from pulumi.runtime.proto import source_pb2

from offline import sdk_patches
from offline.engine import run_program
from offline.sdk_patches import SdkShapeError
from offline.stack_config import load_project, load_stack_config

SDK = f"pulumi {importlib.metadata.version('pulumi')}:"


@pytest.fixture
def stack_trace_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever `_get_stack_trace` is now (a run in this process may have patched it) is put back
    after the test."""
    monkeypatch.setattr(pulumi.runtime.resource, "_get_stack_trace", pulumi.runtime.resource._get_stack_trace)


# ---- skip_source_positions -------------------------------------------------------------------------


def test_skip_source_positions_replaces_the_sdks_capture() -> None:
    """On the SDK as installed (a fresh process: nothing patched yet)."""
    check = """
import pulumi.runtime.resource as resource
from pulumi.runtime.proto import source_pb2
from offline import sdk_patches
original = resource._get_stack_trace
sdk_patches.skip_source_positions()
patched = resource._get_stack_trace
assert patched is not original and patched() == source_pb2.StackTrace(), patched
sdk_patches.skip_source_positions()
assert resource._get_stack_trace is patched, "not idempotent"
print("patched")
"""
    proc = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout.strip()) == (0, "patched"), proc.stderr


def test_skip_source_positions_fails_loudly_without_its_target(
    stack_trace_target: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(pulumi.runtime.resource, "_get_stack_trace")
    with pytest.raises(SdkShapeError) as caught:
        sdk_patches.skip_source_positions()
    assert str(caught.value).startswith(f"{SDK} pulumi.runtime.resource._get_stack_trace does not exist")
    assert "written for pulumi 3.272.0" in str(caught.value)


def test_skip_source_positions_fails_loudly_on_a_changed_signature(
    stack_trace_target: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def _get_stack_trace(skip: int) -> source_pb2.StackTrace:
        return source_pb2.StackTrace()

    monkeypatch.setattr(pulumi.runtime.resource, "_get_stack_trace", _get_stack_trace)
    with pytest.raises(SdkShapeError, match=r"_get_stack_trace takes \(skip\), not \(\)"):
        sdk_patches.skip_source_positions()
    assert pulumi.runtime.resource._get_stack_trace is _get_stack_trace  # left as it was


def test_skip_source_positions_fails_loudly_on_a_changed_return_type(
    stack_trace_target: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def _get_stack_trace() -> list:
        return []

    monkeypatch.setattr(pulumi.runtime.resource, "_get_stack_trace", _get_stack_trace)
    with pytest.raises(SdkShapeError, match=r"_get_stack_trace returns .*, not source_pb2.StackTrace"):
        sdk_patches.skip_source_positions()


# ---- resource_class ------------------------------------------------------------------------------------


def test_resource_class_finds_generated_classes() -> None:
    assert sdk_patches.resource_class("aws:ec2/vpc:Vpc") is pulumi_aws.ec2.Vpc
    assert sdk_patches.resource_class("aws:ecs/taskDefinition:TaskDefinition") is pulumi_aws.ecs.TaskDefinition
    assert sdk_patches.resource_class("aws:ec2/noSuchThing:NoSuchThing") is None
    assert sdk_patches.resource_class("nosuchprovider:index:Thing") is None
    assert sdk_patches.resource_class("not-a-token") is None


def test_resource_class_fails_loudly_without_get_resource_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(pulumi.runtime.rpc, "get_resource_module")
    with pytest.raises(SdkShapeError) as caught:
        sdk_patches.resource_class("aws:ec2/vpc:Vpc")
    assert str(caught.value).startswith(f"{SDK} pulumi.runtime.rpc.get_resource_module does not exist")


def test_resource_class_fails_loudly_on_a_changed_get_resource_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pulumi.runtime.rpc, "get_resource_module", lambda key, version: None)
    with pytest.raises(SdkShapeError, match=r"get_resource_module takes \(key, version\), not \(pkg, mod, version\)"):
        sdk_patches.resource_class("aws:ec2/vpc:Vpc")


def test_resource_class_fails_loudly_on_a_module_without_mod_info(monkeypatch: pytest.MonkeyPatch) -> None:
    class Module(pulumi.runtime.ResourceModule):
        def version(self) -> None:
            return None

        def construct(self, name: str, typ: str, urn: str) -> Any:
            raise NotImplementedError

    def get_resource_module(pkg: str, mod: str, version: str) -> Any:
        return Module()

    monkeypatch.setattr(pulumi.runtime.rpc, "get_resource_module", get_resource_module)
    with pytest.raises(SdkShapeError, match=r"registered for aws:ec2/vpc \(.*Module\) has no mod_info dict"):
        sdk_patches.resource_class("aws:ec2/vpc:Vpc")


# ---- output_types --------------------------------------------------------------------------------------


def test_output_types_unwraps_optional_outputs() -> None:
    types = sdk_patches.output_types(pulumi_aws.ec2.Vpc)
    assert types["arn"] is str and types["enableDnsHostnames"] is bool
    assert types["tagsAll"] is not None and "cidrBlock" in types


@pytest.mark.parametrize("name", ["resource_types", "unwrap_optional_type"])
def test_output_types_fails_loudly_without_its_targets(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(pulumi._types, name)
    with pytest.raises(SdkShapeError) as caught:
        sdk_patches.output_types(pulumi_aws.ec2.Vpc)
    assert str(caught.value).startswith(f"{SDK} pulumi._types.{name} does not exist")


@pytest.mark.parametrize("name", ["resource_types", "unwrap_optional_type"])
def test_output_types_fails_loudly_on_changed_signatures(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pulumi._types, name, lambda value, strict: value)
    with pytest.raises(SdkShapeError, match=rf"pulumi._types.{name} takes \(value, strict\)"):
        sdk_patches.output_types(pulumi_aws.ec2.Vpc)


def test_update_mode_reports_a_changed_sdk_before_the_program_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """update mode reads outputs through the accessors: a changed target stops the run at once,
    with the accessor's message (not a program failure from inside the SDK's threads)."""
    monkeypatch.delattr(pulumi._types, "resource_types")
    project = load_project(PROGRAM)
    with pytest.raises(SdkShapeError, match=r"pulumi\._types\.resource_types does not exist"):
        run_program(project, "dev", load_stack_config(project, "dev"), dry_run=False)


# ---- what is no longer patched -------------------------------------------------------------------------


def test_each_run_has_a_root_of_its_own() -> None:
    """Runs in one process (each in a fresh thread, so a fresh context) do not share the SDK's root
    stack resource: the second stack's resources hang off the second stack."""
    project = load_project(PROGRAM)
    config = load_stack_config(project, "dev")
    for stack in ("dev", "other"):
        run = run_program(project, stack, config)
        root = run.root
        assert root is not None and root.urn == f"urn:pulumi:{stack}::fixture-app::pulumi:pulumi:Stack::fixture-app-{stack}"
        top = [r for r in run.registrations if r.parent and r.type != "pulumi:pulumi:Stack"]
        assert top and all(r.urn.startswith(f"urn:pulumi:{stack}::") for r in top)
        assert any(r.parent == root.urn for r in top)


def test_a_changed_sdk_is_a_one_line_error_of_the_command(tmp_path: Path) -> None:
    """The language host applies the patch: a missing target ends the command with exit 2 and one
    line naming it, not a traceback (the SDK is changed by a sitecustomize module in each process)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import pulumi.runtime.resource\ndel pulumi.runtime.resource._get_stack_trace\n", encoding="utf-8"
    )
    proc = run_cli("--program", str(PROGRAM), "--policy-pack", "none", env={"PYTHONPATH": str(site)})
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error (unsupported Pulumi SDK): {SDK} pulumi.runtime.resource._get_stack_trace does not exist; "
        "offline/sdk_patches.py was written for pulumi 3.272.0 and needs updating for this SDK"
    )


def test_input_names_reads_generated_args(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi._types as pulumi_types
    import pulumi_aws

    names = sdk_patches.input_names(pulumi_aws.lb.TargetGroupArgs)
    assert names["health_check"] == "healthCheck" and names["name_prefix"] == "namePrefix"

    def changed(cls: type, extra: Any) -> dict[str, str]:  # a changed SDK signature
        return {}

    monkeypatch.setattr(pulumi_types, "input_type_py_to_pulumi_names", changed)
    with pytest.raises(sdk_patches.SdkShapeError, match="input_type_py_to_pulumi_names takes"):
        sdk_patches.input_names(pulumi_aws.lb.TargetGroupArgs)
