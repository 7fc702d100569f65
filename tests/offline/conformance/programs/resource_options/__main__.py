# Port to Python of pulumi-policy 1.21.0 tests/integration/resource_options/program/index.ts
# (TestResourceOptions, integration_test.go:519-528).
import pulumi
from conformance_resources import RandomUuid, Resource

scenario = pulumi.Config().require_int("scenario")
Opts, Timeouts = pulumi.ResourceOptions, pulumi.CustomTimeouts

Resource("empty")
RandomUuid("uuid")
# protect only in the first scenario (the second prepares the stack's destruction upstream)
Resource("protect", opts=Opts(protect=scenario == 1))
Resource("ignoreChanges", opts=Opts(ignore_changes=["foo", "bar"]))
Resource("deleteBeforeReplaceNotSet")
Resource("deleteBeforeReplaceTrue", opts=Opts(delete_before_replace=True))
Resource("deleteBeforeReplaceFalse", opts=Opts(delete_before_replace=False))
Resource("aliased", opts=Opts(aliases=[pulumi.Alias(name="old-name-for-aliased")]))
Resource("timeouts", opts=Opts(custom_timeouts=Timeouts(create="1m", update="2m", delete="3m")))
Resource("timeouts-create", opts=Opts(custom_timeouts=Timeouts(create="4m")))
Resource("timeouts-update", opts=Opts(custom_timeouts=Timeouts(update="5m")))
Resource("timeouts-delete", opts=Opts(custom_timeouts=Timeouts(delete="6m")))
Resource("secrets", opts=Opts(additional_secret_outputs=["foo"]))
parent = Resource("parent-res")
Resource("child-res", opts=Opts(parent=parent))
