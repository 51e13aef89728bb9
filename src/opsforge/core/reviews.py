"""Review of what engines propose: proposed -> accepted | rejected -> applied -> verified |
rolled_back, with who and why for every step.

Each transition is a guarded UPDATE (``WHERE status = <from>``) plus a :class:`ReviewEvent`
row in the same transaction, so two reviewers racing cannot both move a proposal.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update

from opsforge.core.errors import ConflictError, InvalidInputError, NotFoundError
from opsforge.core.jobs.schemas import as_utc
from opsforge.core.logging import get_logger
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Proposal, ReviewEvent, Run, utcnow

__all__ = [
    "TRANSITIONS",
    "ProposalPublic",
    "ProposalStatus",
    "ReviewEventPublic",
    "ReviewService",
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
    ) -> ProposalPublic:
        """Record a proposal of run ``run_id`` about ``subject`` (a cell, a node, a job).

        Raises
        ------
        NotFoundError
            The run does not exist or belongs to another tenant.
        """
        now = utcnow()
        with self.database.session() as session:
            run = session.get(Run, run_id)
            if run is None or run.tenant_id != tenant_id:
                raise NotFoundError(f"run {run_id} does not exist", run_id=run_id)
            row = Proposal(
                run_id=run_id,
                tenant_id=tenant_id,
                engine=engine,
                subject=subject,
                kind=kind,
                payload=dict(payload),
                status=ProposalStatus.PROPOSED.value,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            session.add(
                ReviewEvent(
                    proposal_id=row.id,
                    from_status=CREATED,
                    to_status=ProposalStatus.PROPOSED.value,
                    actor=actor or f"run:{run_id}",
                    reason=reason,
                    at=now,
                )
            )
            public = ProposalPublic.from_row(row)
        log.info("proposal_created", proposal_id=public.id, subject=subject, engine=engine)
        return public

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
