"""Alias URNs of a registration, computed from the SDK's alias specs as the engine does.

Owns: turning `RegisterResourceRequest.aliases` (each an `Alias` with a `urn` or a `spec`) and the
parent's aliases into the alias URNs the engine records. Pure functions; no Pulumi runtime state.

Facts (pulumi/pulumi `pkg/resource/deploy/source_eval.go` reads `Alias.urn` / `Alias.spec`;
`step_generator.go` `generateAliases`, `collapseAliasToUrn` and `inheritedChildAlias`;
`sdk/go/common/resource/urn.go` `NewURN`):
- an alias given as a URN is that URN;
- a spec's name, type, project and stack default to the resource's own; its parent is none with
  `noParent` or when it is the root stack, `parentUrn` when given, else the resource's parent;
  under a parent the URN is the parent's URN without its name, `$`, the type and the name (so the
  parent's stack and project win over the spec's: `resource.CreateURN`); without one it is built
  from the spec's stack and project. (The engine also swaps a given `parentUrn` for that parent's
  own old URN when the parent was matched by an alias in the last state; a preview has no such
  state, so that swap is not modelled);
- every alias of the parent gives the child one more: the child's type and name under the parent
  alias (a child name that starts with the parent's name swaps that prefix for the alias's name),
  and the same for each of the child's own aliases;
- duplicates and the resource's own URN are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def new_urn(stack: str, project: str, parent_type: str, type_: str, name: str) -> str:
    qualified = type_ if not parent_type or parent_type == ROOT_STACK_TYPE else f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def spec_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """The engine's `resource.CreateURN`: under a parent (not the root stack) the URN extends the
    parent's URN, whose stack and project win over the spec's; else it is built from them."""
    if not parent or qualified_type(parent) == ROOT_STACK_TYPE:
        return new_urn(stack, project, "", type_, name)
    return f"{parent.rsplit('::', 1)[0]}${type_}::{name}"


def qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def base_type(urn: str) -> str:
    return qualified_type(urn).rsplit("$", 1)[-1]


def urn_name(urn: str) -> str:
    return urn.split("::", 3)[3]


def alias_urns(
    specs: Iterable[Any],
    given_urns: Iterable[str],
    *,
    urn: str,
    name: str,
    type_: str,
    parent: str,
    project: str,
    stack: str,
    parent_aliases: Iterable[str] = (),
) -> list[str]:
    """The engine's alias URNs for one registration. `specs` are `pulumi.alias_pb2.Alias`
    messages (`urn` or `spec`); `given_urns` the request's legacy `aliasURNs`."""
    own: list[str] = list(given_urns)
    for alias in specs:
        which = alias.WhichOneof("alias")
        if which == "urn":
            own.append(alias.urn)
        elif which == "spec":
            spec = alias.spec
            if spec.noParent:
                alias_parent = ""
            elif spec.parentUrn:
                alias_parent = spec.parentUrn
            else:
                alias_parent = parent
            own.append(spec_urn(
                spec.stack or stack, spec.project or project, alias_parent, spec.type or type_, spec.name or name
            ))
    found = list(own)
    parent_name = urn_name(parent) if parent else ""
    for parent_alias in parent_aliases:
        for child_type, child_name in [(type_, name), *((base_type(a), urn_name(a)) for a in own)]:
            alias_name = child_name
            if parent_name and child_name.startswith(parent_name):
                alias_name = urn_name(parent_alias) + child_name[len(parent_name):]
            found.append(new_urn(stack, project, qualified_type(parent_alias), child_type, alias_name))
    return [a for a in dict.fromkeys(found) if a != urn]


def aliases_sent(urn: str, aliases: Iterable[str], old_urns: frozenset[str] | set[str] | None) -> list[str]:
    """The aliases the engine hands a policy pack for a resource: only the one that found its old
    state (`getOldResource` records that alias alone as the new state's `Aliases`,
    pkg/resource/deploy/step_generator.go:771-775 and 825; the analyzer options read
    `new.GetAliases()`, :1418). None on a new stack, nor when the resource's own URN is in the
    old state; `old_urns` is the baseline's URNs (empty without one). `old_urns` None: a
    deployed snapshot's analysis, which sends the aliases its state recorded as they are
    (`res.GetAliases()`, pkg/resource/deploy/analyze_snapshot.go:161)."""
    if old_urns is None:
        return list(aliases)
    if urn in old_urns:
        return []
    found = next((a for a in aliases if a in old_urns), None)
    return [found] if found is not None else []
