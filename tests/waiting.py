"""Waiting on a real archive from another process: is its write lock held, has a condition come."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def write_locked(db: Path) -> bool:
    """True while some connection holds the archive's write lock (a write transaction is open)."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def wait_for(condition, seconds: float, step: float = 0.002) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False
