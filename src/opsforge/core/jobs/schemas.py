"""Public shapes of runs and artifacts: what the API returns and the CLI prints.

These models are the read side of :class:`opsforge.core.storage.models.Run` and
:class:`~opsforge.core.storage.models.Artifact`; they round-trip to JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Row

from opsforge.core.storage.models import Artifact, Run

__all__ = [
    "FINISHED_STATUSES",
    "ArtifactPublic",
    "ArtifactRole",
    "Page",
    "RunError",
    "RunPublic",
    "RunStatus",
    "as_utc",
]


class RunStatus(StrEnum):
    """Lifecycle of a run: queued -> running -> succeeded | failed | cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: Statuses a run never leaves.
FINISHED_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})


class ArtifactRole(StrEnum):
    """An artifact is an input given at submission or an output written by the job."""

    INPUT = "input"
    OUTPUT = "output"


class RunError(BaseModel):
    """Why a run failed: a stable ``code`` (``invalid_input``, ``worker_lost``, ...) and a text."""

    model_config = ConfigDict(frozen=True)

    code: str
    detail: str


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every timestamp we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class RunPublic(BaseModel):
    """A run as the API and CLI show it.

    Attributes
    ----------
    progress_fraction
        Share of the work done. [1]
    attempts
        How many times a worker claimed the run (1 normally; more after a worker was lost).
    lineage
        The run's lineage manifest (also its ``manifest.json`` output artifact), once it ran.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    engine: str
    kind: str
    tenant_id: str
    status: RunStatus
    params: dict[str, Any]
    result: dict[str, Any] | None
    metrics: dict[str, Any]
    progress_fraction: float
    progress_message: str
    error: RunError | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    max_attempts: int
    cancel_requested: bool
    lineage: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        """True once the run reached succeeded, failed or cancelled."""
        return self.status in FINISHED_STATUSES

    @classmethod
    def from_row(cls, row: Run | Row[*tuple[Any, ...]]) -> RunPublic:
        """Build from an ORM row or a Core row of the ``runs`` table."""
        error = (
            RunError(code=row.error_code, detail=row.error_detail or "") if row.error_code else None
        )
        created_at = as_utc(row.created_at)
        assert created_at is not None
        updated_at = as_utc(row.updated_at) or created_at
        return cls(
            id=row.id,
            engine=row.engine,
            kind=row.kind,
            tenant_id=row.tenant_id,
            status=RunStatus(row.status),
            params=dict(row.params or {}),
            result=row.result,
            metrics=dict(row.metrics or {}),
            progress_fraction=row.progress_fraction,
            progress_message=row.progress_message,
            error=error,
            created_by=row.created_by,
            created_at=created_at,
            updated_at=updated_at,
            started_at=as_utc(row.started_at),
            finished_at=as_utc(row.finished_at),
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            cancel_requested=row.cancel_requested,
            lineage=row.lineage,
        )


class ArtifactPublic(BaseModel):
    """A file of a run. ``size_bytes`` in [B]; ``sha256`` hex of the content."""

    model_config = ConfigDict(frozen=True)

    id: str
    run_id: str
    role: ArtifactRole
    name: str
    size_bytes: int
    sha256: str
    media_type: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Artifact) -> ArtifactPublic:
        """Build from an ORM row."""
        created_at = as_utc(row.created_at)
        assert created_at is not None
        return cls(
            id=row.id,
            run_id=row.run_id,
            role=ArtifactRole(row.role),
            name=row.name,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            media_type=row.media_type,
            created_at=created_at,
        )


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; pass ``next_cursor`` back to get the next one (None: last page)."""

    items: list[ItemT]
    next_cursor: str | None = None
