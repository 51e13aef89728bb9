"""Markdown reference documentation generated from a MOM."""

from __future__ import annotations

from collections.abc import Iterable

from opsforge.engines.ranconfig.mom import Attribute, DataType, Mom, MomClass
from opsforge.engines.ranconfig.runtime import describe_ranges

__all__ = ["describe_type", "render_reference"]


def describe_type(dt: DataType) -> str:
    """A one-line description of a data type and its constraints."""
    if dt.kind in ("int", "float"):
        text = dt.mom_kind
        if dt.ranges or dt.resolution:
            text += " " + describe_ranges(dt.ranges, dt.resolution)
        return text
    if dt.kind == "string":
        parts = ["string"]
        if dt.length_ranges:
            parts.append("length " + " or ".join(f"{lo}..{hi}" for lo, hi in dt.length_ranges))
        if dt.pattern:
            parts.append(f"matching `{dt.pattern}`")
        return " ".join(parts)
    if dt.kind in ("enum", "struct"):
        return f"{dt.kind} {dt.ref}"
    if dt.kind == "moref":
        return f"reference to {dt.ref}"
    if dt.kind == "sequence" and dt.element is not None:
        low = dt.min_length or 0
        high = "" if dt.max_length is None else dt.max_length
        unique = "unique " if dt.unique else ""
        return f"sequence of {low}..{high} {unique}{describe_type(dt.element)}"
    return dt.kind


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


def _flags(attr: Attribute) -> str:
    flags = [
        name
        for name, on in (
            ("read-only", attr.read_only),
            ("mandatory", attr.mandatory),
            ("restricted", attr.restricted),
            ("lock", attr.needs_lock),
            ("deprecated", attr.deprecated),
            ("counter", attr.counter),
        )
        if on
    ]
    return ", ".join(flags)


def _class_section(mom: Mom, cls: MomClass) -> list[str]:
    lines = [f"## {cls.name}", ""]
    if cls.description:
        lines += [_cell(cls.description.split("\n\n")[0]), ""]
    facts = []
    if cls.system_created:
        facts.append("created by the node")
    parents = mom.parents_of(cls.name)
    if parents:
        facts.append("contained in " + ", ".join(parents))
    children = mom.children_of(cls.name)
    if children:
        facts.append("contains " + ", ".join(children))
    if facts:
        text = "; ".join(facts)
        lines += [text[0].upper() + text[1:] + ".", ""]
    lines += [
        "| attribute | type and constraints | default | unit | flags | takes effect | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for attr in sorted(cls.attributes.values(), key=lambda a: a.name):
        dt = attr.data_type
        first = (attr.description or "").split("\n")[0]
        lines.append(
            f"| {attr.name} | {_cell(describe_type(dt))} | {_cell(dt.default)} | {_cell(dt.unit)} "
            f"| {_flags(attr)} | {_cell(attr.takes_effect)} | {_cell(first)} |"
        )
    return [*lines, ""]


def render_reference(mom: Mom, classes: Iterable[str] | None = None) -> str:
    """Markdown reference of the model (or of ``classes`` only), one table per class."""
    names = sorted(mom.classes) if classes is None else [c for c in classes if c in mom.classes]
    lines = [
        f"# {mom.name} parameter reference",
        "",
        f"Model version {mom.version}, release {mom.release}; {len(names)} classes.",
        "",
    ]
    for name in names:
        lines += _class_section(mom, mom.classes[name])
    return "\n".join(lines)
