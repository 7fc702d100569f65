"""Service Connect: the stack's Cloud Map namespace and each service's Service Connect configuration.

`ServiceConnectNamespace` owns the stack's Cloud Map HTTP namespace (`<name>-namespace`, named
after the cluster), declared only when some service uses Service Connect. The ECS service's
`serviceConnectConfiguration` (built by `service_connect_configuration`) names the namespace,
publishes the main container's named port mapping under its discovery name and client alias, and
sends the proxy's logs to the service's log group. ECS creates the Cloud Map services and the proxy
containers itself; the security group rules between services belong to reachability.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import ServiceConnectConfig

PROXY_LOG_STREAM_PREFIX = "service-connect"


def port_mapping_name(container: str) -> str:
    """The name of a container's port mapping that Service Connect publishes (one port per container)."""
    return container


class ServiceConnectNamespace(pulumi.ComponentResource):
    """Children: namespace (the Cloud Map HTTP namespace every Service Connect service of the stack joins)."""

    def __init__(self, name: str, namespace_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecs-platform:service_connect:ServiceConnectNamespace", name, None, opts)
        self.namespace = aws.servicediscovery.HttpNamespace(
            f"{name}-namespace",
            name=namespace_name,
            description=f"Service Connect of {namespace_name}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"namespace_arn": self.namespace.arn})


@dataclass(frozen=True)
class ServiceConnectArgs:
    namespace_arn: pulumi.Input[str]
    log_group_name: str
    region: str


def main_port_mapping_extras(name: str, cfg: ServiceConnectConfig | None) -> dict[str, str]:
    """What the main container's port mapping gains when the service publishes it: its name and protocol."""
    if cfg is None or not cfg.publish:
        return {}
    extras = {"name": port_mapping_name(name)}
    if cfg.app_protocol is not None:
        extras["appProtocol"] = cfg.app_protocol
    return extras


def service_connect_configuration(name: str, cfg: ServiceConnectConfig, container_port: int | None,
                                  args: ServiceConnectArgs) -> aws.ecs.ServiceServiceConnectConfigurationArgs:
    """The ECS service's Service Connect configuration: the namespace, the published port (if any)
    and the proxy's logs in the service's log group."""
    services = None
    if cfg.publish:
        assert container_port is not None  # the config requires it
        discovery, port, dns_name = cfg.alias(name, container_port)
        services = [aws.ecs.ServiceServiceConnectConfigurationServiceArgs(
            port_name=port_mapping_name(name),
            discovery_name=discovery,
            client_alias=[aws.ecs.ServiceServiceConnectConfigurationServiceClientAliasArgs(port=port, dns_name=dns_name)],
        )]
    return aws.ecs.ServiceServiceConnectConfigurationArgs(
        enabled=True,
        namespace=args.namespace_arn,
        services=services,
        log_configuration=aws.ecs.ServiceServiceConnectConfigurationLogConfigurationArgs(
            log_driver="awslogs",
            options={
                "awslogs-group": args.log_group_name,
                "awslogs-region": args.region,
                "awslogs-stream-prefix": PROXY_LOG_STREAM_PREFIX,
            },
        ),
    )
