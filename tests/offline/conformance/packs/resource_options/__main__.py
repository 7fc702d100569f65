# Port of pulumi-policy 1.21.0 tests/integration/resource_options/policy-pack-python/__main__.py
# (integration_test.go:519-528). Upstream computes options_equal(...) for dynamic resources without
# asserting it (and expects additional_secret_outputs ["foo"] on parent-res and child-res, which
# they do not set); here every expectation is asserted, with the options the program sets.
from pulumi import Config, get_project, get_stack
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

DYNAMIC = "pulumi-python:dynamic:Resource"


def urn(type_, name):
    return f"urn:pulumi:{get_stack()}::{get_project()}::{type_}::{name}"


STACK = urn("pulumi:pulumi:Stack", f"{get_project()}-{get_stack()}")
DEFAULTS = dict(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                additional_secret_outputs=[], timeouts=(0, 0, 0), parent=STACK)
BY_NAME = {
    "empty": {},
    "protect": {"protect": True},
    "ignoreChanges": {"ignore_changes": ["foo", "bar"]},
    "deleteBeforeReplaceNotSet": {},
    "deleteBeforeReplaceTrue": {"delete_before_replace": True},
    "deleteBeforeReplaceFalse": {"delete_before_replace": False},
    # The engine sends only an alias that matched the old state: none on a new stack; with an old
    # state that has the old name (`oldState`, not upstream's), that alias, as upstream's comment
    # says it would be.
    "aliased": {"aliases": [urn(DYNAMIC, "old-name-for-aliased")]} if Config().get_bool("oldState") else {},
    "timeouts": {"timeouts": (60, 120, 180)},
    "timeouts-create": {"timeouts": (240, 0, 0)},
    "timeouts-update": {"timeouts": (0, 300, 0)},
    "timeouts-delete": {"timeouts": (0, 0, 360)},
    "secrets": {"additional_secret_outputs": ["foo"]},
    "parent-res": {},
    "child-res": {"parent": urn(DYNAMIC, "parent-res")},
}


def check(r, want):
    o = r.opts
    got = dict(protect=o.protect, ignore_changes=list(o.ignore_changes), delete_before_replace=o.delete_before_replace,
               aliases=list(o.aliases), additional_secret_outputs=list(o.additional_secret_outputs),
               timeouts=(o.custom_timeouts.create_seconds, o.custom_timeouts.update_seconds,
                         o.custom_timeouts.delete_seconds),
               parent=o.parent)
    assert got == want, f"{r.urn}: options {got} != {want}"


def validate(r):
    if Config().require_int("scenario") != 1:
        return
    t = r.resource_type
    if t in ("pulumi:pulumi:Stack", "pulumi:providers:pulumi-python", "pulumi:providers:random"):
        check(r, {**DEFAULTS, "parent": None})
    elif t == "random:index/randomUuid:RandomUuid":
        check(r, DEFAULTS)
    elif t == DYNAMIC:
        if r.name not in BY_NAME:
            raise AssertionError(f"Unexpected resource with name: '{r.name}'.")
        check(r, {**DEFAULTS, **BY_NAME[r.name]})
    else:
        raise AssertionError(f"Unexpected resource of type: '{t}'.")


PolicyPack(
    name="resource-options-test-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="validate-resource",
            description="Validates resource options during `validateResource`.",
            validate=lambda args, report_violation: validate(args),
            remediate=validate,
        ),
        StackValidationPolicy(
            name="validate-stack",
            description="Validates resource options during `validateStack`.",
            validate=lambda args, report_violation: [validate(r) for r in args.resources],
        ),
    ],
)
