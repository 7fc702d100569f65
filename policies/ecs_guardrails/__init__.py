"""ecs-guardrails: a Pulumi policy pack over raw aws:* resources (never the program's code)."""

from .core import PACK_NAME

__all__ = ["PACK_NAME"]
