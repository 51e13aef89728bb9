"""Append-only, hash-chained audit log.

Every event stores ``prev_hash`` (the hash of the event before it, ``"0" * 64`` for the first)
and ``hash = sha256(prev_hash + canonical JSON of the event's fields, seq included)``. Editing,
deleting or reordering a row breaks the chain at that row; :meth:`AuditLog.verify` recomputes
it and reports the first bad ``seq``.

Writers serialise: on PostgreSQL each insert takes ``pg_advisory_xact_lock`` before reading the
chain's tail; on SQLite the insert runs in a ``BEGIN IMMEDIATE`` transaction (the database's
write lock). Concurrent writers, in one process or many, never fork the chain.

On PostgreSQL the table is also append-only at the database: :func:`install_append_only_trigger`
creates a trigger refusing UPDATE and DELETE (migrations call it; it is idempotent).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Table, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from opsforge.core.errors import ExternalServiceError
from opsforge.core.storage.db import Database
from opsforge.core.storage.models import AuditEvent, new_id

__all__ = [
    "GENESIS_HASH",
    "AuditLog",
    "AuditRecord",
    "Outcome",
    "VerifyReport",
    "append_only_trigger_ddl",
    "install_append_only_trigger",
]

GENESIS_HASH = "0" * 64
Outcome = Literal["success", "failure", "denied", "error"]
_LOCK_KEY = 0x0F5F0A0D17  # pg_advisory_xact_lock key of the audit chain
_TABLE = cast(Table, AuditEvent.__table__)
_FIELDS = (
    "seq",
    "id",
    "at",
    "actor",
    "tenant_id",
    "action",
    "target",
    "method",
    "path",
    "client_ip",
    "request_id",
    "outcome",
    "status_code",
    "detail",
)


@dataclass(frozen=True)
class AuditRecord:
    """One audit event as stored."""

    seq: int
    id: str
    at: datetime
    actor: str
    tenant_id: str | None
    action: str
    target: str
    method: str
    path: str
    client_ip: str
    request_id: str
    outcome: str
    status_code: int | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyReport:
    """Result of :meth:`AuditLog.verify`.

    Attributes
    ----------
    ok
        True when every row's hash and link match.
    num_events
        Rows checked.
    first_bad_seq
        ``seq`` of the first row whose hash or ``prev_hash`` does not match, else None.
    reason
        What did not match, for a person.
    """

    ok: bool
    num_events: int
    first_bad_seq: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "num_events": self.num_events,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
        }


def _iso(value: datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def _canonical(values: dict[str, Any]) -> str:
    data = {k: values[k] for k in _FIELDS}
    data["at"] = _iso(data["at"])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _storable(value: Any) -> Any:
    """``value`` with NUL characters replaced by U+FFFD (PostgreSQL text and JSONB refuse NUL).

    Client-controlled strings (a path, a username) end up in events; an event that cannot be
    written would be lost, so they are made storable instead.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def chain_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """``sha256(prev_hash + canonical JSON of values)`` as hex."""
    return hashlib.sha256((prev_hash + _canonical(values)).encode("utf-8")).hexdigest()


def append_only_trigger_ddl() -> list[str]:
    """PostgreSQL statements that make ``audit_events`` refuse UPDATE and DELETE."""
    return [
        """
        CREATE OR REPLACE FUNCTION opsforge_audit_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql
        """,
        "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
        """
        CREATE TRIGGER audit_events_append_only
            BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION opsforge_audit_append_only()
        """,
    ]


def install_append_only_trigger(conn: Connection) -> None:
    """Create the append-only trigger on PostgreSQL (no-op on other databases)."""
    if conn.dialect.name != "postgresql":
        return
    for statement in append_only_trigger_ddl():
        conn.execute(text(statement))


class AuditLog:
    """Write and verify the audit chain.

    Parameters
    ----------
    database
        The core database (table ``audit_events``).
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    def record(
        self,
        *,
        actor: str,
        action: str,
        outcome: Outcome,
        tenant_id: str | None = None,
        target: str = "",
        method: str = "",
        path: str = "",
        client_ip: str = "",
        request_id: str = "",
        status_code: int | None = None,
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditRecord:
        """Append one event to the chain.

        Raises
        ------
        ExternalServiceError
            The database refused the write.
        """
        values: dict[str, Any] = {
            "id": new_id(),
            "at": (at or datetime.now(UTC)).astimezone(UTC),
            "actor": _storable(actor)[:200],
            "tenant_id": None if tenant_id is None else _storable(tenant_id),
            "action": _storable(action)[:100],
            "target": _storable(target)[:500],
            "method": _storable(method)[:10],
            "path": _storable(path)[:1000],
            "client_ip": _storable(client_ip)[:64],
            "request_id": _storable(request_id)[:64],
            "outcome": outcome,
            "status_code": status_code,
            "detail": _storable(json.loads(json.dumps(detail or {}, default=str))),
        }
        try:
            with self.database.engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                elif conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
                tail = conn.execute(
                    select(_TABLE.c.seq, _TABLE.c.hash).order_by(_TABLE.c.seq.desc()).limit(1)
                ).first()
                values["seq"] = (tail[0] + 1) if tail else 1
                values["prev_hash"] = tail[1] if tail else GENESIS_HASH
                values["hash"] = chain_hash(values["prev_hash"], values)
                conn.execute(insert(_TABLE).values(**values))
                conn.commit()
        except SQLAlchemyError as exc:
            raise ExternalServiceError(
                f"cannot write audit event {action!r}: {exc.__class__.__name__}"
            ) from exc
        return AuditRecord(**values)

    def events(
        self, *, after_seq: int = 0, limit: int = 100, tenant_id: str | None = None
    ) -> list[AuditRecord]:
        """Events with ``seq > after_seq`` in chain order."""
        query = select(_TABLE).where(_TABLE.c.seq > after_seq).order_by(_TABLE.c.seq).limit(limit)
        if tenant_id is not None:
            query = query.where(_TABLE.c.tenant_id == tenant_id)
        with self.database.engine.connect() as conn:
            return [_to_record(dict(row._mapping)) for row in conn.execute(query)]

    def verify(self, *, batch_size: int = 1000) -> VerifyReport:
        """Recompute the whole chain; report the first row that does not match."""
        prev = GENESIS_HASH
        expected_seq = 1
        count = 0
        last_seq = 0
        with self.database.engine.connect() as conn:
            while True:
                rows = conn.execute(
                    select(_TABLE)
                    .where(_TABLE.c.seq > last_seq)
                    .order_by(_TABLE.c.seq)
                    .limit(batch_size)
                ).all()
                if not rows:
                    break
                for row in rows:
                    values = dict(row._mapping)
                    seq = int(values["seq"])
                    count += 1
                    if seq != expected_seq:
                        return VerifyReport(
                            False, count, seq, f"expected seq {expected_seq}, found {seq}"
                        )
                    if values["prev_hash"] != prev:
                        return VerifyReport(
                            False, count, seq, "prev_hash does not match the previous event"
                        )
                    if chain_hash(prev, values) != values["hash"]:
                        return VerifyReport(
                            False, count, seq, "hash does not match the event's content"
                        )
                    prev = values["hash"]
                    expected_seq += 1
                    last_seq = seq
        return VerifyReport(True, count)


def _to_record(values: dict[str, Any]) -> AuditRecord:
    at = values["at"]
    values["at"] = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    values["detail"] = dict(values.get("detail") or {})
    return AuditRecord(**values)
