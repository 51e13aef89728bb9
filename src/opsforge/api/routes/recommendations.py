"""The RAN optimizer's endpoints, at seed 000's paths.

- ``POST /api/v1/recommendations/run``: multipart upload of ``grid`` and ``gis`` files (or ids
  of artifacts uploaded with earlier runs of the same tenant: ``grid_artifact_id``,
  ``gis_artifact_id``), ``operator``/``region`` (used as the operator config when ``params``
  has none) and ``params`` (JSON of ``ran.recommend``'s request). Submits a ``ran.recommend``
  run (202).
- ``GET /api/v1/recommendations/{run_id}/status`` and ``/results`` (rows of the run's
  ``recommendations.json``, paginated by cursor).
- ``GET /api/v1/recommendations/{run_id}/changes?baseline=<run_id>``: what changed since an
  earlier run (``opsforge ran compare``: verdicts on the baseline's proposals, alerts on cells
  that changed by themselves), paginated by cursor, optionally one ``verdict`` only.
- ``GET /api/v1/cells/{cell_id}/recommendations``: the cell's history across the tenant's runs.

Proposals: the first time the results of a succeeded run are read, each recommendation row
becomes a review proposal (engine ``ran``, subject = cell id, kind = the issue, payload = the
row) through :func:`ensure_proposals`. It is idempotent at the database level (deterministic
proposal ids inserted with ``ON CONFLICT DO NOTHING``, one transaction per run: see
:meth:`ReviewService.propose_many`), so concurrent first reads in any number of processes create
each proposal once, without locks; later reads cost one count query.
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import tempfile
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from opsforge.api.deps import AppState, Engineer, StateDep, Viewer
from opsforge.api.errors import responses
from opsforge.api.routes.runs import resolve_tenant, stage_artifact_inputs, submit_run
from opsforge.core.errors import ConflictError, DataQualityError, InvalidInputError, NotFoundError
from opsforge.core.jobs.schemas import RunError, RunPublic, RunStatus
from opsforge.core.reviews import ProposalPublic, proposal_id_for
from opsforge.core.storage.models import Proposal

__all__ = ["ensure_proposals", "read_output", "router"]

router = APIRouter(prefix="/api/v1", tags=["recommendations"])
_RESULTS_FILE = "recommendations.json"


class RecommendationRunResponse(BaseModel):
    run_id: str
    status: RunStatus
    created_at: datetime


class RecommendationStatus(BaseModel):
    run_id: str
    status: RunStatus
    progress_fraction: float = Field(description="Share of the work done. [1]")
    progress_message: str
    error: RunError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None


class RecommendationPage(BaseModel):
    run_id: str
    num_recommendations: int
    items: list[dict[str, Any]]
    next_cursor: str | None = None


def _ran_run(state: AppState, run_id: str, tenant_ids: list[str] | None) -> RunPublic:
    run = state.runs.get(run_id, tenant_ids=tenant_ids)
    if (run.engine, run.kind) != ("ran", "recommend"):
        raise InvalidInputError(
            f"run {run_id} is a {run.engine}.{run.kind} run, not ran.recommend", run_id=run_id
        )
    return run


_MAX_FILENAME_CHARS = 100


def safe_upload_filename(raw: str | None, default: str) -> str:
    """A client's upload filename reduced to a harmless base name (``default`` if none is left).

    Keeps letters, digits, ``.``, ``_`` and ``-`` of the last path component (``/`` or ``\\``),
    refuses ``.``/``..`` and keeps at most 100 characters (the extension is kept), so the name
    can neither leave the staging folder nor fail the file system or the artifact key check.
    """
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in base)
    if not cleaned.strip("."):
        return default
    if len(cleaned) > _MAX_FILENAME_CHARS:
        stem, dot, suffix = cleaned.rpartition(".")
        ending = "." + suffix[:16] if dot and stem else ""
        cleaned = cleaned[: _MAX_FILENAME_CHARS - len(ending)] + ending
    return cleaned


def _save_upload(upload: UploadFile, folder: Path, name: str) -> Path:
    filename = safe_upload_filename(upload.filename, name)
    target = folder / name / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1024 * 1024)
    return target


@router.post(
    "/recommendations/run",
    response_model=RecommendationRunResponse,
    status_code=202,
    summary="Start a RAN recommendation run",
    responses=responses(401, 403, 404, 413, 422, 429),
)
def run_recommendations(
    request: Request,
    state: StateDep,
    principal: Engineer,
    grid: Annotated[UploadFile | None, File(description="Grid measurements (CSV/Parquet).")] = None,
    gis: Annotated[UploadFile | None, File(description="Cell inventory (CSV).")] = None,
    grid_artifact_id: Annotated[str | None, Form(max_length=36)] = None,
    gis_artifact_id: Annotated[str | None, Form(max_length=36)] = None,
    operator: Annotated[str | None, Form(max_length=100)] = None,
    region: Annotated[str | None, Form(max_length=100)] = None,
    params: Annotated[str, Form(max_length=1_000_000, description="JSON request.")] = "{}",
    tenant: Annotated[str | None, Form(max_length=64)] = None,
) -> RecommendationRunResponse:
    """Upload (or reference) grid and GIS files and queue ``ran.recommend`` (202)."""
    try:
        request_params = json.loads(params)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"params is not valid JSON: {exc.msg}", field="params") from exc
    except RecursionError as exc:
        raise InvalidInputError("params is nested too deeply", field="params") from exc
    if not isinstance(request_params, dict):
        raise InvalidInputError("params must be a JSON object", field="params")
    if operator and region and "operator_config" not in request_params:
        request_params["operator_config"] = {"operator": operator, "region": region}
    chosen = resolve_tenant(principal, tenant)
    request.state.audit_tenant = chosen
    references = {k: v for k, v in (("grid", grid_artifact_id), ("gis", gis_artifact_id)) if v}
    uploads = {k: v for k, v in (("grid", grid), ("gis", gis)) if v is not None}
    for name in ("grid", "gis"):
        if (name in references) == (name in uploads):
            raise InvalidInputError(
                f"give exactly one of the file {name!r} or {name}_artifact_id", field=name
            )
    with ExitStack() as stack:
        inputs = stage_artifact_inputs(state, references, chosen, stack)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="opsforge-up-")))
        for name, upload in uploads.items():
            inputs[name] = _save_upload(upload, folder, name)
        run = submit_run(
            state,
            principal,
            engine="ran",
            kind="recommend",
            tenant=chosen,
            params=request_params,
            inputs=inputs,
        )
    request.state.audit_target = f"run={run.id}"
    return RecommendationRunResponse(run_id=run.id, status=run.status, created_at=run.created_at)


@router.get(
    "/recommendations/{run_id}/status",
    response_model=RecommendationStatus,
    summary="Status of a recommendation run",
    responses=responses(401, 403, 404, 422, 429),
)
def recommendation_status(run_id: str, state: StateDep, principal: Viewer) -> RecommendationStatus:
    """Status, progress and, once finished, the run's summary."""
    run = _ran_run(state, run_id, principal.tenant_ids("viewer"))
    return RecommendationStatus(
        run_id=run.id,
        status=run.status,
        progress_fraction=run.progress_fraction,
        progress_message=run.progress_message,
        error=run.error,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        result=run.result,
    )


def read_output(state: AppState, run: RunPublic, name: str) -> bytes:
    """The bytes of a succeeded run's output artifact ``name``.

    Raises
    ------
    ConflictError
        The run has not succeeded (yet) or wrote no such file.
    """
    if run.status != RunStatus.SUCCEEDED:
        raise ConflictError(
            f"run {run.id} is {run.status.value}; results exist once it succeeded",
            run_id=run.id,
            status=run.status.value,
        )
    artifacts = state.runs.list_artifacts(run.id, tenant_ids=[run.tenant_id])
    match = [a for a in artifacts if a.role.value == "output" and a.name == name]
    if not match:
        raise ConflictError(f"run {run.id} wrote no {name}", run_id=run.id)
    _, handle = state.runs.open_artifact(run.id, match[0].id, tenant_ids=[run.tenant_id])
    with handle:
        return handle.read()


def read_recommendation_rows(state: AppState, run: RunPublic) -> list[dict[str, Any]]:
    """Rows of the run's ``recommendations.json`` output.

    Raises
    ------
    ConflictError
        The run has not succeeded (yet) or wrote no recommendations file.
    DataQualityError
        The file is not the expected JSON document.
    """
    content = read_output(state, run, _RESULTS_FILE)
    try:
        doc = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataQualityError(f"{_RESULTS_FILE} of run {run.id} is not JSON: {exc}") from exc
    rows = doc.get("recommendations") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DataQualityError(
            f"{_RESULTS_FILE} of run {run.id}: expected a list of objects under 'recommendations'"
        )
    return rows


def _count_proposals(state: AppState, run_id: str) -> int:
    with state.database.session() as session:
        return int(session.scalar(select(func.count()).where(Proposal.run_id == run_id)) or 0)


def ensure_proposals(state: AppState, run: RunPublic, rows: list[dict[str, Any]]) -> int:
    """Create one review proposal per recommendation row, once per run; returns how many exist.

    Engine ``ran``, subject = the row's ``cell_id``, kind = its ``issue``, payload = the row.
    All of a run's proposals are created in one transaction, so any count above zero means all
    of them exist.
    """
    if not rows:
        return 0
    existing = _count_proposals(state, run.id)
    if existing:
        return existing
    state.reviews.propose_many(
        run.id,
        run.tenant_id,
        "ran",
        (
            (str(row.get("cell_id", "")), str(row.get("issue") or "recommendation"), row)
            for row in rows
        ),
        actor=f"run:{run.id}",
        reason="recommended by the RAN optimizer",
    )
    return _count_proposals(state, run.id)


def _decode_offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"invalid cursor {cursor[:40]!r}", field="cursor") from exc
    if value < 0:
        raise InvalidInputError(f"invalid cursor {cursor[:40]!r}", field="cursor")
    return value


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


@router.get(
    "/recommendations/{run_id}/results",
    response_model=RecommendationPage,
    summary="Recommendations of a finished run (paginated)",
    responses=responses(401, 403, 404, 409, 422, 429),
)
def recommendation_results(
    run_id: str,
    state: StateDep,
    principal: Viewer,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RecommendationPage:
    """Rows of ``recommendations.json``; also files them as review proposals on first read."""
    run = _ran_run(state, run_id, principal.tenant_ids("viewer"))
    rows = read_recommendation_rows(state, run)
    ensure_proposals(state, run, rows)
    offset = _decode_offset(cursor)
    page = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    return RecommendationPage(
        run_id=run.id,
        num_recommendations=len(rows),
        items=page,
        next_cursor=_encode_offset(offset + limit) if more else None,
    )


class ChangePage(BaseModel):
    run_id: str
    baseline_run_id: str
    counts_per_verdict: dict[str, int] = Field(description="Cells per verdict (all pages).")
    num_changes: int
    params_differ: bool = Field(
        description="The two runs were submitted with different detector parameters or operator "
        "files: overshooting-bin counts and flags depend on them."
    )
    items: list[dict[str, Any]] = Field(
        description="Rows of changes.csv (docs/engines/ran.md), plus baseline_proposal_id and "
        "baseline_review_status: the review proposal the baseline run filed for the cell, to "
        "verify or roll back with POST /api/v1/proposals/{id}/transition."
    )
    next_cursor: str | None = None


@router.get(
    "/recommendations/{run_id}/changes",
    response_model=ChangePage,
    summary="What changed since a baseline run (verification and alerts)",
    responses=responses(401, 403, 404, 409, 422, 429),
)
def recommendation_changes(
    run_id: str,
    state: StateDep,
    principal: Viewer,
    baseline: Annotated[str, Query(max_length=64, description="The earlier run's id.")],
    verdict: Annotated[str | None, Query(max_length=40, description="Only this verdict.")] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangePage:
    """``opsforge ran compare`` between the run ``baseline`` (before) and this run (after): did
    the baseline's proposals work, which cells changed by themselves. Both runs must be
    succeeded ``ran.recommend`` runs of one tenant that wrote ``cell_stats.csv``."""
    import polars as pl

    from opsforge.engines.ran.changes import VERDICTS, compare_runs
    from opsforge.engines.ran.exports import read_cell_stats_csv
    from opsforge.engines.ran.model import RECOMMENDATION_SCHEMA
    from opsforge.engines.ran.params import ChangeParams

    if verdict is not None and verdict not in VERDICTS:
        raise InvalidInputError(
            f"unknown verdict {verdict!r}; one of {list(VERDICTS)}", field="verdict"
        )
    visible = principal.tenant_ids("viewer")
    after = _ran_run(state, run_id, visible)
    before = _ran_run(state, baseline, visible)
    if before.tenant_id != after.tenant_id:
        raise InvalidInputError(
            f"runs {baseline} and {run_id} belong to different tenants", field="baseline"
        )
    if before.id == after.id:
        raise InvalidInputError("baseline is the run itself", field="baseline")
    frames = []
    for run in (before, after):
        content = read_output(state, run, "cell_stats.csv")
        stats = read_cell_stats_csv(Path(f"run {run.id}: cell_stats.csv"), content)
        rows = read_recommendation_rows(state, run)
        if run is before:  # the proposals each row points at
            ensure_proposals(state, before, rows)
        recs = (
            pl.DataFrame(rows, schema=RECOMMENDATION_SCHEMA)
            if rows
            else pl.DataFrame(schema=RECOMMENDATION_SCHEMA)
        )
        frames.append((stats, recs))
    (stats_b, recs_b), (stats_a, recs_a) = frames
    changes = compare_runs(stats_b, stats_a, recs_b, recs_a, ChangeParams())
    counts = {v: int((changes["verdict"] == v).sum()) for v in VERDICTS}
    if verdict is not None:
        changes = changes.filter(pl.col("verdict") == verdict)
    offset = _decode_offset(cursor)
    page = changes.slice(offset, limit).to_dicts()
    for row in page:  # the baseline's proposal, to verify or roll back with its evidence here
        row["baseline_proposal_id"] = row["baseline_review_status"] = None
        if row["previous_issue"] is not None:
            pid = proposal_id_for(before.id, "ran", str(row["cell_id"]), row["previous_issue"])
            try:
                proposal = state.reviews.get(pid, tenant_ids=[before.tenant_id])
            except NotFoundError:
                continue
            row["baseline_proposal_id"] = proposal.id
            row["baseline_review_status"] = proposal.status.value
    more = offset + limit < changes.height
    return ChangePage(
        run_id=after.id,
        baseline_run_id=before.id,
        counts_per_verdict=counts,
        num_changes=changes.height,
        params_differ=any(
            before.params.get(key) != after.params.get(key) for key in ("params", "operator_config")
        ),
        items=page,
        next_cursor=_encode_offset(offset + limit) if more else None,
    )


@router.get(
    "/cells/{cell_id}/recommendations",
    response_model=list[ProposalPublic],
    summary="A cell's recommendation history across runs",
    responses=responses(401, 403, 422, 429),
)
def cell_recommendations(
    cell_id: Annotated[str, PathParam(max_length=200)],
    state: StateDep,
    principal: Viewer,
    tenant: Annotated[str | None, Query(max_length=64)] = None,
) -> list[ProposalPublic]:
    """Proposals of engine ``ran`` for this cell in the caller's tenants, newest first."""
    visible = principal.tenant_ids("viewer")
    if tenant is not None:
        visible = [tenant] if visible is None or tenant in visible else []
    if visible is not None and not visible:
        return []
    return state.reviews.list_for_subject(visible, "ran", cell_id)
