"""LoadBalancer: the one Application Load Balancer shared by every service of the stack.

Owns the ALB, its security group (80/443 from the configured CIDRs) and its listeners: HTTPS with
a TLS 1.3 policy when a certificate is set (port 80 then redirects), a fixed 404 by default.
Listener rules, target groups and the ALB's egress to each service belong to the services.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import LoadBalancerConfig


@dataclass(frozen=True)
class LoadBalancerArgs:
    config: LoadBalancerConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]


def _not_found() -> aws.lb.ListenerDefaultActionArgs:
    return aws.lb.ListenerDefaultActionArgs(
        type="fixed-response",
        fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
            content_type="text/plain", message_body="Not Found", status_code="404",
        ),
    )


class LoadBalancer(pulumi.ComponentResource):
    """Children: security_group, load_balancer, http_listener, https_listener (or None);
    `listener` is the one services attach their rules to."""

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ecs-platform:load_balancer:LoadBalancer", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        https = cfg.certificate_arn is not None

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description="Application Load Balancer", opts=child,
        )
        self.ingress_rules = []
        for index, cidr in enumerate(cfg.ingress_cidrs):
            v6 = ipaddress.ip_network(cidr).version == 6
            for port in (80, 443) if https else (80,):
                self.ingress_rules.append(aws.vpc.SecurityGroupIngressRule(
                    f"{name}-in-{port}-{index}",
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp", from_port=port, to_port=port,
                    cidr_ipv4=None if v6 else cidr, cidr_ipv6=cidr if v6 else None,
                    description=f"HTTP{'S' if port == 443 else ''} from {cidr}",
                    opts=child,
                ))

        self.load_balancer = aws.lb.LoadBalancer(
            name,
            load_balancer_type="application",
            internal=cfg.internal,
            security_groups=[self.security_group.id],
            subnets=args.subnet_ids,
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=cfg.deletion_protection,
            idle_timeout=cfg.idle_timeout,
            opts=child,
        )
        if https:
            self.http_listener = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=self.load_balancer.arn,
                port=80, protocol="HTTP",
                default_actions=[aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301",
                    ),
                )],
                opts=child,
            )
            self.https_listener: aws.lb.Listener | None = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=self.load_balancer.arn,
                port=443, protocol="HTTPS",
                ssl_policy=cfg.ssl_policy,
                certificate_arn=cfg.certificate_arn,
                default_actions=[_not_found()],
                opts=child,
            )
            self.listener = self.https_listener
        else:
            # No certificate (dev): port 80 serves.
            self.http_listener = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=self.load_balancer.arn,
                port=80, protocol="HTTP",
                default_actions=[_not_found()],
                opts=child,
            )
            self.https_listener = None
            self.listener = self.http_listener

        scheme = "https" if https else "http"
        self.url = pulumi.Output.concat(scheme, "://", self.load_balancer.dns_name)
        self.register_outputs({"dns_name": self.load_balancer.dns_name, "url": self.url})
