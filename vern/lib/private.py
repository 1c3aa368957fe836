"""Files only vern's own user may read: the data directory, the SQLite database and its keys.

The SQLite database holds live staff sessions as well as every enquiry; copying a session
key into a cookie opens the console. So whatever the process's umask, the data directory is
created 0700 and the database file 0600 before SQLite opens it. SQLite gives the database's
``-wal`` and ``-shm`` files the mode of the database file itself, so they follow. Key files
are written 0600 where they are generated (``vern.lib.env``). Existing files are not changed
behind the operator's back: ``vern check --deploy`` names the ones that are looser
(``loose``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    """Create ``path`` (and its parents) if it is missing; the directory itself is 0700."""
    if not path.exists():
        path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)  # never wider, even for a moment
        os.chmod(path, DIRECTORY_MODE)  # mkdir's mode is cut by the umask; this is not
    return path


def private_file(path: Path) -> Path:
    """Create an empty ``path`` readable and writable by its owner only, if it is missing."""
    if not path.exists():
        private_directory(path.parent)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        os.close(descriptor)
        os.chmod(path, FILE_MODE)  # in case the umask took more than os.open's mode allows
    return path


def loose(path: Path) -> bool:
    """Whether others than the owner (the group, or everyone) may read, write or enter ``path``."""
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    except FileNotFoundError:
        return False
