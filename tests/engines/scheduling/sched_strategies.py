"""Hypothesis strategies and small fixtures for the scheduling tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import strategies as st

from opsforge.engines.scheduling.model import Downtime, Job, Operation, Problem

JSSP_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "jssp"

FT06 = """# ft06
6 6
2  1  0  3  1  6  3  7  5  3  4  6
1  8  2  5  4 10  5 10  0 10  3  4
2  5  3  4  5  8  0  9  1  1  4  7
1  5  0  5  2  5  3  3  4  8  5  9
2  9  1  3  4  5  5  4  0  3  3  1
1  3  3  3  5  9  0 10  4  4  2  1
"""


def jssp_data() -> Path:
    """The shared jssp folder, or skip the test."""
    if not (JSSP_DATA / "bounds.csv").exists():
        pytest.skip(f"shared jssp data not found at {JSSP_DATA}")
    return JSSP_DATA


@st.composite
def problems(draw: st.DrawFn, max_jobs: int = 6, max_machines: int = 4) -> Problem:
    """Small problems with variable operation counts, releases, dues, weights, downtime."""
    num_machines = draw(st.integers(1, max_machines))
    num_jobs = draw(st.integers(1, max_jobs))
    jobs = []
    for _ in range(num_jobs):
        ops = draw(
            st.lists(
                st.builds(
                    Operation,
                    machine=st.integers(0, num_machines - 1),
                    duration=st.integers(0, 9),
                ),
                min_size=1,
                max_size=num_machines + 1,
            )
        )
        jobs.append(
            Job(
                operations=tuple(ops),
                release=draw(st.integers(0, 15)),
                due=draw(st.none() | st.integers(0, 60)),
                weight=draw(st.floats(0.0, 3.0)),
            )
        )
    downtimes = []
    for machine in range(num_machines):
        cursor = draw(st.integers(0, 10))
        for _ in range(draw(st.integers(0, 2))):
            length = draw(st.integers(1, 8))
            downtimes.append(Downtime(machine=machine, start=cursor, end=cursor + length))
            cursor += length + draw(st.integers(0, 12))
    return Problem(num_machines=num_machines, jobs=tuple(jobs), downtimes=tuple(downtimes))
