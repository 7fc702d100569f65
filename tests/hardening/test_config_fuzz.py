"""Config fuzzing (issue 6, item 1): generated stack configs, valid and broken (wrong types, missing
keys, out-of-range numbers, unknown keys, unicode names, nested garbage, huge maps, mutations of the
real dev/prod configs). Every case ends in a StackConfig or in a ConfigError naming `ecs-platform:`
key paths, never another exception; under the Pulumi mocks a valid config builds and a broken one
fails before anything is registered or invoked. Strategies: config_strategies.py (shared with
bench/fuzz_config.py, which runs thousands of cases)."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import config_strategies as cs

FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=list(HealthCheck))


def _fail(problems: list[str], raw: object) -> str:
    return "\n".join(problems[:5]) + f"\nconfig: {str(raw)[:1500]}"


@settings(FUZZ, max_examples=80)
@given(raw=cs.valid_config())
def test_generated_valid_configs_parse(raw):
    valid, problems = cs.check_parse(raw)
    assert not problems, _fail(problems, raw)
    assert valid, f"a config following the documented rules was rejected: {raw}"


@settings(FUZZ, max_examples=220)
@given(raw=cs.invalid_config())
def test_broken_configs_end_in_a_config_error_naming_a_key(raw):
    _, problems = cs.check_parse(raw)
    assert not problems, _fail(problems, raw)


@settings(FUZZ, max_examples=15)
@given(raw=cs.huge_config())
def test_huge_maps(raw):
    _, problems = cs.check_parse(raw)
    assert not problems, _fail(problems, raw)


@settings(FUZZ, max_examples=8)
@given(raw=cs.valid_config(max_services=3))
def test_valid_configs_build_under_mocks(raw):
    valid, problems = cs.check_program(raw)
    assert valid and not problems, _fail(problems, raw)


@settings(FUZZ, max_examples=10)
@given(raw=st.sampled_from(sorted(cs.REAL)).flatmap(lambda s: cs.mutated(cs.REAL[s])))
def test_broken_configs_register_nothing_under_mocks(raw):
    _, problems = cs.check_program(raw)
    assert not problems, _fail(problems, raw)


def test_the_real_stacks_parse_and_build():
    for stack, raw in cs.REAL.items():
        valid, problems = cs.check_program(raw)
        assert valid and not problems, (stack, problems)


def test_the_checker_catches_a_non_config_error(monkeypatch):
    """The oracle itself: an exception other than ConfigError is reported."""
    def boom(raw):
        raise KeyError("services")
    monkeypatch.setattr(cs, "parse_stack_config", boom)
    valid, problems = cs.check_parse({"services": {}})
    assert not valid and problems and "KeyError" in problems[0]
