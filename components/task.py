"""Task: what every task of the stack is made of, whether a service or a schedule runs it.

Declares, as children of the owning component (names derived from the task's name), the task's
log group, execution role (with read access to exactly the secrets its containers reference),
task role with the configured permissions (app_permissions.py: IAM denied by default), task
definition with its container definitions (lifecycle settings written out with ECS's key names)
and the stack's tags, and in awsvpc mode its security group with HTTPS egress, the configured
egress to CIDRs and prefix lists (reachability.py) and the extra security groups; resolves where
the task runs (its capacity provider strategy, or the cluster's default one). What runs the task
(ECS service, schedule), its load balancer wiring, ingress, connections to other tasks and ECS
Exec's permissions belong to the owner.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from . import naming
from .app_permissions import TaskRolePermissions, declare_task_role_permissions
from .cluster import Cluster
from .config import FARGATE_PROVIDERS, Architecture, CapacityProviderStrategyItem, ContainerConfig, LogsConfig, TaskConfig
from .iam import ecs_tasks_trust_policy, managed_policy_arn
from .log_group import declare_log_group
from .log_group import task_log_group_name as log_group_name
from .reachability import declare_external_egress


@dataclass(frozen=True)
class TaskPlacement:
    """Where every task of the stack runs: the same for each service and scheduled task."""

    cluster: Cluster
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    cluster_name: str
    region: str
    partition: str
    account_id: str
    architecture: Architecture  # the cluster's instances'

    def family(self, task: str) -> str:
        """The task definition family of `task`."""
        return naming.family(self.cluster_name, task)

    def schedule_name(self, task: str) -> str:
        return naming.schedule_name(self.cluster_name, task)

    def log_group_name(self, task: str) -> str:
        return log_group_name(self.cluster_name, task)

    def arn(self, service: str, resource: str) -> str:
        """An ARN in the stack's partition, region and account, e.g. arn("ecs", "task/<cluster>/*")."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"


def secret_resource_arn(value_from: str) -> str:
    """The IAM resource of a `valueFrom`: a Secrets Manager ARN may carry `:json-key:stage:id`."""
    parts = value_from.split(":")
    return ":".join(parts[:7]) if parts[2] == "secretsmanager" else value_from


def container_definition(name: str, c: ContainerConfig, port: int | None, network_mode: str,
                         log_group: str, region: str, stream_prefix: str,
                         port_mapping_extras: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One container as ECS RegisterTaskDefinition takes it, with AWS's defaults written out so
    that the definition does not re-diff on every update. `port_mapping_extras`: more keys of the
    port mapping (Service Connect's `name` and `appProtocol`)."""
    definition: dict[str, Any] = {
        "name": name,
        "image": c.image,
        "essential": c.essential,
        "cpu": c.cpu,
        "memory": c.memory,
        "portMappings": [] if port is None else [{
            "containerPort": port,
            "hostPort": 0 if network_mode == "bridge" else port,
            "protocol": "tcp",
            **(port_mapping_extras or {}),
        }],
        "environment": [{"name": k, "value": v} for k, v in sorted(c.environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(c.secrets.items())],
        "mountPoints": [],
        "volumesFrom": [],
        "privileged": False,
        "readonlyRootFilesystem": c.read_only_root_filesystem,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": stream_prefix,
            },
        },
    }
    if c.memory_reservation is not None:
        definition["memoryReservation"] = c.memory_reservation
    if c.command is not None:
        definition["command"] = c.command
    if c.user is not None:
        definition["user"] = c.user
    definition["stopTimeout"] = c.stop_timeout
    linux: dict[str, Any] = {}
    if c.init_process_enabled:
        linux["initProcessEnabled"] = True
    if c.writable_paths:
        linux["tmpfs"] = [{"containerPath": p, "size": 64} for p in c.writable_paths]
    if linux:
        definition["linuxParameters"] = linux
    if c.container_health_check is not None:
        hc = c.container_health_check
        check: dict[str, Any] = {"command": hc.command, "interval": hc.interval, "timeout": hc.timeout,
                                 "retries": hc.retries}
        if hc.start_period:  # ECS's default: no start period
            check["startPeriod"] = hc.start_period
        definition["healthCheck"] = check
    if c.depends_on:
        definition["dependsOn"] = [{"containerName": dep, "condition": condition}
                                   for dep, condition in sorted(c.depends_on.items())]
    if c.ulimits:
        definition["ulimits"] = [{"name": u, "softLimit": limit.soft, "hardLimit": limit.hard}
                                 for u, limit in sorted(c.ulimits.items())]
    return definition


def secrets_policy(name: str, execution_role: aws.iam.Role, containers: dict[str, ContainerConfig],
                   kms_key_arn: str | None, child: pulumi.ResourceOptions) -> aws.iam.RolePolicy | None:
    """Read access for the execution role to exactly the secrets the containers reference."""
    refs = sorted({secret_resource_arn(v) for c in containers.values() for v in c.secrets.values()})
    if not refs:
        return None
    statements = []
    ssm = [r for r in refs if r.split(":")[2] == "ssm"]
    if ssm:
        statements.append({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": ssm})
    secrets = [r for r in refs if r.split(":")[2] == "secretsmanager"]
    if secrets:
        statements.append({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secrets})
    if kms_key_arn:
        statements.append({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": kms_key_arn})
    return aws.iam.RolePolicy(
        f"{name}-secrets",
        role=execution_role.id,
        policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        opts=child,
    )


@dataclass(frozen=True)
class TaskIdentity:
    """What every task of ours has: its log group, execution role (+ secrets access) and task role."""

    log_group: aws.cloudwatch.LogGroup
    execution_role: aws.iam.Role
    execution_role_policy: aws.iam.RolePolicyAttachment
    secrets_policy: aws.iam.RolePolicy | None
    task_role: aws.iam.Role
    permissions: TaskRolePermissions  # the task role's policies from the config

    @property
    def execution_policies(self) -> list[pulumi.Resource]:
        """What the ECS agent needs before a task starts: image pulls, logs, the secrets."""
        return [p for p in (self.execution_role_policy, self.secrets_policy) if p is not None]


def task_identity(owner: pulumi.ComponentResource, name: str, what: str, cfg: TaskConfig,
                  logs: LogsConfig, placement: TaskPlacement) -> TaskIdentity:
    """Declares, as children of `owner` (names derived from `name`), a task's log group and roles.
    `what` names the owner's kind in the roles' descriptions ("service", "scheduled task")."""
    child = pulumi.ResourceOptions(parent=owner)
    log_group = declare_log_group(owner, f"{name}-logs", placement.log_group_name(name), logs)
    trust = ecs_tasks_trust_policy(placement.partition, placement.region, placement.account_id)
    execution_role = aws.iam.Role(
        f"{name}-execution-role",
        assume_role_policy=trust,
        description=f"ECS agent for {what} {name}: pulls images, writes logs, reads its secrets",
        opts=child,
    )
    execution_role_policy = aws.iam.RolePolicyAttachment(
        f"{name}-execution-policy",
        role=execution_role.name,
        policy_arn=managed_policy_arn(placement.partition, "service-role/AmazonECSTaskExecutionRolePolicy"),
        opts=child,
    )
    task_role = aws.iam.Role(
        f"{name}-task-role",
        assume_role_policy=trust,
        description=f"Application role of {what} {name} (no permissions by default)",
        opts=child,
    )
    return TaskIdentity(
        log_group=log_group,
        execution_role=execution_role,
        execution_role_policy=execution_role_policy,
        secrets_policy=secrets_policy(name, execution_role, cfg.containers(name), cfg.secrets_kms_key_arn, child),
        task_role=task_role,
        permissions=declare_task_role_permissions(owner, name, cfg.permissions, task_role),
    )


def task_definition(owner: pulumi.ComponentResource, name: str, cfg: TaskConfig, main_port: int | None,
                    identity: TaskIdentity, fargate: bool, placement: TaskPlacement,
                    tags: Mapping[str, str] | None = None,
                    main_port_mapping_extras: Mapping[str, str] | None = None,
                    task_role_policies: Sequence[pulumi.Resource] = ()) -> aws.ecs.TaskDefinition:
    """Declares, as a child of `owner`, the task definition of `cfg` and its sidecars: the main
    container (named `name`) serves `main_port` (its port mapping with `main_port_mapping_extras`),
    each sidecar its own port; cpu and memory are the task's own or the sum of its containers' (plus
    a proxy's); `tags`: the stack's. It depends on its roles' policies (the execution role's, the
    config's task-role permissions and `task_role_policies`): the ARNs alone order it after the roles
    only, and a revision registered while a policy is still being written starts tasks that cannot
    pull their secrets or lack their permissions."""
    definitions = [
        container_definition(cname, c, main_port if cname == name else c.port, cfg.network_mode,
                             placement.log_group_name(name), placement.region, cname,
                             main_port_mapping_extras if cname == name else None)
        for cname, c in cfg.containers(name).items()
    ]
    cpu, memory = cfg.task_size
    return aws.ecs.TaskDefinition(
        f"{name}-task",
        family=placement.family(name),
        requires_compatibilities=["FARGATE"] if fargate else ["EC2"],
        network_mode=cfg.network_mode,
        cpu=str(cpu),
        memory=str(memory),
        execution_role_arn=identity.execution_role.arn,
        task_role_arn=identity.task_role.arn,
        container_definitions=json.dumps(definitions),
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            operating_system_family="LINUX",
            cpu_architecture="ARM64" if placement.architecture == "arm64" else "X86_64",
        ),
        tags=dict(tags) if tags else None,
        opts=pulumi.ResourceOptions(
            parent=owner,
            depends_on=[*identity.execution_policies, *identity.permissions.resources, *task_role_policies],
        ),
    )


@dataclass(frozen=True)
class ProviderShare:
    """One strategy entry with the capacity provider's real name (the cluster's, or FARGATE*)."""

    capacity_provider: pulumi.Input[str]
    weight: int
    base: int


@dataclass(frozen=True)
class TaskNetwork:
    """Where a task runs and how it reaches out (see `task_network`)."""

    strategy: list[CapacityProviderStrategyItem]  # its own, or the cluster's default
    fargate: bool  # the strategy names Fargate providers (config rules: then only those)
    providers: list[ProviderShare]  # `strategy` as ECS and EventBridge Scheduler take it
    # awsvpc mode: the task's own security group (HTTPS egress; owners add ingress) in the private
    # subnets, never with a public IP. Bridge mode: None (the task uses its instance's network).
    security_group: aws.ec2.SecurityGroup | None
    https_egress: aws.vpc.SecurityGroupEgressRule | None
    subnet_ids: pulumi.Input[list[str]]
    # The configured egress to CIDRs and prefix lists (reachability.py), and more groups by id.
    egress: list[aws.vpc.SecurityGroupEgressRule] = field(default_factory=list)
    extra_security_group_ids: tuple[str, ...] = ()

    def security_group_ids(self) -> list[pulumi.Input[str]]:
        """The groups of the task's network interface: its own, then the extra ones (awsvpc)."""
        assert self.security_group is not None
        return [self.security_group.id, *self.extra_security_group_ids]


def task_network(owner: pulumi.ComponentResource, name: str, what: str, cfg: TaskConfig,
                 placement: TaskPlacement) -> TaskNetwork:
    """Resolves the task's capacity provider strategy and, in awsvpc mode, declares as children of
    `owner` its security group (`<name>-sg`, described as "ECS <what> <name>") with HTTPS egress and
    the configured egress to CIDRs and prefix lists."""
    cluster = placement.cluster
    # Without its own strategy a task takes the cluster's default one, set explicitly: the pack
    # wants a strategy on every service.
    strategy = cfg.capacity_provider_strategy or cluster.args.config.default_strategy
    security_group: aws.ec2.SecurityGroup | None = None
    https_egress: aws.vpc.SecurityGroupEgressRule | None = None
    egress: list[aws.vpc.SecurityGroupEgressRule] = []
    if cfg.network_mode == "awsvpc":
        child = pulumi.ResourceOptions(parent=owner)
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=placement.vpc_id, description=f"ECS {what} {name}", opts=child,
        )
        https_egress = aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-out",
            security_group_id=security_group.id,
            ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
            description="HTTPS to AWS APIs and registries", opts=child,
        )
        egress = declare_external_egress(owner, name, cfg.egress, security_group)
    return TaskNetwork(
        strategy=strategy,
        fargate=any(i.capacity_provider in FARGATE_PROVIDERS for i in strategy),
        providers=[ProviderShare(cluster.providers[i.capacity_provider], i.weight, i.base) for i in strategy],
        security_group=security_group,
        https_egress=https_egress,
        subnet_ids=placement.private_subnet_ids,
        egress=egress,
        extra_security_group_ids=tuple(cfg.security_group_ids),
    )


@dataclass(frozen=True)
class Task:
    """The children every task has (see `declare_task`)."""

    identity: TaskIdentity
    network: TaskNetwork
    definition: aws.ecs.TaskDefinition
    task_role_policies: list[pulumi.Resource] = field(default_factory=list)


# Declares the owner's permissions on the task role (given the identity): policies in place
# before the task definition.
TaskRolePolicies = Callable[[TaskIdentity], Sequence[pulumi.Resource]]


def declare_task(owner: pulumi.ComponentResource, name: str, what: str, cfg: TaskConfig, main_port: int | None,
                 logs: LogsConfig, placement: TaskPlacement, tags: Mapping[str, str] | None = None,
                 main_port_mapping_extras: Mapping[str, str] | None = None,
                 task_role_policies: TaskRolePolicies | None = None) -> Task:
    """Declares, as children of `owner`, everything a task of ours has: log group, roles and the task
    role's permissions, its network (strategy, security group, egress) and its task definition.
    `what` names the owner's kind in descriptions; `main_port` is the main container's port (None: it
    takes no traffic); `tags`: the stack's, on the task definition; `task_role_policies` declares the
    owner's own policies on the task role, which the task definition then depends on."""
    identity = task_identity(owner, name, what, cfg, logs, placement)
    policies = list(task_role_policies(identity)) if task_role_policies else []
    network = task_network(owner, name, what, cfg, placement)
    definition = task_definition(owner, name, cfg, main_port, identity, network.fargate, placement, tags,
                                 main_port_mapping_extras, policies)
    return Task(identity=identity, network=network, definition=definition, task_role_policies=policies)
