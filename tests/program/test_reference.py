"""The committed config reference matches the models."""

from components import reference
from components.config import StackConfig


def test_config_reference_is_up_to_date() -> None:
    assert reference.TARGET.read_text() == reference.render(), (
        "docs/config-reference.md is stale: run `venv/bin/python -m components.reference`")


def test_reference_lists_every_key() -> None:
    text = reference.render()
    for key in StackConfig.model_fields:
        assert f"## `ecs-platform:{key}`" in text
    for key in ("services.<name>.memory_reservation", "services.<name>.routing.priority",
                "services.<name>.sidecars.<name>.image", "cluster.instance_types", "load_balancer.certificate_arn"):
        assert f"| `{key}` |" in text, key
