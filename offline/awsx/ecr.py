"""awsx `ecr`: `Repository` and `Image`, expanded as awsx 3.11.0 constructs them
(awsx/ecr/repository.ts, image.ts, auth.ts).

A repository component `name` has the `aws.ecr.Repository` `name` (lower-cased; the provider
autonames it) and, unless skipped, a lifecycle policy `name` (default rule: expire untagged images
beyond one). An image component builds nothing offline: its `docker-build` image child is
registered only once every argument is known (as awsx's apply runs), and its URI is unknown in
preview and `<repository URL>@sha256:<digest derived from the URN>` in update mode.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..properties import UNKNOWN
from .construct import Args, Construct, ConstructError, Out, known, lift, plain, reveal, secret
from .roles import sha1_8

DEFAULT_RULES = [{"description": "remove untagged images", "tagStatus": "untagged", "maximumNumberOfImages": 1}]


def _rule(rule: dict[str, Any], priority: int) -> dict[str, Any]:
    if rule.get("maximumNumberOfImages") is not None:
        count = {"countType": "imageCountMoreThan", "countNumber": rule["maximumNumberOfImages"]}
    elif rule.get("maximumAgeLimit") is not None:
        count = {"countType": "sinceImagePushed", "countNumber": rule["maximumAgeLimit"], "countUnit": "days"}
    else:
        raise ConstructError("Either [maximumNumberOfImages] or [maximumAgeLimit] must be provided with a rule.")
    status = rule.get("tagStatus")
    if status in ("any", "untagged"):
        tag: dict[str, Any] = {"tagStatus": status}
    else:
        if not rule.get("tagPrefixList"):
            raise ConstructError("tagPrefixList cannot be empty.")
        tag = {"tagStatus": "tagged", "tagPrefixList": rule["tagPrefixList"]}
    converted = {"rulePriority": priority, "description": rule.get("description"), "selection": {**tag, **count}}
    converted["action"] = {"type": "expire"}
    return {k: v for k, v in converted.items() if v is not None}


def lifecycle_policy(rules: list[dict[str, Any]]) -> dict[str, Any]:
    """`convertRules`: priorities in order, the single `any` rule last."""
    anys = [r for r in rules if r.get("tagStatus") == "any"]
    if len(anys) >= 2:
        raise ConstructError('At most one [selection: "any"] rule can be provided.')
    ordered = [r for r in rules if r.get("tagStatus") != "any"] + anys
    return {"rules": [_rule(r, i + 1) for i, r in enumerate(ordered)]}


def repository(ctx: Construct) -> dict[str, Any]:
    """`awsx:ecr:Repository`."""
    args, node = ctx.args, ctx.node
    name = ctx.name.lower()
    repo = ctx.register("aws:ecr/repository:Repository", name, args.items(omit=("lifecyclePolicy",)), node)
    outputs: dict[str, Any] = {"repository": repo, "url": repo.out("repositoryUrl")}
    config = args.sub("lifecyclePolicy") or Args({})
    if not config.value("skip"):
        rules = config.get("rules")
        policy = lift(lifecycle_policy, rules) if rules is not None else Out(lifecycle_policy(DEFAULT_RULES))
        inputs = {"repository": repo.out("name"), "policy": policy, "region": args.get("region")}
        outputs["lifecyclePolicy"] = ctx.register("aws:ecr/lifecyclePolicy:LifecyclePolicy", name, inputs, node)
    return outputs


def _unique_image_name(args: dict[str, Any], stack: str) -> str:
    """`createUniqueImageName`: a hash of the build context, Dockerfile, build args and stack."""
    signature = args.get("context") or "."
    if args.get("dockerfile"):
        signature += f";dockerfile={args['dockerfile']}"
    for key, value in (args.get("args") or {}).items():
        signature += f";arg[{key}]={value}"
    return f"{sha1_8(signature + stack)}-container"


def _registry_id(url: str, given: Any) -> str:
    if given:
        return str(given)
    host = url.removeprefix("https://").split("/", 1)[0]
    return host.split(".", 1)[0]


def image(ctx: Construct) -> dict[str, Any]:
    """`awsx:ecr:Image`: no build offline."""
    values = ctx.args.values
    if not known(values):  # awsx builds inside an apply over all its arguments: it has not run yet
        return {"imageUri": Out(UNKNOWN, tuple(u for k in values for u in ctx.args.deps(k)))}
    given = reveal(plain(values))
    url = given.get("repositoryUrl")
    if not isinstance(url, str):
        raise ConstructError("'repositoryUrl' is required")
    image_name = given.get("imageName") or given.get("imageTag") or _unique_image_name(given, ctx.stack)
    canonical = f"{url}:{image_name}"
    token = ctx.invoke(
        "aws:ecr/getAuthorizationToken:getAuthorizationToken", {"registryId": _registry_id(url, given.get("registryId"))}
    )
    if not token.get("userName") or not token.get("password"):
        raise ConstructError("Invalid credentials")
    registry = secret(
        {"address": token.get("proxyEndpoint"), "username": token["userName"], "password": reveal(token["password"])}
    )
    cache_from = [{"registry": {"ref": ref}} for ref in given.get("cacheFrom") or []] or [{"registry": {"ref": canonical}}]
    built = ctx.register(
        "docker-build:index:Image",
        image_name,
        {
            "tags": [canonical],
            "buildArgs": given.get("args"),
            "cacheFrom": cache_from,
            "cacheTo": [{"inline": {}}],
            "context": {"location": given.get("context") or "."},
            "dockerfile": {"location": given.get("dockerfile")},
            "platforms": [given["platform"]] if given.get("platform") else [],
            "target": given.get("target"),
            "push": True,
            "registries": [registry],
        },
        ctx.node,
    )
    if ctx.dry_run:
        return {"imageUri": Out(UNKNOWN, (built.urn,))}
    digest = hashlib.sha256(built.urn.encode()).hexdigest()
    return {"imageUri": Out(f"{url}@sha256:{digest}", (built.urn,))}
