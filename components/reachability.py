"""Reachability: the security group rules a task's configuration opens beyond the defaults (HTTPS
egress, ingress from the ALB), as `aws.vpc` egress and ingress rules on the tasks' own groups.

Declares, as children of the task's owner (a service or scheduled task):
- egress to CIDRs and prefix lists (`declare_external_egress`), with the task, named
  `<name>-out-<ports>-<destination>`;
- the two rules of each connection between tasks of the stack (`connect_tasks`, once every task
  exists): the caller's egress `<caller>-to-<service>-<port>` and the service's ingress
  `<service>-from-<caller>-<port>`, each a child of the task whose group it changes.
Names derive from what a rule opens, never from its position in a list, so reordering the config
changes nothing. The groups themselves belong to the tasks (task.py).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .config import EgressRuleConfig, target_port


@dataclass(frozen=True)
class TaskEndpoint:
    """One task of the stack as connections see it: its owner, config and security group."""

    owner: pulumi.ComponentResource
    kind: str  # "service" or "scheduled task", for descriptions
    config: Any  # ServiceConfig or ScheduledTaskConfig
    security_group: aws.ec2.SecurityGroup | None  # None in bridge mode (the config refuses rules then)


def _port_range(port: int, to_port: int | None = None) -> str:
    return str(port) if to_port in (None, port) else f"{port}-{to_port}"


def _ports(protocol: str, port: int, to_port: int | None = None) -> str:
    """The ports as part of a resource name: `5432`, `8000-8100`, `udp-53`."""
    ports = _port_range(port, to_port)
    return ports if protocol == "tcp" else f"{protocol}-{ports}"


def _destination_name(destination: str) -> str:
    """A CIDR or prefix list id as part of a resource name (no `/` or `:`)."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", destination)


def declare_external_egress(owner: pulumi.ComponentResource, name: str, rules: list[EgressRuleConfig],
                            security_group: aws.ec2.SecurityGroup) -> list[aws.vpc.SecurityGroupEgressRule]:
    """Declares, as children of `owner`, one egress rule per destination (CIDR or prefix list) of `rules`."""
    child = pulumi.ResourceOptions(parent=owner)
    declared = []
    for rule in rules:
        if rule.service is not None:
            continue  # connections between tasks: connect_tasks
        assert rule.port is not None  # the config requires it with CIDRs and prefix lists
        ports = _ports(rule.protocol, rule.port, rule.to_port)
        for destination in rule.destinations:
            target: dict[str, str] = {}
            if destination.startswith("pl-"):
                target["prefix_list_id"] = destination
            elif ipaddress.ip_network(destination).version == 4:
                target["cidr_ipv4"] = destination
            else:
                target["cidr_ipv6"] = destination
            declared.append(aws.vpc.SecurityGroupEgressRule(
                f"{name}-out-{ports}-{_destination_name(destination)}",
                security_group_id=security_group.id,
                ip_protocol=rule.protocol, from_port=rule.port, to_port=rule.to_port or rule.port,
                description=rule.description
                or f"{rule.protocol.upper()} {_port_range(rule.port, rule.to_port)} to {destination}",
                **target,
                opts=child,
            ))
    return declared


def connect_tasks(tasks: dict[str, TaskEndpoint]) -> list[aws.vpc.SecurityGroupEgressRule | aws.vpc.SecurityGroupIngressRule]:
    """Declares both rules of every connection between tasks of the stack (the config checked that
    each caller's egress and the called service's ingress agree, and that both run in awsvpc mode)."""
    declared: list[aws.vpc.SecurityGroupEgressRule | aws.vpc.SecurityGroupIngressRule] = []
    for caller, endpoint in tasks.items():
        for rule in endpoint.config.egress:
            if rule.service is None:
                continue
            server = tasks[rule.service]
            port = target_port(rule, server.config)
            assert endpoint.security_group is not None and server.security_group is not None and port is not None
            declared.append(aws.vpc.SecurityGroupEgressRule(
                f"{caller}-to-{rule.service}-{_ports(rule.protocol, port)}",
                security_group_id=endpoint.security_group.id,
                referenced_security_group_id=server.security_group.id,
                ip_protocol=rule.protocol, from_port=port, to_port=port,
                description=rule.description or f"To service {rule.service} on {rule.protocol.upper()} {port}",
                opts=pulumi.ResourceOptions(parent=endpoint.owner),
            ))
    for name, endpoint in tasks.items():
        for rule in getattr(endpoint.config, "ingress", []):
            source = tasks[rule.source]
            port = target_port(rule, endpoint.config)
            assert endpoint.security_group is not None and source.security_group is not None and port is not None
            declared.append(aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-{rule.source}-{_ports(rule.protocol, port)}",
                security_group_id=endpoint.security_group.id,
                referenced_security_group_id=source.security_group.id,
                ip_protocol=rule.protocol, from_port=port, to_port=port,
                description=rule.description or f"From {source.kind} {rule.source} on {rule.protocol.upper()} {port}",
                opts=pulumi.ResourceOptions(parent=endpoint.owner),
            ))
    return declared
