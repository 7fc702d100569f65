"""The engine stand-in in-process: URNs, default providers, secrets, preview vs update.

`run_program` runs the program in its own thread whose context is discarded, so the Pulumi
runtime state of this pytest worker (used by other test modules' mocks) is left untouched.
"""

from __future__ import annotations

import sys

import pytest
from offline_testlib import FIXTURES, PROGRAM

from offline.engine import ProgramError, run_program
from offline.properties import SECRET_SIG, SIG, UNKNOWN, contains_unknown
from offline.stack_config import SECRET_PLACEHOLDER, load_project, load_stack_config

URN = "urn:pulumi:dev::fixture-app::"


@pytest.fixture(scope="module")
def runs():
    project = load_project(PROGRAM)
    config = load_stack_config(project, "dev")
    return {
        mode: {r.urn: r for r in run_program(project, "dev", config, dry_run=mode == "preview").registrations}
        for mode in ("preview", "update")
    }


def test_urns_follow_engine_rules(runs) -> None:
    urns = set(runs["preview"])
    assert URN + "pulumi:pulumi:Stack::fixture-app-dev" in urns
    assert URN + "fixture:app:Platform::platform" in urns  # no stack type prefix
    assert URN + "fixture:app:Platform$fixture:app:Service$aws:iam/role:Role::web-role" in urns  # full chain
    assert URN + "aws:ssm/parameter:Parameter::db-password" in urns


def test_default_provider_created_and_referenced(runs) -> None:
    prov = runs["preview"][URN + "pulumi:providers:aws::default_7_51_1"]
    assert prov.default_provider and prov.inputs == {"region": "us-east-1", "version": "7.51.1"}
    cluster = runs["preview"][URN + "fixture:app:Platform$aws:ecs/cluster:Cluster::platform-cluster"]
    assert cluster.provider == f"{prov.urn}::{UNKNOWN}"
    assert cluster.options["protect"] is True
    assert runs["update"][prov.urn].id not in ("", UNKNOWN)


def test_secure_config_arrives_as_secret(runs) -> None:
    value = runs["preview"][URN + "aws:ssm/parameter:Parameter::db-password"].inputs["value"]
    assert value == {SIG: SECRET_SIG, "value": SECRET_PLACEHOLDER}


def test_structured_config_and_dependencies(runs) -> None:
    services = [u for u in runs["preview"] if "fixture:app:Service::" in u]
    assert sorted(u.rsplit("::", 1)[1] for u in services) == ["api", "web"]
    web = runs["preview"][URN + "fixture:app:Platform$fixture:app:Service::web"]
    assert URN + "fixture:app:Platform$aws:ecs/cluster:Cluster::platform-cluster" in web.dependencies


def test_preview_unknowns_update_filled(runs) -> None:
    key = URN + "fixture:app:Platform$fixture:app:Service$aws:ecs/taskDefinition:TaskDefinition::web-task"
    preview, update = runs["preview"][key], runs["update"][key]
    assert preview.inputs["executionRoleArn"] == UNKNOWN and preview.id == ""
    assert update.inputs["executionRoleArn"].startswith("arn:aws:iam::123456789012:role/web-role")
    # The log group's name is the provider's auto-name (Check), known in preview: so is the JSON built from it.
    assert '"awslogs-group":"web-logs-' in update.inputs["containerDefinitions"]
    assert preview.inputs["containerDefinitions"] == update.inputs["containerDefinitions"]
    # No input disappears: every preview input key is present in update mode, with a known value.
    for reg in runs["preview"].values():
        other = runs["update"][reg.urn]
        assert set(reg.inputs) <= set(other.inputs), reg.urn
        assert not contains_unknown(other.inputs), reg.urn
    assert set(preview.property_dependencies["executionRoleArn"]) == {
        URN + "fixture:app:Platform$fixture:app:Service$aws:iam/role:Role::web-role"
    }


def test_program_modules_dropped_and_runtime_state_untouched(runs) -> None:
    from pulumi.runtime import settings

    assert "fixture_components" not in sys.modules
    assert settings.get_root_resource() is None or settings.get_project() != "fixture-app"


def test_program_errors_are_raised_not_hung() -> None:
    project = load_project(PROGRAM)
    with pytest.raises(ProgramError, match="fixture-app:services"):
        run_program(project, "bad", load_stack_config(project, "bad"))
    hang = load_project(FIXTURES / "hang_program")
    with pytest.raises(ProgramError, match="did not finish"):
        run_program(hang, "dev", load_stack_config(hang, "dev"), timeout=1)
