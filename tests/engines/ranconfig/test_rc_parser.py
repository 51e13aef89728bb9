"""The streaming MOM parser: both dialects, every constraint kind, real Ericsson files."""

from __future__ import annotations

import gc
import io
from pathlib import Path

import pytest
from rc_helpers import DATA, SHARED_MOM

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ranconfig.mom import Mom, mom_class_name, needs_lock
from opsforge.engines.ranconfig.parser import parse_mom, parse_moms

pytest_plugins = ["rc_fixtures"]


def test_classes_containment_and_flags(mini_mom: Mom) -> None:
    assert set(mini_mom.classes) == {
        "ManagedElement",
        "ENodeBFunction",
        "OptionalFeature",
        "EUtranCellFDD",
        "EUtranFreqRelation",
        "EUtranFrequency",
    }
    assert mini_mom.name == "TESTNODE_MODEL"
    assert mini_mom.parents_of("EUtranCellFDD") == ["ENodeBFunction"]
    assert mini_mom.children_of("EUtranCellFDD") == ["EUtranFreqRelation"]
    rel = next(c for c in mini_mom.containments if c.child == "EUtranCellFDD")
    assert (rel.min_count, rel.max_count) == (0, 24)
    assert len(mini_mom.containments) == 5  # the association is not a containment
    cell = mini_mom.classes["EUtranCellFDD"]
    assert mini_mom.classes["ENodeBFunction"].system_created
    assert not cell.system_created
    assert cell.key_attribute == "EUtranCellFDDId"
    earfcn = cell.attributes["earfcndl"]
    assert earfcn.mandatory
    assert earfcn.restricted
    assert earfcn.needs_lock
    assert cell.attributes["operationalState"].read_only
    assert cell.attributes["pmRrcConnEstabSucc"].counter
    assert not cell.attributes["pmRrcConnEstabSucc"].writable
    assert cell.attributes["oldParameter"].deprecated
    assert cell.attributes["pci"].disturbances == "Changes may affect traffic."
    assert "same as ulChannelBandwidth" in (
        cell.attributes["dlChannelBandwidth"].dependencies or ""
    )


def test_data_types_and_constraints(mini_mom: Mom) -> None:
    cell = mini_mom.classes["EUtranCellFDD"].attributes
    bw = cell["dlChannelBandwidth"].data_type
    assert bw.kind == "int"
    assert len(bw.ranges) == 6
    assert bw.default == "10000"
    assert bw.unit == "kHz"
    q = cell["qRxLevMin"].data_type
    assert q.ranges == ((-140, -44),)
    assert q.resolution == 2.0
    assert cell["latitude"].data_type.kind == "float"
    assert cell["userLabel"].data_type.length_ranges == ((0, 128),)
    assert cell["userLabel"].data_type.default == ""
    assert cell["administrativeState"].data_type.ref == "AdminState"
    plmn = cell["additionalPlmnList"].data_type
    assert plmn.kind == "sequence"
    assert plmn.max_length == 5
    assert not plmn.unique
    assert plmn.element is not None
    assert plmn.element.ref == "PlmnIdentity"
    earfcns = cell["earfcnList"].data_type
    assert earfcns.unique
    assert earfcns.element is not None
    assert earfcns.element.ranges == ((0, 17999),)
    assert cell["sectorCarrierRef"].data_type.element.kind == "moref"  # type: ignore[union-attr]
    # a long without range is bounded by its kind
    assert cell["pmRrcConnEstabSucc"].data_type.ranges == ((-(2**31), 2**31 - 1),)
    arfcn = mini_mom.classes["EUtranFrequency"].attributes["arfcnValueEUtranDl"].data_type
    assert arfcn.ranges == ((0, 17999), (36000, 262143))
    assert mini_mom.enums["AdminState"].members == {"LOCKED": 0, "UNLOCKED": 1, "SHUTTING_DOWN": 2}
    assert set(mini_mom.structs["PlmnIdentity"].members) == {"mcc", "mnc", "mncLength"}


def test_ecim_derived_types_resolve_across_files(ecim_mom: Mom) -> None:
    attrs = ecim_mom.classes["AnrFunction"].attributes
    pct = attrs["removeNrelTime"].data_type
    assert (pct.kind, pct.ranges, pct.resolution, pct.default) == ("int", ((0, 100),), 5.0, "50")
    assert attrs["hysteresis"].data_type.ranges == ((-10, -1), (1, 10))
    codes = attrs["codes"].data_type
    assert (codes.min_length, codes.max_length) == (1, 4)
    assert codes.element is not None
    assert codes.element.pattern == "[A-D]*"
    assert codes.element.length_ranges == ((2, 6),)
    assert attrs["anrFunctionId"].key
    assert attrs["scaledValue"].data_type.ranges == ((0, 255),)
    assert ecim_mom.classes["AnrFunction"].key_attribute == "anrFunctionId"


def test_unresolved_derived_type_names_the_attribute() -> None:
    with pytest.raises(InvalidInputError, match=r"AnrFunction.removeNrelTime.*MINI_TYPES_Percent"):
        parse_mom((DATA / "mini_ecim.xml").read_bytes())


def test_malformed_xml_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="not well-formed"):
        parse_mom(b"<models><mim name='x'><class name='A'></mim>")


def test_bytes_stream_and_chunks_give_the_same_model(mini_mom: Mom) -> None:
    data = (DATA / "mini_mom.xml").read_bytes()
    chunks = [data[i : i + 97] for i in range(0, len(data), 97)]
    assert parse_mom(io.BytesIO(data)) == mini_mom
    assert parse_mom(iter([b"", *chunks])) == mini_mom
    assert parse_mom(data, keep_descriptions=False).classes["EUtranCellFDD"].description == ""


def test_vsdata_names_and_takes_effect() -> None:
    assert mom_class_name("vsDataEUtranCellFDD") == "EUtranCellFDD"
    assert mom_class_name("vsdataX") == "vsdataX"
    assert needs_lock("Object disabled/enabled.")
    assert needs_lock("Cell lock/unlock")
    assert not needs_lock("Immediately")
    assert not needs_lock("At node restart")
    assert not needs_lock(None)


@pytest.mark.shared
def test_real_erbs_model(erbs_mom: Mom) -> None:
    assert len(erbs_mom.classes) == 330
    assert sum(len(c.attributes) for c in erbs_mom.classes.values()) == 4986
    assert erbs_mom.get_class("vsDataEUtranCellFDD") is erbs_mom.classes["EUtranCellFDD"]
    cell = erbs_mom.classes["EUtranCellFDD"].attributes
    assert len(cell["dlChannelBandwidth"].data_type.ranges) == 6
    assert cell["qRxLevMin"].data_type.resolution == 2.0
    assert cell["earfcndl"].restricted
    assert cell["earfcndl"].mandatory
    assert sum(c.system_created for c in erbs_mom.classes.values()) == 179


@pytest.mark.shared
@pytest.mark.parametrize(
    ("name", "num_classes"),
    [("RbsNodeComplete.xml", 178), ("WratMomComplete.xml", 12), ("LRAT_Model_Mini_mp.xml", 2)],
)
def test_other_real_models(name: str, num_classes: int) -> None:
    path: Path = SHARED_MOM / "ericsson_mp_xml" / name
    if not path.is_file():
        pytest.skip(f"{path} not available (needs ../shared)")
    with path.open("rb") as handle:
        mom = parse_moms([handle])
    assert len(mom.classes) == num_classes


def test_open_ended_ranges() -> None:
    xml = (
        b"<models><mim name='M'><class name='C'>"
        b"<attribute name='a'><dataType><long><range><min>-1</min></range></long></dataType></attribute>"
        b"<attribute name='b'><dataType><short><range><max>7</max></range></short></dataType></attribute>"
        b"<attribute name='c'><dataType><double><range><min>0.5</min></range></double></dataType></attribute>"
        b"</class></mim></models>"
    )
    attrs = parse_mom(xml).classes["C"].attributes
    assert attrs["a"].data_type.ranges == ((-1, 2**31 - 1),)
    assert attrs["b"].data_type.ranges == ((-(2**15), 7),)
    low, high = attrs["c"].data_type.ranges[0]
    assert low == 0.5
    assert high > 1e300


def test_repeated_data_types_are_parsed_once(mini_mom: Mom) -> None:
    me_id = mini_mom.classes["ManagedElement"].attributes["ManagedElementId"].data_type
    enb_id = mini_mom.classes["ENodeBFunction"].attributes["ENodeBFunctionId"].data_type
    label = mini_mom.classes["ManagedElement"].attributes["userLabel"].data_type
    assert me_id is enb_id  # both <dataType><string/></dataType>: one shared object
    assert label is not me_id
    assert label.length_ranges == ((0, 128),)
    assert me_id.length_ranges == ()


def test_garbage_collector_state_is_restored() -> None:
    data = (DATA / "mini_mom.xml").read_bytes()
    assert gc.isenabled()
    parse_mom(data)
    assert gc.isenabled()
    gc.disable()
    try:
        parse_mom(data)
        assert not gc.isenabled()
    finally:
        gc.enable()
