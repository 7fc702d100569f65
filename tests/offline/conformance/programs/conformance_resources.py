"""Resources of the conformance programs (copied beside each program's __main__.py when it runs).

`Resource` is a Python dynamic resource, as pulumi-policy's programs' `resource.ts` is a Node.js
one (so its type is `pulumi-python:dynamic:Resource` where theirs is `pulumi-nodejs:...`). The
`Random*` classes stand for pulumi-random 4.0.0's resources (its SDK is not installed here): the
same type tokens, inputs and outputs, and the version a generated SDK asks the engine for."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ResourceProvider

RANDOM_VERSION = "4.0.0"


class _Provider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("0", props)


class Resource(pulumi.dynamic.Resource):
    def __init__(self, name: str, props: dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__(_Provider(), name, dict(props or {}), opts)


def _random_opts(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(pulumi.ResourceOptions(version=RANDOM_VERSION), opts)


class _Random(pulumi.CustomResource):
    TOKEN = ""
    OUTPUTS: tuple[str, ...] = ()

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None, **props: Any) -> None:
        inputs = {k: v for k, v in props.items() if v is not None}
        inputs.update({k: None for k in self.OUTPUTS})
        super().__init__(self.TOKEN, name, inputs, _random_opts(opts))


class _Result(_Random):
    OUTPUTS = ("result",)

    # As a generated SDK declares an output (the preview's update mode gives it a value).
    @property
    @pulumi.getter
    def result(self) -> pulumi.Output[str]:
        return pulumi.get(self, "result")


class RandomString(_Result):
    TOKEN = "random:index/randomString:RandomString"


class RandomUuid(_Result):
    TOKEN = "random:index/randomUuid:RandomUuid"


class RandomPet(_Random):
    TOKEN = "random:index/randomPet:RandomPet"


class RandomPassword(_Result):
    TOKEN = "random:index/randomPassword:RandomPassword"


class RandomInteger(_Random):
    TOKEN = "random:index/randomInteger:RandomInteger"
    OUTPUTS = ("result",)

    @property
    @pulumi.getter
    def result(self) -> pulumi.Output[int]:
        return pulumi.get(self, "result")


class _Module(pulumi.runtime.ResourceModule):
    """The resource module a generated SDK registers for its classes (`_utilities.Module`)."""

    def __init__(self, classes: dict[str, str]) -> None:
        self.mod_info = {"fqn": __name__, "classes": classes}

    def version(self) -> None:
        return None

    def construct(self, name: str, typ: str, urn: str) -> pulumi.Resource:
        return globals()[self.mod_info["classes"][typ]](name, pulumi.ResourceOptions(urn=urn))


for _cls in (RandomString, RandomUuid, RandomPet, RandomPassword, RandomInteger):
    pulumi.runtime.register_resource_module("random", _cls.TOKEN.split(":")[1], _Module({_cls.TOKEN: _cls.__name__}))


class Provider(pulumi.ProviderResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("random", name, {}, _random_opts(opts))
