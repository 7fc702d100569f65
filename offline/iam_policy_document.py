"""`aws:iam/getPolicyDocument:getPolicyDocument`, computed as the provider computes it.

Owns: building the policy document from the invoke's arguments the way terraform-provider-aws's
`aws_iam_policy_document` data source does (`internal/service/iam/policy_document_data_source.go`
and `policy_model.go`): source documents merged first, then the statements, then the override
documents (a statement with a Sid replaces the one with the same Sid); sets of actions, resources
and principal identifiers deduplicated and, when more than one, sorted in reverse; a single value
as a plain string; `&{` turned into `${`; Go's `json.MarshalIndent` (two spaces) for `json` and
`json.Marshal` for `minifiedJson`, with Go's HTML escaping; the id the CRC-32 of `json`.
Raises PolicyDocumentError with the provider's message where the provider fails.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

VERSIONS = ("2008-10-17", "2012-10-17")
_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition")


class PolicyDocumentError(Exception):
    """The provider would fail the invoke (its message)."""


def _strings(values: Any) -> list[str]:
    """A set of strings as Terraform holds it: duplicates dropped."""
    return list(dict.fromkeys(str(v) for v in values or []))


def _decode(values: list[str]) -> Any:
    """`policyDecodeConfigStrings`: one value as a string, several sorted in reverse."""
    return values[0] if len(values) == 1 else sorted(values, reverse=True)


def _replace_vars(value: Any, version: str) -> Any:
    """`&{aws:username}` -> `${aws:username}`; not allowed with the 2008 version."""
    items = [value] if isinstance(value, str) else value
    for item in items:
        if version == "2008-10-17" and "&{" in item:
            raise PolicyDocumentError(f"found &{{ sequence in ({item}), which is not supported in document version 2008-10-17")
    replaced = [item.replace("&{", "${") for item in items]
    return replaced[0] if isinstance(value, str) else replaced


def _principals(blocks: list[dict[str, Any]], version: str) -> list[tuple[str, Any]]:
    return [
        (str(block.get("type", "")), _replace_vars(_decode(_strings(block.get("identifiers"))), version))
        for block in blocks
    ]


def _principal_json(principals: list[tuple[str, Any]]) -> Any:
    """`iamPolicyStatementPrincipalSet.MarshalJSON`: `{"*": "*"}` alone is `"*"`; identifiers of
    one type are gathered (lists reverse-sorted); keys sorted, as Go marshals maps."""
    if len(principals) == 1 and principals[0][0] == "*" and principals[0][1] in ("*", ["*"]):
        return "*"
    raw: dict[str, Any] = {}
    for type_, identifiers in principals:
        current = raw.get(type_)
        if isinstance(identifiers, list):
            merged = [] if current is None else ([current] if isinstance(current, str) else current)
            raw[type_] = merged + sorted(identifiers, reverse=True)
        elif current is None:
            raw[type_] = identifiers
        else:
            raw[type_] = ([current] if isinstance(current, str) else current) + [identifiers]
    return dict(sorted(raw.items()))


def _condition_json(conditions: list[tuple[str, str, list[str]]]) -> dict[str, Any]:
    """`iamPolicyStatementConditionSet.MarshalJSON`: test -> variable -> values (order kept; one value
    as a string); keys sorted."""
    raw: dict[str, dict[str, list[str]]] = {}
    for test, variable, values in conditions:
        raw.setdefault(test, {}).setdefault(variable, []).extend(values)
    return {
        test: {var: vals[0] if len(vals) == 1 else vals for var, vals in sorted(variables.items())}
        for test, variables in sorted(raw.items())
    }


def _statement(block: dict[str, Any], version: str) -> dict[str, Any]:
    """One `statements` argument as the document's statement (Go's field order, empty fields left out)."""
    out: dict[str, Any] = {}
    if block.get("sid"):
        out["Sid"] = str(block["sid"])
    out["Effect"] = str(block.get("effect") or "Allow")
    for key, name in (("actions", "Action"), ("notActions", "NotAction")):
        if values := _strings(block.get(key)):
            out[name] = _decode(values)
    for key, name in (("resources", "Resource"), ("notResources", "NotResource")):
        if values := _strings(block.get(key)):
            out[name] = _replace_vars(_decode(values), version)
    for key, name in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
        if blocks := block.get(key):
            out[name] = _principal_json(_principals(blocks, version))
    if blocks := block.get("conditions"):
        conditions = []
        for c in blocks:
            values = [str(v) for v in c.get("values") or []]
            conditions.append((str(c.get("test", "")), str(c.get("variable", "")), _replace_vars(values, version)))
        out["Condition"] = _condition_json(conditions)
    return out


def _parse_document(text: Any, what: str, index: int) -> dict[str, Any]:
    try:
        doc = json.loads(str(text))
    except json.JSONDecodeError as e:
        raise PolicyDocumentError(f"writing IAM Policy Document: merging {what} document {index}: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement", []), list):
        raise PolicyDocumentError(
            f"writing IAM Policy Document: merging {what} document {index}: json: cannot unmarshal into iamPolicyDoc"
        )
    statements = []
    for st in doc.get("Statement") or []:
        st = {k: st[k] for k in _STATEMENT_KEYS if k in st and st[k] not in ("", None, [], {})}
        if isinstance(st.get("Principal"), dict):  # re-marshalled: identifier lists sorted, keys sorted
            st["Principal"] = {k: sorted(v) if isinstance(v, list) else v for k, v in sorted(st["Principal"].items())}
        statements.append(st)
    return {"Version": str(doc.get("Version") or ""), "Id": str(doc.get("Id") or ""), "Statement": statements}


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    """`iamPolicyDoc.Merge`."""
    if new.get("Id"):
        into["Id"] = new["Id"]
    if new.get("Version", "") > into.get("Version", ""):
        into["Version"] = new["Version"]
    for statement in new.get("Statement") or []:
        sid = statement.get("Sid")
        index = next((i for i, s in enumerate(into["Statement"]) if sid and s.get("Sid") == sid), None)
        if index is None:
            into["Statement"].append(statement)
        else:
            into["Statement"][index] = statement


def _go_json(value: Any, indent: int | None) -> str:
    """Go's encoding/json output: HTML characters escaped, no ASCII escaping of the rest."""
    text = json.dumps(value, indent=indent, separators=(",", ": ") if indent else (",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def policy_document(args: dict[str, Any]) -> dict[str, Any]:
    """The data source's result for the invoke's arguments (engine names)."""
    version = str(args.get("version") or "2012-10-17")
    if version not in VERSIONS:
        raise PolicyDocumentError(f'expected version to be one of ["2008-10-17" "2012-10-17"], got {version}')
    merged: dict[str, Any] = {"Version": "", "Id": "", "Statement": []}
    seen_sids: set[str] = set()
    for i, source in enumerate(args.get("sourcePolicyDocuments") or []):
        doc = _parse_document(source, "source", i)
        for j, st in enumerate(doc["Statement"]):
            if sid := st.get("Sid"):
                if sid in seen_sids:
                    raise PolicyDocumentError(
                        f"writing IAM Policy Document: merging source document {i}: duplicate Sid ({sid}) in "
                        f"source_policy_documents (statement {j}). Remove the Sid or ensure Sids are unique."
                    )
                seen_sids.add(sid)
        _merge(merged, doc)
    own: dict[str, Any] = {"Version": version, "Id": str(args.get("policyId") or ""), "Statement": []}
    sids: set[str] = set()
    for block in args.get("statements") or []:
        sid = str(block.get("sid") or "")
        if sid and sid in sids:
            raise PolicyDocumentError(
                f"writing IAM Policy Document: duplicate Sid ({sid}). Remove the Sid or ensure the Sid is unique."
            )
        sids.add(sid)
        own["Statement"].append(_statement(block, version))
    _merge(merged, own)
    for i, override in enumerate(args.get("overridePolicyDocuments") or []):
        _merge(merged, _parse_document(override, "override", i))
    document: dict[str, Any] = {}
    if merged["Version"]:
        document["Version"] = merged["Version"]
    if merged["Id"]:
        document["Id"] = merged["Id"]
    if merged["Statement"]:
        document["Statement"] = merged["Statement"]
    pretty = _go_json(document, 2)
    result = {
        "id": str(zlib.crc32(pretty.encode())),
        "json": pretty,
        "minifiedJson": _go_json(document, None),
        "version": version,
    }
    for key in ("policyId", "sourcePolicyDocuments", "overridePolicyDocuments", "statements"):
        if key in args:
            result[key] = args[key]
    return result
