"""The `egress`, `ingress` and `security_group_ids` keys of services and scheduled tasks: what a
task (awsvpc) may reach beyond HTTPS, who may reach it beyond the ALB, and more security groups.

A connection between two tasks of the stack is declared on both sides: the caller's `egress`
names the service it calls, the called service's `ingress` names the caller (`connection_problems`
refuses one side without the other). Defaults stay closed: HTTPS egress only, ingress from the
ALB only."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from ..aws_limits import quota
from .base import Name, Problem, Strict

SECURITY_GROUP_ID = r"^sg-[0-9a-f]{8,17}$"
PREFIX_LIST_ID = r"^pl-[0-9a-f]{8,17}$"
# EC2 security group rule descriptions: up to 255 of a-z A-Z 0-9 space . _ - : / ( ) # , @ [ ] + = ; { } ! $ *
# (the characters allowed for CIDR, prefix list and group rules alike; no apostrophes).
RULE_DESCRIPTION = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=;{}!$*]{1,255}$")
# A task's own group plus these: ECS takes five security groups per awsvpc task.
MAX_EXTRA_SECURITY_GROUPS = quota("ecs-security-groups-per-awsvpc-configuration") - 1


def check_description(value: str | None) -> str | None:
    if value is not None and not RULE_DESCRIPTION.fullmatch(value):
        raise ValueError("a security group rule description: up to 255 of letters, digits, spaces and "
                         "._-:/()#,@[]+=;{}!$* (no apostrophes or quotes)")
    return value


class EgressRuleConfig(Strict):
    """Outbound traffic from the task: a port (or range) and protocol to CIDRs and/or prefix lists,
    or to another service of the stack by name (which must list this task in its `ingress`)."""

    port: int | None = Field(
        None, ge=1, le=65535, description="Destination port (range start); to a service: default its container_port.")
    to_port: int | None = Field(None, ge=1, le=65535, description="Range end (CIDRs and prefix lists only).")
    protocol: Literal["tcp", "udp"] = Field("tcp", description="Transport protocol.")
    cidrs: list[str] = Field(default_factory=list, max_length=20, description="Destination CIDRs (IPv4 or IPv6).")
    prefix_list_ids: list[Annotated[str, Field(pattern=PREFIX_LIST_ID)]] = Field(
        default_factory=list, max_length=20, description="Destination managed prefix lists (pl-...).")
    service: Name | None = Field(None, description="A service of the stack (instead of CIDRs / prefix lists).")
    description: str | None = Field(None, description="Rule description (EC2's characters; no apostrophes).")

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return check_description(value)

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value)
            except ValueError as e:
                raise ValueError(f"{value!r} is not a CIDR ({e})") from None
        return values

    @property
    def destinations(self) -> list[str]:
        """The CIDRs and prefix list ids, in the order given."""
        return [*self.cidrs, *self.prefix_list_ids]

    def problems(self, at: str) -> list[Problem]:
        problems: list[Problem] = []
        if self.service is not None:
            if self.destinations:
                problems.append((at, "names a service and CIDRs or prefix lists: one destination kind per rule"))
            if self.to_port is not None:
                problems.append((f"{at}.to_port", "a rule to a service takes one port"))
            return problems
        if not self.destinations:
            problems.append((at, "needs a destination: cidrs, prefix_list_ids or service"))
        if self.port is None:
            problems.append((f"{at}.port", "required with cidrs or prefix_list_ids"))
        elif self.to_port is not None and self.to_port < self.port:
            problems.append((f"{at}.to_port", f"must be at least port ({self.port})"))
        return problems


class IngressRuleConfig(Strict):
    """Inbound traffic from another service or scheduled task of the stack (which must list this
    service in its `egress`)."""

    source: Name = Field(description="The calling service or scheduled task of the stack.")
    port: int | None = Field(
        None, ge=1, le=65535, description="Port of this service it reaches; default: container_port.")
    protocol: Literal["tcp", "udp"] = Field("tcp", description="Transport protocol.")
    description: str | None = Field(None, description="Rule description (EC2's characters; no apostrophes).")

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return check_description(value)


SecurityGroupId = Annotated[str, Field(pattern=SECURITY_GROUP_ID)]


def external_egress_problems(at: str, rules: list[EgressRuleConfig]) -> list[Problem]:
    """Each rule's own problems, and no destination opened twice on the same ports."""
    problems: list[Problem] = []
    opened: set[tuple[str, int | None, int | None, str]] = set()
    for index, rule in enumerate(rules):
        key = f"{at}.{index}"
        problems += rule.problems(key)
        for destination in rule.destinations if rule.service is None else []:
            opening = (rule.protocol, rule.port, rule.to_port or rule.port, destination)
            if opening in opened:
                problems.append((key, f"repeats {destination} on {rule.protocol} {rule.port}"))
            opened.add(opening)
    return problems


def target_port(rule: EgressRuleConfig | IngressRuleConfig, server: Any) -> int | None:
    """The port a rule between two tasks opens: its own, or the server's container_port."""
    return rule.port if rule.port is not None else getattr(server, "container_port", None)


def connection_problems(tasks: dict[str, tuple[str, Any]]) -> list[Problem]:
    """Both sides of every connection between tasks of the stack. `tasks`: name -> (key path, config)
    of every service and scheduled task (services have `ingress` and `container_port`)."""
    problems: list[Problem] = []
    services = sorted(name for name, (_, cfg) in tasks.items() if hasattr(cfg, "ingress"))

    def ports_of(cfg: Any) -> list[int]:
        main = getattr(cfg, "container_port", None)
        return [p for p in [main, *(c.port for c in cfg.sidecars.values())] if p is not None]

    seen: set[tuple[str, str, str, int, str]] = set()
    for client, (at, cfg) in tasks.items():
        for index, rule in enumerate(cfg.egress):
            if rule.service is None:
                continue
            key = f"{at}.egress.{index}"
            if rule.service not in services:
                problems.append((f"{key}.service", f"unknown service {rule.service!r}: use one of {services}"))
                continue
            server_at, server = tasks[rule.service]
            port = target_port(rule, server)
            if port is None:
                problems.append((f"{key}.port", f"service {rule.service!r} has no container_port: give the port"))
                continue
            if port not in ports_of(server):
                problems.append((f"{key}.port", f"{port} is no port of service {rule.service!r} {ports_of(server)}"))
                continue
            if server.network_mode != "awsvpc":
                problems.append((f"{key}.service", f"service {rule.service!r} runs in bridge mode: it has no "
                                 "security group of its own"))
                continue
            if ("to", client, rule.service, port, rule.protocol) in seen:
                problems.append((key, f"repeats a rule to {rule.service!r} on {rule.protocol} {port}"))
                continue
            seen.add(("to", client, rule.service, port, rule.protocol))
            admitted = any(i.source == client and target_port(i, server) == port and i.protocol == rule.protocol
                           for i in server.ingress)
            if not admitted:
                problems.append((f"{key}.service", f"service {rule.service!r} does not admit {client!r} on "
                                 f"{rule.protocol} {port}: add {{source: {client}, port: {port}}} to {server_at}.ingress"))
    for server, (at, cfg) in tasks.items():
        for index, rule in enumerate(getattr(cfg, "ingress", [])):
            key = f"{at}.ingress.{index}"
            if rule.source not in tasks:
                problems.append((f"{key}.source", f"unknown service or scheduled task {rule.source!r}: use one of "
                                 f"{sorted(tasks)}"))
                continue
            port = target_port(rule, cfg)
            if port is None or port not in ports_of(cfg):
                problems.append((f"{key}.port", f"{port} is no port of this service {ports_of(cfg)}"))
                continue
            if ("from", server, rule.source, port, rule.protocol) in seen:
                problems.append((key, f"repeats a rule from {rule.source!r} on {rule.protocol} {port}"))
                continue
            seen.add(("from", server, rule.source, port, rule.protocol))
            client_at, client = tasks[rule.source]
            called = any(e.service == server and target_port(e, cfg) == port and e.protocol == rule.protocol
                         for e in client.egress)
            if not called:
                problems.append((f"{key}.source", f"{rule.source!r} has no egress to {server!r} on {rule.protocol} "
                                 f"{port}: add {{service: {server}, port: {port}}} to {client_at}.egress"))
    return problems
