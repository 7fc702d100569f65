"""The AWS limits catalogue: `aws_limits.yaml` as typed records, and checks of values against it.

Owns reading the catalogue (every fact with its source) and the checks the stack config runs
before any resource is declared: names and their characters, schedule expressions, tags, and the
CPU and memory an instance type offers ECS tasks. Declares nothing and knows no config key: the
config models call these checks and name the key. `aws_limits_doc.py` renders the catalogue as
docs/aws-limits.md and as the policy pack's copy (`pack_copy`).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE = Path(__file__).with_name("aws_limits.yaml")
SCHEDULE_KINDS = ("at", "rate", "cron")


class CatalogueError(Exception):
    """aws_limits.yaml is malformed: the message names the entry and what is wrong."""


@dataclass(frozen=True)
class Location:
    """Where a Pulumi resource holds a value: its type token and property path (`a[].b` walks a
    list, JSON strings such as containerDefinitions included)."""

    type: str
    property: str


@dataclass(frozen=True)
class Forbidden:
    pattern: re.Pattern[str]
    reason: str
    documented: str | None = None  # the phrase of the botocore documentation that states it


@dataclass(frozen=True)
class NameRule:
    """A name (or description) AWS takes: length, characters, forbidden forms."""

    id: str
    what: str
    resources: tuple[Location, ...]
    min: int
    max: int
    pattern: re.Pattern[str]
    chars: str
    forbidden: tuple[Forbidden, ...]
    sources: tuple[str, ...]
    valid: tuple[str, ...]
    invalid: tuple[str, ...]

    def problems(self, value: str) -> list[str]:
        """Why AWS would refuse `value` (phrases completing "<what> '<value>' ..."); [] when fine."""
        found: list[str] = []
        if len(value) > self.max:
            found.append(f"is {len(value)} characters long (at most {self.max})")
        elif len(value) < self.min:
            found.append(f"is {len(value)} characters long (at least {self.min})")
        if value and not self.pattern.fullmatch(value):
            bad = sorted({ch for ch in value if not self.pattern.fullmatch(ch)})
            found.append(f"has characters not allowed here ({''.join(bad)!r}; allowed: {self.chars})")
        found += [f.reason for f in self.forbidden if f.pattern.search(value)]
        return found


@dataclass(frozen=True)
class TagLimits:
    what: str
    max_tags: int
    key_min: int
    key_max: int
    value_max: int
    reserved_prefix: str
    restricted_characters: str
    restricted_types: tuple[str, ...]
    sources: tuple[str, ...]

    def restricts(self, type_: str) -> bool:
        """Whether the type's API restricts tag characters (ECS, ELB, IAM)."""
        return type_.startswith(self.restricted_types)

    def problems(self, tags: Mapping[str, str], restricted: bool = True) -> list[str]:
        """Why AWS would refuse these tags; `restricted`: the resource's API restricts characters."""
        found: list[str] = []
        if len(tags) > self.max_tags:
            found.append(f"{len(tags)} tags: a resource takes at most {self.max_tags}")
        for key, value in tags.items():
            if not self.key_min <= len(key) <= self.key_max:
                found.append(f"tag key {key[:40]!r} is {len(key)} characters long ({self.key_min} to {self.key_max})")
            if key.lower().startswith(self.reserved_prefix):
                found.append(f"tag key {key!r} begins with the reserved prefix {self.reserved_prefix!r}")
            if len(value) > self.value_max:
                found.append(f"the value of tag {key!r} is {len(value)} characters long (at most {self.value_max})")
            if restricted:
                for what, text in (("key", key), ("value", value)):
                    bad = sorted({ch for ch in text if not self.allowed(ch)})
                    if bad:
                        found.append(f"tag {what} {text[:40]!r} has characters outside letters, digits, spaces and "
                                     f"{self.restricted_characters}: {''.join(bad)!r}")
        return found

    def allowed(self, ch: str) -> bool:
        """A character the ECS/ELB/IAM tag pattern takes: \\p{L}, \\p{Z}, \\p{N} or one of the listed."""
        return unicodedata.category(ch)[0] in "LZN" or ch in self.restricted_characters


@dataclass(frozen=True)
class CronField:
    name: str
    min: int
    max: int
    wildcards: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleGrammar:
    """rate(), cron() and at() expressions as EventBridge Scheduler and EventBridge rules take them."""

    what: str
    max_length: int
    resources: tuple[tuple[Location, tuple[str, ...]], ...]  # where, and the kinds it takes
    rate_units: tuple[str, ...]
    cron_fields: tuple[CronField, ...]
    sources: tuple[str, ...]
    valid: tuple[str, ...]
    invalid: tuple[str, ...]

    def problems(self, expression: str, kinds: Iterable[str] = SCHEDULE_KINDS) -> list[str]:
        """Why AWS would refuse the expression (one phrase per problem); [] when fine."""
        kinds = tuple(kinds)
        if len(expression) > self.max_length:
            return [f"is {len(expression)} characters long (at most {self.max_length})"]
        match = re.fullmatch(r"(at|rate|cron)\((.*)\)", expression, re.DOTALL)
        if match is None or match[1] not in kinds:
            return [f"must be {self._forms(kinds)}"]
        kind, body = match[1], match[2]
        if kind == "rate":
            return self._rate(body)
        if kind == "at":
            return _at(body)
        return self._cron(body)

    def _forms(self, kinds: tuple[str, ...]) -> str:
        units = "|".join(f"{u}[s]" for u in self.rate_units)
        forms = {"rate": f"rate(<n> {units})", "cron": "cron(<6 fields>)", "at": "at(yyyy-mm-ddThh:mm:ss)"}
        return " or ".join(forms[k] for k in ("rate", "cron", "at") if k in kinds)

    def _rate(self, body: str) -> list[str]:
        match = re.fullmatch(r"(\d+) ([a-z]+)", body)
        if match is None:
            return ["rate() takes `<positive integer> <unit>`, e.g. rate(5 minutes)"]
        value, unit = int(match[1]), match[2]
        singular = unit.removesuffix("s")
        if singular not in self.rate_units:
            return [f"rate() unit {unit!r} is not one of {', '.join(f'{u}(s)' for u in self.rate_units)}"]
        if value == 0:
            return ["rate() needs a positive value"]
        if value == 1 and unit != singular:
            return [f"rate(1 {unit}) takes the singular unit: rate(1 {singular})"]
        if value > 1 and unit == singular:
            return [f"rate({value} {unit}) takes the plural unit: rate({value} {unit}s)"]
        return []

    def _cron(self, body: str) -> list[str]:
        parts = body.split()
        if len(parts) != len(self.cron_fields) or " ".join(parts) != body.strip():
            names = " ".join(f.name for f in self.cron_fields)
            return [f"cron() takes {len(self.cron_fields)} fields separated by spaces ({names}), got {len(parts)}"]
        found: list[str] = []
        for field, text in zip(self.cron_fields, parts, strict=True):
            found += _cron_field(field, text)
        dom, dow = parts[2], parts[4]
        if dom == "?" and dow == "?":
            found.append("cron() day-of-month and day-of-week are both `?`: set one of them (a value or `*`)")
        elif dom != "?" and dow != "?":
            found.append(f"cron() sets both day-of-month ({dom}) and day-of-week ({dow}): one of them must be `?`")
        return found


def _at(body: str) -> list[str]:
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})", body)
    if match is None:
        return ["at() takes a date and time as yyyy-mm-ddThh:mm:ss"]
    try:
        datetime.datetime(*(int(g) for g in match.groups()))
    except ValueError as e:
        return [f"at({body}) is not a calendar date and time ({e})"]
    return []


def _cron_value(field: CronField, text: str) -> str | None:
    """Why `text` is not a value of the field (a number in range or one of its names), or None."""
    if text.isdigit():
        if field.min <= int(text) <= field.max:
            return None
        return f"cron() {field.name} {text} is outside {field.min}-{field.max}"
    if text.upper() in field.names:
        return None
    named = f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
    return f"cron() {field.name} {text!r} is not a value ({field.min}-{field.max}{named})"


def _cron_field(field: CronField, text: str) -> list[str]:
    """Why AWS would refuse one cron field (documented values and wildcards only)."""
    if text == "?":
        return [] if "?" in field.wildcards else [f"cron() `?` is only for day-of-month and day-of-week, not {field.name}"]
    items = text.split(",")
    found: list[str] = []
    if "#" in text and len(items) > 1:
        found.append(f"cron() {field.name} {text!r}: `#` takes one expression only in its field")
    for item in items:
        found += _cron_item(field, item)
    return found


def _cron_item(field: CronField, item: str) -> list[str]:
    """One item of a field's comma-separated list: `*`, a value, a range, an increment, or the
    day fields' forms (`L`; day-of-month `LW`, `L-n`, `nW`; day-of-week `nL`, `n#k`)."""
    wild, upper = field.wildcards, item.upper()
    if not item:
        return [f"cron() {field.name} has an empty list item"]
    if "L" in wild and upper == "L":
        return []
    if "W" in wild and (upper == "LW" or re.fullmatch(r"L-\d+", upper)):
        return []
    if "W" in wild and upper.endswith("W"):
        return _listed(_cron_value(field, item[:-1]))
    if "#" in wild and upper.endswith("L"):
        return _listed(_cron_value(field, item[:-1]))
    if "#" in item:
        if "#" not in wild:
            return [f"cron() `#` is only for day-of-week, not {field.name}"]
        day, _, nth = item.partition("#")
        if not (nth.isdigit() and 1 <= int(nth) <= 5):
            return [f"cron() {field.name} {item!r}: the week after `#` is 1-5"]
        return _listed(_cron_value(field, day))
    base, slash, step = item.partition("/")
    found: list[str] = []
    if slash:
        if "/" not in wild:
            return [f"cron() `/` is not allowed in {field.name}"]
        if not step.isdigit() or int(step) < 1:
            found.append(f"cron() {field.name} {item!r}: the increment after `/` is a positive integer")
    if base == "*":
        return found
    low, dash, high = base.partition("-")
    for value in (low, high) if dash else (low,):
        found += _listed(_cron_value(field, value))
    return found


def _listed(problem: str | None) -> list[str]:
    return [problem] if problem else []


@dataclass(frozen=True)
class InstanceType:
    """One instance type and what it offers ECS tasks (the catalogue's rule): CPU units (vCPUs x
    1024, all registered) and memory MiB (nominal less the kernel's and platform's estimated share)."""

    name: str
    vcpus: int
    memory_gib: float
    cpu_units: int
    memory_mib: int


@dataclass(frozen=True)
class Quota:
    id: str
    what: str
    max: int
    adjustable: bool
    sources: tuple[str, ...]
    documented: str | None  # the phrase of the botocore documentation that states it


@dataclass(frozen=True)
class Catalogue:
    names: dict[str, NameRule]
    tags: TagLimits
    schedules: ScheduleGrammar
    cpu_units_per_vcpu: int
    memory_overhead_percent: float
    instance_types: dict[str, InstanceType]
    instance_sources: tuple[str, ...]
    quotas: dict[str, Quota]


def _sources(entry: Mapping[str, Any]) -> tuple[str, ...]:
    found = [str(s) for s in entry.get("sources", [])]
    for key in ("source", "url"):
        if key in entry:
            found.append(str(entry[key]))
    return tuple(found)


def _vcpus(size: str) -> int:
    """medium 1, large 2, xlarge 4, <n>xlarge 4n."""
    fixed = {"medium": 1, "large": 2, "xlarge": 4}
    if size in fixed:
        return fixed[size]
    match = re.fullmatch(r"(\d+)xlarge", size)
    if match is None:
        raise CatalogueError(f"instance size {size!r}: not medium, large, xlarge or <n>xlarge")
    return 4 * int(match[1])


def _name_rule(key: str, raw: Mapping[str, Any]) -> NameRule:
    try:
        return NameRule(
            id=key,
            what=raw["what"],
            resources=tuple(Location(r["type"], r["property"]) for r in raw["resources"]),
            min=int(raw["min"]),
            max=int(raw["max"]),
            pattern=re.compile(raw["pattern"]),
            chars=raw["chars"],
            forbidden=tuple(Forbidden(re.compile(f["pattern"]), f["reason"], f.get("documented"))
                            for f in raw.get("forbidden", [])),
            sources=_sources(raw),
            valid=tuple(raw.get("valid", [])),
            invalid=tuple(raw.get("invalid", [])),
        )
    except (KeyError, TypeError, ValueError, re.error) as e:
        raise CatalogueError(f"{CATALOGUE.name}: names.{key}: {type(e).__name__}: {e}") from None


def _instance_types(raw: Mapping[str, Any]) -> dict[str, InstanceType]:
    units, overhead_permille = int(raw["cpu_units_per_vcpu"]), round(float(raw["memory_overhead_percent"]) * 10)

    def offer(name: str, vcpus: int, gib: float) -> InstanceType:
        return InstanceType(name, vcpus, gib, vcpus * units, round(gib * 1024) * (1000 - overhead_permille) // 1000)

    found: dict[str, InstanceType] = {}
    for family, spec in raw["families"].items():
        sizes = (raw["burstable_sizes"].items() if spec.get("burstable")
                 else ((size, (_vcpus(size), _vcpus(size) * spec["gib_per_vcpu"])) for size in spec["sizes"]))
        for size, (vcpus, gib) in sizes:
            found[f"{family}.{size}"] = offer(f"{family}.{size}", int(vcpus), float(gib))
    return found


def load(path: Path = CATALOGUE) -> Catalogue:
    """Reads and checks the catalogue; raises CatalogueError naming the bad entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise CatalogueError(f"{path.name}: not YAML: {e}") from None
    try:
        tags, sched, inst = raw["tags"], raw["schedule_expressions"], raw["instance_types"]
        return Catalogue(
            names={key: _name_rule(key, entry) for key, entry in raw["names"].items()},
            tags=TagLimits(
                what=tags["what"], max_tags=int(tags["max_tags"]), key_min=int(tags["key_min"]),
                key_max=int(tags["key_max"]), value_max=int(tags["value_max"]),
                reserved_prefix=tags["reserved_prefix"], restricted_characters=tags["restricted_characters"],
                restricted_types=tuple(tags["restricted_types"]), sources=_sources(tags),
            ),
            schedules=ScheduleGrammar(
                what=sched["what"],
                max_length=int(sched["max_length"]),
                resources=tuple((Location(r["type"], r["property"]), tuple(r["kinds"])) for r in sched["resources"]),
                rate_units=tuple(sched["rate"]["units"]),
                cron_fields=tuple(CronField(f["name"], int(f["min"]), int(f["max"]), f["wildcards"],
                                            tuple(f.get("names", []))) for f in sched["cron"]["fields"]),
                sources=_sources(sched),
                valid=tuple(sched.get("valid", [])),
                invalid=tuple(sched.get("invalid", [])),
            ),
            cpu_units_per_vcpu=int(inst["cpu_units_per_vcpu"]),
            memory_overhead_percent=float(inst["memory_overhead_percent"]),
            instance_types=_instance_types(inst),
            instance_sources=_sources(inst),
            quotas={key: Quota(key, q["what"], int(q["max"]), bool(q.get("adjustable", False)), _sources(q),
                               q.get("documented")) for key, q in raw["quotas"].items()},
        )
    except (KeyError, TypeError, ValueError) as e:
        raise CatalogueError(f"{path.name}: {type(e).__name__}: {e}") from None


@cache
def catalogue() -> Catalogue:
    return load()


def name_rule(rule_id: str) -> NameRule:
    return catalogue().names[rule_id]


def quota(quota_id: str) -> int:
    return catalogue().quotas[quota_id].max


def instance_type(name: str) -> InstanceType | None:
    """The catalogue's entry for an instance type, or None when it is not listed."""
    return catalogue().instance_types.get(name)


def schedule_problems(expression: str, kinds: Iterable[str] = SCHEDULE_KINDS) -> list[str]:
    return catalogue().schedules.problems(expression, kinds)


def pack_copy() -> dict[str, Any]:
    """The facts the policy pack checks, as JSON data (the pack never imports components/)."""
    cat = catalogue()
    return {
        "generated_from": f"components/{CATALOGUE.name}",
        "names": {
            rule.id: {
                "what": rule.what,
                "resources": [{"type": r.type, "property": r.property} for r in rule.resources],
                "min": rule.min,
                "max": rule.max,
                "pattern": rule.pattern.pattern,
                "chars": rule.chars,
                "forbidden": [{"pattern": f.pattern.pattern, "reason": f.reason} for f in rule.forbidden],
            }
            for rule in cat.names.values()
        },
        "tags": {
            "max_tags": cat.tags.max_tags, "key_min": cat.tags.key_min, "key_max": cat.tags.key_max,
            "value_max": cat.tags.value_max, "reserved_prefix": cat.tags.reserved_prefix,
            "restricted_characters": cat.tags.restricted_characters,
            "restricted_types": list(cat.tags.restricted_types),
        },
        "schedule_expressions": {
            "max_length": cat.schedules.max_length,
            "resources": [{"type": loc.type, "property": loc.property, "kinds": list(kinds)}
                          for loc, kinds in cat.schedules.resources],
            "rate_units": list(cat.schedules.rate_units),
            "cron_fields": [{"name": f.name, "min": f.min, "max": f.max, "wildcards": f.wildcards,
                             "names": list(f.names)} for f in cat.schedules.cron_fields],
        },
        "quotas": {q.id: {"what": q.what, "max": q.max, "adjustable": q.adjustable} for q in cat.quotas.values()},
    }
