"""XSD regular expressions (YANG ``pattern``, XSD ``xs:pattern``) rewritten for Python's ``re``.

Shared by :mod:`~opsforge.engines.ranconfig.yang` and :mod:`~opsforge.engines.ranconfig.nrm_xsd`.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["combine_patterns", "xsd_pattern_to_python"]

# Unicode categories and XML name classes: outside / inside a character class. Python's ``re``
# has no ``\p{..}``; the rewrites accept at least what XSD accepts (``\w`` inside a class also
# takes digits and ``_``).
_ESCAPES: dict[str, tuple[str, str]] = {
    r"\p{L}": (r"[^\W\d_]", r"\w"),
    r"\p{N}": (r"\d", r"\d"),
    r"\p{Nd}": (r"\d", r"\d"),
    r"\p{Lu}": ("[A-Z]", "A-Z"),
    r"\p{Ll}": ("[a-z]", "a-z"),
    r"\i": (r"[^\W\d]|:", r"\w:"),
    r"\c": (r"[\w.:-]", r"\w.:\-"),
}


def xsd_pattern_to_python(pattern: str) -> str:
    """Rewrite an XSD pattern for ``re.fullmatch``.

    XSD has no anchors: ``^`` and ``$`` outside a character class are literal characters, and the
    whole value must match (the generated models use ``fullmatch``). ``\\p{L}``, ``\\p{N}``,
    ``\\p{Nd}``, ``\\p{Lu}``, ``\\p{Ll}``, ``\\i`` and ``\\c`` become ``re`` equivalents; other
    ``\\p{..}`` classes and class subtraction (``[a-z-[aeiou]]``) are left as they are, and the
    generator skips a pattern that does not compile (with a warning).
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escape = next((e for e in _ESCAPES if pattern.startswith(e, i)), None)
            if escape is not None:
                out.append(_ESCAPES[escape][1 if in_class else 0])
                i += len(escape)
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        elif char in "^$" and not in_class:
            out.append("\\" + char)
        else:
            out.append(char)
        i += 1
    return "".join(out)


def combine_patterns(specs: Sequence[tuple[str, bool]]) -> str | None:
    """One ``re`` pattern for several XSD patterns that must all match.

    ``specs`` holds ``(pattern, invert_match)``; an inverted pattern must not match.
    """
    if not specs:
        return None
    parts = [(f"(?:{xsd_pattern_to_python(p)})", inverted) for p, inverted in specs]
    if len(parts) == 1 and not parts[0][1]:
        return parts[0][0]
    looks = "".join(f"(?!{p}\\Z)" if inverted else f"(?={p}\\Z)" for p, inverted in parts)
    return looks + r"[\s\S]*"
