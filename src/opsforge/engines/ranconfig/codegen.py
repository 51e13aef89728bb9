"""Generate a Python package of Pydantic v2 models from a :class:`Mom` (pure: text out).

Layout of the generated package::

    __init__.py      lazy: module __getattr__ imports a class's module on first use
    _enums.py        one StrEnum per MOM enum
    _structs.py      one StructBase model per MOM struct
    <class>.py       per MOM class: ``<Class>`` (all attributes) and ``<Class>Writable``
                     (operator-settable attributes only; read-only ones are refused)
    py.typed

Every constraint becomes a validator: value ranges (several disjoint ones too), resolution
steps, string lengths and patterns, sequence lengths and uniqueness, enum membership, struct
shape and MO references. The code passes ruff (with the project's rules) and mypy --strict.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from opsforge.core.logging import get_logger
from opsforge.engines.ranconfig.mom import Attribute, DataType, Mom, MomClass
from opsforge.engines.ranconfig.naming import (
    NameTable,
    class_identifier,
    enum_member,
    field_name,
    module_name,
)

__all__ = ["GeneratedNames", "generate_package", "plan_names"]

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


def plan_names(mom: Mom) -> GeneratedNames:
    """Choose unique Python identifiers for everything the package will define."""
    names = GeneratedNames()
    table = NameTable({"MoBase", "StructBase", "StrEnum"})
    modules = NameTable({"_enums", "_structs", "__init__"})
    for cls_name in sorted(mom.classes):
        ident = table.claim(class_identifier(cls_name))
        names.classes[cls_name] = ident
        names.writable[cls_name] = table.claim(ident + "Writable")
        names.modules[cls_name] = modules.claim(module_name(cls_name))
    for enum_name in sorted(mom.enums):
        names.enums[enum_name] = table.claim(class_identifier(enum_name), "Enum")
        members = NameTable({"name", "value"})
        names.enum_members[enum_name] = {
            m: members.claim(enum_member(m)) for m in mom.enums[enum_name].members
        }
    for struct_name in sorted(mom.structs):
        names.structs[struct_name] = table.claim(class_identifier(struct_name), "Struct")
    return names


def _isort_key(name: str) -> tuple[int, str, str]:
    kind = 0 if name.isupper() and len(name) > 1 else (1 if name[0].isupper() else 2)
    return (kind, name.lower(), name)


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

    def annotation(self, dt: DataType) -> str:
        """The annotation text for a data type (without ``| None``), cached per type."""
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
        default = self.default(attr.data_type) if with_default else "None"
        desc = _first_sentence(attr.description)
        extra = f", description={desc!r}" if desc else ""
        return f"    {ident}: {ann} | None = Field(default={default}, alias={attr.name!r}{extra})\n"

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


def _class_module(mom: Mom, names: GeneratedNames, cls: MomClass) -> str:
    mod = _Module(names, mom)
    mod.typing.add("ClassVar")
    mod.runtime.add("MoBase")
    attrs = [a for a in cls.attributes.values() if a.data_type.kind != "void"]
    if attrs:
        mod.pydantic.add("Field")
    meta = (
        f"    MO_CLASS: ClassVar[str] = {cls.name!r}\n"
        f"    READ_ONLY: ClassVar[frozenset[str]] = "
        f"{_frozen([a.name for a in attrs if not a.writable])}\n"
        f"    RESTRICTED: ClassVar[frozenset[str]] = "
        f"{_frozen([a.name for a in attrs if a.restricted and a.writable])}\n"
        f"    MANDATORY: ClassVar[frozenset[str]] = "
        f"{_frozen([a.name for a in attrs if a.mandatory])}\n"
        f"    LOCK_REQUIRED: ClassVar[frozenset[str]] = "
        f"{_frozen([a.name for a in attrs if a.needs_lock and a.writable])}\n"
        f"    DEPRECATED: ClassVar[frozenset[str]] = "
        f"{_frozen([a.name for a in attrs if a.deprecated or a.obsolete])}\n"
        f"    SYSTEM_CREATED: ClassVar[bool] = {cls.system_created}\n"
    )
    full_fields, writable_fields = NameTable(), NameTable()
    anns = [mod.annotation(a.data_type) for a in attrs]
    full = "".join(mod.field(a, full_fields, True, t) for a, t in zip(attrs, anns, strict=True))
    writable = "".join(
        mod.field(a, writable_fields, False, t)
        for a, t in zip(attrs, anns, strict=True)
        if a.writable
    )
    ident, w_ident = names.classes[cls.name], names.writable[cls.name]
    body = (
        f"\n\nclass {ident}(MoBase):\n"
        f'    """{_doc(cls.description)}"""\n\n{meta}'
        + ("\n" + full if full else "")
        + f"\n\nclass {w_ident}(MoBase):\n"
        f'    """Operator-settable attributes of {cls.name}; read-only ones are refused."""\n\n'
        + meta
        + ("\n" + writable if writable else "")
    )
    local = []
    if mod.enums:
        local.append(_import("._enums", mod.enums))
    if mod.structs:
        local.append(_import("._structs", mod.structs))
    local.sort()
    doc = f"MOM class {cls.name} ({mom.name}). Generated by opsforge ranconfig; do not edit."
    return mod.header(doc, local) + body


def _enums_module(mom: Mom, names: GeneratedNames) -> str:
    parts = [f'"""Enumerations of {mom.name}. Generated by opsforge ranconfig; do not edit."""\n']
    if mom.enums:
        parts.append("from enum import StrEnum\n")
    for enum_name in sorted(mom.enums):
        enum = mom.enums[enum_name]
        idents = names.enum_members[enum_name]
        body = "".join(f"    {idents[m]} = {m!r}\n" for m in enum.members)
        parts.append(
            f"\nclass {names.enums[enum_name]}(StrEnum):\n"
            f'    """{_doc(enum.description or enum_name)}"""\n' + ("\n" + body if body else "")
        )
    return "\n".join(parts)


def _struct_order(mom: Mom) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 2 or name not in mom.structs:
            return
        if state.get(name) == 1:
            return  # a cycle: leave the rest to deferred annotation resolution
        state[name] = 1
        for member in mom.structs[name].members.values():
            dt = member.data_type
            ref = dt.element.ref if dt.kind == "sequence" and dt.element else dt.ref
            if ref is not None and ref in mom.structs:
                visit(ref)
        state[name] = 2
        order.append(name)

    for name in sorted(mom.structs):
        visit(name)
    return order


def _structs_module(mom: Mom, names: GeneratedNames) -> str:
    mod = _Module(names, mom)
    if mom.structs:
        mod.runtime.add("StructBase")
    if any(s.members for s in mom.structs.values()):
        mod.pydantic.add("Field")
    classes = []
    for struct_name in _struct_order(mom):
        struct = mom.structs[struct_name]
        used = NameTable()
        fields = "".join(mod.field(m, used, False) for m in struct.members.values())
        classes.append(
            f"\n\nclass {names.structs[struct_name]}(StructBase):\n"
            f'    """{_doc(struct.description or struct_name)}"""\n'
            + ("\n" + fields if fields else "")
        )
    local = [_import("._enums", mod.enums)] if mod.enums else []
    doc = f"Structs of {mom.name}. Generated by opsforge ranconfig; do not edit."
    return mod.header(doc, local) + "".join(classes)


def _init_module(mom: Mom, names: GeneratedNames, package: str) -> str:
    mo_lines = "".join(
        f"    {c!r}: ({names.modules[c]!r}, {names.classes[c]!r}, {names.writable[c]!r}),\n"
        for c in sorted(names.classes)
    )
    enum_names = "".join(f"    {n!r},\n" for n in sorted(names.enums.values()))
    struct_names = "".join(f"    {n!r},\n" for n in sorted(names.structs.values()))
    return (
        f'"""Models of {mom.name} (version {mom.version}, release {mom.release}).\n\n'
        f"Generated by opsforge ranconfig; do not edit. Imports are lazy: importing the\n"
        f"package loads no model; ``from {package} import X`` loads X's module only.\n"
        '"""\n\n'
        "import importlib\n"
        "from typing import Any\n\n"
        f"MOM_NAME = {mom.name!r}\n"
        f"MOM_VERSION = {mom.version!r}\n"
        f"MOM_RELEASE = {mom.release!r}\n\n"
        "#: MOM class name -> (module, model, writable model).\n"
        f"MO_CLASSES: dict[str, tuple[str, str, str]] = {{\n{mo_lines}}}\n\n"
        f"_ENUMS: tuple[str, ...] = (\n{enum_names})\n"
        f"_STRUCTS: tuple[str, ...] = (\n{struct_names})\n"
        "_EXPORTS: dict[str, str] = {\n"
        '    **{name: "_enums" for name in _ENUMS},\n'
        '    **{name: "_structs" for name in _STRUCTS},\n'
        "    **{model: module for module, model, _ in MO_CLASSES.values()},\n"
        "    **{writable: module for module, _, writable in MO_CLASSES.values()},\n"
        "}\n\n"
        "__all__ = sorted(_EXPORTS)\n\n\n"
        "def __getattr__(name: str) -> Any:\n"
        "    module = _EXPORTS.get(name)\n"
        "    if module is None:\n"
        '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")\n'
        '    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)\n'
        "    globals()[name] = value\n"
        "    return value\n\n\n"
        "def __dir__() -> list[str]:\n"
        "    return sorted({*globals(), *_EXPORTS})\n\n\n"
        "def model_for(mo_class: str, *, writable: bool = False) -> Any:\n"
        '    """The model class of a MOM class (``vsData`` names accepted)."""\n'
        '    name = mo_class[6:] if mo_class.startswith("vsData") else mo_class\n'
        "    if name not in MO_CLASSES:\n"
        '        raise KeyError(f"{mo_class!r} is not a class of {MOM_NAME}")\n'
        "    _module, model, writable_model = MO_CLASSES[name]\n"
        "    return __getattr__(writable_model if writable else model)\n"
    )


def generate_package(mom: Mom, package: str) -> dict[str, str]:
    """Generate the package's files.

    Parameters
    ----------
    mom
        The parsed model.
    package
        Importable package name (used in docstrings only; modules import relatively).

    Returns
    -------
    dict
        Relative file path -> file text (``__init__.py``, ``_enums.py``, ``<class>.py``, ...).
    """
    names = plan_names(mom)
    files = {
        "__init__.py": _init_module(mom, names, package),
        "_enums.py": _enums_module(mom, names),
        "_structs.py": _structs_module(mom, names),
        "py.typed": "",
    }
    for cls_name, cls in mom.classes.items():
        files[f"{names.modules[cls_name]}.py"] = _class_module(mom, names, cls)
    log.info("models_generated", package=package, num_files=len(files))
    return files
