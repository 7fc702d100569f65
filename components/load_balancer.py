"""LoadBalancer: the one Application Load Balancer shared by every service of the stack.

Owns the ALB, its security group (80/443 from the configured CIDRs) and its listeners: HTTPS with
a TLS 1.3 policy when a certificate is set (port 80 then redirects), a fixed 404 by default; the
access log bucket (with its policy, encryption, public access block, ownership and lifecycle) and
the WAFv2 web ACL association when configured (the web ACL itself is managed elsewhere).
Listener rules, target groups and the ALB's egress to each service belong to the services.

Access log bucket policy: ELB delivers the logs as the service principal
`logdelivery.elasticloadbalancing.amazonaws.com` in Regions opened since August 2022, and as the
Region's ELB account in older Regions (the documented map below). The policy grants both where the
Region has an ELB account, so it is right whichever AWS uses, and only the principal elsewhere.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import AccessLogsConfig, LoadBalancerConfig

LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com"
# The Regions' ELB accounts (Regions opened before August 2022), from the ELB access logs guide.
ELB_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
    "eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
    "sa-east-1": "507241528517", "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
}


@dataclass(frozen=True)
class LoadBalancerArgs:
    config: LoadBalancerConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    region: str = "us-east-1"
    partition: str = "aws"
    account_id: str = ""


def access_log_bucket_policy(bucket_arn: str, cfg: AccessLogsConfig, args: LoadBalancerArgs) -> str:
    """ELB may put objects under <prefix>/AWSLogs/<account>/ only; every request must use TLS."""
    prefix = f"{cfg.prefix}/" if cfg.prefix else ""
    objects = f"{bucket_arn}/{prefix}AWSLogs/{args.account_id}/*"
    statements: list[dict] = [
        {"Sid": "ElbLogDelivery", "Effect": "Allow", "Principal": {"Service": LOG_DELIVERY_PRINCIPAL},
         "Action": "s3:PutObject", "Resource": objects},
    ]
    account = ELB_ACCOUNTS.get(args.region)
    if account is not None:
        statements.append({"Sid": "ElbRegionalAccount", "Effect": "Allow",
                           "Principal": {"AWS": f"arn:{args.partition}:iam::{account}:root"},
                           "Action": "s3:PutObject", "Resource": objects})
    statements.append({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": [bucket_arn, f"{bucket_arn}/*"],
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _not_found() -> aws.lb.ListenerDefaultActionArgs:
    return aws.lb.ListenerDefaultActionArgs(
        type="fixed-response",
        fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
            content_type="text/plain", message_body="Not Found", status_code="404",
        ),
    )


class LoadBalancer(pulumi.ComponentResource):
    """Children: security_group, log_bucket (and its settings) when access logs are on,
    load_balancer, http_listener, https_listener (or None), web_acl_association (or None);
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

        self.log_bucket: aws.s3.Bucket | None = None
        access_logs, depends_on = None, []
        if cfg.access_logs is not None:
            self.log_bucket = self._log_bucket(name, cfg.access_logs, args, child)
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(
                bucket=self.log_bucket.bucket, prefix=cfg.access_logs.prefix, enabled=True)
            # ELB checks that it may write when logging is turned on.
            depends_on = [self.log_bucket_policy]

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
            access_logs=access_logs,
            # Pulumi's protect mirrors AWS deletion protection. A protected resource stops all of
            # `pulumi destroy` (it fails before deleting anything): turn deletion_protection off
            # with an `up` first (see README, Teardown).
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on, protect=cfg.deletion_protection),
        )
        self.web_acl_association: aws.wafv2.WebAclAssociation | None = None
        if cfg.web_acl_arn is not None:
            self.web_acl_association = aws.wafv2.WebAclAssociation(
                f"{name}-waf", resource_arn=self.load_balancer.arn, web_acl_arn=cfg.web_acl_arn, opts=child,
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

    def _log_bucket(self, name: str, cfg: AccessLogsConfig, args: LoadBalancerArgs,
                    child: pulumi.ResourceOptions) -> aws.s3.Bucket:
        bucket = aws.s3.Bucket(f"{name}-logs", force_destroy=cfg.force_destroy, opts=child)
        self.log_bucket_public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-logs-public-access", bucket=bucket.id,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
            opts=child,
        )
        self.log_bucket_ownership = aws.s3.BucketOwnershipControls(
            f"{name}-logs-ownership", bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        self.log_bucket_encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs-encryption", bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=(
                    aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256")),
            )],
            opts=child,
        )
        self.log_bucket_lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs-lifecycle", bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                    prefix=f"{cfg.prefix}/" if cfg.prefix else ""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=cfg.expiration_days),
                abort_incomplete_multipart_upload=(
                    aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7)),
            )],
            opts=child,
        )
        self.log_bucket_policy = aws.s3.BucketPolicy(
            f"{name}-logs-policy", bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: access_log_bucket_policy(arn, cfg, args)),
            # The public access block must be in place first (a policy is not public, but ordering
            # keeps S3 from rejecting it while the block is being applied).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_bucket_public_access]),
        )
        return bucket
