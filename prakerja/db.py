"""Database helpers shared by the apps: bulk work settings, lock timeouts."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import transaction


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


@contextmanager
def lock_timeout(milliseconds: int):
    """Run the block in a transaction whose row and advisory locks wait at most ``milliseconds``.

    PostgreSQL: ``SET LOCAL lock_timeout``; a lock not granted in time raises
    ``django.db.OperationalError`` (``LockNotAvailable``) instead of waiting for
    ever behind a stuck holder. SQLite has no row locks (it serialises writers),
    so there it is only a transaction. Modelled on pretix's locking helper.
    """
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(milliseconds)}ms"])
        yield


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether a database error is PostgreSQL's lock timeout (SQLSTATE 55P03)."""
    return getattr(getattr(exc, "__cause__", None), "pgcode", None) == "55P03"
