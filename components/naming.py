"""The names the program gives AWS: derived from the project, the stack and the config's names.

Owns the physical names components set explicitly (cluster, task definition family, schedule,
log group, alarm) and the list of names AWS sees for a stack's and a task's resources, autonamed
ones included, so that the stack config can check them against the AWS limits catalogue before
anything is declared. Pure functions: no Pulumi, no config models. Components keep their resource
(logical) names; tests check that the names listed here are ones the program produces, and that
every name it produces is one AWS takes (tests/limits/test_generated_names.py).
"""

from __future__ import annotations

# The provider's autonaming adds "-" and 7 random hex characters to a resource's logical name
# (pulumi-terraform-bridge; offline/provider_check.py emulates it). This stands for that part.
AUTONAME_SUFFIX = "-xxxxxxx"


def autonamed(resource_name: str) -> str:
    """The form of the name the provider gives a resource of this logical name."""
    return resource_name + AUTONAME_SUFFIX


def shown(name: str) -> str:
    """A name as errors show it: an autonamed one with its random part spelled out."""
    return name.removesuffix(AUTONAME_SUFFIX) + "-<7 random characters>" if name.endswith(AUTONAME_SUFFIX) else name


def cluster_name(project: str, stack: str) -> str:
    """The ECS cluster's name: also the prefix of the stack's other names."""
    return f"{project}-{stack}"


def family(cluster: str, task: str) -> str:
    """A task's task definition family."""
    return f"{cluster}-{task}"


def schedule_name(cluster: str, task: str) -> str:
    """A scheduled task's EventBridge Scheduler schedule."""
    return family(cluster, task)


def log_group_name(cluster: str, task: str) -> str:
    """A task's log group (known at preview time, so the pack can match containers' awslogs-group)."""
    return f"/ecs/{cluster}/{task}"


def alarm_name(cluster: str, service: str, alarm: str) -> str:
    return f"{cluster}-{service}-{alarm}"


# Names AWS sees, each with the id of its rule in the catalogue (components/aws_limits.yaml).
Named = tuple[str, str]


def stack_names(cluster: str) -> list[Named]:
    """Names derived from the cluster's name alone."""
    return [("ecs-cluster", cluster), ("servicediscovery-http-namespace", cluster)]


def task_names(task: str, cluster: str | None) -> list[Named]:
    """What every task (service or scheduled) names after itself: its main container, roles, security
    group (awsvpc; autonamed) and, with the cluster's name, its family and log group."""
    names = [
        ("ecs-container", task),
        ("iam-role", autonamed(f"{task}-execution-role")),
        ("iam-role", autonamed(f"{task}-task-role")),
        ("ec2-security-group", autonamed(f"{task}-sg")),
    ]
    if cluster is not None:
        names += [("ecs-task-definition-family", family(cluster, task)),
                  ("logs-log-group", log_group_name(cluster, task))]
    return names


def service_names(service: str, cluster: str | None, web: bool) -> list[Named]:
    """A service's names: its task's, the ECS service and (web) its target group."""
    names = [*task_names(service, cluster), ("ecs-service", service)]
    if web:
        names.append(("elbv2-target-group", autonamed(f"{service}-tg")))
    return names


def scheduled_task_names(task: str, cluster: str | None) -> list[Named]:
    """A scheduled task's names: its task's, the scheduler's role and (with the cluster's name) the schedule."""
    names = [*task_names(task, cluster), ("iam-role", autonamed(f"{task}-scheduler-role"))]
    if cluster is not None:
        names.append(("scheduler-schedule", schedule_name(cluster, task)))
    return names
