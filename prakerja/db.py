"""Database helpers shared by the apps' bulk work."""

from __future__ import annotations


def tune_for_bulk(cursor, *, work_mem: str = "256MB") -> None:
    """Settings for one big set-based statement, local to the current transaction (PostgreSQL only).

    - ``work_mem``: room for sorts and hashes over millions of rows without spilling to disk;
    - ``jit = off``: LLVM compiling a large expression (a wave's card numbers, a draw) can take
      minutes, far longer than running it; measured on the 800,000-participant announcement:
      21.6 s without JIT, more than 7 minutes with it.
    """
    if cursor.db.vendor != "postgresql":
        return
    cursor.execute(f"SET LOCAL work_mem = '{work_mem}'")
    cursor.execute("SET LOCAL jit = off")
