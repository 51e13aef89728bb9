"""File formats of the scheduling engine: JSSP text, Taillard text, problem JSON, policies.

``parse_*`` take text, ``read_*`` take a path. This is the only module of the engine that
touches files.

The standard (OR-Library) format: optional ``#`` comment lines, a line ``num_jobs num_machines``,
then one line per job with ``num_machines`` pairs ``machine duration`` (0-based machines).
Taillard's original format: a line ``num_jobs num_machines`` (optionally followed by seeds and
bounds), a ``num_jobs x num_machines`` matrix of durations, then one of 1-based machines,
optionally headed by ``Times`` / ``Machines`` lines.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from opsforge.core.errors import DataQualityError, InvalidInputError, NotFoundError
from opsforge.engines.scheduling.model import Problem

__all__ = [
    "Bounds",
    "default_policy_path",
    "parse_jssp",
    "parse_problem_json",
    "parse_taillard",
    "read_bounds",
    "read_instance",
    "read_jssp",
    "read_policy_bytes",
    "read_problem_json",
    "write_problem_json",
]

POLICY_DIR = Path(__file__).resolve().parent / "policies"


@dataclass(frozen=True)
class Bounds:
    """Best known bounds of a benchmark instance. [time unit]"""

    name: str
    lower_bound: int
    upper_bound: int
    optimum: int | None


def _numbers(text: str, source: str) -> list[tuple[int, list[int]]]:
    rows: list[tuple[int, list[int]]] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            rows.append((line_no, [int(tok) for tok in line.split()]))
        except ValueError as exc:
            raise DataQualityError(
                f"{source} line {line_no}: expected integers, got {line[:60]!r}",
                file=source,
                row=line_no,
            ) from exc
    if not rows or len(rows[0][1]) < 2:
        raise DataQualityError(
            f"{source}: expected a header 'num_jobs num_machines'", file=source, row=1
        )
    return rows


def parse_jssp(text: str, *, name: str = "instance") -> Problem:
    """Parse the standard JSSP text format (0-based machines)."""
    rows = _numbers(text, name)
    num_jobs, num_machines = rows[0][1][:2]
    body = rows[1:]
    if len(body) < num_jobs:
        raise DataQualityError(
            f"{name}: expected {num_jobs} job lines, got {len(body)}", file=name, row=rows[0][0]
        )
    machines: list[list[int]] = []
    durations: list[list[int]] = []
    for line_no, values in body[:num_jobs]:
        if len(values) != 2 * num_machines:
            raise DataQualityError(
                f"{name} line {line_no}: expected {2 * num_machines} numbers "
                f"(machine duration pairs), got {len(values)}",
                file=name,
                row=line_no,
            )
        machines.append(values[0::2])
        durations.append(values[1::2])
    return Problem.from_matrices(machines, durations, name=name, num_machines=num_machines)


def parse_taillard(text: str, *, name: str = "instance") -> Problem:
    """Parse Taillard's two-matrix format (durations, then 1-based machines)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    numeric = [ln for ln in lines if not ln.strip()[0].isalpha()]
    rows = _numbers("\n".join(numeric), name)
    num_jobs, num_machines = rows[0][1][:2]
    body = [values for _, values in rows[1:]]
    if len(body) != 2 * num_jobs or any(len(v) != num_machines for v in body):
        raise DataQualityError(
            f"{name}: expected two {num_jobs}x{num_machines} matrices, got {len(body)} rows",
            file=name,
        )
    durations = body[:num_jobs]
    machines = [[m - 1 for m in row] for row in body[num_jobs:]]
    if any(m < 0 for row in machines for m in row):
        raise DataQualityError(f"{name}: Taillard machines are 1-based, got a 0", file=name)
    return Problem.from_matrices(machines, durations, name=name, num_machines=num_machines)


def read_jssp(path: Path) -> Problem:
    """Read a standard-format JSSP instance file; the problem is named after the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"instance file {path} does not exist", file=str(path)) from exc
    return parse_jssp(text, name=path.stem if path.suffix in {".txt", ".jsp"} else path.name)


def parse_problem_json(text: str, *, source: str = "problem") -> Problem:
    """Parse a problem from its JSON form (``Problem.model_dump_json``)."""
    try:
        return Problem.model_validate_json(text)
    except ValueError as exc:
        raise InvalidInputError(f"{source}: not a valid problem: {exc}", file=source) from exc


def read_problem_json(path: Path) -> Problem:
    """Read a problem JSON file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"problem file {path} does not exist", file=str(path)) from exc
    return parse_problem_json(text, source=str(path))


def write_problem_json(problem: Problem, path: Path) -> None:
    """Write ``problem`` as JSON."""
    path.write_text(problem.model_dump_json(indent=1), encoding="utf-8")


def read_instance(path: Path) -> Problem:
    """Read an instance: ``.json`` as problem JSON, anything else as standard JSSP text."""
    if path.suffix == ".json":
        return read_problem_json(path)
    return read_jssp(path)


def read_bounds(path: Path) -> dict[str, Bounds]:
    """Read ``bounds.csv`` (name, jobs, machines, optimum, lower_bound, upper_bound, ...)."""
    out: dict[str, Bounds] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for row_no, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    out[row["name"]] = Bounds(
                        name=row["name"],
                        lower_bound=int(row["lower_bound"]),
                        upper_bound=int(row["upper_bound"]),
                        optimum=int(row["optimum"]) if row["optimum"] else None,
                    )
                except (KeyError, ValueError) as exc:
                    raise DataQualityError(
                        f"{path} row {row_no}: expected name, lower_bound, upper_bound, "
                        f"optimum; got {row}",
                        file=str(path),
                        row=row_no,
                    ) from exc
    except FileNotFoundError as exc:
        raise NotFoundError(f"bounds file {path} does not exist", file=str(path)) from exc
    return out


def default_policy_path() -> Path:
    """Path of the policy that ships with the package."""
    return POLICY_DIR / "ppo_jssp_v1.npz"


def read_policy_bytes(path: Path | None = None) -> bytes:
    """Bytes of a policy file (the shipped one by default)."""
    target = path or default_policy_path()
    try:
        return target.read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"policy file {target} does not exist", file=str(target)) from exc
