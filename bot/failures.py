"""What went wrong with a file or a port, said so that the person at the terminal can fix it.

The operating system's own words ("File exists", "Errno 98") name neither the setting nor what to do;
these helpers look at the path or the address and say which part is wrong.
"""
from __future__ import annotations

import errno
import os
import socket
import sqlite3
from pathlib import Path


class ListenError(Exception):
    """The Mini App server cannot listen where the settings say: one line naming the setting."""


def path_problem(path: Path, error: BaseException | None = None) -> str:
    """Why ``path`` cannot be written: a missing folder, a file where a folder should be, no permission."""
    if path.is_dir():
        return f"{path} is a folder, not a file"
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a folder"
            if not os.access(parent, os.W_OK | os.X_OK):
                return f"the folder {parent} is not writable"
            break
        if parent.parent == parent:
            break
    if not path.parent.exists():
        return f"the folder {path.parent} does not exist"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is not writable"
    if isinstance(error, OSError) and error.strerror:
        return f"{path}: {error.strerror[0].lower()}{error.strerror[1:]}"
    if isinstance(error, sqlite3.Error):
        return f"{path}: {error}"
    return f"{path} cannot be written"


SQLITE_HEADER = b"SQLite format 3\x00"


def not_a_database(path: Path) -> str | None:
    """Why an existing ``path`` is no SQLite database (checked before opening, as SQLite only notices later)."""
    if path.is_dir():
        return f"{path} is a folder, not a database file"
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except (FileNotFoundError, NotADirectoryError):  # not there yet: opening creates it, or says why not
        return None
    except OSError as e:
        return f"{path} cannot be read: {e.strerror or e}"
    if head and head != SQLITE_HEADER:
        return f"{path} is not an SQLite database"
    return None


def listen_problem(host: str, port: int, error: OSError) -> str:
    """``VITRINA_WEBAPP__...: ...`` for a server that cannot listen on ``host:port``."""
    if error.errno == errno.EADDRINUSE:
        return (f"VITRINA_WEBAPP__PORT: port {port} on {host} is in use by another program: stop it, "
                f"or choose another port")
    if error.errno == errno.EACCES:
        return f"VITRINA_WEBAPP__PORT: port {port} needs administrator rights: choose one above 1023"
    if isinstance(error, socket.gaierror) or error.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return (f"VITRINA_WEBAPP__HOST: {host!r} is not an address of this machine: use 127.0.0.1, or 0.0.0.0 "
                f"for every network")
    return f"VITRINA_WEBAPP__HOST / VITRINA_WEBAPP__PORT: cannot listen on {host}:{port}: {error.strerror or error}"


class CommandError(Exception):
    """A command's refusal worth one line on stderr and exit status 1 (``vitrina: <message>``)."""
