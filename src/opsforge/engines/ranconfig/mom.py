"""The managed-object model (MOM) as plain data: classes, attributes, data types, containment.

The parser (:mod:`opsforge.engines.ranconfig.parser`) fills these from Ericsson MOM XML
(``mp.dtd``); the generator, the rule checker, the template validator and the planner read them.
Slotted dataclasses keep a 100 MB model's footprint small.

Glossary
--------
MO
    Managed object: one instance of a MOM class on a node (``EUtranCellFDD=LTE01``).
FDN / LDN
    Full / local distinguished name: ``SubNetwork=S,MeContext=N,ManagedElement=1,...``.
restricted
    Settable only when the MO is created.
takesEffect
    Free text saying when a change applies; some values need the MO locked.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "FLOAT_KINDS",
    "INTEGER_KINDS",
    "Attribute",
    "Containment",
    "DataType",
    "Mom",
    "MomClass",
    "MomEnum",
    "MomStruct",
    "mom_class_name",
    "needs_lock",
]

#: MOM scalar kinds that map to Python ``int``.
INTEGER_KINDS = frozenset(
    {
        "long",
        "longlong",
        "short",
        "integer",
        "octet",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
    }
)
#: MOM scalar kinds that map to Python ``float``.
FLOAT_KINDS = frozenset({"double", "float", "decimal64"})

#: Value bounds implied by the kind itself (applied when the model gives no range).
KIND_BOUNDS: dict[str, tuple[int, int]] = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "short": (-(2**15), 2**15 - 1),
    "long": (-(2**31), 2**31 - 1),
    "longlong": (-(2**63), 2**63 - 1),
    "octet": (0, 255),
}

Kind = Literal[
    "int", "float", "boolean", "string", "enum", "struct", "moref", "sequence", "derived", "void"
]

_LOCK_WORDS = ("lock/unlock", "unlocked", "disabled/enabled", "lock", "object enabled")


@dataclass(slots=True)
class DataType:
    """A data type with every constraint the MOM states.

    Attributes
    ----------
    kind
        ``int``, ``float``, ``boolean``, ``string``, ``enum``, ``struct``, ``moref``,
        ``sequence``, ``derived`` (a reference still to resolve) or ``void``.
    mom_kind
        The MOM element name (``long``, ``int32``, ``enumRef`` ...).
    ranges
        Allowed value intervals, inclusive; several disjoint ones are allowed. Empty: no range.
    resolution
        Value step from the lower bound of the range; ``None``: any value.
    length_ranges
        Allowed string lengths, inclusive intervals.
    pattern
        Regular expression a string must match fully (``validValues``).
    ref
        Enum, struct, moRef class or derived type name.
    element
        Element type of a sequence.
    min_length, max_length
        Sequence length bounds.
    unique
        Sequence elements must differ (MOM default unless ``nonUnique``).
    default
        Default value as text (sequences: comma separated).
    unit
        Unit as the model writes it.
    multiplication_factor
        Factor from the stored integer to the physical value, as text.
    """

    kind: Kind
    mom_kind: str = ""
    ranges: tuple[tuple[float, float], ...] = ()
    resolution: float | None = None
    length_ranges: tuple[tuple[int, int], ...] = ()
    pattern: str | None = None
    ref: str | None = None
    element: DataType | None = None
    min_length: int | None = None
    max_length: int | None = None
    unique: bool = True
    default: str | None = None
    unit: str | None = None
    multiplication_factor: str | None = None


@dataclass(slots=True)
class Attribute:
    """One attribute of a MOM class (or one member of a struct)."""

    name: str
    data_type: DataType
    description: str = ""
    read_only: bool = False
    mandatory: bool = False
    restricted: bool = False
    key: bool = False
    deprecated: bool = False
    obsolete: bool = False
    no_notification: bool = False
    non_persistent: bool = False
    lock_before_modify: bool = False
    counter: bool = False
    takes_effect: str | None = None
    dependencies: str | None = None
    disturbances: str | None = None

    @property
    def writable(self) -> bool:
        """Settable by an operator (at creation at least)."""
        return not self.read_only and not self.counter

    @property
    def needs_lock(self) -> bool:
        """A change only takes effect with the owning MO (or its cell) locked and unlocked."""
        return self.lock_before_modify or needs_lock(self.takes_effect)


@dataclass(slots=True)
class MomClass:
    """A MOM class: its attributes and where it sits in the containment tree."""

    name: str
    attributes: dict[str, Attribute] = field(default_factory=dict)
    description: str = ""
    system_created: bool = False
    deprecated: bool = False
    lock_before_delete: bool = False
    dependencies: str | None = None
    mim: str = ""

    @property
    def key_attribute(self) -> str | None:
        """Name of the naming attribute (``<Class>Id`` or the one marked ``key``)."""
        for attr in self.attributes.values():
            if attr.key:
                return attr.name
        for candidate in (f"{self.name}Id", self.name[0].lower() + self.name[1:] + "Id"):
            if candidate in self.attributes:
                return candidate
        return None


@dataclass(slots=True)
class MomEnum:
    """An enumeration: member name -> numeric value."""

    name: str
    members: dict[str, int] = field(default_factory=dict)
    description: str = ""


@dataclass(slots=True)
class MomStruct:
    """A struct: member name -> member (as an :class:`Attribute`)."""

    name: str
    members: dict[str, Attribute] = field(default_factory=dict)
    description: str = ""


@dataclass(slots=True, frozen=True)
class Containment:
    """``parent`` may contain ``min_count..max_count`` instances of ``child``."""

    parent: str
    child: str
    min_count: int | None = None
    max_count: int | None = None


@dataclass(slots=True)
class Mom:
    """A whole model, possibly merged from several model files."""

    name: str = ""
    version: str = ""
    release: str = ""
    classes: dict[str, MomClass] = field(default_factory=dict)
    enums: dict[str, MomEnum] = field(default_factory=dict)
    structs: dict[str, MomStruct] = field(default_factory=dict)
    derived_types: dict[str, DataType] = field(default_factory=dict)
    containments: list[Containment] = field(default_factory=list)

    def parents_of(self, class_name: str) -> list[str]:
        """Classes that may contain ``class_name``."""
        return [c.parent for c in self.containments if c.child == class_name]

    def children_of(self, class_name: str) -> list[str]:
        """Classes ``class_name`` may contain."""
        return [c.child for c in self.containments if c.parent == class_name]

    def get_class(self, name: str) -> MomClass | None:
        """The class ``name``, accepting Bulk-CM ``vsData`` names (``vsDataEUtranCellFDD``)."""
        return self.classes.get(mom_class_name(name))


def mom_class_name(name: str) -> str:
    """Map a Bulk-CM vendor-specific name to its MOM class (``vsDataEUtranCellFDD`` -> ...)."""
    if name.startswith("vsData") and len(name) > 6 and name[6].isupper():
        return name[6:]
    return name


@functools.lru_cache(maxsize=4096)
def needs_lock(takes_effect: str | None) -> bool:
    """Whether a ``takesEffect`` text asks for the MO to be locked and unlocked.

    ``Object unlocked``, ``Cell lock/unlock``, ``Object disabled/enabled`` and similar do;
    ``Immediately``, ``New connection`` and ``At node restart`` do not.
    """
    if not takes_effect:
        return False
    text = takes_effect.lower()
    return any(word in text for word in _LOCK_WORDS)
