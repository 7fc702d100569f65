"""ecs-platform: load the typed stack config, build the components, export the outputs."""

import pulumi
import pulumi_aws as aws

from components import naming
from components.cluster import Cluster, ClusterArgs
from components.config import ConfigError, load_stack_config
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import Network
from components.reachability import TaskEndpoint, connect_tasks
from components.scheduled_task import ScheduledTask, ScheduledTaskArgs
from components.service import Service, ServiceArgs
from components.service_connect import ServiceConnectNamespace
from components.task import TaskPlacement

try:
    config = load_stack_config()
    region = pulumi.Config("aws").require("region")
except (ConfigError, pulumi.ConfigMissingError) as error:
    # Raised before any resource is declared; the CLI prints a RunError without a traceback.
    raise pulumi.RunError(str(error)) from None

cluster_name = naming.cluster_name(pulumi.get_project(), pulumi.get_stack())
partition = aws.get_partition().partition
account_id = aws.get_caller_identity().account_id

network = Network("network", config.network)
load_balancer = LoadBalancer("alb", LoadBalancerArgs(
    config=config.load_balancer,
    vpc_id=network.vpc_id,
    subnet_ids=network.private_subnet_ids if config.load_balancer.internal else network.public_subnet_ids,
    region=region,
    partition=partition,
    account_id=account_id,
))
cluster = Cluster("cluster", ClusterArgs(
    config=config.cluster,
    cluster_name=cluster_name,
    partition=partition,
    vpc_id=network.vpc_id,
    private_subnet_ids=network.private_subnet_ids,
    bridge_networking=config.uses_bridge,
    load_balancer_security_group_id=load_balancer.security_group.id,
    logs=config.logs,
    execute_command=config.uses_execute_command,
    fargate_providers=tuple(config.fargate_providers),
    instance_tags=config.stack_tags,
))
# Where every task of the stack (a service's or a scheduled one's) runs.
placement = TaskPlacement(
    cluster=cluster,
    vpc_id=network.vpc_id,
    private_subnet_ids=network.private_subnet_ids,
    cluster_name=cluster_name,
    region=region,
    partition=partition,
    account_id=account_id,
    architecture=config.cluster.architecture,
)
# The Cloud Map namespace services call each other in by name (only when one uses Service Connect).
namespace = ServiceConnectNamespace("service-connect", cluster_name) if config.uses_service_connect else None
tags = config.stack_tags  # also on every resource through aws:defaultTags (the config checked they match)
services = {
    name: Service(name, ServiceArgs(config=service, logs=config.logs, load_balancer=load_balancer,
                                    placement=placement, tags=tags, namespace=namespace))
    for name, service in config.services.items()
}
scheduled_tasks = {
    name: ScheduledTask(name, ScheduledTaskArgs(config=task, logs=config.logs, placement=placement, tags=tags))
    for name, task in config.scheduled_tasks.items()
}
# Connections between tasks of the stack, once every task's security group exists.
connect_tasks({
    **{name: TaskEndpoint(s, "service", config.services[name], s.security_group) for name, s in services.items()},
    **{name: TaskEndpoint(t, "scheduled task", config.scheduled_tasks[name], t.security_group)
       for name, t in scheduled_tasks.items()},
})

pulumi.export("url", load_balancer.url)
pulumi.export("alb_dns_name", load_balancer.load_balancer.dns_name)
pulumi.export("cluster_name", cluster.cluster.name)
pulumi.export("cluster_arn", cluster.cluster.arn)
pulumi.export("services", {
    name: {
        "service_name": s.service.name,
        "log_group_name": s.log_group.name,
        "target_group_arn": s.target_group.arn if s.target_group else None,
    }
    for name, s in services.items()
})
if namespace is not None:
    pulumi.export("service_connect_namespace_arn", namespace.namespace.arn)
if scheduled_tasks:
    pulumi.export("scheduled_tasks", {
        name: {"schedule_name": t.schedule.name, "log_group_name": t.log_group.name}
        for name, t in scheduled_tasks.items()
    })
