"""Which generated module holds which MOM class: containment subtrees, a few hundred a module.

A model of thousands of classes generates one module per group of classes rather than one
file per class: writing, importing and type-checking a few dozen modules is much cheaper than
thousands of tiny ones, and lazy import still loads only the group a class lives in. Groups
follow the containment tree, so the classes a task touches together (``ENodeBFunction``,
``EUtranCellFDD``, ``EUtranFreqRelation`` ...) mostly share a module:

1. classes are ordered depth first from each root of the containment tree (a class without a
   parent in the model), children by name; a class with several parents comes under the first
   one reached; classes only reachable through a cycle follow, by name;
2. a root's whole tree is one unit; trees of up to ``max_classes`` classes (and lone classes)
   are packed into a group in that order until the next one would not fit;
3. a larger tree is cut into ``ceil(n / max_classes)`` consecutive parts whose sizes differ
   by one at most.
"""

from __future__ import annotations

import math

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ranconfig.mom import Mom

__all__ = ["DEFAULT_CLASSES_PER_MODULE", "group_classes"]

#: Classes per generated module (at most). ERBS (330 classes): two modules of 165.
DEFAULT_CLASSES_PER_MODULE = 200


def _depth_first(mom: Mom) -> list[list[str]]:
    """Each root's containment tree as a list of class names, depth first."""
    children: dict[str, list[str]] = {}
    has_parent: set[str] = set()
    for link in mom.containments:
        if link.parent in mom.classes and link.child in mom.classes and link.child != link.parent:
            children.setdefault(link.parent, []).append(link.child)
            has_parent.add(link.child)
    for kids in children.values():
        kids.sort()
    seen: set[str] = set()
    trees: list[list[str]] = []
    ordered = sorted(mom.classes)
    starts = [c for c in ordered if c not in has_parent] + ordered  # then cycle-only classes
    for start in starts:
        if start in seen:
            continue
        tree: list[str] = []
        stack = [start]
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            tree.append(name)
            stack.extend(reversed(children.get(name, ())))
        trees.append(tree)
    return trees


def group_classes(mom: Mom, max_classes: int = DEFAULT_CLASSES_PER_MODULE) -> list[list[str]]:
    """Partition the model's classes into module groups (see the module docstring).

    Parameters
    ----------
    mom
        The parsed model.
    max_classes
        Most classes in one group. [count]

    Returns
    -------
    list
        Groups of MOM class names, each parent before its children; every class exactly once.

    Raises
    ------
    InvalidInputError
        ``max_classes`` is below 1.
    """
    if max_classes < 1:
        raise InvalidInputError(f"classes per module: expected at least 1, got {max_classes}")
    groups: list[list[str]] = []
    current: list[str] = []
    for tree in _depth_first(mom):
        if len(tree) > max_classes:
            if current:
                groups.append(current)
                current = []
            size, extra = divmod(len(tree), math.ceil(len(tree) / max_classes))
            start = 0
            while start < len(tree):
                end = start + size + (1 if extra > 0 else 0)
                groups.append(tree[start:end])
                start, extra = end, extra - 1
            continue
        if len(current) + len(tree) > max_classes:
            groups.append(current)
            current = []
        current.extend(tree)
    if current:
        groups.append(current)
    return groups
