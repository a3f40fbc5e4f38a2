"""A second program that tries to take a study out of WAL mode: "database is locked" while
this process's SQLite locks on the file stand (they do while any of our connections is open),
"delete" once they are gone — the witness that a file was not opened and closed behind
SQLite's back (https://www.sqlite.org/howtocorrupt.html §2.2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OTHER_PROGRAM = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0)
try:
    print(conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0])
except sqlite3.OperationalError as exc:
    print(exc)
"""


def other_program_leaves_wal(path: Path) -> str:
    """What the other program got: ``"database is locked"`` or the new mode (``"delete"``)."""
    done = subprocess.run([sys.executable, "-c", OTHER_PROGRAM, str(path)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip()
