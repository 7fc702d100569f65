"""Compliant engine-property fixtures for each resource type; tests derive failing variants from them."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

POLICIES = Path(__file__).resolve().parents[2] / "policies"
if str(POLICIES) not in sys.path:
    sys.path.insert(0, str(POLICIES))


def load_config(env: str) -> dict:
    return json.loads((POLICIES / "config" / f"{env}.json").read_text())


def names(diags: list, level: str | None = None) -> set[str]:
    """Policy names among the diagnostics, optionally of one level."""
    return {d.policy for d in diags if level is None or d.level == level}


ACCOUNT = "123456789012"
IMAGE = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web:1.2.3"
TD = "aws:ecs/taskDefinition:TaskDefinition"
SVC = "aws:ecs/service:Service"
CLUSTER = "aws:ecs/cluster:Cluster"
CP = "aws:ecs/capacityProvider:CapacityProvider"
LB = "aws:lb/loadBalancer:LoadBalancer"
ALB = "aws:alb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
ALB_LISTENER = "aws:alb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TG = "aws:lb/targetGroup:TargetGroup"
ELB = "aws:elb/loadBalancer:LoadBalancer"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
LG = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
IAM_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
TASK_SET = "aws:ecs/taskSet:TaskSet"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SCHEDULE = "aws:scheduler/schedule:Schedule"
PIPE = "aws:pipes/pipe:Pipe"
DAEMON_TD = "aws:ecs/daemonTaskDefinition:DaemonTaskDefinition"
EXPRESS = "aws:ecs/expressGatewayService:ExpressGatewayService"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"


def container(**over: Any) -> dict[str, Any]:
    c = {
        "name": "web",
        "image": IMAGE,
        "cpu": 256,
        "memory": 512,
        "memoryReservation": 256,
        "essential": True,
        "user": "1000",
        "readonlyRootFilesystem": True,
        "privileged": False,
        "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
        "environment": [{"name": "PORT", "value": "8080"}],
        "secrets": [
            {"name": "DB_PASSWORD", "valueFrom": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db"}
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": "/ecs/web",
                "awslogs-region": "eu-west-1",
                "awslogs-stream-prefix": "web",
            },
        },
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def task_def(containers: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    p = {
        "family": "web",
        "cpu": "512",
        "memory": "1024",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["EC2"],
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-exec",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-task",
        "containerDefinitions": json.dumps(containers if containers is not None else [container()]),
    }
    p.update(over)
    return {k: v for k, v in p.items() if v is not None}


TG_ARN = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/web/abc"
CLUSTER_ARN = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/main"
TD_ARN = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/web:3"
STRATEGY = [{"capacityProvider": "cp", "weight": 1, "base": 0}]
SUBNETS = ["subnet-a", "subnet-b"]
TASK_NETWORK = {"subnets": SUBNETS, "securityGroups": ["sg-svc"], "assignPublicIp": False}

GOOD: dict[str, dict[str, Any]] = {
    TD: task_def(),
    SVC: {
        "name": "web",
        "cluster": "arn:cluster",
        "taskDefinition": "arn:td",
        "desiredCount": 2,
        "loadBalancers": [{"targetGroupArn": TG_ARN, "containerName": "web", "containerPort": 8080}],
        "capacityProviderStrategies": [{"capacityProvider": "cp", "weight": 1, "base": 0}],
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "networkConfiguration": {
            "subnets": ["subnet-a", "subnet-b"],
            "securityGroups": ["sg-svc"],
            "assignPublicIp": False,
        },
        "healthCheckGracePeriodSeconds": 60,
        "propagateTags": "SERVICE",
        "enableEcsManagedTags": True,
    },
    CLUSTER: {
        "name": "main",
        "settings": [{"name": "containerInsights", "value": "enabled"}],
        "configuration": {
            "executeCommandConfiguration": {
                "kmsKeyId": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/exec",
                "logging": "OVERRIDE",
                "logConfiguration": {"cloudWatchLogGroupName": "/ecs/exec", "cloudWatchEncryptionEnabled": True},
            }
        },
    },
    TASK_SET: {
        "cluster": CLUSTER_ARN,
        "service": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/main/web",
        "taskDefinition": TD_ARN,
        "loadBalancers": [{"targetGroupArn": TG_ARN, "containerName": "web", "containerPort": 8080}],
        "capacityProviderStrategies": STRATEGY,
        "networkConfiguration": TASK_NETWORK,
    },
    EVENT_TARGET: {
        "rule": "nightly",
        "arn": CLUSTER_ARN,
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/events",
        "ecsTarget": {
            "taskDefinitionArn": TD_ARN,
            "taskCount": 1,
            "capacityProviderStrategies": STRATEGY,
            "networkConfiguration": TASK_NETWORK,
        },
    },
    SCHEDULE: {
        "name": "nightly",
        "scheduleExpression": "cron(0 3 * * ? *)",
        "flexibleTimeWindow": {"mode": "OFF"},
        "target": {
            "arn": CLUSTER_ARN,
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
            "ecsParameters": {
                "taskDefinitionArn": TD_ARN,
                "capacityProviderStrategies": STRATEGY,
                "networkConfiguration": TASK_NETWORK,
            },
        },
    },
    PIPE: {
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/pipe",
        "source": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs",
        "target": CLUSTER_ARN,
        "targetParameters": {
            "ecsTaskParameters": {
                "taskDefinitionArn": TD_ARN,
                "capacityProviderStrategies": STRATEGY,
                "networkConfiguration": {
                    "awsVpcConfiguration": {"subnets": SUBNETS, "securityGroups": ["sg-svc"], "assignPublicIp": "DISABLED"}
                },
                "overrides": {"containerOverrides": [{"name": "web", "environments": [{"name": "MODE", "value": "batch"}]}]},
            }
        },
    },
    DAEMON_TD: {
        "family": "agent",
        "cpu": "256",
        "memory": "512",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/agent-exec",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/agent-task",
        "containerDefinitions": [
            {
                "name": "agent",
                "image": IMAGE,
                "cpu": 128,
                "memory": 256,
                "user": "1000",
                "readonlyRootFilesystem": True,
                "privileged": False,
                "environments": [{"name": "PORT", "value": "8080"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/agent", "awslogs-region": "eu-west-1"},
                },
            }
        ],
    },
    EXPRESS: {
        "cluster": CLUSTER_ARN,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/api-exec",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/api-task",
        "infrastructureRoleArn": f"arn:aws:iam::{ACCOUNT}:role/express-infra",
        "primaryContainer": {
            "image": IMAGE,
            "containerPort": 8080,
            "environments": [{"name": "PORT", "value": "8080"}],
        },
        "networkConfigurations": [{"subnets": SUBNETS, "securityGroups": ["sg-svc"]}],
    },
    CP: {
        "name": "cp",
        "autoScalingGroupProvider": {
            "autoScalingGroupArn": "arn:asg",
            "managedTerminationProtection": "ENABLED",
            "managedDraining": "ENABLED",
            "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
        },
    },
    LB: {
        "loadBalancerType": "application",
        "internal": False,
        "subnets": ["subnet-a", "subnet-b"],
        "securityGroups": ["sg-alb"],
        "dropInvalidHeaderFields": True,
        "enableDeletionProtection": True,
        "accessLogs": {"bucket": "logs", "enabled": True, "prefix": "alb"},
    },
    LISTENER: {
        "loadBalancerArn": "arn:lb",
        "port": 443,
        "protocol": "HTTPS",
        "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "certificateArn": "arn:cert",
        "defaultActions": [{"type": "forward", "targetGroupArn": TG_ARN}],
    },
    TG: {
        "port": 8443,
        "protocol": "HTTPS",
        "targetType": "ip",
        "vpcId": "vpc-1",
        "healthCheck": {"enabled": True, "path": "/health", "matcher": "200-399", "interval": 15},
    },
    LT: {
        "imageId": "ami-1",
        "instanceType": "t3.medium",
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        },
        "networkInterfaces": [{"associatePublicIpAddress": "false", "securityGroups": ["sg-inst"]}],
        "blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp3"}}
        ],
        "iamInstanceProfile": {"arn": "arn:aws:iam::1:instance-profile/ecs"},
    },
    ASG: {
        "launchTemplate": {"id": "lt-1", "version": "$Latest"},
        "vpcZoneIdentifiers": ["subnet-a", "subnet-b"],
        "minSize": 1,
        "maxSize": 3,
        "protectFromScaleIn": True,
        "healthCheckType": "EC2",
    },
    LG: {"name": "/ecs/web", "retentionInDays": 90, "kmsKeyId": "arn:aws:kms:eu-west-1:1:key/abc"},
    ROLE: {
        "assumeRolePolicy": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
    },
    IAM_POLICY: {
        "policy": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:PutLogEvents"],
                        "Resource": "arn:aws:logs:*:*:log-group:/ecs/*",
                    }
                ],
            }
        )
    },
    ATTACH: {"role": "web-task", "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"},
    SG: {
        "vpcId": "vpc-1",
        "ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}],
    },
    SG_RULE: {
        "type": "ingress",
        "protocol": "tcp",
        "fromPort": 8080,
        "toPort": 8080,
        "securityGroupId": "sg-svc",
        "sourceSecurityGroupId": "sg-alb",
    },
    SG_INGRESS: {
        "securityGroupId": "sg-svc",
        "ipProtocol": "tcp",
        "fromPort": 8080,
        "toPort": 8080,
        "referencedSecurityGroupId": "sg-alb",
    },
}


def good(rtype: str, **over: Any) -> dict[str, Any]:
    p = copy.deepcopy(GOOD[rtype])
    p.update(over)
    return {k: v for k, v in p.items() if v is not None}
