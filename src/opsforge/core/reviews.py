"""Review of what engines propose: proposed -> accepted | rejected -> applied -> verified |
rolled_back, with who and why for every step.

Each transition is a guarded UPDATE (``WHERE status = <from>``) plus a :class:`ReviewEvent`
row in the same transaction, so two reviewers racing cannot both move a proposal.

Creation is idempotent at the database level when the caller names the proposal: an engine's
proposals get a deterministic id (:func:`proposal_id_for`, a UUIDv5 of run, engine, subject, kind
and the occurrence number of that pair in the run's output) and are inserted with
``INSERT ... ON CONFLICT (id) DO NOTHING``, so concurrent first readers in any number of
processes create each proposal (and its creation event) exactly once, without locks.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from opsforge.core.errors import ConflictError, InvalidInputError, NotFoundError
from opsforge.core.jobs.schemas import as_utc
from opsforge.core.logging import get_logger
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Proposal, ReviewEvent, Run, new_id, utcnow

__all__ = [
    "TRANSITIONS",
    "ProposalPublic",
    "ProposalStatus",
    "ReviewEventPublic",
    "ReviewService",
    "proposal_id_for",
]

log = get_logger(__name__)


class ProposalStatus(StrEnum):
    """Lifecycle of a proposal."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    APPLIED = "applied"
    VERIFIED = "verified"
    ROLLED_BACK = "rolled_back"


#: Allowed moves: from -> the statuses it may go to.
TRANSITIONS: Mapping[ProposalStatus, frozenset[ProposalStatus]] = {
    ProposalStatus.PROPOSED: frozenset({ProposalStatus.ACCEPTED, ProposalStatus.REJECTED}),
    ProposalStatus.ACCEPTED: frozenset({ProposalStatus.APPLIED}),
    ProposalStatus.REJECTED: frozenset(),
    ProposalStatus.APPLIED: frozenset({ProposalStatus.VERIFIED, ProposalStatus.ROLLED_BACK}),
    ProposalStatus.VERIFIED: frozenset(),
    ProposalStatus.ROLLED_BACK: frozenset(),
}

#: ``from_status`` of the event that records the creation of a proposal.
CREATED = "none"

#: Namespace of deterministic proposal ids (UUIDv5).
_PROPOSAL_NAMESPACE = uuid.UUID("6f0e6a52-3c1e-5b8e-9a57-0b1d5c2f7e41")


def proposal_id_for(run_id: str, engine: str, subject: str, kind: str, occurrence: int = 0) -> str:
    """Deterministic id of the ``occurrence``-th proposal of ``kind`` about ``subject`` of a run.

    The same run output always yields the same ids, which makes creating them idempotent.
    """
    name = "\x1f".join((run_id, engine, subject, kind, str(occurrence)))
    return str(uuid.uuid5(_PROPOSAL_NAMESPACE, name))


class ProposalPublic(BaseModel):
    """A proposal as the API shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    run_id: str
    tenant_id: str
    engine: str
    subject: str
    kind: str
    payload: dict[str, Any]
    status: ProposalStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Proposal) -> ProposalPublic:
        """Build from an ORM row."""
        created_at = as_utc(row.created_at)
        assert created_at is not None
        return cls(
            id=row.id,
            run_id=row.run_id,
            tenant_id=row.tenant_id,
            engine=row.engine,
            subject=row.subject,
            kind=row.kind,
            payload=dict(row.payload or {}),
            status=ProposalStatus(row.status),
            created_at=created_at,
            updated_at=as_utc(row.updated_at) or created_at,
        )


class ReviewEventPublic(BaseModel):
    """One step of a proposal's history (``from_status`` is ``none`` for its creation)."""

    model_config = ConfigDict(frozen=True)

    id: str
    proposal_id: str
    from_status: str
    to_status: ProposalStatus
    actor: str
    reason: str
    at: datetime


class ReviewService:
    """Propose, review and trace engine proposals.

    Parameters
    ----------
    database
        Where proposals and their events are stored.
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    def propose(
        self,
        run_id: str,
        tenant_id: str,
        engine: str,
        subject: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        actor: str | None = None,
        reason: str = "",
        proposal_id: str | None = None,
    ) -> ProposalPublic:
        """Record a proposal of run ``run_id`` about ``subject`` (a cell, a node, a job).

        With ``proposal_id`` the call is idempotent: when that proposal exists already (created
        by this or a concurrent call in any process) it is returned unchanged.

        Raises
        ------
        NotFoundError
            The run does not exist or belongs to another tenant.
        ConflictError
            ``proposal_id`` exists for another run.
        """
        pid = proposal_id or new_id()
        with self.database.session() as session:
            self._check_run(session, run_id, tenant_id)
            created = self._insert(
                session, pid, run_id, tenant_id, engine, subject, kind, payload, actor, reason
            )
            row = session.get(Proposal, pid)
            assert row is not None
            if row.run_id != run_id:
                raise ConflictError(
                    f"proposal {pid} exists for run {row.run_id}, not {run_id}", proposal_id=pid
                )
            public = ProposalPublic.from_row(row)
        if created:
            log.info("proposal_created", proposal_id=pid, subject=subject, engine=engine)
        return public

    def propose_many(
        self,
        run_id: str,
        tenant_id: str,
        engine: str,
        items: Iterable[tuple[str, str, Mapping[str, Any]]],
        *,
        actor: str | None = None,
        reason: str = "",
    ) -> int:
        """Record a run's proposals ``(subject, kind, payload)`` in one transaction, idempotently.

        Ids come from :func:`proposal_id_for` (the n-th item with the same subject and kind gets
        occurrence n), so calling this again, concurrently or not, creates nothing twice.
        Returns how many proposals this call created.

        Raises
        ------
        NotFoundError
            The run does not exist or belongs to another tenant.
        """
        seen: dict[tuple[str, str], int] = {}
        created = 0
        with self.database.session() as session:
            self._check_run(session, run_id, tenant_id)
            for subject, kind, payload in items:
                occurrence = seen.get((subject, kind), 0)
                seen[(subject, kind)] = occurrence + 1
                pid = proposal_id_for(run_id, engine, subject, kind, occurrence)
                created += self._insert(
                    session, pid, run_id, tenant_id, engine, subject, kind, payload, actor, reason
                )
        log.info("proposals_created", run_id=run_id, engine=engine, created=created)
        return created

    @staticmethod
    def _check_run(session: Session, run_id: str, tenant_id: str) -> None:
        owner = session.scalar(select(Run.tenant_id).where(Run.id == run_id))
        if owner is None or owner != tenant_id:
            raise NotFoundError(f"run {run_id} does not exist", run_id=run_id)

    def _insert(
        self,
        session: Session,
        proposal_id: str,
        run_id: str,
        tenant_id: str,
        engine: str,
        subject: str,
        kind: str,
        payload: Mapping[str, Any],
        actor: str | None,
        reason: str,
    ) -> int:
        """Insert the proposal unless its id exists; add its creation event. 1 if inserted."""
        now = utcnow()
        values = {
            "id": proposal_id,
            "run_id": run_id,
            "tenant_id": tenant_id,
            "engine": engine,
            "subject": subject,
            "kind": kind,
            "payload": dict(payload),
            "status": ProposalStatus.PROPOSED.value,
            "created_at": now,
            "updated_at": now,
        }
        table = Proposal.__table__
        assert isinstance(table, Table)
        if self.database.dialect in ("postgresql", "sqlite"):
            dialect_insert = (
                postgresql.insert if self.database.dialect == "postgresql" else sqlite.insert
            )
            statement = (
                dialect_insert(table)
                .values(values)
                .on_conflict_do_nothing(index_elements=["id"])
                .returning(table.c.id)
            )
            # RETURNING tells whether this statement inserted (a rowcount is not reliable here)
            if session.execute(statement).first() is None:
                return 0
        else:  # no portable insert-or-ignore: look first (the primary key still refuses twins)
            if session.get(Proposal, proposal_id) is not None:
                return 0
            session.execute(insert(table).values(values))
        session.execute(
            insert(ReviewEvent).values(
                id=new_id(),
                proposal_id=proposal_id,
                from_status=CREATED,
                to_status=ProposalStatus.PROPOSED.value,
                actor=actor or f"run:{run_id}",
                reason=reason,
                at=now,
            )
        )
        return 1

    def _visible(self, proposal_id: str, tenant_ids: Collection[str] | None) -> ProposalPublic:
        with self.database.session() as session:
            row = session.get(Proposal, proposal_id)
            if row is None or (tenant_ids is not None and row.tenant_id not in tenant_ids):
                raise NotFoundError(
                    f"proposal {proposal_id} does not exist", proposal_id=proposal_id
                )
            return ProposalPublic.from_row(row)

    def get(self, proposal_id: str, *, tenant_ids: Collection[str] | None) -> ProposalPublic:
        """One proposal (another tenant's is not found)."""
        return self._visible(proposal_id, tenant_ids)

    def transition(
        self,
        proposal_id: str,
        to_status: ProposalStatus | str,
        *,
        actor: str,
        reason: str,
        tenant_ids: Collection[str] | None,
    ) -> ProposalPublic:
        """Move a proposal to ``to_status``, recording who and why.

        Raises
        ------
        NotFoundError
            No such proposal visible to ``tenant_ids``.
        InvalidInputError
            ``to_status`` is not a status.
        ConflictError
            The move is not allowed from the current status (the message names from and to),
            or another reviewer moved the proposal first.
        """
        try:
            target = ProposalStatus(to_status)
        except ValueError as exc:
            raise InvalidInputError(
                f"to_status must be one of {[s.value for s in ProposalStatus]}, got {to_status!r}",
                field="to_status",
            ) from exc
        current = self._visible(proposal_id, tenant_ids)
        if target not in TRANSITIONS[current.status]:
            allowed = sorted(s.value for s in TRANSITIONS[current.status])
            raise ConflictError(
                f"proposal {proposal_id} cannot go from {current.status.value} to "
                f"{target.value}; allowed from {current.status.value}: {allowed}",
                from_status=current.status.value,
                to_status=target.value,
            )
        now = utcnow()
        with self.database.session() as session:
            done = session.execute(
                update(Proposal)
                .where(Proposal.id == proposal_id, Proposal.status == current.status.value)
                .values(status=target.value, updated_at=now)
            )
            if int(getattr(done, "rowcount", 0)) != 1:
                raise ConflictError(
                    f"proposal {proposal_id} changed while moving from "
                    f"{current.status.value} to {target.value}; reload and retry",
                    from_status=current.status.value,
                    to_status=target.value,
                )
            session.add(
                ReviewEvent(
                    proposal_id=proposal_id,
                    from_status=current.status.value,
                    to_status=target.value,
                    actor=actor,
                    reason=reason,
                    at=now,
                )
            )
        log.info(
            "proposal_transitioned",
            proposal_id=proposal_id,
            from_status=current.status.value,
            to_status=target.value,
            actor=actor,
        )
        return self._visible(proposal_id, None)

    def history(
        self, proposal_id: str, *, tenant_ids: Collection[str] | None = None
    ) -> list[ReviewEventPublic]:
        """Every step of the proposal, oldest first."""
        self._visible(proposal_id, tenant_ids)
        with self.database.session() as session:
            rows = session.scalars(
                select(ReviewEvent)
                .where(ReviewEvent.proposal_id == proposal_id)
                .order_by(ReviewEvent.at, ReviewEvent.id)
            )
            return [
                ReviewEventPublic(
                    id=r.id,
                    proposal_id=r.proposal_id,
                    from_status=r.from_status,
                    to_status=ProposalStatus(r.to_status),
                    actor=r.actor,
                    reason=r.reason,
                    at=as_utc(r.at) or utcnow(),
                )
                for r in rows
            ]

    def list_for_subject(
        self, tenant_ids: Collection[str] | None, engine: str, subject: str
    ) -> list[ProposalPublic]:
        """Proposals about ``subject`` of ``engine``, newest first."""
        query = select(Proposal).where(Proposal.engine == engine, Proposal.subject == subject)
        if tenant_ids is not None:
            query = query.where(Proposal.tenant_id.in_(list(tenant_ids)))
        with self.database.session() as session:
            rows = session.scalars(query.order_by(Proposal.created_at.desc(), Proposal.id.desc()))
            return [ProposalPublic.from_row(r) for r in rows]
