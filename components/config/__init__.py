"""The typed stack config: the one place that knows the config keys of the `ecs-platform` namespace.

Owns parsing and validation: field types, ranges, unknown keys (pydantic), and the cross-field
rules ECS and ELB enforce, each owned by the model it checks (`problems(at, ...)`; the stack model
adds the rules across sections). Declares no resource; components receive these models, never raw
config dicts. One module per key of the stack config:

    base.py            NAMESPACE, ConfigError, Problem, Strict (the base model), Name
    network.py         network: NetworkConfig
    cluster.py         cluster: ClusterConfig and its groups; capacity provider strategy items
    load_balancer.py   load_balancer: LoadBalancerConfig, AccessLogsConfig
    logs.py            logs: LogsConfig
    eni.py             awsvpc tasks per instance type (ENIs, trunking) and the stack's ENI capacity rule
    task.py            what services and scheduled tasks share: ContainerConfig, TaskConfig
    lifecycle.py       a container's health check, ulimits, dependency conditions
    permissions.py     a task role's permissions: PermissionsConfig, PolicyStatementConfig
    reachability.py    egress and ingress rules of tasks, and the pairing of connections
    service.py         services: ServiceConfig and its routing, health check, scaling, deployment
    alarms.py          a service's CloudWatch alarms and deployment rollback: AlarmsConfig
    service_connect.py a service's ECS Service Connect: ServiceConnectConfig
    scheduled_task.py  scheduled_tasks: ScheduledTaskConfig, RetryConfig
    tags.py            tags: TagsConfig (and the matching aws:defaultTags)
    stack.py           StackConfig, parse_stack_config, load_stack_config

Everything public is importable from `components.config`.
"""

from .alarms import AlarmsConfig, EvaluationConfig, Http5xxAlarmConfig, ResponseTimeAlarmConfig, UtilizationAlarmConfig
from .base import NAMESPACE, ConfigError, Name, Problem, Strict
from .cluster import (
    EC2_PROVIDER,
    FARGATE_PROVIDERS,
    INSTANCE_TYPE,
    AdditionalCapacityConfig,
    Architecture,
    CapacityProviderStrategyItem,
    ClusterConfig,
    InstanceRefreshConfig,
    WarmPoolConfig,
    architecture_of,
)
from .lifecycle import ContainerHealthCheckConfig, UlimitConfig
from .load_balancer import DEFAULT_TLS_POLICY, AccessLogsConfig, LoadBalancerConfig, TlsPolicy
from .logs import LogsConfig, RetentionDays
from .network import NetworkConfig
from .permissions import PermissionsConfig, PolicyStatementConfig
from .reachability import RULE_DESCRIPTION, EgressRuleConfig, IngressRuleConfig, target_port
from .scheduled_task import RetryConfig, ScheduledTaskConfig
from .service import (
    HOST_HEADER,
    PATH_PATTERN,
    TAG_VALUE_EXTRA,
    AutoscalingConfig,
    DeploymentConfig,
    HealthCheckConfig,
    RoutingConfig,
    ServiceConfig,
    StickinessConfig,
)
from .service_connect import ServiceConnectConfig
from .stack import StackConfig, load_stack_config, parse_stack_config
from .tags import TagsConfig, default_tags_config
from .task import ARN_SECRET, FARGATE_SIZES, IMAGE, MAX_CONTAINERS, ContainerConfig, TaskConfig, fargate_memory_values

__all__ = [
    "ARN_SECRET",
    "DEFAULT_TLS_POLICY",
    "EC2_PROVIDER",
    "FARGATE_PROVIDERS",
    "FARGATE_SIZES",
    "HOST_HEADER",
    "IMAGE",
    "INSTANCE_TYPE",
    "MAX_CONTAINERS",
    "NAMESPACE",
    "PATH_PATTERN",
    "RULE_DESCRIPTION",
    "TAG_VALUE_EXTRA",
    "AccessLogsConfig",
    "AdditionalCapacityConfig",
    "AlarmsConfig",
    "Architecture",
    "AutoscalingConfig",
    "CapacityProviderStrategyItem",
    "ClusterConfig",
    "ConfigError",
    "ContainerConfig",
    "ContainerHealthCheckConfig",
    "DeploymentConfig",
    "EgressRuleConfig",
    "EvaluationConfig",
    "HealthCheckConfig",
    "Http5xxAlarmConfig",
    "IngressRuleConfig",
    "InstanceRefreshConfig",
    "LoadBalancerConfig",
    "LogsConfig",
    "Name",
    "NetworkConfig",
    "PermissionsConfig",
    "PolicyStatementConfig",
    "Problem",
    "ResponseTimeAlarmConfig",
    "RetentionDays",
    "RetryConfig",
    "RoutingConfig",
    "ScheduledTaskConfig",
    "ServiceConfig",
    "ServiceConnectConfig",
    "StackConfig",
    "StickinessConfig",
    "Strict",
    "TagsConfig",
    "TaskConfig",
    "TlsPolicy",
    "UlimitConfig",
    "UtilizationAlarmConfig",
    "WarmPoolConfig",
    "architecture_of",
    "default_tags_config",
    "fargate_memory_values",
    "load_stack_config",
    "parse_stack_config",
    "target_port",
]
