"""cmedit command text: rendering, parsing, values, responses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ranconfig.cmedit import (
    Command,
    format_value,
    parse_attributes,
    parse_command,
    parse_response,
    parse_value,
)

FDN = "SubNetwork=S1,MeContext=N1,ManagedElement=1,ENodeBFunction=1,EUtranCellFDD=A"


def test_render_and_parse_set() -> None:
    cmd = Command(
        verb="set",
        fdn=FDN,
        attributes={
            "qRxLevMin": -120,
            "userLabel": "my cell",
            "cellBarred": False,
            "additionalPlmnList": [{"mcc": 240, "mnc": 1}],
            "sectorCarrierRef": ["ManagedElement=1,SectorCarrier=1"],
            "x": None,
        },
    )
    line = cmd.render()
    assert line.startswith(f'cmedit set {FDN} qRxLevMin=-120,userLabel="my cell",cellBarred=false')
    parsed, flags = parse_command(line)
    assert parsed.attributes == cmd.attributes
    assert flags == []


def test_parse_real_syntax_variants() -> None:
    cmd, _ = parse_command(f"cmedit set {FDN} EUtranCellFDD.(qRxLevMin=-120, cellRange=15)")
    assert cmd.attributes == {"qRxLevMin": -120, "cellRange": 15}
    cmd, _ = parse_command(f"cmedit get {FDN} EUtranCellFDD.(qRxLevMin,cellRange) -t")
    assert cmd.verb == "get"
    assert list(cmd.attributes) == ["qRxLevMin", "cellRange"]
    cmd, flags = parse_command(f"cmedit delete {FDN} -ALL")
    assert (cmd.verb, flags) == ("delete", ["-ALL"])
    cmd, _ = parse_command(f'cmedit create {FDN},EUtranFreqRelation=3 EUtranFreqRelationId="3"')
    assert cmd.attributes == {"EUtranFreqRelationId": "3"}
    assert (
        Command(verb="get", fdn=FDN, attributes={"a": None}).render().endswith("EUtranCellFDD.(a)")
    )


@pytest.mark.parametrize(
    "line", ["cmedit frob X=1", "ls -l", f"cmedit set {FDN} a=(1", "cmedit set bad-fdn a=1"]
)
def test_parse_refuses(line: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_command(line)


def test_values() -> None:
    assert parse_value("007") == 7
    assert parse_value('"007"') == "007"
    assert format_value("007") == '"007"'
    assert format_value("LOCKED") == "LOCKED"
    # a trailing newline must be quoted, not written bare into the command line (found by
    # the round-trip property below: "$" matched before the newline)
    assert format_value("A\n") == '"A\n"'
    assert parse_value(format_value("A\n")) == "A\n"
    assert parse_value("1.5") == 1.5
    assert parse_value("null") is None
    assert parse_attributes('a=[(m=1,n="x,y"),(m=2)],b={c=1}') == {
        "a": [{"m": 1, "n": "x,y"}, {"m": 2}],
        "b": {"c": 1},
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.from_regex(r"[a-z][a-zA-Z0-9]{0,6}", fullmatch=True), inner, max_size=3
        )
    ),
    max_leaves=8,
)


@given(json_values)
def test_value_round_trip(value: object) -> None:
    assert parse_value(format_value(value)) == value  # type: ignore[arg-type]


def test_responses() -> None:
    ok = parse_response(f'FDN : {FDN}\nqRxLevMin : -120\nuserLabel : "a b"\n\n\n1 instance(s)')
    assert ok.ok
    assert ok.instances == 1
    assert ok.values == {FDN: {"qRxLevMin": -120, "userLabel": "a b"}}
    err = parse_response("Error 1010 : Invalid value\nSuggested Solution : check the range")
    assert not err.ok
    assert (err.error_code, err.error) == (1010, "Invalid value")
