"""Python names for MOM names: snake_case fields, CapWords classes, UPPER enum members."""

from __future__ import annotations

import functools
import keyword
import re

from pydantic import BaseModel

__all__ = ["NameTable", "class_identifier", "enum_member", "field_name", "module_name"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"\W+")
_RESERVED = frozenset(dir(BaseModel)) | {"mom_values"}


def _snake(name: str) -> str:
    text = _NON_WORD.sub("_", _CAMEL.sub("_", name)).lower().strip("_")
    return re.sub(r"_+", "_", text)


@functools.lru_cache(maxsize=65536)
def field_name(mom_name: str) -> str:
    """``qRxLevMin`` -> ``q_rx_lev_min``; keywords and BaseModel names get a ``_`` suffix."""
    text = _snake(mom_name) or "field"
    if text[0].isdigit():
        text = "f_" + text
    if keyword.iskeyword(text) or text in _RESERVED or text.startswith("model_"):
        text += "_"
    return text


def class_identifier(mom_name: str) -> str:
    """A CapWords identifier: ``Ue_measControl`` -> ``UeMeasControl``."""
    parts = [p for p in _NON_WORD.sub("_", mom_name).split("_") if p]
    text = "".join(p[0].upper() + p[1:] for p in parts) or "Unnamed"
    if text[0].isdigit():
        text = "C" + text
    return text


def enum_member(mom_name: str) -> str:
    """An UPPER_CASE enum member identifier for a MOM enum member name."""
    text = _NON_WORD.sub("_", mom_name).upper().strip("_") or "EMPTY"
    if text[0].isdigit():
        text = "V_" + text
    if keyword.iskeyword(text.lower()) and text.lower() == text:
        text += "_"
    return text


def module_name(mom_name: str) -> str:
    """A module name for a MOM class: lower case, no leading digit or underscore."""
    text = _NON_WORD.sub("_", mom_name).lower().strip("_") or "mo"
    if text[0].isdigit() or keyword.iskeyword(text):
        text = "mo_" + text
    return text


class NameTable:
    """Hands out unique names within one namespace, suffixing clashes with a counter."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self._taken: set[str] = set(taken or ())

    def claim(self, wanted: str, suffix: str = "") -> str:
        """Return ``wanted`` (or ``wanted+suffix``, then ``...2``, ``...3``) and reserve it."""
        candidates = [wanted] if not suffix else [wanted, wanted + suffix]
        for candidate in candidates:
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate
        idx = 2
        while f"{candidates[-1]}{idx}" in self._taken:
            idx += 1
        name = f"{candidates[-1]}{idx}"
        self._taken.add(name)
        return name
