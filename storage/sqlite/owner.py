"""SQLite storage of what owners do from the chat: the audit log and open dialogs."""
from __future__ import annotations

from journey.audit import Change
from journey.dialogs import Dialog

from .. import rows
from ..rows import ts
from .repositories import _Repo


class SqliteAudit(_Repo):
    async def add(self, change: Change) -> int:
        cur = self._write("INSERT INTO audit_log (at, actor, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)",
                          (ts(change.at), change.actor, change.action, change.target, rows.json_or_none(change.before),
                           rows.json_or_none(change.after)))
        return int(cur.lastrowid or 0)

    async def last_undoable(self, actor: str) -> Change | None:
        r = self._c.execute(
            f"SELECT {rows.AUDIT_COLUMNS} FROM audit_log WHERE actor = ? AND undone = 0 AND action <> 'undo'"
            " AND (target LIKE 'item:%' OR target LIKE 'stock:%') ORDER BY id DESC LIMIT 1", (actor,)).fetchone()
        return rows.change(*r) if r else None

    async def mark_undone(self, change_id: int) -> None:
        self._write("UPDATE audit_log SET undone = 1 WHERE id = ?", (change_id,))

    async def recent(self, limit: int = 20) -> list[Change]:
        cur = self._c.execute(f"SELECT {rows.AUDIT_COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        return [rows.change(*r) for r in cur]


class SqliteDialogs(_Repo):
    async def get(self, account: str) -> Dialog | None:
        r = self._c.execute(f"SELECT {rows.DIALOG_COLUMNS} FROM dialogs WHERE account = ?",
                            (account,)).fetchone()
        return rows.dialog(r) if r else None

    async def save(self, dialog: Dialog) -> None:
        self._write("INSERT INTO dialogs (account, kind, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (account)"
                    " DO UPDATE SET kind = excluded.kind, state = excluded.state, updated_at = excluded.updated_at",
                    (dialog.account, dialog.kind, rows.json_or_none(dialog.state), ts(dialog.updated_at)))

    async def delete(self, account: str) -> bool:
        return self._write("DELETE FROM dialogs WHERE account = ?", (account,)).rowcount > 0
