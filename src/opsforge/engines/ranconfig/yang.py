"""YANG (RFC 7950) modules, such as the 3GPP NRM (TS 28.541/28.623), as a :class:`~.mom.Mom`.

``pyang`` parses and resolves the modules (imports, typedefs, groupings, ``uses`` with
``refine``/``augment``, top-level ``augment``, ``deviation``) from texts held in memory; this
module walks the resolved data tree and maps it onto the MOM model:

* a ``list`` (or a top-level ``container``) is an MO class; a ``list`` directly inside an MO
  class is a child class (containment bounded by ``min-elements``/``max-elements``);
* ``leaf``/``leaf-list`` are attributes; the 3GPP ``container attributes`` is flattened into its
  class; ``choice``/``case`` are transparent (their leaves are never mandatory);
* a ``container`` or a ``list`` inside the attributes is a struct / a sequence of structs.

Types map as the table in ``docs/engines/ranconfig.md`` says. Patterns are XSD regular
expressions (:mod:`._xsdpattern` rewrites them for Python's ``re``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyang.context  # type: ignore[import-untyped]
import pyang.error  # type: ignore[import-untyped]
import pyang.repository  # type: ignore[import-untyped]

from opsforge.core.errors import InvalidInputError, NotFoundError
from opsforge.core.logging import get_logger
from opsforge.engines.ranconfig._yangtypes import YangTypes, typedef_chain
from opsforge.engines.ranconfig.mom import (
    Attribute,
    Containment,
    DataType,
    Mom,
    MomClass,
    MomStruct,
)

__all__ = ["module_name_of", "parse_yang"]

log = get_logger(__name__)

_MODULE = re.compile(r"^\s*(?:module|submodule)\s+[\"']?([A-Za-z_][\w.-]*)", re.MULTILINE)
_DATA = ("leaf", "leaf-list", "list", "container", "choice", "case")
_UNSUPPORTED = ("anydata", "anyxml")


def module_name_of(text: str, source: str = "<text>") -> str:
    """The name of the (sub)module a YANG text defines.

    Raises
    ------
    InvalidInputError
        The text has no ``module``/``submodule`` statement.
    """
    match = _MODULE.search(text)
    if match is None:
        raise InvalidInputError(f"{source}: expected a YANG 'module NAME {{', found none")
    return match.group(1)


class _MemoryRepository(pyang.repository.Repository):  # type: ignore[misc]
    """pyang's module search over texts in memory (no file or network access)."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        super().__init__()
        self.texts = {module_name_of(text, src): (src, text) for src, text in texts.items()}

    def get_modules_and_revisions(self, ctx: Any) -> list[tuple[str, None, str]]:
        return [(name, None, name) for name in self.texts]

    def get_module_from_handle(self, handle: str) -> tuple[str, str, str]:
        src, text = self.texts[handle]
        return src, "yang", text


class _Mapper:
    """Maps one resolved pyang context onto a Mom (structs registered by name)."""

    def __init__(self, mom: Mom, ctx: Any) -> None:
        self.mom = mom
        self.types = YangTypes(mom, ctx)
        self._class_nodes: dict[str, Any] = {}

    def attribute(self, node: Any, owner: str, in_choice: bool, keys: Sequence[str]) -> Attribute:
        """An Attribute from a leaf, leaf-list, container or list (the last two as structs)."""
        name = node.arg
        description = _text(node, "description")
        if node.keyword in ("leaf", "leaf-list"):
            dt = self.types.data_type(node.search_one("type"), f"{owner}_{name}")
            typedefs = typedef_chain(node.search_one("type"))
            dt.unit = _first_text([node, *typedefs], "units")
            defaults = [d.arg for d in node.search("default")] or [
                d.arg for d in _first_stmts(typedefs, "default")
            ]
            if node.keyword == "leaf":
                dt.default = defaults[0] if defaults else None
                mandatory = _text(node, "mandatory") == "true"
            else:
                dt = self._sequence(node, dt, unique=bool(node.i_config))
                dt.default = ",".join(defaults) if defaults else None
                mandatory = (dt.min_length or 0) > 0
        else:
            dt = self._struct_type(node, owner)
            mandatory = node.keyword == "list" and (dt.min_length or 0) > 0
        is_key = name in keys
        status = _text(node, "status")
        return Attribute(
            name=name,
            data_type=dt,
            description=description,
            read_only=not node.i_config,
            mandatory=(mandatory or is_key) and not in_choice,
            restricted=is_key,
            key=is_key,
            deprecated=status == "deprecated",
            obsolete=status == "obsolete",
        )

    def _sequence(self, node: Any, element: DataType, unique: bool) -> DataType:
        low = _text(node, "min-elements")
        high = _text(node, "max-elements")
        return DataType(
            kind="sequence",
            mom_kind=node.keyword,
            element=element,
            min_length=int(low) if low else None,
            max_length=int(high) if high and high != "unbounded" else None,
            unique=unique,
        )

    def _struct_type(self, node: Any, owner: str) -> DataType:
        keys = _keys(node)
        members: dict[str, Attribute] = {}
        for child, in_choice in _data_children(node):
            member = self.attribute(child, f"{owner}_{node.arg}", in_choice, keys)
            member.restricted = member.key = False  # a struct member, not an MO naming key
            members[child.arg] = member
        uses = node.search("uses")
        own = [s for s in node.substmts if s.keyword in _DATA]
        grouping = uses[0].i_grouping if len(uses) == 1 and not own else None
        base = (
            grouping.arg.removesuffix("_Grp").removesuffix("Grp")
            if grouping is not None
            else f"{owner}_{node.arg}"
        )
        name, idx = base, 1
        while name in self.mom.structs and set(self.mom.structs[name].members) != set(members):
            idx += 1
            name = f"{base}{idx}"
        struct = MomStruct(name=name, members=members, description=_text(node, "description"))
        self.mom.structs.setdefault(name, struct)
        dt = DataType(kind="struct", mom_kind=node.keyword, ref=name)
        if node.keyword == "container":
            return dt
        return self._sequence(node, dt, unique=bool(keys))

    def mo_class(self, node: Any, parent: str | None) -> None:
        """Add the MO class of ``node`` (a list or container) below ``parent``, then its children."""
        name = node.arg
        keys = _keys(node)
        cls = MomClass(
            name=name,
            description=_text(node, "description"),
            system_created=not node.i_config,
            deprecated=_text(node, "status") in ("deprecated", "obsolete"),
            mim=node.i_module.arg,
        )
        children: list[Any] = []
        for child, in_choice in _data_children(node):
            if child.keyword == "list":
                children.append(child)
            elif child.keyword == "container" and child.arg == "attributes":
                for inner, inner_choice in _data_children(child):
                    cls.attributes[inner.arg] = self.attribute(
                        inner, name, in_choice or inner_choice, keys
                    )
            else:
                cls.attributes[child.arg] = self.attribute(child, name, in_choice, keys)
        seen = self.mom.classes.get(name)
        if seen is not None and set(seen.attributes) != set(cls.attributes):
            cls.name = name = f"{parent or ''}{name}" if parent else f"{name}2"
            log.warning("yang_class_renamed", yang_name=node.arg, mom_name=name)
            seen = self.mom.classes.get(name)
        if seen is None:
            self.mom.classes[name] = cls
        if parent is not None:
            low, high = _text(node, "min-elements"), _text(node, "max-elements")
            link = Containment(
                parent=parent,
                child=name,
                min_count=int(low) if low else None,
                max_count=int(high) if high and high != "unbounded" else None,
            )
            if link not in self.mom.containments:
                self.mom.containments.append(link)
        if seen is not None and self._class_nodes.get(name) is node:
            return
        self._class_nodes.setdefault(name, node)
        for child in children:
            self.mo_class(child, name)

    def top(self, node: Any) -> None:
        """A top-level data node: a list or a container with leaves is a class; else look in."""
        if node.keyword == "list" or (
            node.keyword == "container"
            and any(c.keyword in ("leaf", "leaf-list") for c, _ in _data_children(node))
        ):
            self.mo_class(node, None)
        elif node.keyword in ("container", "choice", "case"):
            for child in node.i_children:
                self.top(child)


def _data_children(node: Any, in_choice: bool = False) -> Iterable[tuple[Any, bool]]:
    for child in getattr(node, "i_children", []):
        if child.keyword in ("choice", "case"):
            yield from _data_children(child, True)
        elif child.keyword in _DATA:
            yield child, in_choice
        elif child.keyword in _UNSUPPORTED:
            log.warning("yang_node_skipped", node=child.arg, keyword=child.keyword)


def _keys(node: Any) -> list[str]:
    key = node.search_one("key") if node.keyword == "list" else None
    return key.arg.split() if key is not None else []


def _text(node: Any, keyword: str) -> str:
    stmt = node.search_one(keyword)
    return str(stmt.arg).strip() if stmt is not None and stmt.arg is not None else ""


def _first_text(nodes: Iterable[Any], keyword: str) -> str | None:
    for node in nodes:
        text = _text(node, keyword)
        if text:
            return text
    return None


def _first_stmts(nodes: Iterable[Any], keyword: str) -> list[Any]:
    for node in nodes:
        found = node.search(keyword)
        if found:
            return list(found)
    return []


def parse_yang(texts: Mapping[str, str], modules: Sequence[str] | None = None) -> Mom:
    """Resolve YANG modules and map their data tree onto a :class:`Mom`.

    Parameters
    ----------
    texts
        Source name (a file name, for messages) -> YANG text: the modules to compile and every
        module they import (the search path).
    modules
        Names of the modules to compile (with what they import); ``None``: every text.

    Raises
    ------
    NotFoundError
        A requested module is not among ``texts``.
    InvalidInputError
        pyang reports an error (syntax, unresolved import, typedef or path), named with file and
        line.
    """
    repo = _MemoryRepository(texts)
    wanted = list(repo.texts) if modules is None else list(modules)
    ctx = pyang.context.Context(repo)
    loaded = []
    for name in wanted:
        if name not in repo.texts:
            raise NotFoundError(
                f"YANG module {name!r} is not in the given files; expected one of "
                f"{sorted(repo.texts)[:10]}",
                module=name,
            )
        src, text = repo.texts[name]
        if _MODULE.search(text).group(0).lstrip().startswith("submodule"):  # type: ignore[union-attr]
            continue  # a submodule is compiled with the module that includes it
        module = ctx.add_module(
            src, text, in_format="yang", expect_modulename=name, primary_module=True
        )
        if module is not None:
            loaded.append(module)
    ctx.validate()
    errors = [
        f"{pos.ref}:{pos.line}: {pyang.error.err_to_str(tag, args)}"
        for pos, tag, args in ctx.errors
        if pyang.error.is_error(pyang.error.err_level(tag))
    ]
    if errors:
        raise InvalidInputError(
            f"YANG modules do not resolve ({len(errors)} error(s)); first: " + "; ".join(errors[:3])
        )
    first = loaded[0] if loaded else None
    revision = first.search_one("revision") if first is not None else None
    names = [m.arg for m in loaded]
    mom = Mom(
        name=",".join(names) if len(names) <= 3 else f"{names[0]} and {len(names) - 1} more",
        version=revision.arg if revision is not None else "",
    )
    mapper = _Mapper(mom, ctx)
    for module in sorted(ctx.modules.values(), key=lambda m: m.arg):
        if module.keyword != "module":
            continue
        for node in module.i_children:
            mapper.top(node)
    log.info(
        "yang_mapped",
        modules=len(ctx.modules),
        classes=len(mom.classes),
        enums=len(mom.enums),
        structs=len(mom.structs),
    )
    return mom
