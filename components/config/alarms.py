"""The `alarms` key of services: CloudWatch alarms on the service's target group (5xx responses,
response time) and on its tasks' CPU and memory, optionally notifying an SNS topic, and ECS
deployment alarms that roll a bad deployment back."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Problem, Strict

SNS_TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"


class EvaluationConfig(Strict):
    """How CloudWatch evaluates an alarm: `datapoints_to_alarm` breaching periods out of the last
    `evaluation_periods` periods of `period` seconds."""

    period: int = Field(60, ge=60, le=86400, description="Seconds per datapoint: a multiple of 60 "
                        "(ALB and ECS metrics have one-minute resolution).")
    evaluation_periods: int = Field(3, ge=1, le=1440, description="Periods looked at.")
    datapoints_to_alarm: int = Field(2, ge=1, le=1440, description="Breaching periods that raise the alarm.")

    def problems(self, at: str) -> list[Problem]:
        problems: list[Problem] = []
        if self.period % 60:
            problems.append((f"{at}.period", "must be a multiple of 60"))
        if self.datapoints_to_alarm > self.evaluation_periods:
            problems.append((f"{at}.datapoints_to_alarm", f"must be at most evaluation_periods ({self.evaluation_periods})"))
        limit = 86400 if self.period < 3600 else 604800
        if self.period * self.evaluation_periods > limit:
            problems.append((f"{at}.evaluation_periods", f"period x evaluation_periods may cover {limit} seconds at "
                             "most (CloudWatch)"))
        return problems


class Http5xxAlarmConfig(EvaluationConfig):
    """5xx responses of the service's targets (AWS/ApplicationELB HTTPCode_Target_5XX_Count, Sum)."""

    threshold: int = Field(10, ge=1, description="5xx responses per period that breach.")


class ResponseTimeAlarmConfig(EvaluationConfig):
    """Response time of the service's targets (AWS/ApplicationELB TargetResponseTime)."""

    threshold_seconds: float = Field(2.0, gt=0, le=4000, description="Seconds that breach.")
    statistic: Literal["Average", "Maximum", "p90", "p95", "p99"] = Field(
        "p95", description="Statistic compared (percentiles as CloudWatch extended statistics).")


class UtilizationAlarmConfig(EvaluationConfig):
    """Average CPU or memory utilisation of the service's tasks (AWS/ECS, against the task size)."""

    threshold_percent: float = Field(90.0, gt=0, le=100, description="Utilisation % that breaches.")


class AlarmsConfig(Strict):
    """CloudWatch alarms of the service (each null turns that alarm off), their SNS notifications,
    and ECS deployment alarms: a deployment during which one of them fires is marked failed and,
    with `rollback`, rolled back."""

    rollback: bool = Field(True, description="Roll a deployment back when one of the alarms fires during it "
                           "(ECS deployment alarms); false: ECS only marks it failed.")
    sns_topic_arn: str | None = Field(
        None, pattern=SNS_TOPIC_ARN, description="SNS topic notified when an alarm fires and when it clears.",
        examples=["arn:aws:sns:eu-west-1:123456789012:prod-alerts"])
    http_5xx: Http5xxAlarmConfig | None = Field(
        default_factory=Http5xxAlarmConfig, description="Target 5xx responses (web only).")
    response_time: ResponseTimeAlarmConfig | None = Field(
        default_factory=ResponseTimeAlarmConfig, description="Target response time (web only).")
    cpu: UtilizationAlarmConfig | None = Field(default_factory=UtilizationAlarmConfig, description="Task CPU.")
    memory: UtilizationAlarmConfig | None = Field(default_factory=UtilizationAlarmConfig, description="Task memory.")

    def problems(self, at: str, web: bool) -> list[Problem]:
        """`web`: the service has a target group (a worker alarms on CPU and memory only)."""
        problems: list[Problem] = []
        for key in ("http_5xx", "response_time"):
            if not web and key in self.model_fields_set and getattr(self, key) is not None:
                problems.append((f"{at}.{key}", "a worker has no target group: remove it (or set it null)"))
        alarms = {key: getattr(self, key) for key in ("http_5xx", "response_time", "cpu", "memory")}
        for key, alarm in alarms.items():
            if alarm is not None:
                problems += alarm.problems(f"{at}.{key}")
        if not any(alarm for key, alarm in alarms.items() if web or key in ("cpu", "memory")):
            problems.append((at, "every alarm is off: remove alarms, or keep at least one"))
        return problems
