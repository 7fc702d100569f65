"""Task definitions as AWS's public samples write them, classified correctly."""

from __future__ import annotations

import json

from pack_fixtures import TD, names

MANDATORY_TD_RULES = {
    "ecs-container-resource-limits",
    "ecs-container-logging-required",
    "ecs-container-image-pinned",
    "ecs-container-image-registry",
    "ecs-container-no-privileged",
    "ecs-task-no-host-network",
    "ecs-container-no-plaintext-secrets",
}


def td(containers: list[dict], **task: object) -> dict:
    return {"family": "sample", "containerDefinitions": json.dumps(containers), **task}


# ECS console "sample-app" (EC2, bridge): httpd + busybox, no log configuration, static host port.
SAMPLE_APP = td(
    [
        {
            "name": "simple-app",
            "image": "httpd:2.4",
            "cpu": 10,
            "memory": 300,
            "essential": True,
            "portMappings": [{"containerPort": 80, "hostPort": 80}],
            "entryPoint": ["sh", "-c"],
            "command": [
                "/bin/sh -c \"echo '<html>Hello</html>' > /usr/local/apache2/htdocs/index.html && "
                'httpd-foreground"'
            ],
            "mountPoints": [{"sourceVolume": "my-vol", "containerPath": "/usr/local/apache2/htdocs"}],
        },
        {
            "name": "busybox",
            "image": "busybox",
            "cpu": 10,
            "memory": 200,
            "essential": False,
            "entryPoint": ["sh", "-c"],
            "command": ["while true; do date > /index.html; sleep 1; done"],
            "volumesFrom": [{"sourceContainer": "simple-app"}],
        },
    ],
    networkMode="bridge",
    volumes=[{"name": "my-vol"}],
)

# WordPress + MySQL sample: untagged images, plaintext database password, links.
WORDPRESS = td(
    [
        {
            "name": "wordpress",
            "links": ["mysql"],
            "image": "wordpress",
            "essential": True,
            "cpu": 10,
            "memory": 500,
            "portMappings": [{"containerPort": 80, "hostPort": 80}],
        },
        {
            "name": "mysql",
            "image": "mysql",
            "cpu": 10,
            "memory": 500,
            "essential": True,
            "environment": [{"name": "MYSQL_ROOT_PASSWORD", "value": "password"}],
        },
    ]
)

# Fargate "first-run" style: awslogs configured, task-level sizes only, public ECR image on :latest.
FARGATE = td(
    [
        {
            "name": "sample-fargate-app",
            "image": "public.ecr.aws/docker/library/httpd:latest",
            "essential": True,
            "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/fargate-task-definition",
                    "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "ecs",
                },
            },
        }
    ],
    networkMode="awsvpc",
    requiresCompatibilities=["FARGATE"],
    cpu="256",
    memory="512",
    executionRoleArn="arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
)

# Host-network, privileged monitoring agent as some samples write it.
PRIVILEGED = td(
    [
        {
            "name": "agent",
            "image": "public.ecr.aws/datadog/agent:7.50.0",
            "cpu": 100,
            "memory": 256,
            "essential": True,
            "privileged": True,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/agent", "awslogs-region": "us-east-1"},
            },
        }
    ],
    networkMode="host",
    pidMode="host",
)


def mandatory(analyzer, props):
    return names(analyzer.analyze(TD, props), "mandatory") & (MANDATORY_TD_RULES | {"ecs-task-no-host-pid"})


def test_sample_app(analyzer):
    diags = analyzer.analyze(TD, SAMPLE_APP)
    assert mandatory(analyzer, SAMPLE_APP) == {
        "ecs-container-logging-required",
        "ecs-container-image-pinned",
        "ecs-container-image-registry",
    }
    assert "ecs-bridge-dynamic-host-ports" in names(diags, "advisory")
    pinned = next(d.message for d in diags if d.policy == "ecs-container-image-pinned")
    assert "busybox" in pinned and "httpd:2.4" not in pinned


def test_wordpress(analyzer):
    got = mandatory(analyzer, WORDPRESS)
    assert got == {
        "ecs-container-logging-required",
        "ecs-container-image-pinned",
        "ecs-container-image-registry",
        "ecs-container-no-plaintext-secrets",
    }
    msg = next(
        d.message for d in analyzer.analyze(TD, WORDPRESS) if d.policy == "ecs-container-no-plaintext-secrets"
    )
    assert "container 'mysql'" in msg and "MYSQL_ROOT_PASSWORD" in msg and "secrets" in msg


def test_fargate_first_run(analyzer):
    assert mandatory(analyzer, FARGATE) == {"ecs-container-resource-limits", "ecs-container-image-pinned"}


def test_privileged_host_agent(analyzer):
    assert mandatory(analyzer, PRIVILEGED) == {
        "ecs-container-no-privileged",
        "ecs-task-no-host-network",
        "ecs-task-no-host-pid",
    }
