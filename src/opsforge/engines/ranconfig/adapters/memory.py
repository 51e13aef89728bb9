"""An in-memory ENM: applies ``cmedit`` text to a CM tree and answers as ENM does.

It checks what the node and ENM would: the FDN exists (or, on create, does not and its parent
does, with a containment the model allows), attributes exist, are writable, restricted ones are
only given at creation, mandatory ones are given at creation, values satisfy the model's
constraints (through the generated models), attributes whose change needs a lock are changed
only on a locked MO, and MOs with children are deleted only with ``-ALL``.

The error codes follow ENM's ``Error <code> : <message>`` shape; the numbers are this fake's
own (see ``ERRORS``), not Ericsson's catalogue.
"""

from __future__ import annotations

from collections.abc import Callable

import pydantic

from opsforge.engines.ranconfig.cm import CmState, JsonValue, parent_fdn
from opsforge.engines.ranconfig.cmedit import Command, format_value, parse_command
from opsforge.engines.ranconfig.loader import ModelSet
from opsforge.engines.ranconfig.mom import Mom, MomClass
from opsforge.engines.ranconfig.rollback import apply_to_state

__all__ = ["ERRORS", "InMemoryEnm"]

ERRORS = {
    "syntax": 1001,
    "not_found": 1004,
    "exists": 1005,
    "no_parent": 1006,
    "containment": 1007,
    "unknown_attribute": 1009,
    "invalid_value": 1010,
    "read_only": 1011,
    "restricted": 1012,
    "mandatory": 1013,
    "has_children": 1014,
    "system_created": 1015,
    "not_locked": 1016,
    "injected": 9999,
}


class _EnmError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.text = f"Error {ERRORS[kind]} : {message}"


class InMemoryEnm:
    """A :class:`~opsforge.engines.ranconfig.executor.CommandExecutor` over a CM tree.

    Parameters
    ----------
    mom, models
        The model and its generated models (``compile_models(mom)``).
    state
        The initial tree (copied).
    fail_when
        Failure injection: called with each mutating command; a non-empty string makes the
        command fail with that message (``Error 9999``) without changing the tree.
    """

    def __init__(
        self,
        mom: Mom,
        models: ModelSet,
        state: CmState | None = None,
        fail_when: Callable[[Command], str | None] | None = None,
    ) -> None:
        self.mom = mom
        self.models = models
        self.state = (state or CmState()).model_copy(deep=True)
        self.state.values_known = True
        self.fail_when = fail_when
        self.log: list[str] = []

    def execute(self, command: str) -> str:
        """Run one cmedit line; return ENM's text answer."""
        self.log.append(command)
        try:
            cmd, flags = parse_command(command)
        except Exception as exc:
            return f"Error {ERRORS['syntax']} : Command syntax error: {exc}"
        try:
            if cmd.verb == "get":
                return self._get(cmd)
            if self.fail_when is not None and (reason := self.fail_when(cmd)):
                raise _EnmError("injected", reason)
            if cmd.verb == "delete":
                return self._delete(cmd, "-ALL" in flags)
            cls = self._class(cmd)
            self._check_values(cmd, cls)
            if cmd.verb == "create":
                return self._create(cmd, cls)
            return self._set(cmd, cls)
        except _EnmError as exc:
            return exc.text

    def _class(self, cmd: Command) -> MomClass:
        cls = self.mom.get_class(cmd.mo_class)
        if cls is None:
            raise _EnmError("not_found", f"MO type {cmd.mo_class} is not in model {self.mom.name}")
        return cls

    def _get(self, cmd: Command) -> str:
        mo = self.state.mos.get(cmd.fdn)
        if mo is None:
            raise _EnmError("not_found", f"The MO {cmd.fdn} does not exist")
        names = list(cmd.attributes) or sorted(mo.attributes)
        lines = [f"FDN : {cmd.fdn}"]
        lines += [f"{n} : {format_value(mo.attributes.get(n))}" for n in names]
        return "\n".join([*lines, "", "", "1 instance(s)"])

    def _check_values(self, cmd: Command, cls: MomClass) -> None:
        creating = cmd.verb == "create"
        for name in cmd.attributes:
            attr = cls.attributes.get(name)
            if attr is None:
                raise _EnmError(
                    "unknown_attribute", f"The attribute {name} is not defined on {cls.name}"
                )
            if not attr.writable:
                raise _EnmError("read_only", f"The attribute {cls.name}.{name} is read-only")
            if attr.restricted and not creating:
                raise _EnmError(
                    "restricted",
                    f"The attribute {cls.name}.{name} can only be set when the MO is created",
                )
        values: dict[str, JsonValue] = {}
        for name, value in cmd.attributes.items():
            kind = cls.attributes[name].data_type.kind
            values[name] = (
                str(value) if kind == "string" and isinstance(value, int | float) else value
            )
        model = self.models.model(cls.name, writable=True)
        try:
            model.model_validate(values)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise _EnmError(
                "invalid_value",
                f"Invalid value for {cls.name}.{where}: {first['msg'].removeprefix('Value error, ')}",
            ) from None

    def _lock_holder(self, fdn: str) -> str | None:
        current: str | None = fdn
        while current is not None:
            mo = self.state.mos.get(current)
            cls = self.mom.get_class(mo.mo_class) if mo is not None else None
            if cls is not None and "administrativeState" in cls.attributes and mo is not None:
                return current
            current = parent_fdn(current)
        return None

    def _set(self, cmd: Command, cls: MomClass) -> str:
        mo = self.state.mos.get(cmd.fdn)
        if mo is None:
            raise _EnmError("not_found", f"The MO {cmd.fdn} does not exist")
        needs_lock = [
            n for n in cmd.attributes if cls.attributes[n].needs_lock and n != "administrativeState"
        ]
        holder = self._lock_holder(cmd.fdn)
        if needs_lock and holder is not None:
            state = self.state.mos[holder].attributes.get("administrativeState", "LOCKED")
            if state != "LOCKED" and cmd.attributes.get("administrativeState") != "LOCKED":
                raise _EnmError(
                    "not_locked",
                    f"{', '.join(needs_lock)} can only be changed with {holder} LOCKED",
                )
        apply_to_state(self.state, cmd)
        return f"FDN : {cmd.fdn}\n1 instance(s) updated"

    def _create(self, cmd: Command, cls: MomClass) -> str:
        if cmd.fdn in self.state.mos:
            raise _EnmError("exists", f"The MO {cmd.fdn} already exists")
        if cls.system_created:
            raise _EnmError(
                "system_created", f"{cls.name} is created by the node, not by operators"
            )
        parent = parent_fdn(cmd.fdn)
        parent_mo = self.state.mos.get(parent) if parent else None
        if parent is not None and parent_mo is None:
            raise _EnmError("no_parent", f"The parent MO {parent} does not exist")
        if (
            parent_mo is not None
            and self.mom.get_class(parent_mo.mo_class) is not None
            and parent_mo.mo_class not in self.mom.parents_of(cls.name)
        ):
            raise _EnmError("containment", f"{parent_mo.mo_class} cannot contain {cls.name}")
        key = cls.key_attribute
        missing = sorted(
            a.name
            for a in cls.attributes.values()
            if a.mandatory and a.name not in cmd.attributes and a.name != key
        )
        if missing:
            raise _EnmError(
                "mandatory", f"Mandatory attribute(s) missing for {cls.name}: {', '.join(missing)}"
            )
        attrs = dict(cmd.attributes)
        if key is not None:
            attrs.setdefault(key, cmd.fdn.rsplit("=", 1)[1])
        apply_to_state(self.state, cmd.model_copy(update={"attributes": attrs}))
        return f"FDN : {cmd.fdn}\n1 instance(s) updated"

    def _delete(self, cmd: Command, subtree: bool) -> str:
        mo = self.state.mos.get(cmd.fdn)
        if mo is None:
            raise _EnmError("not_found", f"The MO {cmd.fdn} does not exist")
        cls = self.mom.get_class(mo.mo_class)
        if cls is not None and cls.system_created:
            raise _EnmError(
                "system_created", f"{cls.name} is created by the node and cannot be deleted"
            )
        children = self.state.children(cmd.fdn)
        if children and not subtree:
            raise _EnmError(
                "has_children", f"The MO {cmd.fdn} has {len(children)} child MO(s); use -ALL"
            )
        for fdn in [*children, cmd.fdn]:
            del self.state.mos[fdn]
        return f"{len(children) + 1} instance(s) deleted"
