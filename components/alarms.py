"""Alarms: a service's CloudWatch alarms and the ECS deployment alarms built on them.

Declares, as children of the service (names derived from its name): `<name>-alarm-http-5xx` and
`<name>-alarm-response-time` on its target group (AWS/ApplicationELB, dimensions LoadBalancer and
TargetGroup, web services only), `<name>-alarm-cpu` and `<name>-alarm-memory` on the service
(AWS/ECS, dimensions ClusterName and ServiceName). Each notifies the configured SNS topic when it
fires and when it clears. The ECS service itself (which names the alarms in its deployment
configuration, see `deployment_alarms`) is the service's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from . import naming
from .config import AlarmsConfig, EvaluationConfig

PERCENTILES = ("p90", "p95", "p99")


@dataclass(frozen=True)
class ServiceAlarms:
    """The service's alarms and their names (known at preview: the ECS service names them)."""

    alarms: list[aws.cloudwatch.MetricAlarm] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AlarmTargets:
    """What the alarms watch: the ECS service by name, and its target group (web services)."""

    cluster_name: str
    service_name: str
    load_balancer_arn_suffix: pulumi.Input[str] | None = None
    target_group_arn_suffix: pulumi.Input[str] | None = None


def alarm_name(cluster_name: str, service: str, alarm: str) -> str:
    return naming.alarm_name(cluster_name, service, alarm)


def declare_service_alarms(owner: pulumi.ComponentResource, name: str, cfg: AlarmsConfig,
                           targets: AlarmTargets) -> ServiceAlarms:
    """Declares, as children of `owner`, the alarms `cfg` turns on (target group alarms only when
    the service has a target group)."""
    child = pulumi.ResourceOptions(parent=owner)
    actions = [cfg.sns_topic_arn] if cfg.sns_topic_arn else None
    result = ServiceAlarms()

    def alarm(key: str, evaluation: EvaluationConfig, threshold: float, statistic: str, namespace: str,
              metric: str, dimensions: dict[str, pulumi.Input[str]], what: str) -> None:
        full = alarm_name(targets.cluster_name, targets.service_name, key)
        percentile = statistic in PERCENTILES
        result.alarms.append(aws.cloudwatch.MetricAlarm(
            f"{name}-alarm-{key}",
            name=full,
            alarm_description=f"Service {targets.service_name} of {targets.cluster_name}: {what}"
            + (" (rolls a deployment back)" if cfg.rollback else ""),
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=None if percentile else statistic,
            extended_statistic=statistic if percentile else None,
            period=evaluation.period,
            evaluation_periods=evaluation.evaluation_periods,
            datapoints_to_alarm=evaluation.datapoints_to_alarm,
            threshold=threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            # No requests, or no datapoint yet during a deployment, is not a failure.
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        ))
        result.names.append(full)

    lb, tg = targets.load_balancer_arn_suffix, targets.target_group_arn_suffix
    if lb is not None and tg is not None:
        target_group = {"LoadBalancer": lb, "TargetGroup": tg}
        if cfg.http_5xx is not None:
            alarm("http-5xx", cfg.http_5xx, cfg.http_5xx.threshold, "Sum", "AWS/ApplicationELB",
                  "HTTPCode_Target_5XX_Count", target_group, f"{cfg.http_5xx.threshold}+ target 5xx responses")
        if cfg.response_time is not None:
            rt = cfg.response_time
            alarm("response-time", rt, rt.threshold_seconds, rt.statistic, "AWS/ApplicationELB",
                  "TargetResponseTime", target_group, f"{rt.statistic} response time {rt.threshold_seconds}s+")
    service = {"ClusterName": targets.cluster_name, "ServiceName": targets.service_name}
    for key, metric, utilization in (("cpu", "CPUUtilization", cfg.cpu), ("memory", "MemoryUtilization", cfg.memory)):
        if utilization is not None:
            alarm(key, utilization, utilization.threshold_percent, "Average", "AWS/ECS", metric, service,
                  f"average {key} {utilization.threshold_percent:g}%+")
    return result


def deployment_alarms(cfg: AlarmsConfig, alarms: ServiceAlarms) -> aws.ecs.ServiceAlarmsArgs:
    """The ECS service's deployment alarms: a deployment during which one fires fails (and rolls back)."""
    return aws.ecs.ServiceAlarmsArgs(alarm_names=alarms.names, enable=True, rollback=cfg.rollback)
