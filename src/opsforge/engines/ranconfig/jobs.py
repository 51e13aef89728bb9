"""Job kinds of the ranconfig engine: ``ranconfig.validate`` and ``ranconfig.plan``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from opsforge.core.errors import InvalidInputError, NotFoundError
from opsforge.core.kinds import JobKind, RunContext
from opsforge.engines.ranconfig import io
from opsforge.engines.ranconfig.loader import compile_models
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.plan import build_plan
from opsforge.engines.ranconfig.rules import Rule, check_rules
from opsforge.engines.ranconfig.templates import (
    TemplateIssue,
    resolve_template,
    validate_document,
    validate_template,
)

__all__ = ["JOB_KINDS", "PlanRequest", "PlanResult", "ValidateRequest", "ValidateResult"]


class ValidateRequest(BaseModel):
    """Validate a template.

    Inputs: ``mom`` (MOM XML), ``template`` (.json/.yaml/.toml), ``rules`` (rules CSV; a file
    with the header only means no rules).
    """

    variant: str | None = Field(default=None, description="Only this variant; all when empty.")


class ValidateResult(BaseModel):
    """Every issue per template variant."""

    valid: bool
    num_issues: int
    issues: dict[str, list[TemplateIssue]]


class PlanRequest(BaseModel):
    """Plan a template on a scope.

    Inputs: ``mom``, ``template``, ``scope`` (CM export .json/.xml Bulk CM/cmedit text, or an FDN
    list), ``rules`` (rules CSV; header only means no rules).
    """

    variant: str | None = None
    batch_size: int = Field(default=50, ge=1, le=10_000)


class PlanResult(BaseModel):
    """The plan's figures; the plan itself is the output artifact ``plan.json``."""

    num_commands: int
    num_rollback_commands: int
    rollback_complete: bool
    num_batches: int
    commands: list[str]
    plan_file: str = "plan.json"


def _rules(ctx: RunContext, mom: Mom) -> list[Rule]:
    try:
        path = ctx.input_path("rules")
    except NotFoundError:
        return []
    return check_rules(io.read_rules(path), mom)


def run_validate(request: ValidateRequest, ctx: RunContext) -> ValidateResult:
    """Validate the template document (or one variant) against model and rules."""
    with ctx.stage("parse"):
        mom = io.read_mom(ctx.input_path("mom"), keep_descriptions=False)
        doc = io.read_template(ctx.input_path("template"))
        rules = _rules(ctx, mom)
    ctx.progress(0.4, "model parsed")
    with ctx.stage("validate"):
        models = compile_models(mom)
        if request.variant is None:
            issues = validate_document(doc, models, rules)
        else:
            template = resolve_template(doc, request.variant)
            issues = {template.name: validate_template(template, models, rules)}
    ctx.progress(1.0, "validated")
    count = sum(len(v) for v in issues.values())
    return ValidateResult(valid=count == 0, num_issues=count, issues=issues)


def run_plan(request: PlanRequest, ctx: RunContext) -> PlanResult:
    """Validate the template, plan it on the scope, write ``plan.json``."""
    with ctx.stage("parse"):
        mom = io.read_mom(ctx.input_path("mom"), keep_descriptions=False)
        doc = io.read_template(ctx.input_path("template"))
        scope = io.read_scope(ctx.input_path("scope"), mom)
        rules = _rules(ctx, mom)
    ctx.progress(0.3, "inputs read")
    with ctx.stage("validate"):
        template = resolve_template(doc, request.variant)
        issues = validate_template(template, compile_models(mom), rules)
    if issues:
        raise InvalidInputError(
            f"template {template.name!r} has {len(issues)} issue(s); first: {issues[0].message}",
            issues=[i.model_dump(mode="json") for i in issues],
        )
    ctx.progress(0.6, "template valid")
    with ctx.stage("plan"):
        plan = build_plan(template, scope, mom, rules=rules, batch_size=request.batch_size)
        io.write_plan(plan, ctx.workdir / "plan.json")
    ctx.progress(1.0, "planned")
    return PlanResult(
        num_commands=len(plan.commands),
        num_rollback_commands=len(plan.rollback),
        rollback_complete=plan.rollback_complete,
        num_batches=len(plan.batches()),
        commands=plan.render(),
    )


JOB_KINDS: tuple[JobKind[BaseModel, BaseModel], ...] = (
    JobKind(
        engine="ranconfig",
        kind="validate",
        request_model=ValidateRequest,
        result_model=ValidateResult,
        run=run_validate,  # type: ignore[arg-type]
        input_names=("mom", "template", "rules"),
        description="Validate a parameter template against the MOM and CSV rules.",
    ),
    JobKind(
        engine="ranconfig",
        kind="plan",
        request_model=PlanRequest,
        result_model=PlanResult,
        run=run_plan,  # type: ignore[arg-type]
        input_names=("mom", "template", "scope", "rules"),
        description="Turn a validated template and a scope into an ordered cmedit plan.",
    ),
)
