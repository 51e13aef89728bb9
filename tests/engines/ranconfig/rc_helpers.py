"""Constants and helpers shared by the ranconfig tests (fixtures: ``rc_fixtures``)."""

from __future__ import annotations

from pathlib import Path

from opsforge.engines.ranconfig.cm import CmState, MoState, mo_class_of

DATA = Path(__file__).resolve().parent / "data"
SHARED_MOM = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "mom"
ERBS = SHARED_MOM / "ericsson_mp_xml" / "ErbsNodeModelFull.xml"
NODE = "SubNetwork=S1,MeContext=N1,ManagedElement=1"
ENB = f"{NODE},ENodeBFunction=1"


def make_state(mos: dict[str, dict[str, object]]) -> CmState:
    """A CM state from ``{fdn: {attr: value}}``."""
    return CmState(
        mos={f: MoState(mo_class=mo_class_of(f), attributes=dict(a)) for f, a in mos.items()}  # type: ignore[arg-type]
    )
