"""Rollback: replay commands on a CM state and derive the commands that undo them."""

from __future__ import annotations

from collections.abc import Iterable

from opsforge.engines.ranconfig.cm import CmState, JsonValue, MoState, mo_class_of
from opsforge.engines.ranconfig.cmedit import Command

__all__ = ["apply_to_state", "inverse_commands"]


def apply_to_state(state: CmState, command: Command) -> None:
    """Apply a command to ``state`` in place, without validation (``null`` unsets a value)."""
    if command.verb == "get":
        return
    if command.verb == "delete":
        state.mos.pop(command.fdn, None)
        return
    if command.verb == "create":
        state.mos[command.fdn] = MoState(mo_class=mo_class_of(command.fdn))
    mo = state.mos.setdefault(command.fdn, MoState(mo_class=mo_class_of(command.fdn)))
    for name, value in command.attributes.items():
        if value is None:
            mo.attributes.pop(name, None)
        else:
            mo.attributes[name] = value


def _inverse(state: CmState, command: Command) -> Command | None:
    if command.verb == "get":
        return None
    if command.verb == "create":
        return Command(verb="delete", fdn=command.fdn, purpose="restore", group=command.group)
    before = state.mos.get(command.fdn)
    values = dict(before.attributes) if before is not None else {}
    if command.verb == "delete":
        keep = set(command.writable) if command.writable is not None else set(values)
        attrs: dict[str, JsonValue] = {
            k: v for k, v in values.items() if k in keep and v is not None
        }
        return Command(
            verb="create", fdn=command.fdn, attributes=attrs, purpose="restore", group=command.group
        )
    return Command(
        verb="set",
        fdn=command.fdn,
        attributes={name: values.get(name) for name in command.attributes},
        purpose="restore",
        group=command.group,
    )


def inverse_commands(applied: Iterable[Command], before: CmState) -> list[Command]:
    """The commands that undo ``applied`` (in order) on a tree that was ``before``.

    Each inverse restores the values the MO had just before its command, so a lock, sets and
    an unlock come back as a lock, restores and an unlock in reverse order.
    """
    state = before.model_copy(deep=True)
    inverses: list[Command] = []
    for command in applied:
        inverse = _inverse(state, command)
        if inverse is not None:
            inverses.append(inverse)
        apply_to_state(state, command)
    return inverses[::-1]
