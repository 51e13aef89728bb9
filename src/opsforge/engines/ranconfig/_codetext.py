"""Source-text building blocks of the model generator: names, imports, annotations, fields.

Private to :mod:`opsforge.engines.ranconfig.codegen`, which assembles modules from these.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from opsforge.core.logging import get_logger
from opsforge.engines.ranconfig.layout import group_classes
from opsforge.engines.ranconfig.mom import Attribute, DataType, Mom
from opsforge.engines.ranconfig.naming import (
    NameTable,
    class_identifier,
    enum_member,
    field_name,
    module_name,
)

__all__ = ["GeneratedNames", "plan_names"]

log = get_logger(__name__)
_RUNTIME = "opsforge.engines.ranconfig.runtime"


@dataclass
class GeneratedNames:
    """Python names chosen for a model's classes, enums, structs and modules."""

    classes: dict[str, str] = field(default_factory=dict)
    writable: dict[str, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    enums: dict[str, str] = field(default_factory=dict)
    structs: dict[str, str] = field(default_factory=dict)
    enum_members: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Annotation cache: type key -> (text, imports by origin).
    annotations: dict[
        tuple[object, ...], tuple[str, set[str], set[str], set[str], set[str], set[str]]
    ] = field(default_factory=dict)
    #: Field text after the name: (type id, MOM name, description, with default) -> text.
    #: Types are shared objects (the parser reuses repeated ones) alive while generating.
    field_tails: dict[tuple[int, str, str, bool], str] = field(default_factory=dict)


def plan_names(mom: Mom, groups: list[list[str]] | None = None) -> GeneratedNames:
    """Choose unique Python identifiers for everything the package will define.

    ``groups`` (default: :func:`~opsforge.engines.ranconfig.layout.group_classes`) says which
    classes share a module; a module is named after its group's first class.
    """
    names = GeneratedNames()
    table = NameTable({"MoBase", "StructBase", "StrEnum"})
    modules = NameTable({"_enums", "_structs", "__init__"})
    for group in group_classes(mom) if groups is None else groups:
        module = modules.claim(module_name(group[0]))
        for cls_name in group:
            names.modules[cls_name] = module
    for cls_name in sorted(mom.classes):
        ident = table.claim(class_identifier(cls_name))
        names.classes[cls_name] = ident
        names.writable[cls_name] = table.claim(ident + "Writable")
    for enum_name in sorted(mom.enums):
        names.enums[enum_name] = table.claim(class_identifier(enum_name), "Enum")
        members = NameTable({"name", "value"})
        names.enum_members[enum_name] = {
            m: members.claim(enum_member(m)) for m in mom.enums[enum_name].members
        }
    for struct_name in sorted(mom.structs):
        names.structs[struct_name] = table.claim(class_identifier(struct_name), "Struct")
    return names


_DIGITS = re.compile(r"(\d+)")


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order, as ruff's isort compares names (``EPN2`` before ``EPN10``)."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text) if part
    )


def _isort_key(
    name: str,
) -> tuple[int, tuple[tuple[int, int | str], ...], tuple[tuple[int, int | str], ...]]:
    kind = 0 if name.isupper() and len(name) > 1 else (1 if name[0].isupper() else 2)
    return (kind, _natural(name.lower()), _natural(name))


def _import(module: str, names: set[str]) -> str:
    ordered = sorted(names, key=_isort_key)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= 100:
        return line
    body = "".join(f"    {n},\n" for n in ordered)
    return f"from {module} import (\n{body})"


def _doc(text: str, limit: int = 400) -> str:
    """A docstring body: first paragraph, safe quotes and backslashes, no trailing spaces."""
    para = (text or "").strip().split("\n\n")[0]
    if len(para) > limit:
        para = para[:limit].rsplit(" ", 1)[0] + " ..."
    para = para.replace("\\", "\\\\").replace('"""', "'''").replace("\r", "")
    lines = [ln.rstrip() for ln in para.splitlines()]
    out = "\n    ".join(ln if ln else "" for ln in lines).replace("\n    \n", "\n\n")
    return out.rstrip('"') or "-"


@functools.lru_cache(maxsize=65536)
def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=\.)\s|\n", (text or "").strip(), maxsplit=1)[0]
    return sentence[:160]


def _type_key(dt: DataType) -> tuple[object, ...]:
    element = _type_key(dt.element) if dt.element is not None else None
    return (
        dt.kind,
        dt.ranges,
        dt.resolution,
        dt.length_ranges,
        dt.pattern,
        dt.ref,
        element,
        dt.min_length,
        dt.max_length,
        dt.unique,
    )


def _num(value: float, integer: bool) -> str:
    if integer:
        return str(int(value))
    return repr(float(value))


class _Module:
    """Collects imports while one module's code is written."""

    def __init__(self, names: GeneratedNames, mom: Mom) -> None:
        self.names = names
        self.mom = mom
        self.typing: set[str] = set()
        self.pydantic: set[str] = set()
        self.runtime: set[str] = set()
        self.enums: set[str] = set()
        self.structs: set[str] = set()
        self._seen: dict[int, str] = {}  # id(type) -> text, imports already noted

    def annotation(self, dt: DataType) -> str:
        """The annotation text for a data type (without ``| None``), cached per type."""
        seen = self._seen.get(id(dt))
        if seen is not None:
            return seen
        key = _type_key(dt)
        hit = self.names.annotations.get(key)
        if hit is None:
            probe = _Module(self.names, self.mom)
            text = probe._annotation(dt)
            hit = (text, probe.typing, probe.pydantic, probe.runtime, probe.enums, probe.structs)
            self.names.annotations[key] = hit
        self.typing |= hit[1]
        self.pydantic |= hit[2]
        self.runtime |= hit[3]
        self.enums |= hit[4]
        self.structs |= hit[5]
        self._seen[id(dt)] = hit[0]
        return hit[0]

    def _annotation(self, dt: DataType) -> str:
        validators: list[str] = []
        if dt.kind in ("int", "float"):
            base = "int" if dt.kind == "int" else "float"
            integer = dt.kind == "int"
            if dt.ranges or dt.resolution:
                pairs = "".join(
                    f"({_num(lo, integer)}, {_num(hi, integer)}), " for lo, hi in dt.ranges
                )
                step = "" if not dt.resolution else f", {dt.resolution!r}"
                validators.append(f"in_ranges(({pairs.rstrip(' ')}){step})")
                self.runtime.add("in_ranges")
        elif dt.kind == "boolean":
            base = "bool"
        elif dt.kind == "string":
            base = "str"
            if dt.length_ranges:
                pairs = "".join(f"({lo}, {hi}), " for lo, hi in dt.length_ranges)
                validators.append(f"lengths(({pairs.rstrip(' ')}))")
                self.runtime.add("lengths")
            if dt.pattern and _compiles(dt.pattern):
                validators.append(f"matches({dt.pattern!r})")
                self.runtime.add("matches")
        elif dt.kind == "enum" and dt.ref in self.names.enums:
            base = self.names.enums[dt.ref]
            self.enums.add(base)
        elif dt.kind == "struct" and dt.ref in self.names.structs:
            base = self.names.structs[dt.ref]
            self.structs.add(base)
        elif dt.kind == "moref":
            base = "str"
            validators.append("mo_ref")
            self.runtime.add("mo_ref")
        elif dt.kind == "sequence" and dt.element is not None:
            base = f"list[{self.annotation(dt.element)}]"
            if dt.min_length is not None or dt.max_length is not None:
                validators.append(f"seq_length({dt.min_length}, {dt.max_length})")
                self.runtime.add("seq_length")
            if dt.unique:
                validators.append("unique_items")
                self.runtime.add("unique_items")
        else:
            base = "str" if dt.kind in ("enum", "moref") else "dict[str, object]"
        items = [f"AfterValidator({v})" for v in validators]
        if validators:
            self.pydantic.add("AfterValidator")
        if dt.kind in ("int", "float", "boolean", "string", "moref"):
            items.insert(0, "Strict()")  # no True for 1, no "5" for 5
            self.pydantic.add("Strict")
        if not items:
            return base
        self.typing.add("Annotated")
        return f"Annotated[{base}, {', '.join(items)}]"

    def default(self, dt: DataType) -> str:
        """The default value's source text (``None`` when absent or unusable)."""
        text = dt.default
        if text is None:
            return "None"
        try:
            if dt.kind == "int":
                return str(int(text))
            if dt.kind == "float":
                return repr(float(text))
        except ValueError:
            return "None"
        if dt.kind == "boolean" and text.lower() in ("true", "false"):
            return str(text.lower() == "true")
        if dt.kind == "string":
            return repr(text)
        if (
            dt.kind == "enum"
            and dt.ref in self.mom.enums
            and text in self.mom.enums[dt.ref].members
        ):
            return f"{self.names.enums[dt.ref]}.{self.names.enum_members[dt.ref][text]}"
        return "None"

    def field(
        self, attr: Attribute, used: NameTable, with_default: bool, ann: str | None = None
    ) -> str:
        ident = used.claim(field_name(attr.name))
        ann = ann if ann is not None else self.annotation(attr.data_type)
        key = (id(attr.data_type), attr.name, attr.description, with_default)
        tail = self.names.field_tails.get(key)
        if tail is None:
            default = self.default(attr.data_type) if with_default else "None"
            desc = _first_sentence(attr.description)
            extra = f", description={desc!r}" if desc else ""
            tail = f": {ann} | None = Field(default={default}, alias={attr.name!r}{extra})\n"
            self.names.field_tails[key] = tail
        return f"    {ident}{tail}"

    def header(self, doc: str, local: list[str]) -> str:
        blocks: list[str] = []
        std = [_import("typing", self.typing)] if self.typing else []
        if std:
            blocks.append("\n".join(std))
        if self.pydantic:
            blocks.append(_import("pydantic", self.pydantic))
        if self.runtime:
            blocks.append(_import(_RUNTIME, self.runtime))
        if local:
            blocks.append("\n".join(local))
        return f'"""{doc}"""\n\n' + "\n\n".join(blocks) + "\n"


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        log.warning("mom_pattern_skipped", pattern=pattern)
        return False
    return True


def _frozen(values: list[str]) -> str:
    if not values:
        return "frozenset()"
    return "frozenset({" + ", ".join(repr(v) for v in sorted(values)) + "})"
