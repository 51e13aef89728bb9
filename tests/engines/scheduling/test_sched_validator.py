"""The independent schedule validator and the figures."""

from __future__ import annotations

import pytest

from opsforge.engines.scheduling.model import Downtime, Job, Operation, Problem
from opsforge.engines.scheduling.schedule import (
    ScheduledOperation,
    compute_figures,
    validate_schedule,
)

PROBLEM = Problem(
    num_machines=2,
    jobs=(
        Job(
            operations=(Operation(machine=0, duration=3), Operation(machine=1, duration=2)),
            release=1,
            due=6,
            weight=2.0,
        ),
        Job(operations=(Operation(machine=1, duration=4),), due=3),
    ),
    downtimes=(Downtime(machine=0, start=10, end=12),),
)
GOOD = [
    ScheduledOperation(job=0, op=0, machine=0, start=1, end=4),
    ScheduledOperation(job=0, op=1, machine=1, start=4, end=6),
    ScheduledOperation(job=1, op=0, machine=1, start=0, end=4),
]


def _with(index: int, **changes: int) -> list[ScheduledOperation]:
    out = list(GOOD)
    out[index] = out[index].model_copy(update=changes)
    return out


def test_good_schedule_is_valid_and_figures_are_right() -> None:
    assert validate_schedule(PROBLEM, GOOD).valid
    figures = compute_figures(PROBLEM, GOOD)
    assert figures.makespan == 6
    assert figures.total_weighted_tardiness == pytest.approx(1.0)  # job 1 ends at 4, due 3
    assert figures.on_time_rate == pytest.approx(0.5)
    assert figures.utilisation == pytest.approx(9 / 12)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (GOOD[:2], "job 1 operation 0 is not scheduled"),
        (_with(0, start=0, end=3), "before its release 1"),
        (_with(1, start=3, end=5), "before operation 0 ends at 4"),
        (_with(2, start=3, end=7), "overlaps job"),
        (_with(1, machine=0), "expected machine 1"),
        (_with(2, end=5), "expected duration 4"),
        ([*GOOD, GOOD[0]], "scheduled twice"),
        ([*GOOD, ScheduledOperation(job=0, op=5, machine=0, start=0, end=1)], "does not exist"),
    ],
)
def test_violations_are_named(schedule: list[ScheduledOperation], message: str) -> None:
    verdict = validate_schedule(PROBLEM, schedule)
    assert not verdict.valid
    assert any(message in v for v in verdict.violations), verdict.violations


def test_downtime_violation() -> None:
    shifted = [
        ScheduledOperation(job=0, op=0, machine=0, start=9, end=12),
        ScheduledOperation(job=0, op=1, machine=1, start=12, end=14),
        GOOD[2],
    ]
    verdict = validate_schedule(PROBLEM, shifted)
    assert not verdict.valid
    assert "overlaps downtime [10, 12)" in verdict.violations[0]
