"""ENM ``cmedit`` commands: the command model, its text, and parsing commands and responses.

Syntax (as ENM's CLI writes it)::

    cmedit get <FDN> [<MO>.(attr1,attr2) | <MO>.*]
    cmedit set <FDN> attr1=value1,attr2=value2        (or <MO>.(attr1=value1,...))
    cmedit create <FDN> attr1=value1,...
    cmedit delete <FDN> [-ALL]

Values: numbers, ``true``/``false``, ``null``, enum members and words bare, other text in
double quotes, structs as ``(m1=v1,m2=v2)``, sequences as ``[v1,v2]``.

Responses: ``FDN : <fdn>`` lines followed by ``attr : value`` lines, a count line such as
``1 instance(s) updated``, or ``Error <code> : <message>``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, JsonValue

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ranconfig.cm import mo_class_of

__all__ = [
    "Command",
    "CommandResult",
    "format_value",
    "parse_attributes",
    "parse_command",
    "parse_response",
    "parse_value",
]

Verb = Literal["get", "set", "create", "delete"]
Purpose = Literal["snapshot", "create", "lock", "set", "unlock", "delete", "restore"]
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]*")  # fullmatch: "$" would let "A\n" through
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_ERROR = re.compile(r"^\s*Error\s+(\d+)\s*:\s*(.*)$")


class Command(BaseModel):
    """One ``cmedit`` command of a plan.

    Attributes
    ----------
    verb
        ``get``, ``set``, ``create`` or ``delete``.
    fdn
        Target MO.
    attributes
        Values to set or create with (``get``: the names to read, values ignored).
    purpose
        Why it is in the plan (``lock``, ``set``, ``unlock`` ...).
    group
        Commands of one group (a lock, its sets, the unlock) go into the same batch.
    writable
        For ``delete``: the class's writable attributes, to recreate the MO on rollback.
    restore_live
        For an ``unlock`` planned without current values: the executor puts back the
        state it read before the lock instead of the planned one.
    """

    verb: Verb
    fdn: str
    attributes: dict[str, JsonValue] = Field(default_factory=dict)
    purpose: Purpose = "set"
    group: int = 0
    writable: list[str] | None = None
    restore_live: bool = False

    @property
    def mo_class(self) -> str:
        return mo_class_of(self.fdn)

    def render(self) -> str:
        """The command as ENM's CLI takes it."""
        if self.verb == "get":
            if not self.attributes:
                return f"cmedit get {self.fdn}"
            return f"cmedit get {self.fdn} {self.mo_class}.({','.join(self.attributes)})"
        if self.verb == "delete":
            return f"cmedit delete {self.fdn}"
        body = ",".join(f"{k}={format_value(v)}" for k, v in self.attributes.items())
        return f"cmedit {self.verb} {self.fdn} {body}".rstrip()


class CommandResult(BaseModel):
    """A parsed ENM response."""

    ok: bool
    output: str
    error_code: int | None = None
    error: str | None = None
    instances: int | None = None
    #: ``get`` answers: FDN -> attribute -> value.
    values: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)


def format_value(value: JsonValue) -> str:
    """A JSON value in cmedit syntax."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "(" + ",".join(f"{k}={format_value(v)}" for k, v in value.items()) + ")"
    if _BARE.fullmatch(value) and value not in ("true", "false", "null"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside quotes, brackets and parentheses."""
    parts: list[str] = []
    depth, quoted, escaped, start = 0, False, False, 0
    for idx, char in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:idx])
            start = idx + 1
    if quoted or depth != 0:
        raise InvalidInputError(f"unbalanced quotes or brackets in {text!r}")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_value(text: str) -> JsonValue:
    """A cmedit value as JSON (inverse of :func:`format_value`)."""
    text = text.strip()
    if text == "null" or text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text):
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text == "()":
        return {}
    if text.startswith("[") and text.endswith("]"):
        return [parse_value(p) for p in _split_top(text[1:-1])]
    if text.startswith("(") and text.endswith(")") and "=" in text:
        return dict(parse_attributes(text[1:-1]))
    if text.startswith("{") and text.endswith("}") and "=" in text:
        return dict(parse_attributes(text[1:-1]))
    return text


def parse_attributes(text: str) -> dict[str, JsonValue]:
    """``a=1,b="x y",c=[1,2]`` -> ``{"a": 1, "b": "x y", "c": [1, 2]}``."""
    out: dict[str, JsonValue] = {}
    for part in _split_top(text):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise InvalidInputError(f"expected attribute=value, got {part!r}")
        out[name.strip()] = parse_value(value)
    return out


def _strip_flags(rest: str) -> tuple[str, list[str]]:
    tokens = _split_top(rest, " ") if rest else []
    flags = [t for t in tokens if t.startswith("-") and not _NUMBER.match(t)]
    body = " ".join(t for t in tokens if t not in flags)
    return body, flags


def parse_command(line: str) -> tuple[Command, list[str]]:
    """Parse one ``cmedit`` line into a :class:`Command` and its flags (``-ALL``, ``-t``).

    Raises
    ------
    InvalidInputError
        Not a cmedit get/set/create/delete line.
    """
    match = re.match(r"^\s*cmedit\s+(get|set|create|delete)\s+(\S+)\s*(.*)$", line, re.S)
    if match is None:
        raise InvalidInputError(f"expected 'cmedit get|set|create|delete <FDN> ...', got {line!r}")
    verb, fdn, rest = match.group(1), match.group(2), match.group(3).strip()
    mo_class_of(fdn)  # validates the FDN
    body, flags = _strip_flags(rest)
    attrs: dict[str, JsonValue] = {}
    scoped = re.match(r"^([A-Za-z][\w]*)\.(\*|\((.*)\))$", body, re.S)
    if verb == "get":
        if scoped and scoped.group(3):
            attrs = {name.strip(): None for name in _split_top(scoped.group(3))}
    elif verb in ("set", "create") and body:
        attrs = parse_attributes(scoped.group(3) if scoped and scoped.group(3) else body)
    return Command(verb=verb, fdn=fdn, attributes=attrs), flags  # type: ignore[arg-type]


def parse_response(text: str) -> CommandResult:
    """Parse ENM's answer: an error line, ``get`` blocks, and the instance count."""
    values: dict[str, dict[str, JsonValue]] = {}
    current: dict[str, JsonValue] | None = None
    instances: int | None = None
    for line in text.splitlines():
        error = _ERROR.match(line)
        if error:
            return CommandResult(
                ok=False, output=text, error_code=int(error.group(1)), error=error.group(2)
            )
        count = re.match(r"^\s*(\d+)\s+instance\(s\)", line)
        if count:
            instances = int(count.group(1))
            continue
        name, sep, value = line.partition(" : ")
        if not sep:
            continue
        if name.strip() == "FDN":
            current = values.setdefault(value.strip(), {})
        elif current is not None:
            current[name.strip()] = parse_value(value)
    return CommandResult(ok=True, output=text, instances=instances, values=values)
