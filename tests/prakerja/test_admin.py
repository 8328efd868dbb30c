"""The console's own lists (users, audit log, outbox) never count whole tables."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from prakerja.audit import audit_log
from prakerja.models import Notification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:prakerja_user_changelist",
        "admin:prakerja_auditentry_changelist",
        "admin:prakerja_notification_changelist",
    ],
)
def test_console_lists_count_at_most_the_cap(admin_client, changelist):
    audit_log(actor=None, action="system.test")
    Notification.objects.create(channel="email", recipient="a@example.id", subject="s", body="b")
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(reverse(changelist))
    assert response.status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 10001" in sql.upper() for sql in counts), counts
    assert response.context["cl"].result_count >= 1
