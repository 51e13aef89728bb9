"""Bulk CM (3GPP TS 32.616) exports as scopes: vsData containers map to MOM classes."""

from __future__ import annotations

import pytest
from rc_helpers import DATA, SHARED_MOM

from opsforge.core.errors import DataQualityError
from opsforge.engines.ranconfig.bulkcm import parse_bulk_cm
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.plan import build_plan
from opsforge.engines.ranconfig.templates import Template

pytest_plugins = ["rc_fixtures"]


CELL = "SubNetwork=S1,MeContext=N1,ManagedElement=1,ENodeBFunction=1,EUtranCellFDD=A"


def test_vsdata_containers_become_mos(mini_mom: Mom) -> None:
    state = parse_bulk_cm((DATA / "bulkcm_export.xml").read_bytes(), mini_mom)
    assert sorted(state.mos) == [
        "SubNetwork=S1",
        "SubNetwork=S1,MeContext=N1",
        "SubNetwork=S1,MeContext=N1,ManagedElement=1",
        "SubNetwork=S1,MeContext=N1,ManagedElement=1,ENodeBFunction=1",
        CELL,
    ]
    cell = state.mos[CELL]
    assert cell.mo_class == "EUtranCellFDD"
    assert cell.attributes == {
        "qRxLevMin": -140,
        "administrativeState": "UNLOCKED",
        "userLabel": "cell A",
        "additionalPlmnList": [{"mcc": 240, "mnc": 1, "mncLength": 2}],
        "earfcnList": [100, 200],
    }
    assert state.mos["SubNetwork=S1,MeContext=N1,ManagedElement=1,ENodeBFunction=1"].attributes == {
        "eNBId": 1001,
        "sleepModeActive": False,
    }
    plan = build_plan(
        Template(name="t", parameters={"EUtranCellFDD": {"qRxLevMin": -120}}), state, mini_mom
    )
    assert [c.render() for c in plan.commands] == [f"cmedit set {CELL} qRxLevMin=-120"]
    assert plan.rollback[0].attributes == {"qRxLevMin": -140}


def test_bad_files() -> None:
    with pytest.raises(DataQualityError, match="well-formed"):
        parse_bulk_cm(b"<bulkCmConfigDataFile>")
    with pytest.raises(DataQualityError, match="configData"):
        parse_bulk_cm(b"<bulkCmConfigDataFile/>")


@pytest.mark.shared
def test_sigscale_eutran_example() -> None:
    path = SHARED_MOM / "3gpp_bulkcm_sigscale" / "examples" / "eutran.xml"
    if not path.is_file():
        pytest.skip(f"{path} not available (needs ../shared)")
    state = parse_bulk_cm(path.read_bytes())
    cells = state.of_class("EUtranCellFDD")
    assert cells
    assert all(f.startswith("SubNetwork=6,ManagedElement=1,ENBFunction=1,") for f in cells)


def test_one_item_wrapped_in_its_element_is_a_sequence_of_one(mini_mom: Mom) -> None:
    original = (DATA / "bulkcm_export.xml").read_text(encoding="utf-8")
    wrapped = original.replace(
        "<es:additionalPlmnList><es:mcc>240</es:mcc><es:mnc>1</es:mnc>"
        "<es:mncLength>2</es:mncLength></es:additionalPlmnList>",
        "<es:additionalPlmnList><es:plmnId><es:mcc>240</es:mcc><es:mnc>1</es:mnc>"
        "<es:mncLength>2</es:mncLength></es:plmnId></es:additionalPlmnList>",
    ).replace(
        "<es:earfcnList><es:value>100</es:value><es:value>200</es:value></es:earfcnList>",
        "<es:earfcnList><es:earfcn>100</es:earfcn></es:earfcnList>",
    )
    assert wrapped != original
    cell = parse_bulk_cm(wrapped.encode("utf-8"), mini_mom).mos[CELL]
    assert cell.attributes["additionalPlmnList"] == [{"mcc": 240, "mnc": 1, "mncLength": 2}]
    assert cell.attributes["earfcnList"] == [100]
