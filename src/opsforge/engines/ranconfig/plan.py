"""Command plans: a validated template and a target scope -> ordered ``cmedit`` commands.

Order: creations parents first, then changes grouped per lock holder (lock, sets, unlock back
to the state it had), then deletions children first. Restricted attributes are only given at
creation. The rollback plan is derived from the scope's current values when they are known
(a CM export); with a bare FDN list the executor reads them live before changing anything.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from opsforge.core.errors import ConflictError, InvalidInputError
from opsforge.core.logging import get_logger
from opsforge.engines.ranconfig.cm import (
    CmState,
    JsonValue,
    fdn_depth,
    mo_class_of,
    parent_fdn,
)
from opsforge.engines.ranconfig.cmedit import Command
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.rollback import apply_to_state, inverse_commands
from opsforge.engines.ranconfig.rules import Rule, RuleViolation, evaluate_rules
from opsforge.engines.ranconfig.templates import Template

__all__ = ["Plan", "build_plan"]

log = get_logger(__name__)
_ADMIN = "administrativeState"


class Plan(BaseModel):
    """An ordered command plan with its rollback."""

    template: str
    mom: str
    commands: list[Command]
    rollback: list[Command] = Field(default_factory=list)
    #: Whether ``rollback`` restores every value (the scope had current values).
    rollback_complete: bool = False
    batch_size: int = 50
    violations: list[RuleViolation] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def batches(self, commands: list[Command] | None = None) -> list[list[Command]]:
        """Commands in batches of at most ``batch_size``, never splitting a group."""
        out: list[list[Command]] = []
        current: list[Command] = []
        for group in _groups(self.commands if commands is None else commands):
            if current and len(current) + len(group) > self.batch_size:
                out.append(current)
                current = []
            current.extend(group)
        if current:
            out.append(current)
        return out

    def render(self) -> list[str]:
        """The plan as cmedit lines."""
        return [c.render() for c in self.commands]


def _groups(commands: list[Command]) -> list[list[Command]]:
    groups: list[list[Command]] = []
    for cmd in commands:
        if groups and groups[-1][-1].group == cmd.group:
            groups[-1].append(cmd)
        else:
            groups.append([cmd])
    return groups


def _lock_holder(mom: Mom, state: CmState, fdn: str) -> str | None:
    current: str | None = fdn
    while current is not None:
        cls = mom.get_class(mo_class_of(current))
        if cls is not None and _ADMIN in cls.attributes and cls.attributes[_ADMIN].writable:
            return current
        current = parent_fdn(current)
    return None


def _creates(template: Template, mom: Mom, state: CmState) -> list[Command]:
    wanted: list[tuple[str, dict[str, JsonValue]]] = []
    pending = {f: mo.mo_class for f, mo in state.mos.items()}
    for _ in range(len(template.create) + 1):  # creations under creations, level by level
        added = False
        for spec in template.create:
            under = mom.get_class(spec.under)
            under_name = under.name if under is not None else spec.under
            for parent in sorted(f for f, c in pending.items() if c == under_name):
                fdn = f"{parent},{spec.mo}"
                if fdn in pending:
                    continue
                cls = mom.get_class(mo_class_of(fdn))
                if cls is None:
                    raise InvalidInputError(f"create {spec.mo}: unknown MO class")
                attrs: dict[str, JsonValue] = {
                    **template.parameters.get(cls.name, {}),
                    **spec.attributes,
                }
                if cls.key_attribute:
                    attrs.setdefault(cls.key_attribute, fdn.rsplit("=", 1)[1])
                wanted.append((fdn, attrs))
                pending[fdn] = cls.name
                added = True
        if not added:
            break
    wanted.sort(key=lambda item: fdn_depth(item[0]))
    return [Command(verb="create", fdn=f, attributes=a, purpose="create") for f, a in wanted]


def _deletes(template: Template, mom: Mom, state: CmState) -> list[list[Command]]:
    targets: set[str] = set()
    for spec in template.delete:
        under = mom.get_class(spec.under)
        for parent in state.of_class(under.name if under else spec.under):
            fdn = f"{parent},{spec.mo}"
            if fdn in state.mos:
                targets.add(fdn)
                targets.update(state.children(fdn))
    out: list[list[Command]] = []
    for fdn in sorted(targets, key=lambda f: (-fdn_depth(f), f)):
        cls = mom.get_class(mo_class_of(fdn))
        writable = sorted(a.name for a in cls.attributes.values() if a.writable) if cls else None
        group = [Command(verb="delete", fdn=fdn, purpose="delete", writable=writable)]
        admin = cls.attributes.get(_ADMIN) if cls is not None else None
        if cls is not None and cls.lock_before_delete and admin is not None and admin.writable:
            now = state.mos[fdn].attributes.get(_ADMIN)
            if now != "LOCKED" or not state.values_known:
                lock = Command(verb="set", fdn=fdn, attributes={_ADMIN: "LOCKED"}, purpose="lock")
                group.insert(0, lock)
        out.append(group)
    return out


def _sets(template: Template, mom: Mom, state: CmState, skip: set[str]) -> list[Command]:
    per_holder: dict[str | None, list[tuple[str, dict[str, JsonValue], bool]]] = {}
    for class_name, params in template.parameters.items():
        cls = mom.get_class(class_name)
        if cls is None:
            raise InvalidInputError(f"template parameters: unknown MO class {class_name!r}")
        restricted = sorted(
            n for n in params if n in cls.attributes and cls.attributes[n].restricted
        )
        if restricted:
            raise ConflictError(
                f"template parameters.{class_name}: {', '.join(restricted)} can only be set at "
                "creation; plan a delete and create instead"
            )
        for fdn in state.of_class(cls.name):
            if fdn in skip:
                continue
            current = state.mos[fdn].attributes
            changes = {
                k: v
                for k, v in params.items()
                if not state.values_known or k not in current or current[k] != v
            }
            if not changes:
                continue
            lock = any(
                cls.attributes[k].needs_lock for k in changes if k in cls.attributes and k != _ADMIN
            )
            holder = _lock_holder(mom, state, fdn) if lock else None
            per_holder.setdefault(holder, []).append((fdn, changes, lock))
    out: list[Command] = []
    for group, (holder, items) in enumerate(
        sorted(per_holder.items(), key=lambda i: i[0] or ""), 1
    ):
        target_admin = None
        if holder is not None:
            now = state.mos[holder].attributes.get(_ADMIN) if holder in state.mos else None
            final = next((c[_ADMIN] for f, c, _ in items if f == holder and _ADMIN in c), None)
            target_admin = final or (now if state.values_known and now else "UNLOCKED")
            if now != "LOCKED" or not state.values_known:
                out.append(
                    Command(
                        verb="set",
                        fdn=holder,
                        attributes={_ADMIN: "LOCKED"},
                        purpose="lock",
                        group=group,
                    )
                )
        for fdn, changes, _ in sorted(items, key=lambda i: fdn_depth(i[0])):
            body = {k: v for k, v in changes.items() if not (fdn == holder and k == _ADMIN)}
            if body:
                out.append(
                    Command(verb="set", fdn=fdn, attributes=body, purpose="set", group=group)
                )
        if holder is not None and target_admin != "LOCKED":
            out.append(
                Command(
                    verb="set",
                    fdn=holder,
                    attributes={_ADMIN: target_admin},
                    purpose="unlock",
                    group=group,
                    restore_live=final is None and not state.values_known,
                )
            )
    return out


def build_plan(
    template: Template,
    scope: CmState,
    mom: Mom,
    *,
    rules: list[Rule] | None = None,
    batch_size: int = 50,
) -> Plan:
    """Plan the template's changes on ``scope``.

    Parameters
    ----------
    template
        A resolved, validated template (see :func:`validate_template`).
    scope
        MOs to change: a CM export (values known) or FDNs only.
    mom
        The model.
    rules
        Bound rules, checked on the tree as it will be after the plan.
    batch_size
        Commands per batch.

    Raises
    ------
    ConflictError
        A restricted attribute in ``parameters`` (only settable at creation), or a rule
        with severity ``error`` that the planned tree breaks.
    """
    creates = _creates(template, mom, scope)
    delete_groups = _deletes(template, mom, scope)
    deletes = [cmd for grp in delete_groups for cmd in grp]
    sets = _sets(template, mom, scope, {c.fdn for c in deletes if c.verb == "delete"})
    group = max((c.group for c in sets), default=0)
    for grp in [*([c] for c in creates), *delete_groups]:
        group += 1
        for cmd in grp:
            cmd.group = group
    commands = [*creates, *sets, *deletes]
    if not scope.values_known:  # read what will change first: the rollback needs it
        touched = dict.fromkeys(c.fdn for c in commands if c.verb in ("set", "delete"))
        snapshot = [
            Command(verb="get", fdn=f, purpose="snapshot", group=-1 - idx)
            for idx, f in enumerate(touched)
        ]
        commands = [*snapshot, *commands]
    after = scope.model_copy(deep=True)
    for cmd in commands:
        apply_to_state(after, cmd)
    violations = evaluate_rules(rules or [], after, mom) if scope.values_known else []
    errors = [v for v in violations if v.severity == "error"]
    if errors:
        raise ConflictError(
            f"the planned configuration breaks {len(errors)} rule(s); first: {errors[0].message}",
            violations=[v.model_dump(mode="json") for v in errors],
        )
    plan = Plan(
        template=template.name,
        mom=mom.name,
        commands=commands,
        batch_size=batch_size,
        rollback=inverse_commands(commands, scope) if scope.values_known else [],
        rollback_complete=scope.values_known,
        violations=violations,
        warnings=[]
        if scope.values_known
        else ["scope has no current values: the rollback is read live by the executor"],
    )
    log.info(
        "plan_built",
        template=template.name,
        num_commands=len(commands),
        num_rollback=len(plan.rollback),
    )
    return plan
