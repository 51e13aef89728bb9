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
from opsforge.engines.ranconfig.nrm_xsd import parse_nrm_xsd
from opsforge.engines.ranconfig.parser import parse_moms
from opsforge.engines.ranconfig.plan import Plan
from opsforge.engines.ranconfig.rules import Rule, parse_rules
from opsforge.engines.ranconfig.templates import (
    Format,
    TemplateDocument,
    dump_template,
    load_template,
)
from opsforge.engines.ranconfig.yang import module_name_of, parse_yang

__all__ = [
    "read_model",
    "read_mom",
    "read_nrm_xsd",
    "read_plan",
    "read_report",
    "read_rules",
    "read_scope",
    "read_template",
    "read_yang",
    "read_yang_modules",
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


def _paths(paths: Path | Sequence[Path]) -> list[Path]:
    return [paths] if isinstance(paths, Path) else list(paths)


def read_yang_modules(paths: Path | Sequence[Path]) -> dict[str, str]:
    """YANG texts (file name -> text) for :func:`~.yang.parse_yang`.

    Every ``.yang`` file given, every ``.yang`` file below a folder given, and every ``.yang``
    file below the folder of a file given (the module search path for its imports).
    """
    found: dict[Path, None] = {}
    for path in _paths(paths):
        if path.is_dir():
            found.update(dict.fromkeys(sorted(path.rglob("*.yang"))))
        else:
            found[_exists(path)] = None
            found.update(dict.fromkeys(sorted(path.parent.rglob("*.yang"))))
    if not found:
        raise NotFoundError(f"no .yang files in {[str(p) for p in _paths(paths)]}")
    return {str(p): p.read_text(encoding="utf-8") for p in found}


def read_yang(paths: Path | Sequence[Path], modules: Sequence[str] | None = None) -> Mom:
    """Compile YANG modules into a MOM.

    ``modules`` names the modules to compile; without it, the modules of the files given, or
    with only folders given, every module found in them.
    """
    texts = read_yang_modules(paths)
    files = [p for p in _paths(paths) if not p.is_dir()]
    if not modules and files:
        modules = [module_name_of(texts[str(p)], str(p)) for p in files]
    return parse_yang(texts, list(modules) if modules else None)


def read_nrm_xsd(paths: Path | Sequence[Path]) -> Mom:
    """Compile 3GPP Bulk CM NRM schemas (``.xsd``) into a MOM.

    Files given are compiled with the schemas they import, looked up among the ``.xsd`` files of
    their folders; a folder given compiles every schema in it.
    """
    found: dict[Path, None] = {}
    roots: list[str] | None = []
    for path in _paths(paths):
        if path.is_dir():
            found.update(dict.fromkeys(sorted(path.glob("*.xsd"))))
            roots = None
        else:
            found[_exists(path)] = None
            found.update(dict.fromkeys(sorted(path.parent.glob("*.xsd"))))
            if roots is not None:
                roots.append(str(path))
    if not found:
        raise NotFoundError(f"no .xsd files in {[str(p) for p in _paths(paths)]}")
    documents = {str(p): p.read_bytes() for p in found}
    return parse_nrm_xsd(documents, roots)


def _model_kind(path: Path) -> str:
    """``yang``, ``xsd`` or ``mom`` (Ericsson MOM XML) from the suffix, else the content."""
    if path.is_dir():
        if next(path.rglob("*.yang"), None) is not None:
            return "yang"
        if next(path.glob("*.xsd"), None) is not None:
            return "xsd"
        raise NotFoundError(f"{path}: no .yang or .xsd files in this folder", path=str(path))
    suffix = path.suffix.lower()
    if suffix in (".yang", ".xsd"):
        return suffix[1:]
    with _exists(path).open("rb") as handle:
        head = handle.read(4096)
    if b"http://www.w3.org/2001/XMLSchema" in head and b"schema" in head:
        return "xsd"
    if head.lstrip().startswith((b"module ", b"submodule ")):
        return "yang"
    return "mom"


def read_model(
    paths: Path | Sequence[Path],
    *,
    modules: Sequence[str] = (),
    keep_descriptions: bool = True,
) -> Mom:
    """Read a model of any supported input: Ericsson MOM XML, YANG or 3GPP NRM XSD.

    The kind comes from the suffix (``.yang``, ``.xsd``; a folder by the files in it) or, for
    other files, from the content; all paths must be of one kind. ``modules`` names YANG modules
    to compile (:func:`read_yang`).
    """
    items = _paths(paths)
    kinds = {_model_kind(p) for p in items}
    if len(kinds) != 1:
        raise InvalidInputError(
            f"expected model files of one kind (MOM XML, YANG or XSD), got {sorted(kinds)}"
        )
    kind = kinds.pop()
    if modules and kind != "yang":
        raise InvalidInputError(f"--module names YANG modules; the input is {kind}")
    if kind == "yang":
        return read_yang(items, modules or None)
    if kind == "xsd":
        return read_nrm_xsd(items)
    return read_mom(items, keep_descriptions=keep_descriptions)


_GENERATED_MARK = b"Generated by opsforge ranconfig; do not edit."


def write_package(files: dict[str, str], out_dir: Path) -> list[Path]:
    """Write a generated package (``codegen.generate_package``) into ``out_dir``.

    Modules an earlier generation left there and this one does not write (another grouping,
    a removed class) are deleted, but only those carrying the generator's do-not-edit mark.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.py"):
        if stale.name not in files and stale.is_file():
            with stale.open("rb") as head:
                generated = _GENERATED_MARK in head.read(4096)
            if generated:
                stale.unlink()
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
