"""Streaming parser for Ericsson MOM XML (``mp.dtd``), both dialects.

* CPP dialect (dtdVersion D/E): constraints inline in ``<dataType><long><range>...``.
* ECIM dialect (dtdVersion G): ``<derivedDataTypeRef>`` to ``<derivedDataType>`` elements,
  possibly in another model file; :func:`parse_moms` merges files and resolves them.

The parser walks the document with ``lxml.etree.iterparse`` and clears every top-level element
(class, enum, struct, relationship, derived type) once read, so memory stays flat however large
the file. It reads bytes, a binary file-like object or an iterable of byte chunks; opening files
is :mod:`opsforge.engines.ranconfig.io`'s job.

CPU: a ``<dataType>`` element met before (byte for byte) is not parsed again; its
:class:`DataType` is shared (types are values: linking replaces, never mutates them), and the
cyclic garbage collector is paused while the model is built (:mod:`.gcpause`).
"""

from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

from lxml import etree

from opsforge.core.errors import InvalidInputError
from opsforge.core.logging import get_logger
from opsforge.engines.ranconfig.gcpause import gc_paused
from opsforge.engines.ranconfig.mom import (
    FLOAT_KINDS,
    INTEGER_KINDS,
    KIND_BOUNDS,
    Attribute,
    Containment,
    DataType,
    Mom,
    MomClass,
    MomEnum,
    MomStruct,
)

__all__ = ["MomSource", "parse_mom", "parse_moms"]

log = get_logger(__name__)

#: What the parser reads: a whole document, a binary stream or byte chunks.
MomSource = bytes | IO[bytes] | Iterable[bytes]

_INT64 = (-(2**63), 2**63 - 1)
_FLOAT_BOUNDS = (-sys.float_info.max, sys.float_info.max)
#: Parsed ``<dataType>`` elements by their bytes. Real models repeat types a lot (ERBS: 4,986
#: attributes, 975 distinct types), so most attributes skip type parsing; bounded for memory.
_TypeCache = dict[bytes, DataType]
_TYPE_CACHE_SIZE = 65536
_TOP = ("mim", "class", "enum", "struct", "relationship", "derivedDataType", "exception")
_TYPE_TAGS = (
    INTEGER_KINDS
    | FLOAT_KINDS
    | {
        "boolean",
        "string",
        "wstring",
        "char",
        "enumRef",
        "structRef",
        "moRef",
        "sequence",
        "derivedDataTypeRef",
        "void",
        "date",
        "time",
    }
)


class _ChunkReader(io.RawIOBase):
    """A readable stream over an iterable of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buffer = chunk
        if size is None or size < 0:
            out = self._buffer + b"".join(self._chunks)
            self._buffer = b""
            return out
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def _as_stream(source: MomSource) -> IO[bytes]:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(bytes(source))
    if hasattr(source, "read"):
        return source  # type: ignore[return-value]
    return _ChunkReader(source)  # type: ignore[return-value]


def _text(el: Any, tag: str) -> str | None:
    child = el.find(tag)
    if child is None:
        return None
    return (child.text or "").strip()


def _number(text: str | None, integer: bool, where: str) -> float:
    try:
        return int(text or "") if integer else float(text or "")
    except ValueError:
        try:
            return float(text or "")
        except ValueError:
            raise InvalidInputError(
                f"{where}: expected a number in <min>/<max>, got {text!r}"
            ) from None


def _pairs(
    el: Any, integer: bool, where: str, open_ends: tuple[float, float] | None = None
) -> tuple[tuple[float, float], ...]:
    """(min, max) pairs of a ``<range>``/``<lengthRange>`` or ``<ranges>``/``<stringLength>``.

    The DTD allows a leading ``<max>`` and a trailing ``<min>`` (open intervals); their
    missing end comes from ``open_ends`` (the kind's bounds), or they are dropped without it.
    """
    out: list[tuple[float, float]] = []
    low: float | None = None
    for child in el:
        tag = child.tag
        if tag == "subrange":
            out.extend(_pairs(child, integer, where, open_ends))
        elif tag == "min":
            low = _number(child.text, integer, where)
        elif tag == "max":
            high = _number(child.text, integer, where)
            if low is not None:
                out.append((low, high))
            elif open_ends is not None:
                out.append((open_ends[0], high))
            low = None
    if low is not None and open_ends is not None:
        out.append((low, open_ends[1]))
    return tuple(out)


def _first_type(container: Any) -> Any:
    for child in container:
        if isinstance(child.tag, str) and child.tag in _TYPE_TAGS:
            return child
    return None


def _kid_text(kids: dict[str, Any], tag: str) -> str | None:
    child = kids.get(tag)
    return None if child is None else (child.text or "").strip()


def _parse_type(el: Any, where: str) -> DataType:
    """Read one type element (``<long>``, ``<sequence>``, ``<enumRef>`` ...)."""
    tag = el.tag
    kids: dict[str, Any] = {child.tag: child for child in el}
    default = _kid_text(kids, "defaultValue")
    if default is not None and len(default) >= 2 and default[0] == default[-1] == '"':
        default = default[1:-1]
    if tag in INTEGER_KINDS or tag in FLOAT_KINDS:
        integer = tag in INTEGER_KINDS
        ranges_el = kids.get("ranges")
        if ranges_el is None:
            ranges_el = kids.get("range")
        bounds = KIND_BOUNDS.get(tag, _INT64 if integer else _FLOAT_BOUNDS)
        ranges = _pairs(ranges_el, integer, where, bounds) if ranges_el is not None else ()
        if not ranges and tag in KIND_BOUNDS:
            ranges = (KIND_BOUNDS[tag],)
        resolution = _kid_text(kids, "resolution")
        return DataType(
            kind="int" if integer else "float",
            mom_kind=tag,
            ranges=ranges,
            resolution=float(resolution) if resolution else None,
            default=default,
            unit=_kid_text(kids, "unit"),
            multiplication_factor=_kid_text(kids, "multiplicationFactor"),
        )
    if tag in ("string", "wstring", "char", "date", "time"):
        len_el = kids.get("stringLength")
        if len_el is None:
            len_el = kids.get("lengthRange")
        lengths = _pairs(len_el, True, where) if len_el is not None else ()
        return DataType(
            kind="string",
            mom_kind=tag,
            length_ranges=tuple((int(a), int(b)) for a, b in lengths),
            pattern=_kid_text(kids, "validValues"),
            default=default,
        )
    if tag == "boolean":
        return DataType(kind="boolean", mom_kind=tag, default=default)
    if tag == "void":
        return DataType(kind="void", mom_kind=tag)
    name = el.get("name")
    if tag in ("enumRef", "structRef", "moRef", "derivedDataTypeRef"):
        kind = {"enumRef": "enum", "structRef": "struct", "moRef": "moref"}.get(tag, "derived")
        return DataType(kind=kind, mom_kind=tag, ref=name, default=default)  # type: ignore[arg-type]
    # sequence
    element_el = _first_type(el)
    if element_el is None:
        raise InvalidInputError(f"{where}: <sequence> without an element type")
    seq_defaults = el.find("seqDefaultValue")
    default = None
    if seq_defaults is not None:
        default = ",".join((d.text or "").strip() for d in seq_defaults.findall("defaultValue"))
    min_len, max_len = _text(el, "minLength"), _text(el, "maxLength")
    return DataType(
        kind="sequence",
        mom_kind=tag,
        element=_parse_type(element_el, where),
        min_length=int(min_len) if min_len else None,
        max_length=int(max_len) if max_len else None,
        unique=el.find("nonUnique") is None,
        default=default,
    )


def _description(el: Any, keep: bool) -> str:
    if not keep:
        return ""
    return (_text(el, "description") or "").strip()


def _attribute_type(el: Any, container: Any, where: str, types: _TypeCache) -> DataType:
    """The attribute's data type; a ``<dataType>`` seen before (same bytes) is reused."""
    key = None
    if container is not None:
        key = etree.tostring(container, with_tail=False)
        hit = types.get(key)
        if hit is not None:
            return hit
    type_el = _first_type(container if container is not None else el)
    if type_el is None:
        raise InvalidInputError(f"{where}: expected a data type, found none")
    data_type = _parse_type(type_el, where)
    if key is not None and len(types) < _TYPE_CACHE_SIZE:
        types[key] = data_type
    return data_type


def _parse_attribute(el: Any, where: str, keep: bool, types: _TypeCache) -> Attribute:
    name = sys.intern(el.get("name") or "")
    kids: dict[str, Any] = {child.tag: child for child in el}
    lock = _kid_text(kids, "lockBeforeModify")
    return Attribute(
        name=name,
        data_type=_attribute_type(el, kids.get("dataType"), f"{where}.{name}", types),
        description=(_kid_text(kids, "description") or "") if keep else "",
        read_only="readOnly" in kids,
        mandatory="mandatory" in kids,
        restricted="restricted" in kids,
        key="key" in kids,
        deprecated="deprecated" in kids,
        obsolete="obsolete" in kids,
        no_notification="noNotification" in kids,
        non_persistent="nonPersistent" in kids,
        lock_before_modify=(lock or "").lower() == "true",
        counter="counterType" in kids,
        takes_effect=_kid_text(kids, "takesEffect"),
        dependencies=_kid_text(kids, "dependencies"),
        disturbances=_kid_text(kids, "disturbances"),
    )


def _handle(el: Any, mom: Mom, mim: str, keep: bool, types: _TypeCache) -> None:
    tag = el.tag
    name = el.get("name") or ""
    if tag == "class":
        cls = MomClass(
            name=name,
            description=_description(el, keep),
            system_created=el.find("systemCreated") is not None,
            deprecated=el.find("deprecated") is not None,
            lock_before_delete=(_text(el, "lockBeforeDelete") or "").lower() == "true",
            dependencies=_text(el, "dependencies"),
            mim=mim,
        )
        for attr_el in el.iterchildren("attribute"):
            attr = _parse_attribute(attr_el, name, keep, types)
            cls.attributes[attr.name] = attr
        mom.classes[name] = cls
    elif tag == "enum":
        members: dict[str, int] = {}
        for idx, member in enumerate(el.iterchildren("enumMember")):
            value = _text(member, "value")
            members[member.get("name") or ""] = int(value) if value else idx
        mom.enums[name] = MomEnum(name, members, _description(el, keep))
    elif tag == "struct":
        struct = MomStruct(name, description=_description(el, keep))
        for member in el.iterchildren("structMember"):
            attr = _parse_attribute(member, name, keep, types)
            struct.members[attr.name] = attr
        mom.structs[name] = struct
    elif tag == "derivedDataType":
        base = el.find("baseType")
        type_el = _first_type(base) if base is not None else None
        if type_el is None:
            raise InvalidInputError(f"derivedDataType {name}: expected a <baseType>")
        mom.derived_types[name] = _parse_type(type_el, name)
    elif tag == "relationship":
        containment = el.find("containment")
        if containment is None:
            return
        parent = containment.find("parent/hasClass")
        for child in containment.iterchildren("child"):
            has_class = child.find("hasClass")
            if parent is None or has_class is None:
                continue
            low, high = _text(child, "cardinality/min"), _text(child, "cardinality/max")
            mom.containments.append(
                Containment(
                    parent=parent.get("name") or "",
                    child=has_class.get("name") or "",
                    min_count=int(low) if low else None,
                    max_count=int(high) if high else None,
                )
            )


def _parse_into(mom: Mom, source: MomSource, keep_descriptions: bool) -> None:
    mim = ""
    types: _TypeCache = {}
    context = etree.iterparse(
        _as_stream(source),
        events=("start", "end"),
        tag=_TOP,
        load_dtd=False,
        resolve_entities=False,
        no_network=True,
        huge_tree=True,
        remove_comments=True,
    )
    try:
        for event, el in context:
            if event == "start":
                if el.tag == "mim":
                    mim = el.get("name") or ""
                    mom.name = mom.name or mim
                    mom.version = mom.version or (el.get("version") or "")
                    mom.release = mom.release or (el.get("release") or "")
                continue
            if el.tag == "mim":
                continue
            if el.getparent() is not None and el.getparent().tag in ("class", "struct"):
                continue  # nested (never top-level): handled by its owner
            _handle(el, mom, mim, keep_descriptions, types)
            el.clear(keep_tail=False)
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise InvalidInputError(f"MOM XML is not well-formed: {exc}") from exc


def _resolve(dt: DataType, mom: Mom, where: str) -> DataType:
    if dt.kind == "derived":
        base = mom.derived_types.get(dt.ref or "")
        if base is None:
            raise InvalidInputError(
                f"{where}: derivedDataTypeRef {dt.ref!r} is not defined in any model file given"
            )
        resolved = _resolve(base, mom, where)
        default = dt.default if dt.default is not None else resolved.default
        return dataclasses.replace(resolved, default=default)
    if dt.kind == "sequence" and dt.element is not None:
        element = _resolve(dt.element, mom, where)
        return dt if element is dt.element else dataclasses.replace(dt, element=element)
    return dt


def _link(mom: Mom) -> Mom:
    # Types are shared between attributes (see _TypeCache): resolve each one once.
    done: dict[int, DataType] = {}
    owners: list[tuple[str, dict[str, Attribute]]] = [
        *((c.name, c.attributes) for c in mom.classes.values()),
        *((s.name, s.members) for s in mom.structs.values()),
    ]
    for owner, members in owners:
        for attr in members.values():
            dt = attr.data_type
            if dt.kind not in ("derived", "sequence"):
                continue
            resolved = done.get(id(dt))
            if resolved is None:
                resolved = done[id(dt)] = _resolve(dt, mom, f"{owner}.{attr.name}")
            attr.data_type = resolved
    return mom


def parse_moms(sources: Iterable[MomSource], *, keep_descriptions: bool = True) -> Mom:
    """Parse several model files into one model and resolve references across them.

    Parameters
    ----------
    sources
        Each one bytes, a binary stream or an iterable of byte chunks.
    keep_descriptions
        Keep description texts (docs, docstrings); ``False`` saves memory.

    Raises
    ------
    InvalidInputError
        Malformed XML, a type without constraints it needs, or an unresolved reference.
    """
    mom = Mom()
    with gc_paused():
        for source in sources:
            _parse_into(mom, source, keep_descriptions)
        _link(mom)
    log.info(
        "mom_parsed",
        mom=mom.name,
        num_classes=len(mom.classes),
        num_enums=len(mom.enums),
        num_structs=len(mom.structs),
    )
    return mom


def parse_mom(source: MomSource, *, keep_descriptions: bool = True) -> Mom:
    """Parse one model file; see :func:`parse_moms`."""
    return parse_moms([source], keep_descriptions=keep_descriptions)
