"""``opsforge ranconfig ...``: compile a MOM, validate templates, plan, apply and roll back.

ENM credentials come only from the environment: ``OPSFORGE_ENM_USERNAME`` and
``OPSFORGE_ENM_PASSWORD``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console

from opsforge.core.errors import AuthenticationError, InvalidInputError, OpsforgeError
from opsforge.core.logging import configure_logging
from opsforge.engines.ranconfig import io
from opsforge.engines.ranconfig.adapters.enm_rest import EnmRestExecutor
from opsforge.engines.ranconfig.codegen import generate_package
from opsforge.engines.ranconfig.executor import (
    CommandExecutor,
    DryRunExecutor,
    ExecutionReport,
    execute_commands,
    execute_plan,
)
from opsforge.engines.ranconfig.layout import DEFAULT_CLASSES_PER_MODULE
from opsforge.engines.ranconfig.loader import compile_models
from opsforge.engines.ranconfig.plan import build_plan
from opsforge.engines.ranconfig.reference import render_reference
from opsforge.engines.ranconfig.rules import Rule, check_rules
from opsforge.engines.ranconfig.templates import (
    resolve_template,
    validate_document,
    validate_template,
)

app = typer.Typer(
    help="RAN configuration: MOM -> models -> templates -> cmedit plans.", no_args_is_help=True
)
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
MomOpt = Annotated[list[Path], typer.Option("--mom", help="MOM XML file(s).")]


@app.callback()
def _setup() -> None:
    """Logs go to stderr (JSON off a TTY) and only from WARNING up, so stdout stays clean."""
    configure_logging(level="WARNING")


@contextmanager
def _errors(as_json: bool) -> Iterator[None]:
    try:
        yield
    except OpsforgeError as exc:
        if as_json:
            typer.echo(json.dumps({"ok": False, **exc.to_dict()}, default=str))
        else:
            err.print(f"[red]error[/red] ({exc.code}): {exc.message}", highlight=False)
        raise typer.Exit(exc.exit_code) from exc


def _emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    if as_json:
        typer.echo(json.dumps(data, default=str))
    else:
        typer.echo(text)


def _load_rules(path: Path | None, mom: Any) -> list[Rule]:
    return check_rules(io.read_rules(path), mom) if path is not None else []


@app.command("compile")
def compile_cmd(
    mom_files: Annotated[
        list[Path],
        typer.Argument(
            help="MOM XML file(s), YANG modules (.yang files or folders) or NRM XSDs (.xsd)."
        ),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder that becomes the package.")],
    modules: Annotated[
        list[str], typer.Option("--module", help="YANG module(s) to compile (with imports).")
    ] = [],  # noqa: B006
    docs: Annotated[Path | None, typer.Option(help="Also write a Markdown reference.")] = None,
    classes_per_module: Annotated[
        int, typer.Option(min=1, help="Most MOM classes in one generated module.")
    ] = DEFAULT_CLASSES_PER_MODULE,
    as_json: JsonOpt = False,
) -> None:
    """Generate a Pydantic model package from a MOM, YANG or NRM XSD (DIR becomes a package)."""
    with _errors(as_json):
        package = out_dir.name
        if not package.isidentifier():
            raise InvalidInputError(f"--out {out_dir}: the folder name must be a Python identifier")
        mom = io.read_model(mom_files, modules=modules)
        files = generate_package(mom, package, classes_per_module=classes_per_module)
        written = io.write_package(files, out_dir)
        if docs is not None:
            docs.write_text(render_reference(mom), encoding="utf-8")
        _emit(
            as_json,
            {
                "ok": True,
                "package": package,
                "num_classes": len(mom.classes),
                "num_files": len(written),
                "out": str(out_dir),
            },
            f"{mom.name}: {len(mom.classes)} classes -> {len(written)} files in {out_dir}",
        )


@app.command()
def validate(
    template: Annotated[Path, typer.Argument(help="Template (.json, .yaml, .toml).")],
    mom: MomOpt = [],  # noqa: B006
    rules: Annotated[Path | None, typer.Option(help="Rules CSV.")] = None,
    variant: Annotated[str | None, typer.Option(help="Only this variant.")] = None,
    export: Annotated[
        Path | None, typer.Option(help="Write the document as .json/.yaml/.toml.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a template (all variants) against the model and rules; report every error."""
    with _errors(as_json):
        doc = io.read_template(template)
        if export is not None:
            io.write_template(doc, export)
        if not mom:
            _emit(
                as_json,
                {"ok": True, "checked": "structure"},
                f"{template}: well-formed (give --mom to check values)",
            )
            return
        model = io.read_mom(mom, keep_descriptions=False)
        models, bound = compile_models(model), _load_rules(rules, model)
        if variant is not None:
            resolved = resolve_template(doc, variant)
            issues = {resolved.name: validate_template(resolved, models, bound)}
        else:
            issues = validate_document(doc, models, bound)
        count = sum(len(v) for v in issues.values())
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "ok": count == 0,
                        "num_issues": count,
                        "issues": {
                            k: [i.model_dump(mode="json") for i in v] for k, v in issues.items()
                        },
                    }
                )
            )
        else:
            for name, found in issues.items():
                typer.echo(f"{name}: {'ok' if not found else f'{len(found)} issue(s)'}")
                for issue in found:
                    typer.echo(f"  {issue.path}: expected {issue.expected}; got {issue.got!r}")
        if count:
            raise typer.Exit(InvalidInputError.exit_code)


@app.command()
def plan(
    template: Annotated[Path, typer.Argument(help="Template file.")],
    scope: Annotated[Path, typer.Option(help="CM export (.json / cmedit get text) or FDN list.")],
    mom: MomOpt,
    out_file: Annotated[Path, typer.Option("--out", help="Plan JSON to write.")],
    rules: Annotated[Path | None, typer.Option(help="Rules CSV.")] = None,
    variant: Annotated[str | None, typer.Option(help="Variant to plan.")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Turn a validated template and a scope into an ordered cmedit plan with rollback."""
    with _errors(as_json):
        model = io.read_mom(mom, keep_descriptions=False)
        resolved = resolve_template(io.read_template(template), variant)
        bound = _load_rules(rules, model)
        issues = validate_template(resolved, compile_models(model), bound)
        if issues:
            raise InvalidInputError(
                f"template {resolved.name!r} has {len(issues)} issue(s); first: {issues[0].message}"
            )
        result = build_plan(
            resolved, io.read_scope(scope, model), model, rules=bound, batch_size=batch_size
        )
        io.write_plan(result, out_file)
        _emit(
            as_json,
            {
                "ok": True,
                "num_commands": len(result.commands),
                "num_rollback": len(result.rollback),
                "out": str(out_file),
            },
            "\n".join([*result.render(), f"# {len(result.commands)} commands -> {out_file}"]),
        )


def _executor(execute: bool, enm_url: str | None) -> CommandExecutor:
    if not execute:
        return DryRunExecutor()
    if not enm_url:
        raise InvalidInputError("--execute needs --enm-url")
    user, password = (
        os.environ.get("OPSFORGE_ENM_USERNAME"),
        os.environ.get("OPSFORGE_ENM_PASSWORD"),
    )
    if not user or not password:
        raise AuthenticationError(
            "set OPSFORGE_ENM_USERNAME and OPSFORGE_ENM_PASSWORD in the environment"
        )
    return EnmRestExecutor(enm_url, user, password)


def _report(report: ExecutionReport, path: Path | None, as_json: bool) -> None:
    if path is not None:
        io.write_report(report, path)
    if as_json:
        typer.echo(report.model_dump_json())
        return
    for step in report.steps:
        typer.echo(f"{'ok ' if step.ok else 'ERR'} {step.command}")
    for step in report.rollback_steps:
        typer.echo(f"rollback {'ok ' if step.ok else 'ERR'} {step.command}")
    typer.echo(f"status: {report.status}" + (f" ({report.error})" if report.error else ""))


@app.command()
def apply(
    plan_file: Annotated[Path, typer.Argument(help="Plan JSON.")],
    execute: Annotated[
        bool, typer.Option("--execute/--dry-run", help="Run on ENM or only print.")
    ] = False,
    enm_url: Annotated[str | None, typer.Option(help="ENM URL (with --execute).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the execution report JSON.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply a plan with monitoring; on the first error, roll back what was applied."""
    with _errors(as_json):
        loaded = io.read_plan(plan_file)
        executor = _executor(execute, enm_url)
        try:
            result = execute_plan(loaded, executor, dry_run=not execute)
        finally:
            if isinstance(executor, EnmRestExecutor):
                executor.close()
        _report(result, report, as_json)
        if result.status in ("rolled_back", "rollback_failed"):
            raise typer.Exit(8)


@app.command()
def rollback(
    plan_file: Annotated[Path, typer.Argument(help="Plan JSON (or an execution report).")],
    execute: Annotated[bool, typer.Option("--execute/--dry-run")] = False,
    enm_url: Annotated[str | None, typer.Option(help="ENM URL (with --execute).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a plan's rollback commands (or those of an execution report)."""
    with _errors(as_json):
        data = json.loads(plan_file.read_text(encoding="utf-8")) if plan_file.is_file() else {}
        if "status" in data:
            commands = io.read_report(plan_file).rollback_commands
        else:
            loaded = io.read_plan(plan_file)
            if not loaded.rollback_complete:
                raise InvalidInputError(
                    f"{plan_file}: planned without current values; roll back from the report "
                    "that 'apply --report' wrote"
                )
            commands = loaded.rollback
        executor = _executor(execute, enm_url)
        try:
            steps = execute_commands(executor, commands)
        finally:
            if isinstance(executor, EnmRestExecutor):
                executor.close()
        failed = next((s for s in steps if not s.ok), None)
        status: Literal["dry_run", "succeeded", "rollback_failed"] = (
            "dry_run" if not execute else ("succeeded" if failed is None else "rollback_failed")
        )
        _report(
            ExecutionReport(
                status=status,
                steps=steps,
                error=failed.output if failed else None,
            ),
            None,
            as_json,
        )
        if failed is not None:
            raise typer.Exit(8)


@app.command()
def docs(
    mom_files: Annotated[list[Path], typer.Argument(help="MOM XML file(s).")],
    out_file: Annotated[Path, typer.Option("--out", help="Markdown file.")],
    classes: Annotated[list[str], typer.Option("--class", help="Only these classes.")] = [],  # noqa: B006
) -> None:
    """Write Markdown reference docs generated from the model."""
    with _errors(False):
        mom = io.read_mom(mom_files)
        out_file.write_text(render_reference(mom, classes or None), encoding="utf-8")
        typer.echo(f"{out_file}: {len(classes) or len(mom.classes)} classes")
