"""Fixtures of the ranconfig tests, loaded by test modules as ``pytest_plugins``.

They live here rather than in a ``conftest.py`` so that no second top-level ``conftest``
module exists for mypy (tests/conftest.py is one).
"""

from __future__ import annotations

import pytest
from rc_helpers import DATA, ENB, ERBS, NODE, make_state

from opsforge.engines.ranconfig.cm import CmState
from opsforge.engines.ranconfig.loader import ModelSet, compile_models
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.parser import parse_mom, parse_moms


@pytest.fixture(scope="session")
def mini_mom() -> Mom:
    """Our own CPP-dialect test model (tests/engines/ranconfig/data/mini_mom.xml)."""
    return parse_mom((DATA / "mini_mom.xml").read_bytes())


@pytest.fixture(scope="session")
def ecim_mom() -> Mom:
    """Our own ECIM-dialect model whose derived types live in a second file."""
    return parse_moms(
        [(DATA / "mini_ecim_types.xml").read_bytes(), (DATA / "mini_ecim.xml").read_bytes()]
    )


@pytest.fixture(scope="session")
def mini_models(mini_mom: Mom) -> ModelSet:
    return compile_models(mini_mom)


@pytest.fixture(scope="session")
def erbs_mom() -> Mom:
    if not ERBS.is_file():
        pytest.skip(f"real ERBS model not available at {ERBS} (needs ../shared)")
    with ERBS.open("rb") as handle:
        return parse_mom(handle)


@pytest.fixture(scope="session")
def erbs_models(erbs_mom: Mom) -> ModelSet:
    return compile_models(erbs_mom)


@pytest.fixture
def cm_tree() -> CmState:
    """A small node: two cells (one unlocked), a feature, a frequency, one relation."""
    return make_state(
        {
            NODE: {"ManagedElementId": "1"},
            ENB: {"ENodeBFunctionId": "1", "eNBId": 1001, "sleepModeActive": False},
            f"{ENB},OptionalFeature=Mobility": {
                "OptionalFeatureId": "Mobility",
                "featureState": "ACTIVATED",
            },
            f"{ENB},EUtranCellFDD=A": {
                "EUtranCellFDDId": "A",
                "cellId": 1,
                "earfcndl": 1300,
                "administrativeState": "UNLOCKED",
                "qRxLevMin": -140,
                "cellRange": 15,
                "dlChannelBandwidth": 10000,
                "ulChannelBandwidth": 10000,
            },
            f"{ENB},EUtranCellFDD=B": {
                "EUtranCellFDDId": "B",
                "cellId": 2,
                "earfcndl": 1300,
                "administrativeState": "LOCKED",
                "qRxLevMin": -130,
                "dlChannelBandwidth": 10000,
                "ulChannelBandwidth": 10000,
            },
            f"{ENB},EUtranCellFDD=A,EUtranFreqRelation=9": {
                "EUtranFreqRelationId": "9",
                "cellReselectionPriority": 3,
                "qOffsetFreq": 0,
            },
        }
    )
