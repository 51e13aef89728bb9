"""XSD types as MOM data types: the type half of :mod:`~opsforge.engines.ranconfig.nrm_xsd`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from opsforge.core.logging import get_logger
from opsforge.engines.ranconfig._xsdpattern import combine_patterns
from opsforge.engines.ranconfig.mom import (
    KIND_BOUNDS,
    Attribute,
    DataType,
    Mom,
    MomEnum,
    MomStruct,
)

__all__ = ["XS", "QName", "Schemas", "XsdTypes", "repeated", "xs"]

log = get_logger(__name__)

XS = "http://www.w3.org/2001/XMLSchema"
_INTEGERS: dict[str, tuple[str, tuple[int, int] | None]] = {
    "byte": ("int8", KIND_BOUNDS["int8"]),
    "short": ("int16", KIND_BOUNDS["int16"]),
    "int": ("int32", KIND_BOUNDS["int32"]),
    "long": ("int64", KIND_BOUNDS["int64"]),
    "unsignedByte": ("uint8", KIND_BOUNDS["uint8"]),
    "unsignedShort": ("uint16", KIND_BOUNDS["uint16"]),
    "unsignedInt": ("uint32", KIND_BOUNDS["uint32"]),
    "unsignedLong": ("uint64", KIND_BOUNDS["uint64"]),
    "integer": ("integer", None),
    "nonNegativeInteger": ("integer", (0, 2**64 - 1)),
    "positiveInteger": ("integer", (1, 2**64 - 1)),
}
_FLOATS = {"decimal", "double", "float"}
QName = tuple[str, str]


def xs(tag: str) -> str:
    return f"{{{XS}}}{tag}"


def _particles(group: Any) -> list[Any]:
    """Elements directly in a model group (nested sequence/choice/all included)."""
    return [el for el, _repeat in repeated(group)]


def repeated(group: Any, repeat: int | None = 1) -> list[tuple[Any, int | None]]:
    """Elements of a model group with how often each may occur (``None``: unbounded)."""
    here = _max_occurs(group)
    total = None if here is None or repeat is None else here * repeat
    out: list[tuple[Any, int | None]] = []
    for child in group:
        if child.tag == xs("element"):
            own = _max_occurs(child)
            out.append((child, None if own is None or total is None else own * total))
        elif child.tag in (xs("sequence"), xs("choice"), xs("all")):
            out.extend(repeated(child, total))
    return out


def _max_occurs(el: Any) -> int | None:
    text = el.get("maxOccurs", "1")
    return None if text == "unbounded" else int(text)


@dataclass
class Schemas:
    """Top-level definitions of every schema document, by (namespace, name)."""

    elements: dict[QName, Any] = field(default_factory=dict)
    simple: dict[QName, Any] = field(default_factory=dict)
    complex: dict[QName, Any] = field(default_factory=dict)
    substitutes: dict[QName, list[QName]] = field(default_factory=dict)

    def qname(self, el: Any, text: str) -> QName:
        prefix, _, local = text.rpartition(":")
        return (el.nsmap.get(prefix or None, "") or "", local)

    def add(self, root: Any) -> None:
        ns = root.get("targetNamespace", "")
        for child in root:
            name = child.get("name")
            if name is None or not isinstance(child.tag, str):
                continue
            key = (ns, name)
            if child.tag == xs("element"):
                self.elements[key] = child
                head = child.get("substitutionGroup")
                if head:
                    self.substitutes.setdefault(self.qname(child, head), []).append(key)
            elif child.tag == xs("simpleType"):
                self.simple[key] = child
            elif child.tag == xs("complexType"):
                self.complex[key] = child


class XsdTypes:
    """Maps XSD simple and complex types and elements onto DataTypes, enums and structs."""

    def __init__(self, schemas: Schemas, mom: Mom) -> None:
        self.s = schemas
        self.mom = mom
        self._open: set[str] = set()  # named complex types being mapped (recursion guard)
        self._open_elements: set[int] = set()

    # --- simple types -------------------------------------------------------------------------
    def simple_type(self, el: Any, owner: str, name: str | None = None) -> DataType:
        """DataType of an ``xs:simpleType`` element (restriction, list or union)."""
        for child in el:
            if child.tag == xs("restriction"):
                return self.restriction(child, owner, name)
            if child.tag == xs("list"):
                item = child.get("itemType")
                inner = child.find(xs("simpleType"))
                element = (
                    self.type_ref(child, item, owner)
                    if item
                    else self.simple_type(inner, owner)
                    if inner is not None
                    else DataType(kind="string")
                )
                return DataType(kind="sequence", mom_kind="list", element=element, unique=False)
            if child.tag == xs("union"):
                members = [
                    self.type_ref(child, t, owner) for t in child.get("memberTypes", "").split()
                ]
                members += [self.simple_type(s, owner) for s in child.findall(xs("simpleType"))]
                if members and all(m.kind == "int" for m in members):
                    ranges = tuple(sorted(r for m in members for r in m.ranges))
                    return DataType(kind="int", mom_kind="union", ranges=ranges)
                return DataType(kind="string", mom_kind="union")
        return DataType(kind="string", mom_kind=name or "string")

    def type_ref(self, el: Any, text: str, owner: str) -> DataType:
        ns, local = self.s.qname(el, text)
        if ns == XS:
            return _builtin(local)
        if (ns, local) in self.s.simple:
            return self.simple_type(self.s.simple[(ns, local)], owner, local)
        if (ns, local) in self.s.complex:
            if local in self._open:
                log.info("xsd_recursive_type", type=text, owner=owner)
                return DataType(kind="string", mom_kind=local)
            self._open.add(local)
            try:
                return self.complex_type(self.s.complex[(ns, local)], owner, local)
            finally:
                self._open.discard(local)
        log.warning("xsd_type_unresolved", type=text, owner=owner)
        return DataType(kind="string", mom_kind=local)

    def restriction(self, el: Any, owner: str, name: str | None) -> DataType:
        base_text = el.get("base")
        inner = el.find(xs("simpleType"))
        if base_text:
            dt = self.type_ref(el, base_text, owner)
        elif inner is not None:
            dt = self.simple_type(inner, owner)
        else:
            dt = DataType(kind="string")
        facets: dict[str, list[str]] = {}
        for facet in el:
            if isinstance(facet.tag, str) and facet.get("value") is not None:
                facets.setdefault(etree.QName(facet).localname, []).append(facet.get("value"))
        if name:
            dt.mom_kind = name
        if "enumeration" in facets and dt.kind == "int":
            dt.ranges = tuple((float(v), float(v)) for v in facets["enumeration"])
            return dt
        if "enumeration" in facets and dt.kind in ("string", "enum"):
            members = {v: i for i, v in enumerate(facets["enumeration"])}
            return DataType(
                kind="enum", mom_kind=dt.mom_kind, ref=self.enum(name or owner, members)
            )
        if dt.kind in ("int", "float"):
            _bound(dt, facets)
            if "fractionDigits" in facets and dt.kind == "float":
                dt.resolution = 10.0 ** -int(facets["fractionDigits"][0])
        if dt.kind == "string":
            _lengths(dt, facets)
            if "pattern" in facets:
                one = "|".join(f"(?:{p})" for p in facets["pattern"])  # same step: any of them
                specs = [(one, False)] + ([(dt.pattern, False)] if dt.pattern else [])
                dt.pattern = combine_patterns(specs)
        return dt

    def enum(self, name: str, members: dict[str, int]) -> str:
        candidate, idx = name, 1
        while candidate in self.mom.enums and self.mom.enums[candidate].members != members:
            idx += 1
            candidate = f"{name}{idx}"
        self.mom.enums.setdefault(candidate, MomEnum(name=candidate, members=members))
        return candidate

    # --- complex types and elements -----------------------------------------------------------
    def particles(self, ctype: Any) -> list[Any]:
        """Elements of a complex type's content (extension bases first), with their group."""
        out: list[Any] = []
        content = ctype.find(xs("complexContent"))
        body = ctype
        if content is not None:
            ext = content.find(xs("extension"))
            if ext is None:
                ext = content.find(xs("restriction"))
            if ext is not None:
                base = self.s.qname(ext, ext.get("base", ""))
                if base in self.s.complex:
                    out.extend(self.particles(self.s.complex[base]))
                body = ext
        for group in body:
            if group.tag in (xs("sequence"), xs("all"), xs("choice")):
                out.extend((el, group) for el in _particles(group))
        return out

    def complex_type(self, ctype: Any, owner: str, name: str | None = None) -> DataType:
        simple = ctype.find(xs("simpleContent"))
        if simple is not None and len(simple):
            return self.type_ref(simple[0], simple[0].get("base", "string"), owner)
        parts = self.particles(ctype)
        if len(parts) == 1:
            el, group = parts[0]
            repeat = _max_occurs(group) if _max_occurs(el) == 1 else _max_occurs(el)
            if repeat != 1:
                element = self.element_type(el, owner)
                low = int(group.get("minOccurs", "1")) * int(el.get("minOccurs", "1"))
                return DataType(
                    kind="sequence",
                    mom_kind=name or "",
                    element=element,
                    min_length=low or None,
                    max_length=repeat,
                    unique=False,
                )
        members: dict[str, Attribute] = {}
        for el, _group in parts:
            attr = self.attribute(el, f"{owner}_{name or 'struct'}", required=True)
            members[attr.name] = attr
        base = name or owner
        candidate, idx = base, 1
        while candidate in self.mom.structs and set(self.mom.structs[candidate].members) != set(
            members
        ):
            idx += 1
            candidate = f"{base}{idx}"
        self.mom.structs.setdefault(candidate, MomStruct(name=candidate, members=members))
        dt = DataType(kind="struct", mom_kind=name or "", ref=candidate)
        group_max = next((_max_occurs(g) for g in ctype.iter(xs("sequence"))), 1)
        if group_max != 1:
            return DataType(
                kind="sequence", mom_kind=name or "", element=dt, max_length=group_max, unique=False
            )
        return dt

    def element_type(self, el: Any, owner: str) -> DataType:
        if id(el) in self._open_elements:
            log.info("xsd_recursive_element", element=el.get("name"), owner=owner)
            return DataType(kind="string", mom_kind=el.get("name") or "")
        self._open_elements.add(id(el))
        try:
            return self._element_type(el, owner)
        finally:
            self._open_elements.discard(id(el))

    def _element_type(self, el: Any, owner: str) -> DataType:
        if el.get("type"):
            return self.type_ref(el, el.get("type"), owner)
        inner = el.find(xs("simpleType"))
        if inner is not None:
            return self.simple_type(inner, f"{owner}_{el.get('name')}")
        inner = el.find(xs("complexType"))
        if inner is not None:
            return self.complex_type(inner, f"{owner}_{el.get('name')}")
        return DataType(kind="string", mom_kind="anyType")  # no type: text

    def attribute(self, el: Any, owner: str, required: bool) -> Attribute:
        if el.get("ref"):
            key = self.s.qname(el, el.get("ref"))
            target = self.s.elements.get(key)
            name, dt = (
                key[1],
                (
                    self.element_type(target, owner)
                    if target is not None
                    else DataType(kind="string")
                ),
            )
        else:
            name, dt = el.get("name"), self.element_type(el, owner)
        if el.get("default") is not None and dt.kind != "sequence":
            dt.default = el.get("default")
        repeat = _max_occurs(el)
        if repeat != 1 and dt.kind != "sequence":
            dt = DataType(kind="sequence", element=dt, max_length=repeat, unique=False)
        doc = el.find(f"{xs('annotation')}/{xs('documentation')}")
        return Attribute(
            name=name,
            data_type=dt,
            description=(doc.text or "").strip() if doc is not None else "",
            mandatory=required and el.get("minOccurs", "1") != "0",
        )

    # --- MO classes ---------------------------------------------------------------------------


def _builtin(local: str) -> DataType:
    if local in _INTEGERS:
        kind, bounds = _INTEGERS[local]
        ranges = ((float(bounds[0]), float(bounds[1])),) if bounds else ()
        return DataType(kind="int", mom_kind=kind, ranges=ranges)
    if local in _FLOATS:
        return DataType(kind="float", mom_kind=local)
    if local == "boolean":
        return DataType(kind="boolean", mom_kind=local)
    return DataType(kind="string", mom_kind=local)


def _bound(dt: DataType, facets: dict[str, list[str]]) -> None:
    low, high = dt.ranges[0][0] if dt.ranges else None, dt.ranges[-1][1] if dt.ranges else None
    step = 1.0 if dt.kind == "int" else 0.0
    if "minInclusive" in facets:
        low = float(facets["minInclusive"][0])
    if "minExclusive" in facets:
        low = float(facets["minExclusive"][0]) + step
    if "maxInclusive" in facets:
        high = float(facets["maxInclusive"][0])
    if "maxExclusive" in facets:
        high = float(facets["maxExclusive"][0]) - step
    if low is None and high is None:
        return
    # an open side: the widest 64-bit integer, or the largest double for a decimal
    wide = (-(2.0**63), 2.0**64 - 1) if dt.kind == "int" else (-1.7e308, 1.7e308)
    dt.ranges = ((wide[0] if low is None else low, wide[1] if high is None else high),)


def _lengths(dt: DataType, facets: dict[str, list[str]]) -> None:
    if "length" in facets:
        n = int(facets["length"][0])
        dt.length_ranges = ((n, n),)
    elif "minLength" in facets or "maxLength" in facets:
        dt.length_ranges = (
            (int(facets.get("minLength", ["0"])[0]), int(facets.get("maxLength", [str(2**31)])[0])),
        )
