"""Parameter templates: a base and variants merged by inheritance, validated with every error.

A template document (JSON, YAML or TOML)::

    name: base
    description: LTE macro defaults
    parameters:                 # MO class -> attribute -> value, set on every MO in scope
      EUtranCellFDD: {qRxLevMin: -124, cellRange: 15}
    create:                     # MOs to create under every MO of class `under`
      - {under: EUtranCellFDD, mo: EUtranFreqRelation=3, attributes: {cellReselectionPriority: 4}}
    delete:
      - {under: EUtranCellFDD, mo: EUtranFreqRelation=9}
    variants:                   # each extends the base (or `extends:` another variant)
      urban: {parameters: {EUtranCellFDD: {qRxLevMin: -120}}}
      sleep_mode: {parameters: {ENodeBFunction: {sleepModeActive: true}}}
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Literal

import pydantic
import tomli_w
import yaml
from pydantic import BaseModel, Field, JsonValue

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ranconfig.cm import CmState, MoState, mo_class_of
from opsforge.engines.ranconfig.loader import ModelSet
from opsforge.engines.ranconfig.rules import Rule, evaluate_rules

__all__ = [
    "MoSpec",
    "Template",
    "TemplateDocument",
    "TemplateIssue",
    "dump_template",
    "load_template",
    "resolve_template",
    "validate_document",
    "validate_template",
]

Format = Literal["json", "yaml", "toml"]
_EXPECTED = re.compile(r"^expected (.*), got .*$", re.S)


class MoSpec(BaseModel):
    """An MO to create (or delete) below every MO of class ``under`` in scope."""

    model_config = pydantic.ConfigDict(extra="forbid")

    under: str
    mo: str
    attributes: dict[str, JsonValue] = Field(default_factory=dict)


class Template(BaseModel):
    """One template (the base or a variant)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    name: str = ""
    extends: str | None = None
    description: str = ""
    parameters: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)
    create: list[MoSpec] = Field(default_factory=list)
    delete: list[MoSpec] = Field(default_factory=list)


class TemplateDocument(Template):
    """A template file: the base template and its variants."""

    variants: dict[str, Template] = Field(default_factory=dict)


class TemplateIssue(BaseModel):
    """One validation error: where, what was expected, what came."""

    path: str
    expected: str
    got: JsonValue
    message: str


def load_template(text: str, fmt: Format, source: str = "template") -> TemplateDocument:
    """Parse a template document from JSON, YAML or TOML text.

    Raises
    ------
    InvalidInputError
        Unreadable text or a document not in the template shape (message names the field).
    """
    try:
        if fmt == "json":
            data = json.loads(text)
        elif fmt == "yaml":
            data = yaml.safe_load(text)
        else:
            data = tomllib.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInputError(f"{source}: not valid {fmt}: {exc}") from exc
    try:
        return TemplateDocument.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"{source}: {where}: {first['msg']}") from exc


def dump_template(doc: TemplateDocument, fmt: Format) -> str:
    """Write a template document as JSON, YAML or TOML text.

    Raises
    ------
    InvalidInputError
        TOML cannot hold a ``null`` value.
    """
    data = doc.model_dump(mode="json", exclude_defaults=True)
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        return tomli_w.dumps(data)
    except TypeError as exc:
        raise InvalidInputError(f"template {doc.name!r} cannot be written as TOML: {exc}") from exc


def _merge(base: Template, child: Template) -> Template:
    params = {cls: dict(attrs) for cls, attrs in base.parameters.items()}
    for cls, attrs in child.parameters.items():
        params.setdefault(cls, {}).update(attrs)
    creates = {(s.under, s.mo): s for s in base.create}
    creates.update({(s.under, s.mo): s for s in child.create})
    deletes = {(s.under, s.mo): s for s in [*base.delete, *child.delete]}
    return Template(
        name=child.name,
        description=child.description or base.description,
        parameters=params,
        create=list(creates.values()),
        delete=list(deletes.values()),
    )


def resolve_template(doc: TemplateDocument, variant: str | None = None) -> Template:
    """The base (``variant=None``) or a variant merged with everything it extends.

    Raises
    ------
    InvalidInputError
        An unknown variant or a cycle of ``extends``.
    """
    base = Template.model_validate(doc.model_dump(exclude={"variants"}))
    base.name = base.name or "base"
    if variant is None or variant == base.name:
        return base
    chain: list[Template] = []
    name: str | None = variant
    while name is not None and name != base.name:
        if name not in doc.variants:
            raise InvalidInputError(
                f"template {base.name!r} has no variant {name!r}; it has {sorted(doc.variants)}"
            )
        if any(t.name == name for t in chain):
            raise InvalidInputError(f"template variants extend each other in a cycle at {name!r}")
        current = doc.variants[name].model_copy(update={"name": name})
        chain.append(current)
        name = current.extends
    merged = base
    for layer in reversed(chain):
        merged = _merge(merged, layer)
    return merged


def _issues(exc: pydantic.ValidationError, prefix: str) -> list[TemplateIssue]:
    out = []
    for err in exc.errors():
        path = ".".join([prefix, *(str(p) for p in err["loc"])])
        got = err.get("input")
        try:
            json.dumps(got)
        except TypeError:
            got = repr(got)
        msg = err["msg"].removeprefix("Value error, ")
        found = _EXPECTED.match(msg)
        expected = found.group(1) if found else msg
        out.append(TemplateIssue(path=path, expected=expected, got=got, message=f"{path}: {msg}"))
    return out


def _check_values(
    models: ModelSet, mo_class: str, attrs: dict[str, JsonValue], prefix: str, creating: bool
) -> list[TemplateIssue]:
    mom_cls = models.mom.get_class(mo_class)
    if mom_cls is None:
        return [
            TemplateIssue(
                path=prefix,
                expected=f"an MO class of {models.mom.name}",
                got=mo_class,
                message=f"{prefix}: unknown MO class {mo_class!r}",
            )
        ]
    out: list[TemplateIssue] = []
    model = models.model(mo_class, writable=True)
    try:
        model.model_validate(attrs)
    except pydantic.ValidationError as exc:
        out += _issues(exc, prefix)
    if not creating:
        for name in sorted(set(attrs) & model.RESTRICTED):
            out.append(
                TemplateIssue(
                    path=f"{prefix}.{name}",
                    expected="set only when the MO is created",
                    got=attrs[name],
                    message=f"{prefix}.{name}: restricted attribute",
                )
            )
    return out


def _check_spec(models: ModelSet, spec: MoSpec, prefix: str, creating: bool) -> list[TemplateIssue]:
    mom = models.mom
    try:
        mo_class = mo_class_of(spec.mo)
    except InvalidInputError as exc:
        return [
            TemplateIssue(path=f"{prefix}.mo", expected="Class=id", got=spec.mo, message=str(exc))
        ]
    out: list[TemplateIssue] = []
    cls = mom.get_class(mo_class)
    if cls is None or mom.get_class(spec.under) is None:
        bad = mo_class if cls is None else spec.under
        return [
            TemplateIssue(
                path=prefix,
                expected=f"an MO class of {mom.name}",
                got=bad,
                message=f"{prefix}: unknown MO class {bad!r}",
            )
        ]
    if cls.system_created:
        out.append(
            TemplateIssue(
                path=f"{prefix}.mo",
                expected="an operator-created class",
                got=spec.mo,
                message=f"{prefix}: {cls.name} is created and deleted by the node",
            )
        )
    if spec.under not in mom.parents_of(cls.name):
        out.append(
            TemplateIssue(
                path=f"{prefix}.under",
                expected=f"one of {mom.parents_of(cls.name)}",
                got=spec.under,
                message=f"{prefix}: {spec.under} cannot contain {cls.name}",
            )
        )
    if creating:
        key = cls.key_attribute
        for name in sorted(
            a.name for a in cls.attributes.values() if a.mandatory and a.name != key
        ):
            if name not in spec.attributes:
                out.append(
                    TemplateIssue(
                        path=f"{prefix}.attributes.{name}",
                        expected="a value (mandatory)",
                        got=None,
                        message=f"{prefix}: mandatory {cls.name}.{name} missing",
                    )
                )
        out += _check_values(models, cls.name, spec.attributes, f"{prefix}.attributes", True)
    return out


def validate_template(
    template: Template, models: ModelSet, rules: list[Rule] | None = None, prefix: str = ""
) -> list[TemplateIssue]:
    """Every problem of a resolved template: values, restricted attributes, creations, rules."""
    prefix = prefix or template.name or "template"
    issues: list[TemplateIssue] = []
    for mo_class, attrs in template.parameters.items():
        issues += _check_values(models, mo_class, attrs, f"{prefix}.parameters.{mo_class}", False)
    for idx, spec in enumerate(template.create):
        issues += _check_spec(models, spec, f"{prefix}.create[{idx}]", True)
    for idx, spec in enumerate(template.delete):
        issues += _check_spec(models, spec, f"{prefix}.delete[{idx}]", False)
    if rules and not issues:
        state = CmState()
        for name, attrs in template.parameters.items():
            cls = models.mom.get_class(name)
            if cls is not None:
                state.mos[f"ManagedElement=template,{cls.name}=1"] = MoState(
                    mo_class=cls.name, attributes=dict(attrs)
                )
        for violation in evaluate_rules(rules, state, models.mom):
            if violation.severity != "error":
                continue
            path = f"{prefix}.parameters.{violation.mo_class}.{violation.attribute}"
            issues.append(
                TemplateIssue(
                    path=path,
                    expected=violation.rule,
                    got=violation.got,
                    message=f"{path}: {violation.message}",
                )
            )
    return issues


def validate_document(
    doc: TemplateDocument, models: ModelSet, rules: list[Rule] | None = None
) -> dict[str, list[TemplateIssue]]:
    """Validate the base and every variant (resolved); variant name -> issues."""
    names = [None, *doc.variants]
    out: dict[str, list[TemplateIssue]] = {}
    for name in names:
        template = resolve_template(doc, name)
        out[template.name] = validate_template(template, models, rules, prefix=template.name)
    return out
