"""The order and options of real `pulumi up` / `pulumi destroy`, read from the graph and options the
engine records (offline preview JSON), for every stack (dev, prod, the example, bridge mode).

- Destroy deletes a resource before everything it depends on. AWS accepts only: services (and
  schedules), then the capacity provider association, then each capacity provider, then its Auto
  Scaling group (its instances gone), then the cluster (DeleteCluster refuses while container
  instances are registered).
- A task definition depends on every policy its roles need, so a new revision (and the service
  deployment that follows it) never starts before the policy is written.
- prod's teardown and re-create: retained log groups (imported under their names when
  `logs.adopt_existing` is on), the protected ALB, the kept awsvpcTrunking default, the groups'
  drain timeout."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack_previews import ROOT, STACKS, Graph, run_preview, stack_file

sys.path.insert(0, str(ROOT))
from offline.durations import DurationError, seconds

SERVICE, SCHEDULE = "aws:ecs/service:Service", "aws:scheduler/schedule:Schedule"
ASSOCIATION = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
PROVIDER, GROUP, CLUSTER = "aws:ecs/capacityProvider:CapacityProvider", "aws:autoscaling/group:Group", "aws:ecs/cluster:Cluster"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
POLICIES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Graph]:
    tmp = tmp_path_factory.mktemp("lifecycle")
    cache: dict[str, Graph] = {}

    def get(stack: str) -> Graph:
        if stack not in cache:
            cache[stack] = Graph(run_preview(tmp, stack))
        return cache[stack]
    return get


def short(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


@pytest.mark.parametrize("stack", STACKS)
def test_every_group_depends_on_the_cluster(stack: str, graph: Callable[[str], Graph]) -> None:
    g = graph(stack)
    cluster = g.one(CLUSTER)["urn"]
    groups = g.of_type(GROUP)
    assert groups
    for group in groups:
        assert g.depends_on(group["urn"], cluster), f"{stack}: {group['name']} can outlive the cluster on destroy"
    # Through the launch template's user data: the value carries the dependency, not only an option.
    template = g.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert cluster in template["propertyDependencies"]["userData"]


@pytest.mark.parametrize("stack", STACKS)
def test_destroy_deletes_services_association_providers_groups_then_the_cluster(
        stack: str, graph: Callable[[str], Graph]) -> None:
    g = graph(stack)
    association, cluster = g.one(ASSOCIATION)["urn"], g.one(CLUSTER)["urn"]
    runners = [r["urn"] for r in g.of_type(SERVICE) + g.of_type(SCHEDULE)]
    providers = {r["urn"]: r for r in g.of_type(PROVIDER)}
    groups = [r["urn"] for r in g.of_type(GROUP)]
    assert runners and providers and len(groups) == len(providers)
    # Required of every order the engine may choose (it deletes independent resources in parallel).
    for runner in runners:
        assert g.depends_on(runner, association), f"{stack}: {short(runner)} may outlive the capacity association"
    group_of: dict[str, str] = {}
    for urn, provider in providers.items():
        assert g.depends_on(association, urn), f"{stack}: {provider['name']} may go before the association"
        (group_of[urn],) = [u for u in provider["propertyDependencies"]["autoScalingGroupProvider"] if u in groups]
        assert g.depends_on(urn, group_of[urn]), f"{stack}: {short(group_of[urn])} may go before {provider['name']}"
    for group in groups:
        assert g.depends_on(group, cluster), f"{stack}: the cluster may go before {short(group)}"
    # And one such order, as the engine would walk it.
    order = g.deletion_order()
    at = {urn: i for i, urn in enumerate(order)}
    assert max(at[r] for r in runners) < at[association] < min(at[p] for p in providers)
    assert all(at[p] < at[group_of[p]] for p in providers)
    assert max(at[u] for u in groups) < at[cluster], [short(u) for u in order]


@pytest.mark.parametrize("stack", STACKS)
def test_task_definitions_depend_on_their_roles_policies(stack: str, graph: Callable[[str], Graph]) -> None:
    g = graph(stack)
    policies = [r for t in POLICIES for r in g.of_type(t)]
    definitions = g.of_type(TASK_DEFINITION)
    assert definitions
    for definition in definitions:
        deps = definition["propertyDependencies"]
        execution_role, task_role = set(deps["executionRoleArn"]), set(deps["taskRoleArn"])
        needed = {p["urn"]: p for p in policies if set(p["propertyDependencies"]["role"]) & (execution_role | task_role)}
        on_execution_role = [p for p in needed.values() if set(p["propertyDependencies"]["role"]) & execution_role]
        assert on_execution_role, f"{stack} {definition['name']}: no execution role policy found"
        missing = sorted(p["name"] for urn, p in needed.items() if not g.depends_on(definition["urn"], urn))
        assert not missing, f"{stack} {definition['name']} may start tasks before {missing}"


def test_task_role_policies_are_among_them(graph: Callable[[str], Graph]) -> None:
    """The example's ECS Exec worker: its exec policy is on the task role, and the graph test above
    sees it (the policies it checks are not only the execution role's)."""
    g = graph("workloads")
    definition = g.one(TASK_DEFINITION, "queue-worker-task")
    exec_policy = g.one("aws:iam/rolePolicy:RolePolicy", "queue-worker-exec")
    assert set(exec_policy["propertyDependencies"]["role"]) == set(definition["propertyDependencies"]["taskRoleArn"])
    assert exec_policy["urn"] in definition["dependencies"]


def test_prod_secrets_policy_comes_before_the_api_revision(graph: Callable[[str], Graph]) -> None:
    g = graph("prod")
    definition = g.one(TASK_DEFINITION, "api-task")
    for policy in ("api-secrets", "api-execution-policy"):
        assert any(short(u) == policy for u in definition["dependencies"]), definition["dependencies"]


# ---- teardown and re-create: the options the engine receives --------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_groups_drain_within_their_delete_timeout_or_are_force_deleted(stack: str, graph: Callable[[str], Graph]) -> None:
    for group in graph(stack).of_type(GROUP):
        if group["inputs"].get("forceDelete") is True:
            assert "customTimeouts" not in group["options"], group["name"]
        else:
            # The drain may wait out ECS's managed draining hook (one hour): the program's "75m", which
            # the engine records in seconds.
            assert group["options"]["customTimeouts"]["delete"] == 75 * 60, group["name"]


def test_prod_keeps_its_logs_and_trunking_and_protects_the_alb(graph: Callable[[str], Graph]) -> None:
    g = graph("prod")
    log_groups = g.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert log_groups and all(r["options"].get("retainOnDelete") is True for r in log_groups)
    assert not [r["name"] for r in g.resources.values() if r["options"].get("importId")]
    alb = g.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb["options"]["protect"] is True and alb["inputs"]["enableDeletionProtection"] is True
    trunking = g.one("aws:ecs/accountSettingDefault:AccountSettingDefault")
    assert trunking["inputs"] == {"name": "awsvpcTrunking", "value": "enabled"}
    assert trunking["options"].get("retainOnDelete") is True  # account-wide: destroy must not turn it off
    for group in g.of_type(GROUP):  # instances launched after trunking is on get the trunk ENI
        assert trunking["urn"] in group["dependencies"]
    assert not graph("dev").of_type("aws:ecs/accountSettingDefault:AccountSettingDefault")


def test_re_created_prod_imports_its_retained_log_groups(tmp_path: Path) -> None:
    content = copy.deepcopy(stack_file("prod"))
    content["config"]["ecs-platform:logs"]["adopt_existing"] = True
    g = Graph(run_preview(tmp_path, "prod", content=content))
    log_groups = g.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert log_groups
    for group in log_groups:
        # The id of a log group is its name: the engine imports it instead of creating it.
        assert group["options"]["importId"] == group["inputs"]["name"], group["name"]
        assert group["options"]["retainOnDelete"] is True
    imported = sorted(r["name"] for r in g.resources.values() if r["options"].get("importId"))
    assert imported == sorted(r["name"] for r in log_groups)


def test_custom_timeouts_are_seconds_for_the_pack() -> None:
    """The engine sends custom timeouts to analyzers in seconds (it parses the SDK's duration)."""
    assert [seconds(v) for v in ("75m", "1h30m", "90s", "1.5h", "0")] == [4500.0, 5400.0, 90.0, 5400.0, 0.0]
    with pytest.raises(DurationError, match="75 minutes"):
        seconds("75 minutes")
