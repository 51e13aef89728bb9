"""Parameter rules kept in CSV: constraints, cross-parameter and conditional rules.

CSV columns (header required; ``#`` lines are comments)::

    id,mo_class,expression,condition,severity,message
    R1,EUtranCellFDD,qRxLevMin in [-140..-110],,error,urban cells camp on usable signal only
    R2,EUtranCellFDD,dlChannelBandwidth == ulChannelBandwidth,,error,FDD bandwidths match
    R3,EUtranCellFDD,qRxLevMin in [-124..-100],OptionalFeature.featureState == ACTIVATED,error,

An expression is ``LEFT OP RIGHT`` with ``OP`` one of ``== != < <= > >= in``, ``not in``.
Operands: an attribute of ``mo_class`` (``qRxLevMin``), an attribute of another class on the
same node (``OptionalFeature.featureState``: the nearest ancestor of that class, else the
node's first one), a number, an enum member or ``"text"``; after ``in``: ``[a..b, c..d, e]``
(numbers and intervals) or ``{A, B}`` (enum members or text). A rule with a ``condition`` is
checked only where the condition holds. See docs/engines/ranconfig.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from opsforge.core.errors import DataQualityError
from opsforge.engines.ranconfig.cm import CmState, JsonValue, default_value
from opsforge.engines.ranconfig.mom import Attribute, Mom

__all__ = [
    "Rule",
    "RuleViolation",
    "check_rules",
    "evaluate_rules",
    "parse_rules",
    "rules_to_csv",
    "suggest_rules",
]

Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
_OPS: tuple[Op, ...] = ("not in", "==", "!=", "<=", ">=", "<", ">", "in")
_EXPR = re.compile(r"^\s*(?P<left>\S+)\s+(?P<op>not\s+in|in|==|!=|<=|>=|<|>)\s+(?P<right>.+?)\s*$")
_NUM = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Ref:
    """An attribute operand: ``attribute`` of ``mo_class`` (``None``: the rule's own MO)."""

    attribute: str
    mo_class: str | None = None

    def __str__(self) -> str:
        return f"{self.mo_class}.{self.attribute}" if self.mo_class else self.attribute


Operand = Ref | float | str | tuple[tuple[float, float], ...] | frozenset[str]


@dataclass(frozen=True)
class Comparison:
    """``left op right``."""

    left: Ref
    op: Op
    right: Operand
    text: str


@dataclass(frozen=True)
class Rule:
    """One CSV row."""

    id: str
    mo_class: str
    expression: Comparison
    condition: Comparison | None
    severity: Literal["error", "warning"]
    message: str
    row: int
    source: str

    @property
    def kind(self) -> Literal["constraint", "cross", "conditional"]:
        """``conditional`` with a condition, ``cross`` between two attributes, else ``constraint``."""
        if self.condition is not None:
            return "conditional"
        return "cross" if isinstance(self.expression.right, Ref) else "constraint"

    @property
    def where(self) -> str:
        return f"{self.source} row {self.row} ({self.id})"


class RuleViolation(BaseModel):
    """A rule that does not hold on one MO."""

    rule_id: str
    severity: Literal["error", "warning"]
    fdn: str
    mo_class: str
    attribute: str
    rule: str
    got: JsonValue
    message: str


def _operand(text: str, where: str) -> Operand:
    text = text.strip()
    if _NUM.match(text):
        return float(text)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        out: list[tuple[float, float]] = []
        for part in filter(None, (p.strip() for p in text[1:-1].split(","))):
            low, _, high = part.partition("..")
            if not _NUM.match(low) or (high and not _NUM.match(high)):
                raise DataQualityError(f"{where}: expected numbers in {text!r}, got {part!r}")
            out.append((float(low), float(high or low)))
        return tuple(out)
    if text.startswith("{") and text.endswith("}"):
        return frozenset(p.strip().strip('"') for p in text[1:-1].split(",") if p.strip())
    if re.fullmatch(r"[A-Za-z_]\w*\.[A-Za-z_]\w*", text):
        cls, _, attr = text.partition(".")
        return Ref(attr, cls)
    if re.fullmatch(r"[A-Za-z_]\w*", text):
        return text  # an attribute or an enum member: resolved against the model
    raise DataQualityError(f"{where}: cannot read operand {text!r}")


def _comparison(text: str, where: str) -> Comparison:
    match = _EXPR.match(text)
    if match is None:
        raise DataQualityError(
            f"{where}: expected 'LEFT OP RIGHT' with OP in {', '.join(_OPS)}, got {text!r}"
        )
    left = _operand(match["left"], where)
    if isinstance(left, str):
        left = Ref(left)
    if not isinstance(left, Ref):
        raise DataQualityError(f"{where}: the left side must be an attribute, got {text!r}")
    op: Op = "not in" if match["op"].startswith("not") else match["op"]  # type: ignore[assignment]
    return Comparison(left, op, _operand(match["right"], where), text.strip())


def parse_rules(text: str, source: str = "rules.csv") -> list[Rule]:
    """Read rules from CSV text.

    Raises
    ------
    DataQualityError
        A missing column, an unreadable expression or severity; the message names the row.
    """
    lines = ["" if ln.lstrip().startswith("#") else ln for ln in text.splitlines()]
    skipped = next((i for i, ln in enumerate(lines) if ln.strip()), 0)
    reader = csv.DictReader(io.StringIO("\n".join(lines[skipped:])))
    need = {"id", "mo_class", "expression"}
    if reader.fieldnames is None or not need <= set(reader.fieldnames):
        raise DataQualityError(
            f"{source}: expected columns id,mo_class,expression[,condition,severity,message], "
            f"got {reader.fieldnames}"
        )
    rules: list[Rule] = []
    for row in reader:
        idx = reader.line_num + skipped
        where = f"{source} row {idx} ({row.get('id') or '?'})"
        severity = (row.get("severity") or "error").strip() or "error"
        if severity not in ("error", "warning"):
            raise DataQualityError(f"{where}: severity must be error or warning, got {severity!r}")
        condition = (row.get("condition") or "").strip()
        rules.append(
            Rule(
                id=(row.get("id") or f"row{idx}").strip(),
                mo_class=(row.get("mo_class") or "").strip(),
                expression=_comparison(row.get("expression") or "", where),
                condition=_comparison(condition, where) if condition else None,
                severity=severity,  # type: ignore[arg-type]
                message=(row.get("message") or "").strip(),
                row=idx,
                source=source,
            )
        )
    return rules


def _attr(mom: Mom, rule: Rule, ref: Ref) -> Attribute:
    cls_name = ref.mo_class or rule.mo_class
    cls = mom.get_class(cls_name)
    if cls is None:
        raise DataQualityError(f"{rule.where}: unknown MO class {cls_name!r} in model {mom.name}")
    attr = cls.attributes.get(ref.attribute)
    if attr is None:
        raise DataQualityError(f"{rule.where}: unknown attribute {ref.attribute!r} on {cls_name}")
    return attr


def _bind(mom: Mom, rule: Rule, cmp: Comparison) -> Comparison:
    """Resolve bare names on the right: an attribute of the rule's class, else an enum member."""
    left = _attr(mom, rule, cmp.left)
    right = cmp.right
    dt = left.data_type
    cls = mom.get_class(rule.mo_class)
    if isinstance(right, str) and cls is not None and right in cls.attributes:
        right = Ref(right)
    if isinstance(right, Ref):
        _attr(mom, rule, right)
    literals = (
        [right] if isinstance(right, str) else list(right) if isinstance(right, frozenset) else []
    )
    if dt.kind == "enum" and dt.ref in mom.enums:
        for lit in literals:
            if lit not in mom.enums[dt.ref].members:
                raise DataQualityError(
                    f"{rule.where}: {lit!r} is not a member of enum {dt.ref} of {cmp.left}; "
                    f"expected one of {sorted(mom.enums[dt.ref].members)}"
                )
    if cmp.op in ("<", "<=", ">", ">=") and dt.kind not in ("int", "float"):
        raise DataQualityError(
            f"{rule.where}: {cmp.op} needs a numeric attribute, {cmp.left} is {dt.kind}"
        )
    return Comparison(cmp.left, cmp.op, right, cmp.text)


def check_rules(rules: Iterable[Rule], mom: Mom) -> list[Rule]:
    """Check rules against the model and resolve their names; return the bound rules.

    Raises
    ------
    DataQualityError
        An unknown MO class or attribute, or an enum value the attribute does not have; the
        message names the CSV row.
    """
    bound = []
    for rule in rules:
        if mom.get_class(rule.mo_class) is None:
            raise DataQualityError(
                f"{rule.where}: unknown MO class {rule.mo_class!r} in model {mom.name}"
            )
        condition = _bind(mom, rule, rule.condition) if rule.condition else None
        bound.append(
            Rule(
                rule.id,
                rule.mo_class,
                _bind(mom, rule, rule.expression),
                condition,
                rule.severity,
                rule.message,
                rule.row,
                rule.source,
            )
        )
    return bound


def _lookup(state: CmState, mom: Mom, fdn: str, ref: Ref, own_class: str) -> JsonValue:
    if ref.mo_class is None or ref.mo_class == own_class:
        target = fdn
    else:
        target_or_none = state.related(fdn, ref.mo_class)
        if target_or_none is None:
            return None
        target = target_or_none
    mo = state.mos[target]
    if ref.attribute in mo.attributes:
        return mo.attributes[ref.attribute]
    cls = mom.get_class(mo.mo_class)
    attr = cls.attributes.get(ref.attribute) if cls else None
    return default_value(mom, attr.data_type) if attr else None


def _text(value: object) -> str:
    """Booleans as ``true``/``false`` (as in cmedit), everything else as ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _holds(value: JsonValue, op: Op, right: JsonValue | Operand) -> bool:
    if isinstance(right, tuple):
        inside = isinstance(value, int | float) and any(lo <= value <= hi for lo, hi in right)
        return inside if op == "in" else not inside
    if isinstance(right, frozenset):
        inside = _text(value) in {_text(r) for r in right}
        return inside if op == "in" else not inside
    if op in ("==", "!="):
        numeric = isinstance(right, int | float) and not isinstance(right, bool)
        same = value == right if numeric else _text(value) == _text(right)
        return same if op == "==" else not same
    if not isinstance(value, int | float) or not isinstance(right, int | float):
        return True
    return {"<": value < right, "<=": value <= right, ">": value > right, ">=": value >= right}[op]


def _eval(
    state: CmState, mom: Mom, fdn: str, cmp: Comparison, own: str
) -> tuple[bool, JsonValue] | None:
    value = _lookup(state, mom, fdn, cmp.left, own)
    right: JsonValue | Operand = cmp.right
    if isinstance(cmp.right, Ref):
        right = _lookup(state, mom, fdn, cmp.right, own)
        if right is None:
            return None
    if value is None:
        return None
    return _holds(value, cmp.op, right), value


def evaluate_rules(rules: Iterable[Rule], state: CmState, mom: Mom) -> list[RuleViolation]:
    """Check bound rules on every MO of their class in ``state``; return what does not hold.

    A rule whose operands have no value and no model default is not judged on that MO.
    """
    out: list[RuleViolation] = []
    for rule in rules:
        target = mom.get_class(rule.mo_class)
        for fdn in state.of_class(target.name if target else rule.mo_class):
            if rule.condition is not None:
                cond = _eval(state, mom, fdn, rule.condition, rule.mo_class)
                if cond is None or not cond[0]:
                    continue
            result = _eval(state, mom, fdn, rule.expression, rule.mo_class)
            if result is None or result[0]:
                continue
            text = rule.expression.text + (f" if {rule.condition.text}" if rule.condition else "")
            out.append(
                RuleViolation(
                    rule_id=rule.id,
                    severity=rule.severity,
                    fdn=fdn,
                    mo_class=rule.mo_class,
                    attribute=str(rule.expression.left),
                    rule=text,
                    got=result[1],
                    message=f"{fdn}: {rule.mo_class}.{rule.expression.left} = {result[1]!r} breaks "
                    f"rule {rule.id} ({text})" + (f": {rule.message}" if rule.message else ""),
                )
            )
    return out


_SAME_AS = re.compile(r"shall be set to the same as (\w+)")
_ORDER = re.compile(
    r"(?:[Tt]his attribute|[Tt]he value)\s+(?:must|shall)\s+be\s+(?:set\s+to\s+)?(?:a\s+value\s+)?"
    r"(less|lower|smaller|greater|larger|higher)\s+than(\s+or\s+equal\s+to)?\s+"
    r"(?:the\s+value\s+of\s+)?(\w+)"
)


def suggest_rules(mom: Mom, source: str = "mom-dependencies") -> list[Rule]:
    """Rules read from the model's free-text ``dependencies`` (``shall be set to the same as X``).

    Only statements about the attribute itself and another attribute of the same class are
    turned into rules; the rest stays text for a person.
    """
    out: list[Rule] = []
    row = 0
    for cls in mom.classes.values():
        for attr in cls.attributes.values():
            text = attr.dependencies or ""
            found: list[tuple[str, str]] = [("==", m) for m in _SAME_AS.findall(text)]
            for word, equal, other in _ORDER.findall(text):
                less = word in ("less", "lower", "smaller")
                found.append((("<" if less else ">") + ("=" if equal else ""), other))
            for op, other in found:
                if other not in cls.attributes or other == attr.name:
                    continue
                row += 1
                expr = f"{attr.name} {op} {other}"
                out.append(
                    Rule(
                        f"MOM{row}",
                        cls.name,
                        _comparison(expr, source),
                        None,
                        "error",
                        f"from the model: {text.strip()[:200]}",
                        row,
                        source,
                    )
                )
    return check_rules(out, mom)


def rules_to_csv(rules: Iterable[Rule]) -> str:
    """Write rules back as CSV in the documented format."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "mo_class", "expression", "condition", "severity", "message"])
    for r in rules:
        writer.writerow(
            [
                r.id,
                r.mo_class,
                r.expression.text,
                r.condition.text if r.condition else "",
                r.severity,
                r.message,
            ]
        )
    return buf.getvalue()
