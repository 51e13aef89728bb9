"""Generated models enforce every MOM constraint: boundaries accepted, violations refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pydantic
import pytest
from rc_helpers import DATA

from opsforge.engines.ranconfig.codegen import generate_package
from opsforge.engines.ranconfig.io import write_package
from opsforge.engines.ranconfig.loader import ModelSet, compile_models
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.parser import parse_moms

pytest_plugins = ["rc_fixtures"]

REPO = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).resolve().parent / "golden" / "mini_models"
PLMN = {"mcc": 240, "mnc": 1, "mncLength": 2}

# (class, attribute, accepted values, refused values) for every constraint kind
MINI_CASES: list[tuple[str, str, list[Any], list[Any]]] = [
    ("EUtranCellFDD", "pci", [0, 503, 250], [-1, 504, 9999]),
    ("EUtranFrequency", "arfcnValueEUtranDl", [0, 17999, 36000, 262143], [18000, 35999, 262144]),
    ("EUtranCellFDD", "dlChannelBandwidth", [1400, 5000, 20000], [0, 1500, 25000]),
    ("EUtranCellFDD", "qRxLevMin", [-140, -120, -44], [-139, -45, -142, -42]),
    ("EUtranCellFDD", "latitude", [-90.0, 0.5, 90.0], [-90.5, 90.01]),
    ("EUtranCellFDD", "administrativeState", ["LOCKED", "SHUTTING_DOWN"], ["locked", "FOO", 1]),
    ("EUtranCellFDD", "userLabel", ["", "x" * 128], ["x" * 129, 5]),
    ("EUtranCellFDD", "EUtranCellFDDId", ["A", "x" * 64], ["", "x" * 65]),
    ("EUtranCellFDD", "additionalPlmnList", [[], [PLMN] * 5], [[PLMN] * 6]),
    ("EUtranCellFDD", "additionalPlmnList", [[{**PLMN, "mcc": 1}]], [[{**PLMN, "mcc": 0}]]),
    ("EUtranCellFDD", "additionalPlmnList", [[{"mcc": 999}]], [[{**PLMN, "x": 1}]]),
    ("EUtranCellFDD", "earfcnList", [[0, 17999, 5]], [[18000], [1, 1], [1, 2, 3, 4]]),
    ("EUtranCellFDD", "sectorCarrierRef", [["ManagedElement=1,SectorCarrier=1"]], [["nope"]]),
    ("ENodeBFunction", "sleepModeActive", [True, False], ["maybe"]),
    ("EUtranFreqRelation", "cellReselectionPriority", [0, 7], [8, -1]),
    # types are strict: no bool for a number, no text for a number or a boolean
    ("EUtranCellFDD", "cellRange", [1, 100], [True, "5", 5.5, 5.0, 0]),
    ("ENodeBFunction", "sleepModeActive", [True], [1, "true"]),
    ("EUtranCellFDD", "latitude", [45, 45.5], ["45.5", False]),
]
ECIM_CASES: list[tuple[str, str, list[Any], list[Any]]] = [
    ("AnrFunction", "removeNrelTime", [0, 55, 100], [52, 105, -5]),
    ("AnrFunction", "hysteresis", [-10, -1, 1, 10], [0, 11, -11]),
    (
        "AnrFunction",
        "codes",
        [["AB"], ["ABCDDC", "AB", "CD", "DD"]],
        [[], ["A"], ["ABCDABC"], ["XY"]],
    ),
    ("AnrFunction", "codes", [["AB", "BA"]], [["AB"] * 5]),
    ("AnrFunction", "scaledValue", [0, 255], [256, -1]),
]


def _check(models: ModelSet, mo_class: str, attr: str, good: list[Any], bad: list[Any]) -> None:
    model = models.model(mo_class, writable=True)
    for value in good:
        assert model.model_validate({attr: value}).mom_values()[attr] is not None
    for value in bad:
        with pytest.raises(pydantic.ValidationError):
            model.model_validate({attr: value})


@pytest.mark.parametrize(("mo_class", "attr", "good", "bad"), MINI_CASES)
def test_mini_constraints(
    mini_models: ModelSet, mo_class: str, attr: str, good: list[Any], bad: list[Any]
) -> None:
    _check(mini_models, mo_class, attr, good, bad)


@pytest.mark.parametrize(("mo_class", "attr", "good", "bad"), ECIM_CASES)
def test_ecim_constraints(
    ecim_mom: Mom, mo_class: str, attr: str, good: list[Any], bad: list[Any]
) -> None:
    _check(compile_models(ecim_mom), mo_class, attr, good, bad)


def test_messages_say_expected_and_got(mini_models: ModelSet) -> None:
    model = mini_models.model("EUtranCellFDD", writable=True)
    with pytest.raises(pydantic.ValidationError, match=r"expected \[0\.\.503\], got 9999"):
        model.model_validate({"pci": 9999})
    with pytest.raises(pydantic.ValidationError, match=r"\[-140\.\.-44\] in steps of 2, got -139"):
        model.model_validate({"qRxLevMin": -139})
    with pytest.raises(pydantic.ValidationError, match=r"one of 1400, 3000, 5000"):
        model.model_validate({"dlChannelBandwidth": 4000})


def test_read_only_kept_out_of_writable_view(mini_models: ModelSet) -> None:
    writable = mini_models.model("EUtranCellFDD", writable=True)
    full = mini_models.model("vsDataEUtranCellFDD")
    for attr in ("operationalState", "pmRrcConnEstabSucc"):
        with pytest.raises(pydantic.ValidationError, match="Extra inputs"):
            writable.model_validate({attr: "ENABLED" if attr == "operationalState" else 3})
    assert full.model_validate({"operationalState": "ENABLED"}).mom_values() == {
        "operationalState": "ENABLED"
    }
    assert full().q_rx_lev_min == -140  # type: ignore[attr-defined]
    assert {"operationalState", "pmRrcConnEstabSucc"} == writable.READ_ONLY
    assert "earfcndl" in writable.RESTRICTED
    assert {"cellRange", "earfcndl", "qOffsetFreq"} & writable.LOCK_REQUIRED == {
        "cellRange",
        "earfcndl",
    }
    assert mini_models.model("ENodeBFunction").SYSTEM_CREATED
    assert "oldParameter" in writable.DEPRECATED
    assert len(writable.DEPRECATED) == 1


def test_validate_assignment(mini_models: ModelSet) -> None:
    cell = mini_models.model("EUtranCellFDD", writable=True).model_validate({"pci": 1})
    with pytest.raises(pydantic.ValidationError):
        cell.pci = 504  # type: ignore[attr-defined]


def test_golden_files(mini_mom: Mom) -> None:
    files = generate_package(mini_mom, "mini_models")
    if os.environ.get("RANCONFIG_UPDATE_GOLDEN"):
        write_package(files, GOLDEN)
    golden = {p.name: p.read_text(encoding="utf-8") for p in GOLDEN.iterdir() if p.is_file()}
    assert set(golden) == set(files)
    for name, text in files.items():
        assert text == golden[name], f"{name} differs from golden; RANCONFIG_UPDATE_GOLDEN=1"


def _write(mom: Mom, root: Path, name: str) -> Path:
    write_package(generate_package(mom, name), root / name)
    return root / name


def test_package_imports_lazily(mini_mom: Mom, tmp_path: Path) -> None:
    _write(mini_mom, tmp_path, "lazy_pkg")
    code = (
        "import sys\nimport lazy_pkg\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('lazy_pkg.'))\n"
        "assert loaded == [], loaded\n"
        "from lazy_pkg import EUtranCellFDDWritable\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('lazy_pkg.'))\n"
        "assert loaded == ['lazy_pkg._enums', 'lazy_pkg._structs', 'lazy_pkg.managedelement'], loaded\n"
        "assert lazy_pkg.model_for('vsDataEUtranCellFDD', writable=True) is EUtranCellFDDWritable\n"
        "assert 'ManagedElement' in dir(lazy_pkg)\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_generated_code_passes_ruff(mini_mom: Mom, ecim_mom: Mom, tmp_path: Path) -> None:
    _write(mini_mom, tmp_path, "mini_pkg")
    _write(ecim_mom, tmp_path, "ecim_pkg")
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run(
        [str(ruff), "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_code_passes_mypy(mini_mom: Mom, ecim_mom: Mom, tmp_path: Path) -> None:
    _write(mini_mom, tmp_path, "mini_pkg")
    _write(ecim_mom, tmp_path, "ecim_pkg")
    mypy = Path(sys.executable).parent / "mypy"
    proc = subprocess.run(
        [
            str(mypy),
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "mini_pkg",
            "ecim_pkg",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


ERBS_CASES: list[tuple[str, str, list[Any], list[Any]]] = [
    ("EUtranCellFDD", "physicalLayerCellIdGroup", [0, 167], [168, -1]),
    ("EUtranCellFDD", "qRxLevMin", [-140, -44], [-139, -46 + 3, -142]),
    ("EUtranCellFDD", "dlChannelBandwidth", [1400, 20000], [2000]),
    ("EUtranCellFDD", "administrativeState", ["UNLOCKED"], ["OPEN"]),
    ("EUtranCellFDD", "userLabel", ["x" * 128], ["x" * 129]),
    ("EUtranCellFDD", "additionalPlmnList", [[PLMN] * 5], [[PLMN] * 6]),
    ("EUtranCellFDD", "tac", [0, 65535], [65536]),
    ("Ip", "maxRetransmissionAttempts", [-1, 2**31 - 1], [-2, 2**31]),  # <range><min> only
]


@pytest.mark.shared
@pytest.mark.parametrize(("mo_class", "attr", "good", "bad"), ERBS_CASES)
def test_erbs_constraints(
    erbs_models: ModelSet, mo_class: str, attr: str, good: list[Any], bad: list[Any]
) -> None:

    _check(erbs_models, mo_class, attr, good, bad)


@pytest.mark.shared
def test_erbs_compiles_and_passes_ruff(erbs_mom: Mom, tmp_path: Path) -> None:
    pkg = _write(erbs_mom, tmp_path, "erbs_models")
    # 329 classes under ManagedElement in modules of 165 and 164, ManagedObject alone
    assert sorted(p.name for p in pkg.glob("*.py")) == [
        "__init__.py",
        "_enums.py",
        "_structs.py",
        "batterybackup.py",
        "managedelement.py",
        "managedobject.py",
    ]
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run(
        [str(ruff), "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), str(pkg)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]


@pytest.mark.slow
@pytest.mark.shared
def test_erbs_generated_passes_mypy(erbs_mom: Mom, tmp_path: Path) -> None:
    _write(erbs_mom, tmp_path, "erbs_models")
    mypy = Path(sys.executable).parent / "mypy"
    proc = subprocess.run(
        [
            str(mypy),
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "erbs_models",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_fixture_data_is_ours() -> None:
    for name in ("mini_mom.xml", "mini_ecim.xml", "mini_ecim_types.xml"):
        assert "opsforge's own synthetic test model" in (DATA / name).read_text(encoding="latin-1")
    parse_moms([(DATA / "mini_ecim_types.xml").read_bytes()])


def test_compile_models_reuses_the_same_package(mini_mom: Mom, ecim_mom: Mom) -> None:
    first, again = compile_models(mini_mom), compile_models(mini_mom)
    assert first.package is again.package
    assert compile_models(ecim_mom).package is not first.package
