"""YANG types as MOM data types: the type half of :mod:`~opsforge.engines.ranconfig.yang`.

Works on ``type`` statements that ``pyang`` has resolved (``i_type_spec`` chains from the
outermost restriction to the built-in type, ``i_typedef`` links across modules).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from opsforge.engines.ranconfig._xsdpattern import combine_patterns
from opsforge.engines.ranconfig.mom import KIND_BOUNDS, DataType, Mom, MomEnum

__all__ = ["YangTypes", "typedef_chain"]


def _num(value: Any, base_min: Any, base_max: Any) -> float:
    if value == "min":
        value = base_min
    elif value == "max":
        value = base_max
    if hasattr(value, "fd"):  # pyang Decimal64Value: its text is the exact decimal
        return float(str(value))
    return float(value)


def _intervals(
    pairs: Iterable[tuple[Any, Any]], low: Any, high: Any
) -> tuple[tuple[float, float], ...]:
    out = []
    for lo, hi in pairs:
        first = _num(lo, low, high)
        out.append((first, first if hi is None else _num(hi, low, high)))
    return tuple(out)


def _spec_chain(spec: Any) -> list[Any]:
    chain = []
    while spec is not None:
        chain.append(spec)
        spec = getattr(spec, "base", None)
    return chain


def typedef_chain(type_stmt: Any) -> list[Any]:
    chain = []
    while type_stmt is not None and getattr(type_stmt, "i_typedef", None) is not None:
        chain.append(type_stmt.i_typedef)
        type_stmt = type_stmt.i_typedef.search_one("type")
    return chain


def _derived_from(identity: Any, base: Any, depth: int = 0) -> bool:
    if depth > 32:
        return False
    for stmt in identity.search("base"):
        parent = getattr(stmt, "i_identity", None)
        if parent is base or (parent is not None and _derived_from(parent, base, depth + 1)):
            return True
    return False


def _fields(dt: DataType) -> dict[str, Any]:
    return {name: getattr(dt, name) for name in DataType.__slots__}


class YangTypes:
    """Maps pyang ``type`` statements onto DataTypes; enums land in ``mom.enums`` by name."""

    def __init__(self, mom: Mom, ctx: Any) -> None:
        self.mom = mom
        self.ctx = ctx

    # enums and structs are shared by name; a different definition under a taken name is renamed
    def enum(self, name: str, members: dict[str, int]) -> str:
        candidate, idx = name, 1
        while candidate in self.mom.enums and self.mom.enums[candidate].members != members:
            idx += 1
            candidate = f"{name}{idx}"
        self.mom.enums.setdefault(candidate, MomEnum(name=candidate, members=members))
        return candidate

    def data_type(self, type_stmt: Any, owner: str) -> DataType:
        """The DataType of a ``type`` statement (restrictions of typedefs applied)."""
        chain = _spec_chain(type_stmt.i_type_spec)
        if not chain:
            return DataType(kind="string", mom_kind=type_stmt.arg)
        terminal = chain[-1]
        kind_name = type(terminal).__name__
        typedef = type_stmt.i_typedef
        mom_kind = typedef.arg if typedef is not None else type_stmt.arg
        if kind_name == "IntTypeSpec" or kind_name == "Decimal64TypeSpec":
            return self._number(chain, terminal, mom_kind)
        if kind_name == "BooleanTypeSpec":
            return DataType(kind="boolean", mom_kind=mom_kind)
        if kind_name == "EmptyTypeSpec":
            return DataType(kind="boolean", mom_kind="empty")
        if kind_name == "EnumerationTypeSpec":
            enum_spec = next(s for s in chain if type(s).__name__ == "EnumTypeSpec")
            members = {str(n): int(v) for n, v in enum_spec.enums}
            enum_name = typedef.arg if typedef is not None else owner
            return DataType(kind="enum", mom_kind=mom_kind, ref=self.enum(enum_name, members))
        if kind_name == "UnionTypeSpec":
            members_dt = [self.data_type(t, owner) for t in terminal.types]
            return self._union(members_dt, owner)
        if kind_name == "LeafrefTypeSpec":
            target = getattr(chain[0], "i_target_node", None)
            path = getattr(chain[0], "path_", None)
            if target is not None and target.search_one("type") is not None:
                dt = self.data_type(target.search_one("type"), owner)
                return DataType(
                    **{**_fields(dt), "mom_kind": "leafref", "ref": getattr(path, "arg", None)}
                )
            return DataType(kind="string", mom_kind="leafref")
        if kind_name == "IdentityrefTypeSpec":
            return self._identityref(terminal, owner, mom_kind)
        if kind_name == "BitsTypeSpec":
            bits_spec = next((s for s in chain if type(s).__name__ == "BitTypeSpec"), None)
            names = [str(b[0]) for b in bits_spec.bits] if bits_spec is not None else []
            one = "(?:" + "|".join(re.escape(n) for n in names) + ")"
            return DataType(kind="string", mom_kind="bits", pattern=f"(?:{one}(?: {one})*)?")
        return self._string(chain, mom_kind)

    def _number(self, chain: list[Any], terminal: Any, mom_kind: str) -> DataType:
        is_decimal = type(terminal).__name__ == "Decimal64TypeSpec"
        rng = next((s for s in chain if type(s).__name__ == "RangeTypeSpec"), None)
        low, high = terminal.min, terminal.max
        ranges = _intervals(rng.ranges, low, high) if rng is not None else ()
        if is_decimal:
            digits = int(terminal.fraction_digits)
            return DataType(
                kind="float",
                mom_kind="decimal64",
                ranges=ranges,
                resolution=10.0**-digits,
            )
        if not ranges and terminal.name in KIND_BOUNDS:
            ranges = (tuple(float(b) for b in KIND_BOUNDS[terminal.name]),)  # type: ignore[assignment]
        return DataType(kind="int", mom_kind=mom_kind, ranges=ranges)

    def _string(self, chain: list[Any], mom_kind: str) -> DataType:
        length = next((s for s in chain if type(s).__name__ == "LengthTypeSpec"), None)
        lengths: tuple[tuple[int, int], ...] = ()
        if length is not None:
            lengths = tuple(
                (int(lo), int(hi)) for lo, hi in _intervals(length.lengths, 0, 2**64 - 1)
            )
        specs = [
            (str(p.spec), bool(p.invert_match))
            for s in chain
            if type(s).__name__ == "PatternTypeSpec"
            for p in s.res
        ]
        return DataType(
            kind="string", mom_kind=mom_kind, length_ranges=lengths, pattern=combine_patterns(specs)
        )

    def _union(self, members: list[DataType], owner: str) -> DataType:
        kinds = {m.kind for m in members}
        if kinds == {"int"}:
            ranges = tuple(sorted(r for m in members for r in m.ranges))
            return DataType(kind="int", mom_kind="union", ranges=ranges)
        if kinds == {"enum"}:
            merged: dict[str, int] = {}
            for m in members:
                for name in self.mom.enums[m.ref or ""].members:
                    merged.setdefault(name, len(merged))
            return DataType(kind="enum", mom_kind="union", ref=self.enum(owner, merged))
        if kinds == {"string"} and all(m.pattern for m in members):
            alternatives = "|".join(f"(?:{m.pattern})" for m in members)
            return DataType(kind="string", mom_kind="union", pattern=alternatives)
        return DataType(kind="string", mom_kind="union")

    def _identityref(self, spec: Any, owner: str, mom_kind: str) -> DataType:
        bases = [b.i_identity for b in spec.idbases if getattr(b, "i_identity", None) is not None]
        if not bases:
            return DataType(kind="string", mom_kind=mom_kind)
        names: list[str] = []
        for module in self.ctx.modules.values():
            for identity in module.i_identities.values():
                if any(_derived_from(identity, base) for base in bases):
                    names.append(identity.arg)
        if not names:
            return DataType(kind="string", mom_kind=mom_kind)
        members = {n: i for i, n in enumerate(sorted(set(names)))}
        name = bases[0].arg if len(bases) == 1 else owner
        return DataType(kind="enum", mom_kind="identityref", ref=self.enum(name, members))

    # --- attributes, structs, classes ---------------------------------------------------------
