"""Plans: ordering, locks, restricted attributes, rollback; monitored execution on the fake ENM."""

from __future__ import annotations

import pytest
from rc_helpers import ENB, NODE

from opsforge.core.errors import ConflictError
from opsforge.engines.ranconfig.adapters.memory import ERRORS, InMemoryEnm
from opsforge.engines.ranconfig.cm import CmState
from opsforge.engines.ranconfig.cmedit import Command
from opsforge.engines.ranconfig.executor import (
    CommandExecutor,
    DryRunExecutor,
    execute_commands,
    execute_plan,
)
from opsforge.engines.ranconfig.loader import ModelSet
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.plan import Plan, build_plan
from opsforge.engines.ranconfig.rules import check_rules, parse_rules
from opsforge.engines.ranconfig.templates import MoSpec, Template, load_template, resolve_template

pytest_plugins = ["rc_fixtures"]

CELL_A, CELL_B = f"{ENB},EUtranCellFDD=A", f"{ENB},EUtranCellFDD=B"

TEMPLATE = """
name: urban
parameters:
  EUtranCellFDD: {qRxLevMin: -120, cellRange: 5, userLabel: urban cell}
  EUtranFreqRelation: {qOffsetFreq: 2}
create:
  - {under: EUtranCellFDD, mo: EUtranFreqRelation=3, attributes: {cellReselectionPriority: 4}}
delete:
  - {under: EUtranCellFDD, mo: EUtranFreqRelation=9}
"""


@pytest.fixture
def template() -> Template:
    return resolve_template(load_template(TEMPLATE, "yaml"))


@pytest.fixture
def plan(template: Template, cm_tree: CmState, mini_mom: Mom) -> Plan:
    return build_plan(template, cm_tree, mini_mom)


def _lines(plan: Plan) -> list[str]:
    return [f"{c.purpose} {c.fdn.removeprefix(ENB + ',')}" for c in plan.commands]


def test_order_locks_and_containment(plan: Plan) -> None:
    assert _lines(plan) == [
        "create EUtranCellFDD=A,EUtranFreqRelation=3",
        "create EUtranCellFDD=B,EUtranFreqRelation=3",
        "lock EUtranCellFDD=A",
        "set EUtranCellFDD=A",
        "unlock EUtranCellFDD=A",
        "set EUtranCellFDD=B",
        "delete EUtranCellFDD=A,EUtranFreqRelation=9",
    ]
    create = plan.commands[0]
    assert create.attributes == {
        "qOffsetFreq": 2,
        "cellReselectionPriority": 4,
        "EUtranFreqRelationId": "3",
    }
    assert plan.commands[4].attributes == {"administrativeState": "UNLOCKED"}
    assert plan.rollback_complete
    assert plan.commands[6].writable is not None
    assert "EUtranFreqRelationId" in plan.commands[6].writable


def test_batches_keep_lock_groups_together(plan: Plan) -> None:
    plan.batch_size = 3
    batches = plan.batches()
    assert [len(b) for b in batches] == [2, 3, 2]
    assert [c.purpose for c in batches[1]] == ["lock", "set", "unlock"]
    assert sum(len(b) for b in batches) == len(plan.commands)


def test_restricted_attribute_only_at_creation(cm_tree: CmState, mini_mom: Mom) -> None:
    tpl = Template(name="t", parameters={"EUtranCellFDD": {"earfcndl": 1200}})
    with pytest.raises(ConflictError, match="earfcndl can only be set at creation"):
        build_plan(tpl, cm_tree, mini_mom)


def test_rules_checked_on_the_planned_tree(cm_tree: CmState, mini_mom: Mom) -> None:
    rules = check_rules(
        parse_rules(
            "id,mo_class,expression,condition,severity,message\n"
            "R1,EUtranCellFDD,dlChannelBandwidth == ulChannelBandwidth,,error,must match\n"
        ),
        mini_mom,
    )
    tpl = Template(name="t", parameters={"EUtranCellFDD": {"dlChannelBandwidth": 20000}})
    with pytest.raises(ConflictError, match="breaks 2 rule") as info:
        build_plan(tpl, cm_tree, mini_mom, rules=rules)
    assert {v["fdn"] for v in info.value.context["violations"]} == {CELL_A, CELL_B}
    both = Template(
        name="t",
        parameters={"EUtranCellFDD": {"dlChannelBandwidth": 20000, "ulChannelBandwidth": 20000}},
    )
    assert build_plan(both, cm_tree, mini_mom, rules=rules).violations == []


def test_unchanged_values_are_not_set(cm_tree: CmState, mini_mom: Mom) -> None:
    tpl = Template(name="t", parameters={"EUtranCellFDD": {"qRxLevMin": -140}})
    assert [c.fdn for c in build_plan(tpl, cm_tree, mini_mom).commands] == [CELL_B]


def test_apply_then_rollback_restores_tree(
    plan: Plan, cm_tree: CmState, mini_mom: Mom, mini_models: ModelSet
) -> None:
    enm = InMemoryEnm(mini_mom, mini_models, cm_tree)
    report = execute_plan(plan, enm)
    assert report.status == "succeeded", report.error
    assert enm.state.mos[CELL_A].attributes["qRxLevMin"] == -120
    assert enm.state.mos[CELL_A].attributes["administrativeState"] == "UNLOCKED"
    assert f"{CELL_B},EUtranFreqRelation=3" in enm.state.mos
    assert f"{CELL_A},EUtranFreqRelation=9" not in enm.state.mos
    assert enm.state != cm_tree
    steps = execute_commands(enm, plan.rollback)
    assert all(s.ok for s in steps)
    assert enm.state.mos == cm_tree.mos
    # the rollback the executor derived live does the same
    enm2 = InMemoryEnm(mini_mom, mini_models, cm_tree)
    live = execute_plan(plan, enm2)
    assert all(s.ok for s in execute_commands(enm2, live.rollback_commands))
    assert enm2.state.mos == cm_tree.mos


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4, 5, 6, 7])
def test_failure_mid_plan_rolls_back(
    plan: Plan, cm_tree: CmState, mini_mom: Mom, mini_models: ModelSet, fail_at: int
) -> None:
    seen: list[Command] = []

    def inject(cmd: Command) -> str | None:
        seen.append(cmd)
        return "injected failure" if len(seen) == fail_at else None

    enm = InMemoryEnm(mini_mom, mini_models, cm_tree, fail_when=inject)
    report = execute_plan(plan, enm)
    assert report.status == "rolled_back"
    assert report.error == "injected failure"
    assert report.failed_command == plan.commands[fail_at - 1].render()
    assert all(s.ok for s in report.rollback_steps)
    assert enm.state.mos == cm_tree.mos


def test_fdn_scope_reads_values_live(
    template: Template, cm_tree: CmState, mini_mom: Mom, mini_models: ModelSet
) -> None:
    scope = CmState.from_fdns([CELL_A, CELL_B, f"{CELL_A},EUtranFreqRelation=9"])
    plan = build_plan(template, scope, mini_mom)
    assert not plan.rollback_complete
    assert plan.warnings
    assert [c.purpose for c in plan.commands].count("lock") == 2  # states unknown: lock both
    assert [c.render() for c in plan.commands[:3]] == [
        f"cmedit get {CELL_A}",
        f"cmedit get {CELL_B}",
        f"cmedit get {CELL_A},EUtranFreqRelation=9",
    ]

    failed: list[Command] = []

    def fail_on_delete(cmd: Command) -> str | None:
        if cmd.verb == "delete" and not failed:
            failed.append(cmd)
            return "refused"
        return None

    enm = InMemoryEnm(mini_mom, mini_models, cm_tree, fail_when=fail_on_delete)
    report = execute_plan(plan, enm)
    assert report.status == "rolled_back"
    assert any(s.command.startswith("cmedit get ") for s in report.steps)
    assert enm.state.mos == cm_tree.mos
    # applied in full, cell B (LOCKED before) stays LOCKED: the unlock restores what was read
    enm = InMemoryEnm(mini_mom, mini_models, cm_tree)
    full = execute_plan(plan, enm)
    assert full.status == "succeeded", (full.failed_command, full.error)
    assert enm.state.mos[CELL_B].attributes["administrativeState"] == "LOCKED"
    assert enm.state.mos[CELL_A].attributes["administrativeState"] == "UNLOCKED"


def test_dry_run(plan: Plan) -> None:
    report = execute_plan(plan, DryRunExecutor(), dry_run=True)
    assert report.status == "dry_run"
    assert [s.command for s in report.steps] == plan.render()
    assert isinstance(DryRunExecutor(), CommandExecutor)


def _answer(enm: InMemoryEnm, line: str) -> str:
    return enm.execute(line)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (f"cmedit set {CELL_A} noSuch=1", "unknown_attribute"),
        (f"cmedit set {CELL_A} operationalState=ENABLED", "read_only"),
        (f"cmedit set {CELL_B} earfcndl=5", "restricted"),
        (f"cmedit set {CELL_A} pci=9999", "invalid_value"),
        (f"cmedit set {CELL_A} qRxLevMin=-139", "invalid_value"),
        (f"cmedit set {CELL_A} cellRange=20", "not_locked"),
        (f"cmedit set {ENB},EUtranCellFDD=Z pci=1", "not_found"),
        (f"cmedit create {CELL_A} cellId=1", "exists"),
        (f"cmedit create {ENB},EUtranCellFDD=C cellId=3", "mandatory"),
        (f"cmedit create {CELL_A},EUtranFrequency=1 arfcnValueEUtranDl=1", "containment"),
        (f"cmedit create {ENB},X=1,EUtranCellFDD=C cellId=3,earfcndl=1", "no_parent"),
        (f"cmedit create {NODE},ENodeBFunction=2", "system_created"),
        (f"cmedit delete {CELL_A}", "has_children"),
        (f"cmedit delete {ENB}", "system_created"),
        ("cmedit set", "syntax"),
        (f"cmedit get {ENB},EUtranCellFDD=Z", "not_found"),
    ],
)
def test_fake_enm_answers_errors_like_enm(
    cm_tree: CmState, mini_mom: Mom, mini_models: ModelSet, line: str, kind: str
) -> None:

    enm = InMemoryEnm(mini_mom, mini_models, cm_tree)
    answer = _answer(enm, line)
    assert answer.startswith(f"Error {ERRORS[kind]} : "), answer
    assert enm.state.mos == cm_tree.mos


def test_fake_enm_success_answers(cm_tree: CmState, mini_mom: Mom, mini_models: ModelSet) -> None:
    enm = InMemoryEnm(mini_mom, mini_models, cm_tree)
    assert enm.execute(f"cmedit set {CELL_B} cellRange=20").endswith("1 instance(s) updated")
    got = enm.execute(f"cmedit get {CELL_B} EUtranCellFDD.(cellRange,qRxLevMin)")
    assert got.splitlines()[:3] == [f"FDN : {CELL_B}", "cellRange : 20", "qRxLevMin : -130"]
    assert enm.execute(f"cmedit create {ENB},EUtranCellFDD=C cellId=3,earfcndl=100").endswith(
        "1 instance(s) updated"
    )
    assert enm.state.mos[f"{ENB},EUtranCellFDD=C"].attributes["EUtranCellFDDId"] == "C"
    assert enm.execute(f"cmedit delete {CELL_A} -ALL") == "2 instance(s) deleted"


def test_lock_before_delete(cm_tree: CmState, mini_mom: Mom, mini_models: ModelSet) -> None:
    assert mini_mom.classes["EUtranCellFDD"].lock_before_delete
    tpl = Template(name="t", delete=[MoSpec(under="ENodeBFunction", mo="EUtranCellFDD=A")])
    plan = build_plan(tpl, cm_tree, mini_mom)
    assert _lines(plan) == [
        "delete EUtranCellFDD=A,EUtranFreqRelation=9",
        "lock EUtranCellFDD=A",
        "delete EUtranCellFDD=A",
    ]
    assert plan.commands[1].group == plan.commands[2].group
    enm = InMemoryEnm(mini_mom, mini_models, cm_tree)
    assert execute_plan(plan, enm).status == "succeeded"
    assert CELL_A not in enm.state.mos
    assert all(s.ok for s in execute_commands(enm, plan.rollback))
    assert enm.state.mos == cm_tree.mos
