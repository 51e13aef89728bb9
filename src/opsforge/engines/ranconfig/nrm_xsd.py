"""3GPP Bulk CM NRM XML schemas (TS 32.616, ``genericNrm.xsd``, ``nrNrm.xsd``, ...) as a MOM.

* A top-level ``xs:element`` whose complex type extends ``xn:NrmClass`` is an MO class; the
  elements of its ``<element name="attributes">`` (``xs:all`` or ``xs:sequence``) are its
  attributes, plus the naming attribute ``id`` (an XML attribute of every NRM element).
* ``<element ref="X"/>`` beside ``attributes`` makes ``X`` a child class; a reference to an
  abstract head (``xn:ManagedElementOptionallyContainedNrmClass``) stands for every element of
  its substitution group.
* Vendor data: an element in the ``xn:vsData`` substitution group named ``vsDataX`` is the MO
  class ``X`` (as :mod:`~opsforge.engines.ranconfig.bulkcm` reads a ``VsDataContainer`` whose
  ``vsDataType`` is ``vsDataX``), contained wherever ``xn:VsDataContainer`` may be.
* ``xs:simpleType`` restrictions: ``minInclusive``/``maxInclusive`` (exclusive bounds on
  integers shifted by one), ``enumeration``, ``length``/``minLength``/``maxLength``,
  ``pattern`` and ``fractionDigits`` (the value step); ``xs:list`` is a sequence, ``xs:union``
  of integers is an integer in any of the members' ranges.
* A complex type of one repeated element (``xn:dnList``) is a sequence of that element's type;
  other complex types are structs (a sequence of them when ``maxOccurs`` exceeds 1).
"""

import io
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from opsforge.core.errors import DataQualityError, NotFoundError
from opsforge.core.logging import get_logger
from opsforge.engines.ranconfig._xsdtypes import QName, Schemas, XsdTypes, repeated, xs
from opsforge.engines.ranconfig.mom import (
    Attribute,
    Containment,
    DataType,
    Mom,
    MomClass,
    mom_class_name,
)

__all__ = ["parse_nrm_xsd"]

log = get_logger(__name__)


class _Mapper(XsdTypes):
    """XsdTypes plus the MO classes: NRM elements, containment, vendor data."""

    def is_class(self, key: QName) -> bool:
        el = self.s.elements.get(key)
        if el is None or el.get("abstract") == "true":
            return False
        ext = el.find(f"{xs('complexType')}/{xs('complexContent')}/{xs('extension')}")
        return ext is not None and self.s.qname(ext, ext.get("base", ""))[1] == "NrmClass"

    def expand(self, key: QName) -> list[QName]:
        """An element reference as class elements (an abstract head: its substitutes)."""
        if self.is_class(key):
            return [key]
        return [k for sub in self.s.substitutes.get(key, []) for k in self.expand(sub)]

    def add_class(self, key: QName) -> None:
        el = self.s.elements[key]
        cls = MomClass(name=key[1], mim=key[0])
        cls.attributes["id"] = Attribute(
            name="id", data_type=DataType(kind="string"), mandatory=True, restricted=True, key=True
        )
        ext = el.find(f"{xs('complexType')}/{xs('complexContent')}/{xs('extension')}")
        for group in ext if ext is not None else []:
            found = repeated(group) if group.tag != xs("element") else [(group, 1)]
            for child, repeat in found:
                if child.get("name") == "attributes":
                    required = child.get("minOccurs", "1") != "0"
                    holder = child.find(xs("complexType"))
                    for inner, _g in self.particles(holder) if holder is not None else []:
                        attr = self.attribute(inner, cls.name, required)
                        cls.attributes[attr.name] = attr
                elif child.get("ref"):
                    for sub in self.expand(self.s.qname(child, child.get("ref"))):
                        self._contain(cls.name, sub[1])
                elif child.get("name"):  # a reference beside the attributes (xn:dn)
                    attr = self.attribute(child, cls.name, required=False)
                    if repeat != 1 and attr.data_type.kind != "sequence":
                        attr.data_type = DataType(
                            kind="sequence", element=attr.data_type, max_length=repeat
                        )
                    cls.attributes[attr.name] = attr
        self.mom.classes[cls.name] = cls

    def _contain(self, parent: str, child: str) -> None:
        link = Containment(parent=parent, child=child)
        if link not in self.mom.containments:
            self.mom.containments.append(link)

    def vendor_classes(self, vs_head: QName) -> None:
        """``vsDataX`` substitutes of ``xn:vsData`` as classes ``X`` wherever VsDataContainer is."""
        hosts = [c.parent for c in self.mom.containments if c.child == "VsDataContainer"]
        for key in self.s.substitutes.get(vs_head, []):
            el = self.s.elements[key]
            cls = MomClass(name=mom_class_name(key[1]), mim=key[0])
            cls.attributes["id"] = Attribute(
                name="id",
                data_type=DataType(kind="string"),
                mandatory=True,
                restricted=True,
                key=True,
            )
            ctype = el.find(xs("complexType"))
            if ctype is None and el.get("type"):
                ctype = self.s.complex.get(self.s.qname(el, el.get("type")))
            for inner, _g in self.particles(ctype) if ctype is not None else []:
                attr = self.attribute(inner, cls.name, required=True)
                cls.attributes[attr.name] = attr
            self.mom.classes[cls.name] = cls
            for host in hosts:
                self._contain(host, cls.name)


def _closure(roots: dict[str, Any], wanted: list[str]) -> list[str]:
    """The sources ``wanted`` and every source they import or include (by namespace or name)."""
    by_ns = {root.get("targetNamespace", ""): src for src, root in roots.items()}
    by_name = {src.replace("\\", "/").rsplit("/", 1)[-1]: src for src in roots}
    order, todo = [], list(wanted)
    while todo:
        src = todo.pop(0)
        if src in order:
            continue
        order.append(src)
        for ref in roots[src]:
            if ref.tag not in (xs("import"), xs("include")):
                continue
            location = (ref.get("schemaLocation") or "").rsplit("/", 1)[-1]
            target = by_name.get(location) or by_ns.get(ref.get("namespace", "\0"))
            if target is not None:
                todo.append(target)
    return order


def parse_nrm_xsd(
    documents: Mapping[str, bytes], roots: Sequence[str] | None = None, name: str = ""
) -> Mom:
    """Map 3GPP Bulk CM NRM schemas onto a :class:`Mom`.

    Parameters
    ----------
    documents
        Source name (a file name, for messages and ``schemaLocation``) -> XSD bytes: the schemas
        and the schemas they import (``genericNrm.xsd`` defines ``xn:NrmClass``).
    roots
        Sources to compile (with what they import or include); ``None``: every document.
    name
        The model's name (default: the root sources).

    Raises
    ------
    DataQualityError
        A document is not well-formed XML or not an XML schema.
    NotFoundError
        A root is not among ``documents``.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    parsed: dict[str, Any] = {}
    for source, data in documents.items():
        try:
            root = etree.parse(io.BytesIO(data), parser).getroot()
        except etree.XMLSyntaxError as exc:
            raise DataQualityError(f"{source}: not well-formed XML: {exc}") from exc
        if root.tag != xs("schema"):
            raise DataQualityError(f"{source}: expected an xs:schema root, got {root.tag}")
        parsed[source] = root
    wanted = list(parsed) if roots is None else list(roots)
    missing = [r for r in wanted if r not in parsed]
    if missing:
        raise NotFoundError(
            f"XSD {missing[0]!r} is not among the documents given", source=missing[0]
        )
    schemas = Schemas()
    for source in _closure(parsed, wanted):
        schemas.add(parsed[source])
    short = [w.replace("\\", "/").rsplit("/", 1)[-1] for w in wanted]
    joined = ",".join(short) if len(short) <= 3 else f"{short[0]} and {len(short) - 1} more"
    mom = Mom(name=name or joined)
    mapper = _Mapper(schemas, mom)
    for key in sorted(schemas.elements):
        if mapper.is_class(key):
            mapper.add_class(key)
    for head in schemas.substitutes:
        if head[1] == "vsData":
            mapper.vendor_classes(head)
    log.info("nrm_xsd_mapped", classes=len(mom.classes), enums=len(mom.enums))
    return mom
