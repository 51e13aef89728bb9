"""CSV rules: parsing, checking against the model, evaluation, suggestions from the MOM."""

from __future__ import annotations

import pytest
from rc_helpers import ENB, make_state

from opsforge.core.errors import DataQualityError
from opsforge.engines.ranconfig.cm import CmState
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.rules import (
    check_rules,
    evaluate_rules,
    parse_rules,
    rules_to_csv,
    suggest_rules,
)

pytest_plugins = ["rc_fixtures"]

HEADER = "id,mo_class,expression,condition,severity,message\n"
RULES = HEADER + (
    "# comment lines are skipped\n"
    "R1,EUtranCellFDD,dlChannelBandwidth == ulChannelBandwidth,,error,FDD bandwidths match\n"
    "R2,EUtranCellFDD,qRxLevMin in [-130..-100],OptionalFeature.featureState == ACTIVATED,error,\n"
    "R3,EUtranCellFDD,cellRange <= 30,,warning,long range cells\n"
    'R4,EUtranCellFDD,"administrativeState in {LOCKED, UNLOCKED}",,error,\n'
    "R5,EUtranFreqRelation,cellReselectionPriority < 7,,error,\n"
    'R6,EUtranCellFDD,userLabel != "forbidden",,error,\n'
)


def test_parse_rules_kinds() -> None:
    rules = parse_rules(RULES, "r.csv")
    assert [r.id for r in rules] == ["R1", "R2", "R3", "R4", "R5", "R6"]
    assert [r.kind for r in rules[:3]] == ["constraint", "conditional", "constraint"]
    assert rules[1].row == 4
    assert rules[2].severity == "warning"


def test_check_binds_cross_parameter_references(mini_mom: Mom) -> None:
    bound = check_rules(parse_rules(RULES, "r.csv"), mini_mom)
    assert bound[0].kind == "cross"
    assert str(bound[0].expression.right) == "ulChannelBandwidth"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("X,NoSuchClass,a == 1,,error,", r"r\.csv row 2 \(X\): unknown MO class 'NoSuchClass'"),
        (
            "X,EUtranCellFDD,nope == 1,,error,",
            r"row 2 \(X\): unknown attribute 'nope' on EUtranCellFDD",
        ),
        ("X,EUtranCellFDD,qRxLevMin <= Foo.bar,,error,", r"unknown MO class 'Foo'"),
        ("X,EUtranCellFDD,administrativeState == OPEN,,error,", r"'OPEN' is not a member of enum"),
        ("X,EUtranCellFDD,userLabel < 3,,error,", r"needs a numeric attribute"),
        ("X,EUtranCellFDD,qRxLevMin ~ 3,,error,", r"expected 'LEFT OP RIGHT'"),
        ("X,EUtranCellFDD,qRxLevMin in [a..b],,error,", r"expected numbers"),
        ("X,EUtranCellFDD,qRxLevMin == 1,,fatal,", r"severity must be error or warning"),
    ],
)
def test_bad_rows_name_the_row(mini_mom: Mom, row: str, message: str) -> None:
    with pytest.raises(DataQualityError, match=message):
        check_rules(parse_rules(HEADER + row + "\n", "r.csv"), mini_mom)


def test_missing_columns() -> None:
    with pytest.raises(DataQualityError, match="expected columns"):
        parse_rules("a,b\n1,2\n", "r.csv")


def test_evaluate_names_mo_attribute_and_rule(mini_mom: Mom, cm_tree: CmState) -> None:
    rules = check_rules(parse_rules(RULES, "r.csv"), mini_mom)
    assert evaluate_rules(rules, cm_tree, mini_mom) == [
        v for v in evaluate_rules(rules, cm_tree, mini_mom) if v.rule_id == "R2"
    ]
    (bad,) = evaluate_rules(rules, cm_tree, mini_mom)  # A has qRxLevMin -140 with the feature on
    assert bad.fdn == f"{ENB},EUtranCellFDD=A"
    assert bad.attribute == "qRxLevMin"
    assert bad.got == -140
    assert "R2" in bad.message
    assert "qRxLevMin in [-130..-100] if OptionalFeature.featureState == ACTIVATED" in bad.rule
    changed = cm_tree.model_copy(deep=True)
    changed.mos[f"{ENB},OptionalFeature=Mobility"].attributes["featureState"] = "DEACTIVATED"
    changed.mos[f"{ENB},EUtranCellFDD=B"].attributes["dlChannelBandwidth"] = 20000
    changed.mos[f"{ENB},EUtranCellFDD=A"].attributes["cellRange"] = 31
    found = {
        (v.rule_id, v.fdn.rsplit("=", 1)[1], v.severity)
        for v in evaluate_rules(rules, changed, mini_mom)
    }
    assert found == {("R1", "B", "error"), ("R3", "A", "warning")}


def test_defaults_fill_missing_values(mini_mom: Mom) -> None:
    rules = check_rules(
        parse_rules(HEADER + "R,EUtranFreqRelation,cellReselectionPriority <= 4,,error,\n"),
        mini_mom,
    )
    state = make_state({f"{ENB},EUtranCellFDD=A,EUtranFreqRelation=1": {}})
    (violation,) = evaluate_rules(rules, state, mini_mom)  # default 5
    assert violation.got == 5


def test_suggestions_from_dependency_texts(mini_mom: Mom) -> None:
    (rule,) = suggest_rules(mini_mom)
    assert rule.expression.text == "dlChannelBandwidth == ulChannelBandwidth"
    assert rule.mo_class == "EUtranCellFDD"
    again = check_rules(parse_rules(rules_to_csv([rule])), mini_mom)
    assert again[0].expression.text == rule.expression.text


@pytest.mark.shared
def test_suggestions_from_erbs(erbs_mom: Mom) -> None:
    texts = {r.expression.text for r in suggest_rules(erbs_mom)}
    assert "dlChannelBandwidth == ulChannelBandwidth" in texts
    assert "ulChannelBandwidth == dlChannelBandwidth" in texts


def test_leading_comments_keep_file_line_numbers() -> None:
    text = (
        "# rules for urban cells\n\n" + HEADER + "# a comment\nR9,EUtranCellFDD,pci == 1,,error,\n"
    )
    (rule,) = parse_rules(text, "r.csv")
    assert rule.row == 5


def test_boolean_operands(mini_mom: Mom) -> None:
    rules = check_rules(
        parse_rules(HEADER + "R,ENodeBFunction,sleepModeActive == false,,error,\n"), mini_mom
    )
    state = make_state({ENB: {"sleepModeActive": True}})
    (violation,) = evaluate_rules(rules, state, mini_mom)
    assert violation.got is True
    state.mos[ENB].attributes["sleepModeActive"] = False
    assert evaluate_rules(rules, state, mini_mom) == []


def test_header_only_file_means_no_rules() -> None:
    assert parse_rules(HEADER) == []
