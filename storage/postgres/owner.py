"""PostgreSQL storage of what owners do from the chat: the audit log and open dialogs."""
from __future__ import annotations

from journey.audit import Change
from journey.dialogs import Dialog

from .. import rows
from ..rows import ts
from .base import PgRepo


class PgAudit(PgRepo):
    async def add(self, change: Change) -> int:
        return int(await self._c.fetchval(
            "INSERT INTO audit_log (at, actor, action, target, before, after) VALUES ($1, $2, $3, $4, $5, $6)"
            " RETURNING id", ts(change.at), change.actor, change.action, change.target,
            rows.json_or_none(change.before), rows.json_or_none(change.after)))

    async def last_undoable(self, actor: str) -> Change | None:
        # locked in a write unit of work: two undos from one owner at once take turns and undo two changes
        r = await self._c.fetchrow(
            f"SELECT {rows.AUDIT_COLUMNS} FROM audit_log WHERE actor = $1 AND undone = 0 AND action <> 'undo'"
            f" AND (target LIKE 'item:%' OR target LIKE 'stock:%') ORDER BY id DESC LIMIT 1{self._lock}", actor)
        return rows.change(*r) if r else None

    async def mark_undone(self, change_id: int) -> None:
        await self._write("UPDATE audit_log SET undone = 1 WHERE id = $1", change_id)

    async def recent(self, limit: int = 20) -> list[Change]:
        found = await self._c.fetch(f"SELECT {rows.AUDIT_COLUMNS} FROM audit_log ORDER BY id DESC LIMIT $1", limit)
        return [rows.change(*r) for r in found]


class PgDialogs(PgRepo):
    async def get(self, account: str) -> Dialog | None:
        # locked in a write unit of work: two messages advancing one dialog at once take turns
        r = await self._c.fetchrow(
            f"SELECT {rows.DIALOG_COLUMNS} FROM dialogs WHERE account = $1{self._lock}", account)
        return rows.dialog(r) if r else None

    async def save(self, dialog: Dialog) -> None:
        await self._write(
            "INSERT INTO dialogs (account, kind, state, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (account)"
            " DO UPDATE SET kind = excluded.kind, state = excluded.state, updated_at = excluded.updated_at",
            dialog.account, dialog.kind, rows.json_or_none(dialog.state), ts(dialog.updated_at))

    async def delete(self, account: str) -> bool:
        return await self._write("DELETE FROM dialogs WHERE account = $1", account) > 0
