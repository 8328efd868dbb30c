"""Real processes: a Celery worker on Redis writing to PostgreSQL, and Chromium."""

import re

import pytest
from django.core import mail

from prakerja.models import Notification
from tests.conftest import wait_until


@pytest.mark.worker
def test_real_worker_sends_queued_notification(celery_worker):
    from django.db import transaction

    from prakerja.notifications import notification_queue

    with transaction.atomic():
        n = notification_queue(channel="email", recipient="worker@example.id", subject="Uji", body="Halo")
    # The worker process (not this one) picks the task from Redis and updates PostgreSQL.
    wait_until(
        lambda: Notification.objects.get(pk=n.pk).status == "sent",
        message=f"the worker to send notification {n.pk}\n{celery_worker.output}",
    )
    n.refresh_from_db()
    assert n.attempts == 1
    assert "prakerja.notifications_send_batch" in celery_worker.output
    assert mail.outbox == []  # sent by the worker's own backend, not this process


@pytest.mark.browser
def test_signup_verify_and_login_in_chromium(page, live_server):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "id"
    page.get_by_role("link", name="Daftar sekarang").click()
    page.get_by_label("Email").fill("rahma@example.id")
    page.get_by_label("Kata sandi", exact=True).fill("sambal-matah-2026")
    page.get_by_label("Kata sandi (lagi)").fill("sambal-matah-2026")
    page.get_by_role("button", name="Daftar").click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    assert "Periksa email Anda" in page.content()

    link = wait_until(
        lambda: (
            mail.outbox and re.search(r"https?://[^/]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body)
        )
    )
    page.goto(link.group(1))
    page.get_by_role("button", name="Konfirmasi").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
    assert page.get_by_role("heading", name="Dasbor saya").is_visible()

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Keluar").click()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("rahma@example.id")
    page.get_by_label("Kata sandi").fill("sambal-matah-2026")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(re.compile(r"/dasbor/$"))
