from .database import PostgresDatabase

__all__ = ["PostgresDatabase"]
