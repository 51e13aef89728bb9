"""3GPP Bulk CM XML (TS 32.616 ``bulkCmConfigDataFile``) as a CM state.

Every element with an ``id`` is an MO; its RDN is ``<class>=<id>`` below its parent's. Vendor
data sits in ``<xn:VsDataContainer id=...>`` whose ``<xn:vsDataType>vsDataEUtranCellFDD`` names
the MOM class (``vsData`` stripped) and whose ``<es:vsDataEUtranCellFDD>`` element holds the
attribute values. Values: a leaf's text as a number, boolean or text; nested elements as a struct;
repeated elements as a sequence. The ``dnPrefix`` of ``configData`` is not part of the FDNs.
"""

from __future__ import annotations

import io
import re
from typing import Any

from lxml import etree

from opsforge.core.errors import DataQualityError
from opsforge.engines.ranconfig.cm import CmState, JsonValue, MoState
from opsforge.engines.ranconfig.mom import DataType, Mom, mom_class_name

__all__ = ["parse_bulk_cm"]

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_VS_META = {"vsDataType", "vsDataFormatVersion"}


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _leaf(text: str | None) -> JsonValue:
    value = (text or "").strip()
    if value in ("true", "false"):
        return value == "true"
    if _NUMBER.match(value):
        return int(value) if "." not in value else float(value)
    return value


def _value(el: Any) -> JsonValue:
    children = [c for c in el if isinstance(c.tag, str)]
    if not children:
        return _leaf(el.text)
    names = [_local(c.tag) for c in children]
    if len(set(names)) == 1 and len(names) > 1:
        return [_value(c) for c in children]
    if len(names) == 1 and names[0] in ("dn", "value"):
        return [_value(children[0])]
    return {name: _value(c) for name, c in zip(names, children, strict=True)}


def _attributes(el: Any) -> tuple[str, dict[str, JsonValue]]:
    """(class, values) of an MO element."""
    cls = _local(el.tag)
    holder = next((c for c in el if _local(c.tag) == "attributes"), None)
    if holder is None:
        return cls, {}
    if cls == "VsDataContainer":
        vs_type = next((c.text for c in holder if _local(c.tag) == "vsDataType"), None)
        if not vs_type:
            return cls, {}
        cls = mom_class_name(vs_type.strip())
        data = next((c for c in holder if _local(c.tag) not in _VS_META), None)
        holder = data if data is not None else []
    return cls, {_local(c.tag): _value(c) for c in holder if isinstance(c.tag, str)}


def _as_sequence(value: JsonValue, element: DataType | None, mom: Mom) -> JsonValue:
    """A sequence value: the XML cannot tell one item from a sequence of one.

    Several items come as a list already. One item comes either bare (``<list>5</list>``, a
    struct's members directly) or wrapped in its item element (``<pLMNIdList><pLMNId>..``),
    which reads as ``{"pLMNId": {...}}``: a one-key mapping whose key is not a member of the
    element struct is such a wrapper and is unwrapped.
    """
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        members: set[str] = set()
        if element is not None and element.kind == "struct" and element.ref in mom.structs:
            members = set(mom.structs[element.ref].members)
        if key not in members:
            return [inner]
    return [value]


def parse_bulk_cm(data: bytes, mom: Mom | None = None) -> CmState:
    """Read a Bulk CM file into a CM state (FDN -> class and values).

    With ``mom``, a single value of a sequence attribute becomes a one-element sequence (the
    XML cannot tell one struct from a sequence of one).

    Raises
    ------
    DataQualityError
        Not well-formed XML, or no ``configData``.
    """
    try:
        root = etree.parse(
            io.BytesIO(data),
            etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True),
        ).getroot()
    except etree.XMLSyntaxError as exc:
        raise DataQualityError(f"Bulk CM file is not well-formed XML: {exc}") from exc
    config = next((el for el in root.iter() if _local(el.tag) == "configData"), None)
    if config is None:
        raise DataQualityError("Bulk CM file has no <configData>")
    state = CmState()

    def walk(el: Any, parent: str) -> None:
        for child in el:
            if not isinstance(child.tag, str) or child.get("id") is None:
                continue
            cls, values = _attributes(child)
            mom_cls = mom.get_class(cls) if mom is not None else None
            for name, value in values.items():
                attr = mom_cls.attributes.get(name) if mom_cls is not None else None
                if attr is not None and attr.data_type.kind == "sequence" and mom is not None:
                    values[name] = _as_sequence(value, attr.data_type.element, mom)
            fdn = f"{parent},{cls}={child.get('id')}" if parent else f"{cls}={child.get('id')}"
            state.mos[fdn] = MoState(mo_class=cls, attributes=values)
            walk(child, fdn)

    walk(config, "")
    return state
