"""File formats of the ranconfig engine: MOM files, packages, templates, rules, scopes, plans.

Readers are ``read_*`` (a path in, values out); writers ``write_*``. The pure modules never
open files; this one does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import pydantic

from opsforge.core.errors import DataQualityError, InvalidInputError, NotFoundError
from opsforge.engines.ranconfig.bulkcm import parse_bulk_cm
from opsforge.engines.ranconfig.cm import CmState, MoState, mo_class_of
from opsforge.engines.ranconfig.cmedit import parse_response
from opsforge.engines.ranconfig.executor import ExecutionReport
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.parser import parse_moms
from opsforge.engines.ranconfig.plan import Plan
from opsforge.engines.ranconfig.rules import Rule, parse_rules
from opsforge.engines.ranconfig.templates import (
    Format,
    TemplateDocument,
    dump_template,
    load_template,
)

__all__ = [
    "read_mom",
    "read_plan",
    "read_report",
    "read_rules",
    "read_scope",
    "read_template",
    "template_format",
    "write_package",
    "write_plan",
    "write_report",
    "write_template",
]


def _exists(path: Path) -> Path:
    if not path.is_file():
        raise NotFoundError(f"file {path} does not exist", path=str(path))
    return path


def read_mom(paths: Path | Sequence[Path], *, keep_descriptions: bool = True) -> Mom:
    """Parse one or more MOM XML files (ECIM references across them are resolved)."""
    items = [paths] if isinstance(paths, Path) else list(paths)
    with ExitStack() as stack:
        handles = [stack.enter_context(_exists(p).open("rb")) for p in items]
        return parse_moms(handles, keep_descriptions=keep_descriptions)


def write_package(files: dict[str, str], out_dir: Path) -> list[Path]:
    """Write a generated package (``codegen.generate_package``) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for rel, text in sorted(files.items()):
        target = out_dir / rel
        handle = os.open(target, flags, 0o644)  # thousands of small files: skip io layers
        try:
            data = memoryview(text.encode("utf-8"))
            while data:
                data = data[os.write(handle, data) :]
        finally:
            os.close(handle)
        written.append(target)
    return written


def template_format(path: Path) -> Format:
    """``json``, ``yaml`` or ``toml`` from the file suffix."""
    suffix = path.suffix.lower()
    fmt = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}.get(suffix)
    if fmt is None:
        raise InvalidInputError(f"{path}: expected a .json, .yaml, .yml or .toml template")
    return fmt  # type: ignore[return-value]


def read_template(path: Path) -> TemplateDocument:
    """Read a template document."""
    text = _exists(path).read_text(encoding="utf-8")
    return load_template(text, template_format(path), source=str(path))


def write_template(doc: TemplateDocument, path: Path) -> None:
    """Write a template document in the format its suffix names."""
    path.write_text(dump_template(doc, template_format(path)), encoding="utf-8")


def read_rules(path: Path) -> list[Rule]:
    """Read a rules CSV (see :mod:`opsforge.engines.ranconfig.rules`)."""
    return parse_rules(_exists(path).read_text(encoding="utf-8"), source=path.name)


def read_scope(path: Path, mom: Mom | None = None) -> CmState:
    """Read a target scope.

    * ``.xml``: a 3GPP Bulk CM export (``vsData`` containers map to MOM classes);
    * ``.json``: a CM export ``{"<FDN>": {"attr": value, ...}, ...}``;
    * a ``cmedit get`` answer (``FDN : ...`` blocks) saved as text: a CM export;
    * any other text: one FDN per line (``#`` comments), values unknown.
    """
    if path.suffix.lower() == ".xml":
        return parse_bulk_cm(_exists(path).read_bytes(), mom)
    text = _exists(path).read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
            return CmState(
                mos={f: MoState(mo_class=mo_class_of(f), attributes=a) for f, a in data.items()}
            )
        except (ValueError, AttributeError, pydantic.ValidationError) as exc:
            raise DataQualityError(
                f"{path}: expected a JSON object FDN -> {{attribute: value}}: {exc}"
            ) from exc
    if any(line.startswith("FDN : ") for line in text.splitlines()):
        result = parse_response(text)
        return CmState(
            mos={
                f: MoState(mo_class=mo_class_of(f), attributes=a) for f, a in result.values.items()
            }
        )
    fdns = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return CmState.from_fdns(fdns)


def read_plan(path: Path) -> Plan:
    """Read a plan written by :func:`write_plan`."""
    try:
        return Plan.model_validate_json(_exists(path).read_text(encoding="utf-8"))
    except pydantic.ValidationError as exc:
        raise DataQualityError(f"{path}: not a ranconfig plan: {exc.errors()[0]['msg']}") from exc


def write_plan(plan: Plan, path: Path) -> None:
    """Write a plan as JSON."""
    path.write_text(plan.model_dump_json(indent=2), encoding="utf-8")


def write_report(report: ExecutionReport, path: Path) -> None:
    """Write an execution report as JSON."""
    path.write_text(report.model_dump_json(indent=2), encoding="utf-8")


def read_report(path: Path) -> ExecutionReport:
    """Read an execution report."""
    return ExecutionReport.model_validate_json(_exists(path).read_text(encoding="utf-8"))
