"""What generated model packages import: base models and the validators for MOM constraints.

Pydantic's own ``ge``/``le`` cannot say "1400, 3000, 5000, 10000, 15000 or 20000" or "-140 to
-44 in steps of 2"; the validators here can, and give one message shape for every constraint:
``expected <constraint>, got <value>``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = [
    "MoBase",
    "StructBase",
    "describe_ranges",
    "in_ranges",
    "lengths",
    "matches",
    "mo_ref",
    "seq_length",
    "unique_items",
]

_MO_REF = re.compile(r"^[A-Za-z][A-Za-z0-9_]*=[^,=]+(,[A-Za-z][A-Za-z0-9_]*=[^,=]+)*$")


class MoBase(BaseModel):
    """Base of every generated MO model; MOM names are the aliases, snake_case the fields."""

    model_config = ConfigDict(
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        validate_assignment=True,
        defer_build=True,
        protected_namespaces=(),
    )

    #: MOM class name.
    MO_CLASS: ClassVar[str] = ""
    #: MOM attribute names that only the node sets.
    READ_ONLY: ClassVar[frozenset[str]] = frozenset()
    #: MOM attribute names settable only at creation.
    RESTRICTED: ClassVar[frozenset[str]] = frozenset()
    #: MOM attribute names required at creation.
    MANDATORY: ClassVar[frozenset[str]] = frozenset()
    #: MOM attribute names whose change needs a lock/unlock of the MO.
    LOCK_REQUIRED: ClassVar[frozenset[str]] = frozenset()
    #: MOM attribute names marked deprecated or obsolete.
    DEPRECATED: ClassVar[frozenset[str]] = frozenset()
    #: Whether the node creates this MO itself (operators never create it).
    SYSTEM_CREATED: ClassVar[bool] = False

    def mom_values(self) -> dict[str, Any]:
        """Values set on this instance, keyed by MOM attribute name, JSON-compatible."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


class StructBase(BaseModel):
    """Base of every generated struct model."""

    model_config = ConfigDict(
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        defer_build=True,
        protected_namespaces=(),
    )


def describe_ranges(ranges: Sequence[tuple[float, float]], step: float | None = None) -> str:
    """``[0..167]``, ``one of 1400, 3000`` or ``[-140..-44] in steps of 2``."""
    if ranges and all(low == high for low, high in ranges):
        text = "one of " + ", ".join(_fmt(low) for low, _ in ranges)
    else:
        text = " or ".join(f"[{_fmt(low)}..{_fmt(high)}]" for low, high in ranges)
    if step is not None:
        text += f" in steps of {_fmt(step)}"
    return text


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def in_ranges(
    ranges: Sequence[tuple[float, float]], step: float | None = None
) -> Callable[[float], float]:
    """A validator: the value lies in one of ``ranges`` and on the ``step`` grid.

    Parameters
    ----------
    ranges
        Inclusive intervals; empty means unbounded.
    step
        Resolution: valid values are ``low + k * step`` for the interval's ``low`` (0 without
        ranges).
    """
    bounds = tuple((float(low), float(high)) for low, high in ranges)

    def check(value: float) -> float:
        number = float(value)
        base = 0.0
        if bounds:
            hit = next((low for low, high in bounds if low <= number <= high), None)
            if hit is None:
                raise ValueError(f"expected {describe_ranges(ranges, step)}, got {value}")
            base = hit
        if step:
            ratio = (number - base) / step
            if not math.isclose(ratio, round(ratio), abs_tol=1e-9):
                raise ValueError(f"expected {describe_ranges(ranges, step)}, got {value}")
        return value

    return check


def lengths(ranges: Sequence[tuple[int, int]]) -> Callable[[str], str]:
    """A validator: the string length lies in one of ``ranges``."""

    def check(value: str) -> str:
        if not any(low <= len(value) <= high for low, high in ranges):
            allowed = " or ".join(f"{low}..{high}" for low, high in ranges)
            raise ValueError(f"expected a length of {allowed} characters, got {len(value)}")
        return value

    return check


def matches(pattern: str) -> Callable[[str], str]:
    """A validator: the whole string matches ``pattern`` (the MOM's ``validValues``)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(f"expected text matching {pattern!r}, got {value!r}")
        return value

    return check


def seq_length(min_length: int | None, max_length: int | None) -> Callable[[list[Any]], list[Any]]:
    """A validator: the sequence has ``min_length..max_length`` elements."""

    def check(value: list[Any]) -> list[Any]:
        low = 0 if min_length is None else min_length
        if len(value) < low or (max_length is not None and len(value) > max_length):
            high = "" if max_length is None else str(max_length)
            raise ValueError(f"expected {low}..{high} elements, got {len(value)}")
        return value

    return check


def unique_items(value: list[Any]) -> list[Any]:
    """A validator: no element repeats (MOM sequences are unique unless ``nonUnique``)."""
    seen: set[str] = set()
    for item in value:
        key = json.dumps(
            item.model_dump(mode="json") if isinstance(item, BaseModel) else item,
            sort_keys=True,
            default=str,
        )
        if key in seen:
            raise ValueError(f"expected unique elements, got {item!r} twice")
        seen.add(key)
    return value


def mo_ref(value: str) -> str:
    """A validator: an MO reference looks like ``Class=id[,Class=id...]``."""
    if _MO_REF.match(value) is None:
        raise ValueError(f"expected an MO reference such as 'Class=id,Class=id', got {value!r}")
    return value
