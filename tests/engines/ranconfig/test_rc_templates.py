"""Templates: inheritance, validation with every error, export in JSON/YAML/TOML, docs."""

from __future__ import annotations

import pytest

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ranconfig.loader import ModelSet
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.reference import describe_type, render_reference
from opsforge.engines.ranconfig.rules import check_rules, parse_rules
from opsforge.engines.ranconfig.templates import (
    TemplateDocument,
    dump_template,
    load_template,
    resolve_template,
    validate_document,
    validate_template,
)

pytest_plugins = ["rc_fixtures"]


YAML = """
name: lte_macro
description: LTE macro defaults
parameters:
  EUtranCellFDD: {qRxLevMin: -124, cellRange: 15, userLabel: macro}
  ENodeBFunction: {sleepModeActive: false}
create:
  - {under: EUtranCellFDD, mo: EUtranFreqRelation=3, attributes: {cellReselectionPriority: 4}}
variants:
  urban:
    description: dense urban
    parameters: {EUtranCellFDD: {qRxLevMin: -120, cellRange: 5}}
  mobility:
    extends: urban
    parameters: {EUtranFreqRelation: {qOffsetFreq: 2}}
  sleep_mode:
    parameters: {ENodeBFunction: {sleepModeActive: true}}
"""


@pytest.fixture
def doc() -> TemplateDocument:
    return load_template(YAML, "yaml")


def test_inheritance(doc: TemplateDocument) -> None:
    base = resolve_template(doc)
    assert base.name == "lte_macro"
    mobility = resolve_template(doc, "mobility")
    assert mobility.parameters["EUtranCellFDD"] == {
        "qRxLevMin": -120,
        "cellRange": 5,
        "userLabel": "macro",
    }
    assert mobility.parameters["EUtranFreqRelation"] == {"qOffsetFreq": 2}
    assert mobility.description == "dense urban"
    assert len(mobility.create) == 1
    sleep = resolve_template(doc, "sleep_mode")
    assert sleep.parameters["ENodeBFunction"] == {"sleepModeActive": True}
    assert sleep.parameters["EUtranCellFDD"]["qRxLevMin"] == -124


def test_unknown_variant_and_cycles(doc: TemplateDocument) -> None:
    with pytest.raises(InvalidInputError, match="no variant 'rural'"):
        resolve_template(doc, "rural")
    looped = load_template(
        '{"name": "b", "variants": {"x": {"extends": "y"}, "y": {"extends": "x"}}}', "json"
    )
    with pytest.raises(InvalidInputError, match="cycle"):
        resolve_template(looped, "x")


def test_valid_document(doc: TemplateDocument, mini_models: ModelSet) -> None:
    issues = validate_document(doc, mini_models)
    assert set(issues) == {"lte_macro", "urban", "mobility", "sleep_mode"}
    assert all(not found for found in issues.values())


def test_every_error_reported_with_path_expected_got(mini_models: ModelSet) -> None:
    bad = load_template(
        """
name: bad
parameters:
  EUtranCellFDD: {pci: 9999, qRxLevMin: -121, administrativeState: OPEN, operationalState: ENABLED, earfcndl: 5}
  NoSuchClass: {x: 1}
create:
  - {under: EUtranCellFDD, mo: EUtranFreqRelation=1, attributes: {cellReselectionPriority: 9}}
  - {under: EUtranCellFDD, mo: EUtranCellFDD=2, attributes: {}}
  - {under: ManagedElement, mo: ENodeBFunction=2}
delete:
  - {under: EUtranCellFDD, mo: bogus}
""",
        "yaml",
    )
    issues = validate_template(resolve_template(bad), mini_models)
    by_path = {i.path: i for i in issues}
    assert by_path["bad.parameters.EUtranCellFDD.pci"].got == 9999
    assert by_path["bad.parameters.EUtranCellFDD.pci"].expected == "[0..503]"
    assert by_path["bad.parameters.EUtranCellFDD.qRxLevMin"].expected == (
        "[-140..-44] in steps of 2"
    )
    assert by_path["bad.parameters.EUtranCellFDD.qRxLevMin"].got == -121
    assert by_path["bad.parameters.EUtranCellFDD.administrativeState"].got == "OPEN"
    assert "Extra inputs" in by_path["bad.parameters.EUtranCellFDD.operationalState"].expected
    assert "creat" in by_path["bad.parameters.EUtranCellFDD.earfcndl"].expected
    assert by_path["bad.parameters.NoSuchClass"].got == "NoSuchClass"
    assert by_path["bad.create[0].attributes.cellReselectionPriority"].got == 9
    assert by_path["bad.create[1].under"].got == "EUtranCellFDD"
    assert {"bad.create[1].attributes.cellId", "bad.create[1].attributes.earfcndl"} <= set(by_path)
    assert "bad.create[2].mo" in by_path  # system-created class
    assert by_path["bad.delete[0].mo"].got == "bogus"
    assert len(issues) == 12


def test_rules_checked_in_templates(mini_mom: Mom, mini_models: ModelSet) -> None:
    rules = check_rules(
        parse_rules(
            "id,mo_class,expression,condition,severity,message\n"
            "R1,EUtranCellFDD,dlChannelBandwidth == ulChannelBandwidth,,error,match\n"
        ),
        mini_mom,
    )
    tpl = load_template('{"parameters": {"EUtranCellFDD": {"dlChannelBandwidth": 20000}}}', "json")
    (issue,) = validate_template(resolve_template(tpl), mini_models, rules)
    assert issue.path == "base.parameters.EUtranCellFDD.dlChannelBandwidth"
    assert issue.expected == "dlChannelBandwidth == ulChannelBandwidth"
    assert issue.got == 20000


@pytest.mark.parametrize("fmt", ["json", "yaml", "toml"])
def test_export_round_trip(doc: TemplateDocument, fmt: str) -> None:
    text = dump_template(doc, fmt)  # type: ignore[arg-type]
    assert load_template(text, fmt) == doc  # type: ignore[arg-type]


def test_toml_refuses_null_and_bad_input() -> None:
    doc = load_template('{"parameters": {"EUtranCellFDD": {"userLabel": null}}}', "json")
    with pytest.raises(InvalidInputError, match="TOML"):
        dump_template(doc, "toml")
    with pytest.raises(InvalidInputError, match="not valid yaml"):
        load_template("a: [", "yaml")
    with pytest.raises(InvalidInputError, match="parameters"):
        load_template('{"parameters": 3}', "json")


def test_reference_docs(mini_mom: Mom) -> None:
    text = render_reference(mini_mom, ["EUtranCellFDD"])
    assert text.startswith("# TESTNODE_MODEL parameter reference")
    assert "| qRxLevMin | long [-140..-44] in steps of 2 | -140 | dBm |" in text
    assert "Contained in ENodeBFunction; contains EUtranFreqRelation." in text
    assert "| earfcndl | long [0..17999] |  |  | mandatory, restricted, lock |" in text
    cell = mini_mom.classes["EUtranCellFDD"].attributes
    assert (
        describe_type(cell["additionalPlmnList"].data_type)
        == "sequence of 0..5 struct PlmnIdentity"
    )
    assert describe_type(cell["earfcnList"].data_type) == "sequence of 0..3 unique long [0..17999]"
