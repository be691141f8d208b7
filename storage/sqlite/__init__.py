"""SQLite storage (aiosqlite, WAL): the embedded default for one shop on one machine."""
from .database import SqliteDatabase

__all__ = ["SqliteDatabase"]
