"""3GPP Bulk CM NRM XSD -> MOM -> generated models: own schemas (always), 3GPP ones (shared)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest
from rc_helpers import DATA, SHARED_MOM
from typer.testing import CliRunner

from opsforge.cli.main import app
from opsforge.core.errors import DataQualityError, NotFoundError
from opsforge.engines.ranconfig.bulkcm import parse_bulk_cm
from opsforge.engines.ranconfig.io import read_model, read_nrm_xsd
from opsforge.engines.ranconfig.loader import ModelSet, compile_models
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.nrm_xsd import parse_nrm_xsd

XSD = DATA / "nrm_xsd"
BULKCM_SCHEMAS = SHARED_MOM / "3gpp_bulkcm_sigscale" / "schema"
BULKCM_EXAMPLES = SHARED_MOM / "3gpp_bulkcm_sigscale" / "examples"


@pytest.fixture(scope="module")
def acme() -> Mom:
    return read_nrm_xsd(XSD)


@pytest.fixture(scope="module")
def acme_models(acme: Mom) -> ModelSet:
    return compile_models(acme)


PLMN = {"mcc": "240", "mnc": "01"}
CASES: list[tuple[str, str, list[Any], list[Any]]] = [
    ("AcmeCell", "pci", [0, 503], [-1, 504, True]),
    ("AcmeCell", "txPower", [-30.0, 46.0, 20.5], [-30.1, 46.1, 20.55]),
    ("AcmeCell", "cellState", ["IDLE", "ACTIVE"], ["idle", "BUSY"]),
    ("AcmeCell", "bandwidth", [5, 10, 20], [15, 0]),
    ("AcmeCell", "cellName", ["A", "Abcdefgh"], ["", "Abcdefghi", "abc"]),
    ("AcmeCell", "lac", [1, 65533, 65535], [0, 65534, 65536]),
    ("AcmeCell", "bands", [[1, 1, 3]], ["1 3"]),
    ("AcmeCell", "pLMNIdList", [[PLMN], [PLMN, {**PLMN, "mnc": "001"}, PLMN]], [[PLMN] * 4]),
    ("AcmeCell", "pLMNIdList", [[{"mcc": "001", "mnc": "999"}]], [[{**PLMN, "mnc": "1"}]]),
    ("AcmeCell", "barred", [True], [1]),
    ("AcmeCell", "sectorRef", [["SubNetwork=1,Sector=1"]], [["x" * 41]]),
    ("AcmeRelation", "offset", [-24, 24], [-25, 25]),
    ("ManagedElement", "managedBy", [[], ["A=1", "A=2"]], [["y" * 41]]),
    ("AcmeTuning", "boost", [1, 9], [0, 10]),
]


@pytest.mark.parametrize(("cls", "attr", "good", "bad"), CASES)
def test_xsd_constraints_in_generated_models(
    acme_models: ModelSet, cls: str, attr: str, good: list[Any], bad: list[Any]
) -> None:
    model = acme_models.model(cls)
    for value in good:
        assert model.model_validate({attr: value}).mom_values()[attr] is not None
    for value in bad:
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({attr: value})


def test_xsd_classes_and_containment(acme: Mom) -> None:
    assert set(acme.classes) == {
        "ManagedElement",
        "AcmeCell",
        "AcmeRelation",
        "VsDataContainer",
        "AcmeTuning",
    }
    # AcmeCell is in the substitution group of the abstract head ManagedElement may contain
    assert acme.parents_of("AcmeCell") == ["ManagedElement"]
    assert acme.parents_of("AcmeRelation") == ["AcmeCell"]
    # vendor data vsDataAcmeTuning is class AcmeTuning wherever a VsDataContainer may be
    assert sorted(acme.parents_of("AcmeTuning")) == sorted(acme.parents_of("VsDataContainer"))
    cell = acme.classes["AcmeCell"].attributes
    assert cell["id"].key
    assert cell["pci"].mandatory
    assert not cell["txPower"].mandatory
    assert cell["txPower"].data_type.resolution == pytest.approx(0.1)
    assert cell["barred"].data_type.default == "false"
    assert acme.classes["AcmeRelation"].attributes["offset"].data_type.ranges == ((-24.0, 24.0),)
    # the attributes element of ManagedElement is optional: nothing in it is mandatory
    assert not acme.classes["ManagedElement"].attributes["userLabel"].mandatory


def test_xsd_roots_follow_imports(acme: Mom) -> None:
    mom = read_nrm_xsd(XSD / "acmeRan.xsd")
    assert "AcmeCell" in mom.classes
    assert "ManagedElement" in mom.classes
    assert "AcmeTuning" not in mom.classes  # acmeVendor.xsd is not imported by acmeRan.xsd


def test_xsd_consistent_with_bulk_cm_reader(acme: Mom, acme_models: ModelSet) -> None:
    data = b"""<?xml version="1.0"?>
<bulkCmConfigDataFile xmlns="urn:x:configData" xmlns:xn="urn:opsforge:test:genericNrm"
    xmlns:ar="urn:opsforge:test:acmeRan" xmlns:av="urn:opsforge:test:acmeVendor">
 <configData dnPrefix="DC=acme">
  <xn:ManagedElement id="1">
   <ar:AcmeCell id="C1">
    <ar:attributes><ar:userLabel>c</ar:userLabel><ar:pci>7</ar:pci></ar:attributes>
    <xn:VsDataContainer id="T1"><xn:attributes>
      <xn:vsDataType>vsDataAcmeTuning</xn:vsDataType>
      <xn:vsDataFormatVersion>1</xn:vsDataFormatVersion>
      <av:vsDataAcmeTuning><av:boost>3</av:boost><av:mode>x</av:mode></av:vsDataAcmeTuning>
    </xn:attributes></xn:VsDataContainer>
   </ar:AcmeCell>
  </xn:ManagedElement>
 </configData>
</bulkCmConfigDataFile>"""
    state = parse_bulk_cm(data, acme)
    for fdn, mo in state.mos.items():
        assert acme.get_class(mo.mo_class) is not None, fdn
        acme_models.model(mo.mo_class).model_validate(mo.attributes)
    assert state.mos["ManagedElement=1,AcmeCell=C1,AcmeTuning=T1"].attributes["boost"] == 3


def test_xsd_errors() -> None:
    with pytest.raises(DataQualityError, match=r"bad\.xsd"):
        parse_nrm_xsd({"bad.xsd": b"<schema"})
    with pytest.raises(DataQualityError, match=r"xs:schema"):
        parse_nrm_xsd({"x.xsd": b"<root/>"})
    with pytest.raises(NotFoundError, match=r"missing\.xsd"):
        parse_nrm_xsd({"x.xsd": (XSD / "acmeGeneric.xsd").read_bytes()}, ["missing.xsd"])


def test_cli_compiles_xsd(tmp_path: Path) -> None:
    out = tmp_path / "acme_xsd"
    result = CliRunner().invoke(
        app, ["ranconfig", "compile", str(XSD / "acmeRan.xsd"), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"num_classes": 4' in result.output
    assert read_model(XSD).name.startswith("acme")


# --- the 3GPP Bulk CM schemas (../shared) ---------------------------------------------------------


@pytest.fixture(scope="module")
def nr_xsd() -> Mom:
    if not (BULKCM_SCHEMAS / "nrNrm.xsd").is_file():
        pytest.skip(f"3GPP Bulk CM schemas not available at {BULKCM_SCHEMAS} (needs ../shared)")
    return read_nrm_xsd(BULKCM_SCHEMAS / "nrNrm.xsd")


def test_3gpp_nrnrm_xsd_compiles(nr_xsd: Mom) -> None:
    text = (BULKCM_SCHEMAS / "nrNrm.xsd").read_text(encoding="utf-8")
    assert '<element name="nRpci" type="nn:Pci" />' in text
    assert '<maxInclusive value="503"/>' in text  # Pci in this schema: 0..503
    assert nr_xsd.parents_of("NRCellDU") == ["GNBDUFunction"]
    assert nr_xsd.parents_of("GNBDUFunction") == ["ManagedElement"]
    model = compile_models(nr_xsd).model("NRCellDU", writable=True)
    model.model_validate({"nRpci": 0, "nRTac": 16777215})
    model.model_validate({"nRpci": 503})
    for bad in (504, -1):
        with pytest.raises(pydantic.ValidationError, match=r"expected \[0..503\]"):
            model.model_validate({"nRpci": bad})


def test_3gpp_nr_example_validates(nr_xsd: Mom) -> None:
    example = BULKCM_EXAMPLES / "nr.xml"
    if not example.is_file():
        pytest.skip(f"{example} not available")
    state = parse_bulk_cm(example.read_bytes(), nr_xsd)
    models = compile_models(nr_xsd)
    cells = [mo for mo in state.mos.values() if mo.mo_class == "NRCellDU"]
    assert cells
    for mo in cells:
        # a <pLMNIdList> holding ONE <pLMNId> is a sequence of one struct, not a wrapper dict
        plmns = mo.attributes["pLMNIdList"]
        assert isinstance(plmns, list)
        assert all(isinstance(p, dict) and "pLMNId" not in p for p in plmns), plmns
        models.model("NRCellDU").model_validate(mo.attributes)
