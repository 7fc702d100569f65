"""The `service_connect` key of services: ECS Service Connect in the stack's Cloud Map namespace,
so that services call each other by name (`http://api:8080`) through the Service Connect proxy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Problem, Strict

# ECS: discovery names up to 64 of a-z 0-9 _ -, not starting with -; DNS names up to 127 of a-z 0-9 _ - .
DISCOVERY_NAME = r"^[a-z0-9_][a-z0-9_-]{0,63}$"
DNS_NAME = r"^[a-z0-9_][a-z0-9_.-]{0,126}$"
# What ECS adds to a task for its Service Connect proxy when the task size is derived from the
# containers (AWS's recommendation: 256 CPU units and 64 MiB).
PROXY_CPU, PROXY_MEMORY = 256, 64


class ClientAliasConfig(Strict):
    """The name and port clients in the namespace use to call the service."""

    port: int | None = Field(None, ge=1, le=65535, description="Port clients call; default: container_port.")
    dns_name: str | None = Field(
        None, pattern=DNS_NAME, description="Name clients call; default: the discovery name (the service's name).")


class ServiceConnectConfig(Strict):
    """Service Connect: the service joins the stack's namespace (it can call the services there by
    name) and, with `publish`, offers its container port under a name. Callers still need an
    `egress` rule to it and it an `ingress` rule from them (the proxy connects task to task)."""

    publish: bool = Field(True, description="Offer the container port to the namespace; false: only call others "
                          "(workers have no container_port).")
    discovery_name: str | None = Field(
        None, pattern=DISCOVERY_NAME, description="Cloud Map service name, unique in the namespace; default: the "
        "service's name.")
    client_aliases: list[ClientAliasConfig] = Field(
        default_factory=list, max_length=1, description="How clients call it (ECS takes one alias per published "
        "port); default: the discovery name on the container port.", examples=[[{"port": 80, "dns_name": "api"}]])
    app_protocol: Literal["http", "http2", "grpc"] | None = Field(
        "http", description="Protocol of the published port (protocol-aware proxying and metrics); null: plain TCP. "
        "ECS cannot change it on an existing Service Connect service (the ECS service must be deleted and created again).")

    def problems(self, at: str, container_port: int | None) -> list[Problem]:
        if self.publish and container_port is None:
            return [(f"{at}.publish", "the service has no container_port to publish: set publish: false")]
        if not self.publish:
            return [(f"{at}.{key}", "only with publish: true") for key in ("discovery_name", "client_aliases")
                    if key in self.model_fields_set]
        return []

    def alias(self, name: str, container_port: int) -> tuple[str, int, str]:
        """(discovery name, alias port, alias DNS name) of the published port of service `name`."""
        discovery = self.discovery_name or name
        given = self.client_aliases[0] if self.client_aliases else ClientAliasConfig()
        return discovery, given.port or container_port, given.dns_name or discovery
