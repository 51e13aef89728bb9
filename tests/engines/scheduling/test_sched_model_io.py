"""Problem model validation, JSON round-trip and the text readers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from sched_strategies import FT06, jssp_data, problems

from opsforge.core.errors import DataQualityError, InvalidInputError, NotFoundError
from opsforge.engines.scheduling import io
from opsforge.engines.scheduling.model import Downtime, Job, Operation, Problem


def test_problem_rejects_machine_out_of_range() -> None:
    with pytest.raises(ValueError, match="expected machine < 2, got 2"):
        Problem(num_machines=2, jobs=(Job(operations=(Operation(machine=2, duration=1),)),))


def test_problem_rejects_overlapping_downtime() -> None:
    job = Job(operations=(Operation(machine=0, duration=1),))
    with pytest.raises(ValueError, match="overlap"):
        Problem(
            num_machines=1,
            jobs=(job,),
            downtimes=(
                Downtime(machine=0, start=0, end=5),
                Downtime(machine=0, start=4, end=6),
            ),
        )


def test_downtime_rejects_empty_window() -> None:
    with pytest.raises(ValueError, match="expected end > start"):
        Downtime(machine=0, start=5, end=5)


def test_from_matrices_rejects_shape_mismatch() -> None:
    with pytest.raises(InvalidInputError, match="differ in shape"):
        Problem.from_matrices([[0, 1]], [[1]])


@given(problems())
@settings(max_examples=40, deadline=None)
def test_problem_json_round_trip(problem: Problem) -> None:
    again = io.parse_problem_json(problem.model_dump_json())
    assert again == problem


def test_parse_jssp_ft06() -> None:
    problem = io.parse_jssp(FT06, name="ft06")
    assert (problem.num_jobs, problem.num_machines) == (6, 6)
    assert problem.jobs[0].operations[0] == Operation(machine=2, duration=1)
    assert problem.jobs[5].operations[-1] == Operation(machine=2, duration=1)


def test_parse_taillard_two_matrix_format() -> None:
    text = "2 2\nTimes\n3 4\n5 6\nMachines\n1 2\n2 1\n"
    problem = io.parse_taillard(text, name="tiny")
    assert problem.jobs[0].operations == (
        Operation(machine=0, duration=3),
        Operation(machine=1, duration=4),
    )
    assert problem.jobs[1].operations[0] == Operation(machine=1, duration=5)


def test_parse_jssp_reports_bad_line() -> None:
    with pytest.raises(DataQualityError, match="line 3: expected 4 numbers"):
        io.parse_jssp("2 2\n0 1 1 2\n0 1 1\n", name="bad")
    with pytest.raises(DataQualityError, match="expected integers"):
        io.parse_jssp("2 2\n0 x 1 2\n", name="bad")


def test_read_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        io.read_jssp(tmp_path / "nope")


def test_problem_json_file_round_trip(tmp_path: Path) -> None:
    problem = io.parse_jssp(FT06, name="ft06")
    io.write_problem_json(problem, tmp_path / "p.json")
    assert io.read_instance(tmp_path / "p.json") == problem


def test_every_shared_instance_parses_and_matches_bounds() -> None:
    data = jssp_data()
    bounds = io.read_bounds(data / "bounds.csv")
    assert len(bounds) == 162
    with (data / "bounds.csv").open() as handle:
        rows = {line.split(",")[0]: line.split(",") for line in handle.readlines()[1:]}
    for name, row in rows.items():
        problem = io.read_jssp(data / "instances" / name)
        assert problem.name == name
        assert (problem.num_jobs, problem.num_machines) == (int(row[1]), int(row[2]))
    assert bounds["ft06"].optimum == 55
    assert bounds["ta01"].upper_bound == 1231
