"""YANG modules -> MOM -> generated models: our own small modules (always) and 3GPP NRM (shared)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pydantic
import pytest
from rc_helpers import DATA, SHARED_MOM
from typer.testing import CliRunner

from opsforge.cli.main import app
from opsforge.core.errors import InvalidInputError, NotFoundError
from opsforge.engines.ranconfig._xsdpattern import xsd_pattern_to_python
from opsforge.engines.ranconfig.codegen import generate_package
from opsforge.engines.ranconfig.io import read_model, read_yang, read_yang_modules, write_package
from opsforge.engines.ranconfig.loader import ModelSet, compile_models
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.yang import module_name_of, parse_yang

YANG = DATA / "yang"
NRM_YANG = SHARED_MOM / "3gpp_mns_rel17" / "yang-models"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def acme() -> Mom:
    return read_yang(YANG)


@pytest.fixture(scope="module")
def acme_models(acme: Mom) -> ModelSet:
    return compile_models(acme)


# (class, attribute, accepted, refused): every constraint kind at its boundaries
CASES: list[tuple[str, str, list[Any], list[Any]]] = [
    ("cell", "pci", [0, 503], [-1, 504, True, "5"]),
    ("cell", "tilt", [-10.0, 15.0, 2.5, -9.9, 3], [-10.1, 15.1, 2.55, 0.01]),
    ("cell", "earfcn", [0, 17999, 36000, 262143], [18000, 35999, 262144, -1]),
    ("cell", "cellName", ["A", "Abcdefghijklmnop", "a_1-b"], ["", "1abc", "A" * 17, "a b"]),
    ("cell", "notAdmin", ["user", "xadmin"], ["admin", "admin1"]),
    ("cell", "administrativeState", ["LOCKED", "SHUTTING-DOWN"], ["locked", "OPEN", 0]),
    ("cell", "sleepMode", [True, False], [1, "true"]),
    ("cell", "tech", ["lte", "lte-m", "nr"], ["radio-tech", "wcdma"]),
    ("cell", "load", [0, 100], [101, -1]),
    ("cell", "txPower", [-30.0, 46.0, 20.5], [-30.1, 46.1, 20.05]),
    ("cell", "slot", [0, 7, 10, 20], [8, 9, 21]),
    ("cell", "label", ["5", "x"], [5]),
    ("cell", "flags", ["", "red", "red blue"], ["yellow", "red,blue"]),
    ("cell", "peer", ["node-1"], [1]),
    ("cell", "peerDn", ["A=1,B=2"], ["A", "A=1,"]),
    ("cell", "bands", [[1], [1, 2, 3, 90]], [[], [1, 2, 3, 4, 5], [91], [1, 1]]),
    ("cell", "plmn", [[{"mcc": "240", "mnc": "01"}] * 1], [[{"mcc": "24", "mnc": "01"}]]),
    (
        "cell",
        "plmn",
        [[{"mcc": str(100 + i), "mnc": "01"} for i in range(3)]],
        [[{"mcc": str(100 + i), "mnc": "01"} for i in range(4)]],
    ),
    ("cell", "location", [{"latitude": -90.0, "longitude": 180.0}], [{"latitude": 90.00001}]),
    ("cell", "location", [{"latitude": 12.34567}], [{"latitude": 12.345678}, {"x": 1}]),
    ("cell", "extParam", [1, 3], [0, 4]),
    ("relation", "cio", [-24, 24], [-25, 25]),
    ("cell", "id", ["a", "x" * 32], ["", "x" * 33]),
]


@pytest.mark.parametrize(("cls", "attr", "good", "bad"), CASES)
def test_yang_constraints_in_generated_models(
    acme_models: ModelSet, cls: str, attr: str, good: list[Any], bad: list[Any]
) -> None:
    model = acme_models.model(cls)
    for value in good:
        assert model.model_validate({attr: value}).mom_values()[attr] is not None
    for value in bad:
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({attr: value})


def test_yang_tree_maps_to_classes_and_containment(acme: Mom) -> None:
    assert set(acme.classes) == {"node", "cell", "relation"}
    assert acme.parents_of("cell") == ["node"]
    assert acme.children_of("cell") == ["relation"]
    link = next(c for c in acme.containments if c.child == "cell")
    assert link.max_count == 6
    assert link.min_count is None
    cell = acme.classes["cell"]
    assert cell.key_attribute == "id"
    assert cell.attributes["id"].restricted
    assert cell.mim == "acme-ran"
    assert "vendor" in acme.classes["node"].attributes  # `container attributes` flattened


def test_yang_attribute_properties(acme: Mom) -> None:
    attrs = acme.classes["cell"].attributes
    assert attrs["pci"].mandatory  # by `refine pci { mandatory true; }`
    assert attrs["pci"].description == "Physical cell id."
    assert attrs["operationalState"].read_only
    assert not attrs["pci"].read_only
    assert attrs["administrativeState"].data_type.default == "LOCKED"
    assert attrs["administrativeState"].data_type.ref == "AdminState"
    assert acme.enums["AdminState"].members == {"LOCKED": 0, "UNLOCKED": 1, "SHUTTING-DOWN": 7}
    assert attrs["tilt"].data_type.unit == "deg"
    assert attrs["tilt"].data_type.resolution == pytest.approx(0.1)
    assert attrs["txPower"].data_type.unit == "dBm"  # from the typedef
    assert attrs["txPower"].data_type.default == "20.0"  # typedef default
    assert attrs["load"].data_type.unit == "%"
    assert attrs["bands"].mandatory  # min-elements 1
    assert attrs["bands"].data_type.min_length == 1
    assert attrs["bands"].data_type.max_length == 4
    assert not attrs["sharedWith"].mandatory  # mandatory inside a choice case
    assert attrs["oldParam"].deprecated
    assert attrs["peer"].data_type.mom_kind == "leafref"
    assert attrs["peer"].data_type.ref == "/ar:node/ar:id"
    assert set(acme.enums["radio-tech"].members) == {"lte", "lte-m", "nr"}
    location = acme.structs[attrs["location"].data_type.ref or ""]
    assert location.members["latitude"].data_type.default == "0.0"  # refined default
    assert attrs["plmn"].data_type.element is not None
    assert attrs["plmn"].data_type.element.ref == "PlmnId"  # struct named by its grouping


def test_yang_without_augmenting_module(acme: Mom) -> None:
    texts = read_yang_modules(YANG)
    mom = parse_yang(texts, ["acme-ran"])
    assert "extParam" not in mom.classes["cell"].attributes
    assert set(mom.enums["radio-tech"].members) == {"lte", "lte-m"}
    assert "extParam" in acme.classes["cell"].attributes


def test_yang_errors_name_file_and_line() -> None:
    texts = {"bad.yang": "module bad { namespace urn:b; prefix b; leaf x { type nosuch; } }"}
    with pytest.raises(InvalidInputError, match=r"bad.yang:1"):
        parse_yang(texts)
    with pytest.raises(NotFoundError, match="nosuch-module"):
        parse_yang(read_yang_modules(YANG), ["nosuch-module"])
    with pytest.raises(InvalidInputError, match="expected a YANG"):
        module_name_of("not yang", "x.txt")


def test_xsd_pattern_translation() -> None:
    assert xsd_pattern_to_python("$a^") == r"\$a\^"
    assert xsd_pattern_to_python("[^a$]") == "[^a$]"
    assert xsd_pattern_to_python(r"\p{L}+[\p{N}]") == r"[^\W\d_]+[\d]"


def test_read_model_dispatches_yang_file(acme: Mom) -> None:
    mom = read_model(YANG / "acme-ran.yang")
    assert set(mom.classes) == {"node", "cell", "relation"}
    with pytest.raises(InvalidInputError, match="YANG"):
        read_model(DATA / "mini_mom.xml", modules=["acme-ran"])


def test_cli_compiles_yang_folder(tmp_path: Path) -> None:
    out = tmp_path / "acme_models"
    result = CliRunner().invoke(
        app, ["ranconfig", "compile", str(YANG), "--module", "acme-ran-ext", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "__init__.py").is_file()
    assert (out / "_enums.py").is_file()
    code = (
        "import acme_models as m\n"
        "m.model_for('cell', writable=True)(pci=503, extParam=3)\n"
        "try:\n    m.model_for('cell')(pci=504)\nexcept Exception:\n    print('refused')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "refused"


def test_generated_yang_package_passes_ruff(acme: Mom, tmp_path: Path) -> None:
    write_package(generate_package(acme, "acme_pkg"), tmp_path / "acme_pkg")
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run(
        [str(ruff), "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the 3GPP NRM YANG modules (../shared) -------------------------------------------------------


@pytest.fixture(scope="module")
def nrcelldu() -> Mom:
    if not (NRM_YANG / "_3gpp-nr-nrm-nrcelldu.yang").is_file():
        pytest.skip(f"3GPP NRM YANG models not available at {NRM_YANG} (needs ../shared)")
    return read_yang(NRM_YANG, ["_3gpp-nr-nrm-nrcelldu"])


def test_3gpp_nrcelldu_compiles(nrcelldu: Mom) -> None:
    text = (NRM_YANG / "_3gpp-nr-nrm-nrcelldu.yang").read_text(encoding="utf-8")
    assert 'type int32 { range "0..1007"; }' in text  # what the file says about nRPCI
    assert nrcelldu.parents_of("NRCellDU") == ["GNBDUFunction"]  # via the augment
    assert nrcelldu.parents_of("GNBDUFunction") == ["ManagedElement"]
    attrs = nrcelldu.classes["NRCellDU"].attributes
    assert attrs["nRPCI"].mandatory
    assert attrs["nRPCI"].data_type.ranges == ((0.0, 1007.0),)
    assert attrs["operationalState"].read_only
    assert attrs["administrativeState"].data_type.default == "LOCKED"
    assert attrs["ssbSubCarrierSpacing"].data_type.unit == "kHz"
    model = compile_models(nrcelldu).model("NRCellDU", writable=True)
    assert model.model_validate({"nRPCI": 0}).mom_values() == {"nRPCI": 0}
    assert model.model_validate({"nRPCI": 1007}).mom_values() == {"nRPCI": 1007}
    for bad in (1008, -1):
        with pytest.raises(pydantic.ValidationError, match=r"expected \[0..1007\]"):
            model.model_validate({"nRPCI": bad})
    for good, bad in ((15, 60), (240, 0)):
        model.model_validate({"ssbSubCarrierSpacing": good})
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({"ssbSubCarrierSpacing": bad})
    with pytest.raises(pydantic.ValidationError):
        model.model_validate({"operationalState": "ENABLED"})  # config false: not writable


def test_3gpp_nrcelldu_package_imports(nrcelldu: Mom, tmp_path: Path) -> None:
    write_package(generate_package(nrcelldu, "nr_pkg"), tmp_path / "nr_pkg")
    code = (
        "import nr_pkg\n"
        "for name in nr_pkg.MO_CLASSES:\n    nr_pkg.model_for(name)\n"
        "print(len(nr_pkg.MO_CLASSES))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) == len(nrcelldu.classes)
    ruff = Path(sys.executable).parent / "ruff"
    lint = subprocess.run(
        [str(ruff), "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
