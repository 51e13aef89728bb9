"""Review lifecycle: legal and illegal transitions, history, tenancy, races."""

from __future__ import annotations

import pytest

from opsforge.core.errors import ConflictError, InvalidInputError, NotFoundError
from opsforge.core.reviews import TRANSITIONS, ProposalStatus, ReviewService
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import Run


@pytest.fixture
def reviews(database: Database, tenant_id: str) -> ReviewService:
    with database.session() as session:
        session.add(
            Run(id="run-1", engine="ran", kind="recommend", tenant_id=tenant_id, created_by="a")
        )
    return ReviewService(database)


def _propose(reviews: ReviewService, tenant_id: str, subject: str = "CELL-1") -> str:
    return reviews.propose(
        "run-1", tenant_id, "ran", subject, "tilt_change", {"tilt_deg": 2.0, "from_tilt_deg": 4.0}
    ).id


def test_full_lifecycle_records_who_and_why(reviews: ReviewService, tenant_id: str) -> None:
    pid = _propose(reviews, tenant_id)
    steps = [
        (ProposalStatus.ACCEPTED, "alice", "overshoot confirmed by drive test"),
        (ProposalStatus.APPLIED, "bob", "pushed in MW window"),
        (ProposalStatus.VERIFIED, "alice", "KPIs stable 48 h"),
    ]
    for status, actor, reason in steps:
        moved = reviews.transition(pid, status, actor=actor, reason=reason, tenant_ids=[tenant_id])
        assert moved.status is status
    history = reviews.history(pid)
    assert [(e.from_status, e.to_status.value, e.actor) for e in history] == [
        ("none", "proposed", "run:run-1"),
        ("proposed", "accepted", "alice"),
        ("accepted", "applied", "bob"),
        ("applied", "verified", "alice"),
    ]
    assert history[1].reason == "overshoot confirmed by drive test"
    assert reviews.get(pid, tenant_ids=None).payload == {"tilt_deg": 2.0, "from_tilt_deg": 4.0}


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], ProposalStatus.APPLIED),
        ([], ProposalStatus.VERIFIED),
        ([ProposalStatus.REJECTED], ProposalStatus.ACCEPTED),
        ([ProposalStatus.ACCEPTED], ProposalStatus.REJECTED),
        ([ProposalStatus.ACCEPTED, ProposalStatus.APPLIED], ProposalStatus.ACCEPTED),
        (
            [ProposalStatus.ACCEPTED, ProposalStatus.APPLIED, ProposalStatus.ROLLED_BACK],
            ProposalStatus.VERIFIED,
        ),
    ],
)
def test_illegal_transitions_name_from_and_to(
    reviews: ReviewService,
    tenant_id: str,
    path: list[ProposalStatus],
    illegal: ProposalStatus,
) -> None:
    pid = _propose(reviews, tenant_id)
    for status in path:
        reviews.transition(pid, status, actor="a", reason="", tenant_ids=None)
    current = path[-1] if path else ProposalStatus.PROPOSED
    assert illegal not in TRANSITIONS[current]
    with pytest.raises(ConflictError, match=f"from {current.value} to {illegal.value}") as info:
        reviews.transition(pid, illegal, actor="a", reason="", tenant_ids=None)
    assert info.value.context == {"from_status": current.value, "to_status": illegal.value}
    assert len(reviews.history(pid)) == len(path) + 1


def test_unknown_status_and_other_tenant(
    reviews: ReviewService, tenant_id: str, database: Database
) -> None:
    pid = _propose(reviews, tenant_id)
    with pytest.raises(InvalidInputError, match="to_status"):
        reviews.transition(pid, "approved", actor="a", reason="", tenant_ids=None)
    with pytest.raises(NotFoundError):
        reviews.transition(pid, "accepted", actor="a", reason="", tenant_ids=["globex"])
    with pytest.raises(NotFoundError):
        reviews.history(pid, tenant_ids=["globex"])
    with pytest.raises(NotFoundError):
        reviews.propose("run-1", "globex", "ran", "CELL-1", "tilt_change", {})
    with pytest.raises(NotFoundError):
        reviews.propose("no-run", tenant_id, "ran", "CELL-1", "tilt_change", {})


def test_list_for_subject_newest_first_and_filtered(reviews: ReviewService, tenant_id: str) -> None:
    first = _propose(reviews, tenant_id, "CELL-1")
    _propose(reviews, tenant_id, "CELL-2")
    second = _propose(reviews, tenant_id, "CELL-1")
    listed = reviews.list_for_subject([tenant_id], "ran", "CELL-1")
    assert [p.id for p in listed] == [second, first]
    assert reviews.list_for_subject(["globex"], "ran", "CELL-1") == []
    assert reviews.list_for_subject(None, "scheduling", "CELL-1") == []


def test_a_stale_reviewer_cannot_move_a_proposal_twice(
    reviews: ReviewService, tenant_id: str
) -> None:
    pid = _propose(reviews, tenant_id)
    reviews.transition(pid, "rejected", actor="bob", reason="too aggressive", tenant_ids=None)
    with pytest.raises(ConflictError, match="from rejected to accepted"):
        reviews.transition(pid, "accepted", actor="alice", reason="", tenant_ids=None)
    assert reviews.get(pid, tenant_ids=None).status is ProposalStatus.REJECTED


def test_the_guarded_update_refuses_a_move_made_from_a_stale_read(
    reviews: ReviewService, tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _propose(reviews, tenant_id)
    stale = reviews.get(pid, tenant_ids=None)  # status proposed
    reviews.transition(pid, "rejected", actor="bob", reason="", tenant_ids=None)
    # alice's request read the proposal before bob's commit: it still sees "proposed"
    monkeypatch.setattr(reviews, "_visible", lambda *_args, **_kw: stale)
    with pytest.raises(ConflictError, match="changed while moving from proposed to accepted"):
        reviews.transition(pid, "accepted", actor="alice", reason="", tenant_ids=None)
    monkeypatch.undo()
    assert reviews.get(pid, tenant_ids=None).status is ProposalStatus.REJECTED
    assert [e.to_status.value for e in reviews.history(pid)] == ["proposed", "rejected"]
