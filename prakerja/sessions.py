"""Sessions in the database, read and updated with statements written once.

Django's database session store (``django.contrib.sessions.backends.db``), with its two hot
statements written once instead of built by the ORM on every request: the read of the session
row (every signed-in request) and the update of an existing row. Same table, same rows, same
signed encoding (the class keeps Django's name, so the signing salt is the same and sessions
written by either store are read by the other); creating, deleting and clearing are Django's.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from prakerja.prepared import RowReader

_session_row = RowReader(Session, [("session_key", "exact"), ("expire_date", "gt")], limit=1)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        using = router.db_for_read(Session)
        row = _session_row.first(self.session_key, timezone.now(), using=using)
        if row is None:
            self._session_key = None
        return row

    def save(self, must_create=False):
        if self.session_key is None or must_create or self.model is not Session:
            return super().save(must_create=must_create)
        # An existing session: one UPDATE, which must change the row (else it was deleted meanwhile,
        # e.g. by a logout in another tab: Django's store raises UpdateError then, and so does this).
        data = self._get_session(no_load=False)
        using = router.db_for_write(Session)
        connection = connections[using]
        quote = connection.ops.quote_name
        table = quote(Session._meta.db_table)
        sql = (
            f"UPDATE {table} SET {quote('session_data')} = %s, {quote('expire_date')} = %s "  # noqa: S608
            f"WHERE {quote('session_key')} = %s"
        )
        params = [
            self.encode(data),
            connection.ops.adapt_datetimefield_value(self.get_expiry_date()),
            self.session_key,
        ]
        try:
            if (
                connection.in_atomic_block
            ):  # a savepoint, as Django's store has, so a failure leaves the outer block usable
                with transaction.atomic(using=using):
                    updated = self._update(connection, sql, params)
            else:  # one statement in autocommit is atomic by itself: no BEGIN and COMMIT round trips
                updated = self._update(connection, sql, params)
        except DatabaseError as exc:
            raise UpdateError from exc
        if not updated:
            raise UpdateError

    @staticmethod
    def _update(connection, sql: str, params: list) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
