"""Classes grouped into generated modules by containment subtree, and lazy import per group."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ranconfig.codegen import generate_package
from opsforge.engines.ranconfig.layout import group_classes
from opsforge.engines.ranconfig.loader import load_package
from opsforge.engines.ranconfig.mom import Containment, Mom, MomClass

pytest_plugins = ["rc_fixtures"]


def _mom(classes: list[str], links: list[tuple[str, str]]) -> Mom:
    mom = Mom(name="T")
    mom.classes = {name: MomClass(name) for name in classes}
    mom.containments = [Containment(parent=p, child=c) for p, c in links]
    return mom


def _tree(num_classes: int, prefix: str = "C") -> tuple[list[str], list[tuple[str, str]]]:
    """A root with a chain of children: R, C0..C{n-2} under it, depth first in name order."""
    names = [f"{prefix}R"] + [f"{prefix}{i:03d}" for i in range(num_classes - 1)]
    return names, [(names[0], child) for child in names[1:]]


def test_small_trees_and_lone_classes_are_packed() -> None:
    names_a, links_a = _tree(3, "A")
    names_b, links_b = _tree(3, "B")
    mom = _mom([*names_a, *names_b, "Lone"], links_a + links_b)
    assert group_classes(mom, 7) == [[*names_a, *names_b, "Lone"]]
    assert group_classes(mom, 6) == [[*names_a, *names_b], ["Lone"]]
    assert group_classes(mom, 4) == [names_a, [*names_b, "Lone"]]


def test_large_tree_is_cut_into_near_equal_parts() -> None:
    names, links = _tree(7)
    groups = group_classes(_mom(names, links), 3)
    assert [len(g) for g in groups] == [3, 2, 2]
    assert [c for g in groups for c in g] == names


def test_depth_first_children_by_name_parent_first() -> None:
    links = [("Root", "B"), ("Root", "A"), ("A", "A2"), ("B", "B1"), ("A", "A1")]
    mom = _mom(["A", "A1", "A2", "B", "B1", "Root"], links)
    assert group_classes(mom) == [["Root", "A", "A1", "A2", "B", "B1"]]


def test_cycles_and_several_parents_place_each_class_once() -> None:
    links = [("X", "Y"), ("Y", "X"), ("R", "S"), ("Q", "S"), ("S", "S")]
    groups = group_classes(_mom(["Q", "R", "S", "X", "Y"], links), 10)
    assert groups == [["Q", "S", "R", "X", "Y"]]


def test_classes_per_module_must_be_positive(mini_mom: Mom) -> None:
    with pytest.raises(InvalidInputError, match="expected at least 1, got 0"):
        group_classes(mini_mom, 0)


@given(
    parents=st.lists(st.integers(-1, 39), min_size=1, max_size=40),
    max_classes=st.integers(1, 12),
)
def test_every_class_once_within_the_limit_parents_first(
    parents: list[int], max_classes: int
) -> None:
    # class i hangs under class parents[i] % i (a forest; -1: a root of its own)
    names = [f"K{i:02d}" for i in range(len(parents))]
    links = [(names[p % i], names[i]) for i, p in enumerate(parents) if i > 0 and p >= 0]
    groups = group_classes(_mom(names, links), max_classes)
    flat = [c for g in groups for c in g]
    assert sorted(flat) == names
    assert all(1 <= len(g) <= max_classes for g in groups)
    position = {c: i for i, c in enumerate(flat)}
    assert all(position[parent] < position[child] for parent, child in links)


def test_one_class_per_module_still_lazy(mini_mom: Mom) -> None:
    files = generate_package(mini_mom, "tiny_groups", classes_per_module=1)
    assert len([f for f in files if f.endswith(".py")]) == len(mini_mom.classes) + 3
    package = load_package(files, "tiny_groups")
    model = package.model_for("EUtranFrequency", writable=True)
    loaded = sorted(m for m in sys.modules if m.startswith("tiny_groups."))
    assert loaded == ["tiny_groups.eutranfrequency"]  # it uses no enum or struct
    assert model.model_validate({"arfcnValueEUtranDl": 0}).mom_values() == {"arfcnValueEUtranDl": 0}


def test_grouped_package_maps_every_class_to_its_module(mini_mom: Mom) -> None:
    files = generate_package(mini_mom, "two_groups", classes_per_module=2)
    package = load_package(files, "two_groups")
    for mo_class, (module, model, writable) in package.MO_CLASSES.items():
        assert f"class {model}(MoBase):" in files[f"{module}.py"], mo_class
        assert f"class {writable}(MoBase):" in files[f"{module}.py"], mo_class
        assert mo_class == package.model_for(mo_class).MO_CLASS


def test_odd_class_names_kept_out_of_the_text_table() -> None:
    mom = _mom(["Plain", "Odd Name", "Quo'te"], [("Plain", "Odd Name")])
    files = generate_package(mom, "odd_names")
    assert "Plain plain Plain PlainWritable\n" in files["__init__.py"]
    assert "'Odd Name': ('plain', 'OddName', 'OddNameWritable')," in files["__init__.py"]
    package = load_package(files, "odd_names")
    assert set(package.MO_CLASSES) == {"Plain", "Odd Name", "Quo'te"}
    assert package.model_for("Quo'te").MO_CLASS == "Quo'te"
    assert package.model_for("Odd Name", writable=True).__name__ == "OddNameWritable"
