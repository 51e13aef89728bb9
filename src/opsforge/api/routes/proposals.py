"""The review lifecycle of engine proposals: read one with its history, move it.

proposed -> accepted | rejected -> applied -> verified | rolled_back. Moving needs the engineer
role in the proposal's tenant; a proposal of another tenant is 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from opsforge.api.deps import Engineer, StateDep, Viewer
from opsforge.api.errors import responses
from opsforge.core.reviews import ProposalPublic, ProposalStatus, ReviewEventPublic

__all__ = ["ProposalDetail", "TransitionRequest", "router"]

router = APIRouter(prefix="/api/v1/proposals", tags=["proposals"])


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_status: ProposalStatus
    reason: str = Field("", max_length=4000, description="Why, for the record.")


class ProposalDetail(ProposalPublic):
    history: list[ReviewEventPublic] = Field(description="Every step, oldest first.")


@router.get(
    "/{proposal_id}",
    response_model=ProposalDetail,
    summary="A proposal with its review history",
    responses=responses(401, 403, 404, 422, 429),
)
def get_proposal(proposal_id: str, state: StateDep, principal: Viewer) -> ProposalDetail:
    """The proposal and every step of its review."""
    tenants = principal.tenant_ids("viewer")
    proposal = state.reviews.get(proposal_id, tenant_ids=tenants)
    history = state.reviews.history(proposal_id, tenant_ids=tenants)
    return ProposalDetail(**proposal.model_dump(), history=history)


@router.post(
    "/{proposal_id}/transition",
    response_model=ProposalDetail,
    summary="Move a proposal (accept, reject, apply, verify, roll back)",
    responses=responses(401, 403, 404, 409, 413, 422, 429),
)
def transition_proposal(
    request: Request,
    proposal_id: str,
    body: TransitionRequest,
    state: StateDep,
    principal: Engineer,
) -> ProposalDetail:
    """Record a review step with who and why (409 when the move is not allowed)."""
    current = state.reviews.get(proposal_id, tenant_ids=principal.tenant_ids("viewer"))
    request.state.audit_tenant = current.tenant_id
    request.state.audit_detail = {"from": current.status.value, "to": body.to_status.value}
    principal.require(current.tenant_id, "engineer")
    moved = state.reviews.transition(
        proposal_id,
        body.to_status,
        actor=principal.actor,
        reason=body.reason,
        tenant_ids=[current.tenant_id],
    )
    history = state.reviews.history(proposal_id, tenant_ids=[current.tenant_id])
    return ProposalDetail(**moved.model_dump(), history=history)
