"""A CM tree as plain data: FDN -> (MO class, attribute values), and FDN helpers."""

from __future__ import annotations

from pydantic import BaseModel, Field, JsonValue

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ranconfig.mom import DataType, Mom

__all__ = [
    "CmState",
    "JsonValue",
    "MoState",
    "default_value",
    "fdn_depth",
    "mo_class_of",
    "parent_fdn",
    "parse_fdn",
]

_NODE_CLASSES = ("ManagedElement", "MeContext")


def parse_fdn(fdn: str) -> list[tuple[str, str]]:
    """``A=1,B=x`` -> ``[("A", "1"), ("B", "x")]``.

    Raises
    ------
    InvalidInputError
        A part without ``Class=id``.
    """
    parts: list[tuple[str, str]] = []
    for rdn in fdn.split(","):
        cls, sep, ident = rdn.strip().partition("=")
        if not sep or not cls or not ident:
            raise InvalidInputError(f"expected an FDN of Class=id parts, got {fdn!r} (at {rdn!r})")
        parts.append((cls, ident))
    return parts


def mo_class_of(fdn: str) -> str:
    """The MO class of the last RDN."""
    return parse_fdn(fdn)[-1][0]


def parent_fdn(fdn: str) -> str | None:
    """The FDN without its last RDN (``None`` at the root)."""
    head, sep, _ = fdn.rpartition(",")
    return head if sep else None


def fdn_depth(fdn: str) -> int:
    """Number of RDNs."""
    return fdn.count(",") + 1


def _node_of(fdn: str) -> str:
    parts = fdn.split(",")
    for idx in range(len(parts) - 1, -1, -1):
        if parts[idx].split("=", 1)[0] in _NODE_CLASSES:
            return ",".join(parts[: idx + 1])
    return parts[0]


class MoState(BaseModel):
    """One MO: its class and the attribute values known (keyed by MOM attribute name)."""

    mo_class: str
    attributes: dict[str, JsonValue] = Field(default_factory=dict)


class CmState(BaseModel):
    """A CM tree, or part of one (a scope)."""

    mos: dict[str, MoState] = Field(default_factory=dict)
    #: Whether attribute values are known (a CM export) or only the FDNs (a scope list).
    values_known: bool = True

    @classmethod
    def from_fdns(cls, fdns: list[str]) -> CmState:
        """A scope of FDNs without values."""
        return cls(mos={f: MoState(mo_class=mo_class_of(f)) for f in fdns}, values_known=False)

    def of_class(self, mo_class: str) -> list[str]:
        """FDNs of ``mo_class``, sorted."""
        return sorted(f for f, mo in self.mos.items() if mo.mo_class == mo_class)

    def children(self, fdn: str) -> list[str]:
        """FDNs below ``fdn`` (all depths), deepest first."""
        prefix = fdn + ","
        return sorted((f for f in self.mos if f.startswith(prefix)), key=fdn_depth, reverse=True)

    def related(self, fdn: str, mo_class: str) -> str | None:
        """The nearest ancestor of ``fdn`` of ``mo_class``, else the node's first such MO."""
        current = parent_fdn(fdn)
        while current is not None:
            mo = self.mos.get(current)
            if mo is not None and mo.mo_class == mo_class:
                return current
            current = parent_fdn(current)
        node = _node_of(fdn)
        same_node = [f for f in self.of_class(mo_class) if _node_of(f) == node]
        return same_node[0] if same_node else None


def default_value(mom: Mom, dt: DataType) -> JsonValue:
    """The model's default value for a data type as a JSON value (``None`` if none)."""
    text = dt.default
    if text is None:
        return None
    try:
        if dt.kind == "int":
            return int(text)
        if dt.kind == "float":
            return float(text)
    except ValueError:
        return None
    if dt.kind == "boolean":
        return text.lower() == "true"
    if dt.kind == "sequence" and dt.element is not None:
        element = dt.element
        return [default_value(mom, _with_default(element, t)) for t in text.split(",") if t]
    return text


def _with_default(dt: DataType, text: str) -> DataType:
    return DataType(kind=dt.kind, mom_kind=dt.mom_kind, ref=dt.ref, default=text.strip())
