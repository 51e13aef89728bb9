"""Job kinds ranconfig.validate and ranconfig.plan under a LocalRunContext."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rc_helpers import DATA

from opsforge.core.errors import InvalidInputError
from opsforge.core.jobs.context import LocalRunContext
from opsforge.engines.ranconfig.cm import CmState
from opsforge.engines.ranconfig.jobs import JOB_KINDS, PlanRequest, ValidateRequest

pytest_plugins = ["rc_fixtures"]


TEMPLATE = {
    "name": "base",
    "parameters": {"EUtranCellFDD": {"qRxLevMin": -124}},
    "variants": {"urban": {"parameters": {"EUtranCellFDD": {"qRxLevMin": -121}}}},
}
RULES = "id,mo_class,expression,condition,severity,message\nR1,EUtranCellFDD,qRxLevMin <= -100,,error,\n"


def _inputs(tmp_path: Path, cm_tree: CmState) -> dict[str, Path]:
    (tmp_path / "t.json").write_text(json.dumps(TEMPLATE))
    (tmp_path / "r.csv").write_text(RULES)
    scope = {f: mo.attributes for f, mo in cm_tree.mos.items()}
    (tmp_path / "scope.json").write_text(json.dumps(scope))
    return {
        "mom": DATA / "mini_mom.xml",
        "template": tmp_path / "t.json",
        "rules": tmp_path / "r.csv",
        "scope": tmp_path / "scope.json",
    }


def test_job_kinds_registered() -> None:
    assert [k.name for k in JOB_KINDS] == ["ranconfig.validate", "ranconfig.plan"]


def test_validate_job(tmp_path: Path, cm_tree: CmState) -> None:
    kind = JOB_KINDS[0]
    ctx = LocalRunContext("run-1", tmp_path / "out", _inputs(tmp_path, cm_tree))
    result = kind.run(ValidateRequest(), ctx)
    assert not result.valid  # type: ignore[attr-defined]
    assert result.num_issues == 1  # type: ignore[attr-defined]
    assert result.issues["urban"][0].got == -121  # type: ignore[attr-defined]
    assert ctx.last_progress[0] == 1.0
    assert {"parse", "validate"} <= set(ctx.stage_timings_s)
    assert kind.result_model.model_validate_json(result.model_dump_json()) == result


def test_plan_job(tmp_path: Path, cm_tree: CmState) -> None:
    kind = JOB_KINDS[1]
    ctx = LocalRunContext("run-2", tmp_path / "out", _inputs(tmp_path, cm_tree))
    result = kind.run(PlanRequest(batch_size=10), ctx)
    assert result.num_commands == 2  # type: ignore[attr-defined]
    assert result.rollback_complete  # type: ignore[attr-defined]
    assert (tmp_path / "out" / "plan.json").is_file()
    with pytest.raises(InvalidInputError, match="1 issue"):
        kind.run(PlanRequest(variant="urban"), ctx)
