from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from prakerja import notifications
from prakerja.models import Notification
from prakerja.sms import SmsError

pytestmark = pytest.mark.django_db


def test_queued_sms_is_sent_after_commit(django_capture_on_commit_callbacks, sms_outbox):
    with django_capture_on_commit_callbacks(execute=True):
        n = notifications.notification_queue(channel="sms", recipient="+6281234567890", body="Halo")
        assert sms_outbox == []  # nothing leaves before the transaction commits
    n.refresh_from_db()
    assert n.status == "sent"
    assert n.attempts == 1
    assert [(m.to, m.body) for m in sms_outbox] == [("+6281234567890", "Halo")]


def test_idempotency_key_queues_once(django_capture_on_commit_callbacks, sms_outbox):
    with django_capture_on_commit_callbacks(execute=True):
        first = notifications.notification_queue(
            channel="sms", recipient="+628111", body="A", idempotency_key="k1"
        )
        second = notifications.notification_queue(
            channel="sms", recipient="+628111", body="A", idempotency_key="k1"
        )
    assert first.pk == second.pk
    assert len(sms_outbox) == 1


def test_sending_twice_sends_once(sms_outbox):
    n = Notification.objects.create(channel="sms", recipient="+628111", body="B")
    assert notifications.notification_send(notification_id=n.pk) == "sent"
    assert notifications.notification_send(notification_id=n.pk) == "skipped"
    assert len(sms_outbox) == 1


def test_transient_failure_is_retried_with_backoff_then_fails(monkeypatch, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2

    def broken(**kwargs):
        raise SmsError("gateway answered 503")

    monkeypatch.setattr(notifications, "send_sms", broken)
    n = Notification.objects.create(channel="sms", recipient="+628111", body="C")
    assert notifications.notification_send(notification_id=n.pk) == "queued"
    n.refresh_from_db()
    assert n.attempts == 1
    assert n.last_error == "SmsError: gateway answered 503"
    assert n.next_attempt_at > timezone.now() + timedelta(seconds=25)
    # Not due yet: a second send does nothing.
    assert notifications.notification_send(notification_id=n.pk) == "skipped"
    Notification.objects.filter(pk=n.pk).update(next_attempt_at=timezone.now())
    assert notifications.notification_send(notification_id=n.pk) == "failed"
    n.refresh_from_db()
    assert (n.status, n.attempts) == ("failed", 2)


def test_permanent_failure_is_not_retried(monkeypatch):
    def refused(**kwargs):
        raise SmsError("number blocked", transient=False)

    monkeypatch.setattr(notifications, "send_sms", refused)
    n = Notification.objects.create(channel="sms", recipient="+628111", body="D")
    assert notifications.notification_send(notification_id=n.pk) == "failed"


def test_sweeper_requeues_stuck_rows_and_sends_due_ones(settings, sms_outbox):
    settings.NOTIFICATION_STUCK_AFTER_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=10)
    stuck = Notification.objects.create(
        channel="sms", recipient="+628111", body="stuck", status="sending", sending_started_at=long_ago
    )
    recent = Notification.objects.create(
        channel="sms",
        recipient="+628222",
        body="in flight",
        status="sending",
        sending_started_at=timezone.now(),
    )
    due = Notification.objects.create(channel="email", recipient="a@example.id", subject="S", body="due")
    later = Notification.objects.create(
        channel="sms", recipient="+628333", body="later", next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    assert notifications.notifications_sweep() == {"requeued": 1, "enqueued": 2}
    statuses = dict(Notification.objects.values_list("id", "status"))
    assert statuses == {stuck.id: "sent", recent.id: "sending", due.id: "sent", later.id: "queued"}
    assert [m.body for m in sms_outbox] == ["stuck"]
    assert [m.subject for m in mail.outbox] == ["S"]


def test_sensitive_body_is_erased_after_sending():
    n = Notification.objects.create(channel="sms", recipient="+628111", body="Kode: 123456", sensitive=True)
    notifications.notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert (n.status, n.body) == ("sent", "")


def test_a_dispatched_row_is_not_dispatched_again_until_its_lease_expires(settings, monkeypatch):
    settings.NOTIFICATION_STUCK_AFTER_SECONDS = 60
    enqueued = []
    monkeypatch.setattr(notifications, "_enqueue", lambda ids: enqueued.append(list(ids)))
    n = Notification.objects.create(channel="sms", recipient="+628111", body="x")
    assert notifications.notifications_sweep() == {"requeued": 0, "enqueued": 1}
    assert notifications.notifications_sweep() == {"requeued": 0, "enqueued": 0}
    Notification.objects.filter(pk=n.pk).update(sending_started_at=timezone.now() - timedelta(minutes=5))
    assert notifications.notifications_sweep() == {"requeued": 0, "enqueued": 1}
    assert enqueued == [[n.pk], [], [n.pk]]


def test_sweep_limit(monkeypatch):
    monkeypatch.setattr(notifications, "_enqueue", lambda ids: None)
    Notification.objects.bulk_create(
        [Notification(channel="sms", recipient="+628111", body=str(i)) for i in range(5)]
    )
    assert notifications.notifications_sweep(limit=3)["enqueued"] == 3
    assert notifications.notifications_sweep(limit=3)["enqueued"] == 2


def test_emails_greet_by_the_profile_name_never_the_email_address():
    from tests.factories import ApplicantFactory, UserFactory

    applicant = ApplicantFactory(full_name="ROSA LESTARI", user__email="rosa.lestari@example.id")
    [email] = notifications.notify_user(
        user=applicant.user,
        template="registration_civil_failed",
        context={"status": "not_found", "masked_nik": applicant.masked_nik},
        channels=("email",),
    )
    assert email.body.startswith("Halo Rosa Lestari,\n")
    assert "rosa.lestari@" not in email.body
    [email] = notifications.notify_user(
        user=UserFactory(email="tanpa.profil@example.id", first_name=""),
        template="registration_civil_failed",
        context={"status": "not_found", "masked_nik": "3275••••••••0001"},
        channels=("email",),
    )
    assert email.body.startswith("Halo,\n")
