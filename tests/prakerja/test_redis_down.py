"""Redis (cache and Celery broker) down: the portal keeps working, loses nothing, says 503 on /healthz.

The cache and the broker point at a dead address with the production backends (not locmem,
not eager Celery). Afterwards the real Redis (REDIS_URL) comes back and the sweepers hand
the queued work to the broker.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from kyc.enums import SubmissionStatus
from kyc.models import KycSubmission
from prakerja.cache import cache_fallback_reset
from prakerja.celery import app
from prakerja.enums import NotificationStatus
from prakerja.models import FallbackCacheEntry, Notification
from registration.enums import CivilRegistryStatus
from registration.models import Applicant
from tests.factories import ApplicantFactory, UserFactory
from tests.registration.factories import civil_record_for, profile_input, profile_post

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs a real Redis: set REDIS_URL (CI does)"),
]

DEAD = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once
PASSWORD = "rahasia-panjang-2026"
PEOPLE = Path(__file__).resolve().parent.parent / "kyc" / "data" / "people"


def _redis_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "prakerja.cache.ResilientRedisCache",
            "LOCATION": location,
            "OPTIONS": {
                "socket_connect_timeout": 0.5,
                "socket_timeout": 1.0,
                "FALLBACK_RETRY_SECONDS": 30,
            },
        }
    }


def _use_broker(url: str) -> None:
    """Point the Celery app at ``url``: it picks kombu's pool for that URL on the next send
    (pools are shared per URL, so the old one is left open for the other tests)."""
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.broker_url = url


@pytest.fixture
def redis_down(settings):
    real = settings.REDIS_URL
    settings.CACHES = _redis_cache(DEAD)
    settings.REDIS_URL = DEAD
    cache_fallback_reset()
    _use_broker(DEAD)
    app.conf.task_always_eager = False
    client = redis.Redis.from_url(real)
    client.delete(app.conf.task_default_queue)

    def back():
        settings.CACHES = _redis_cache(real)
        settings.REDIS_URL = real
        cache_fallback_reset()
        _use_broker(real)

    try:
        yield back
    finally:
        client.delete(app.conf.task_default_queue)
        _use_broker(real)
        app.conf.task_always_eager = True
        cache_fallback_reset()


def _queued_tasks() -> list[tuple[str, list]]:
    """(task name, args) of the messages waiting in the real broker's test queue."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    out = []
    for raw in client.lrange(app.conf.task_default_queue, 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        out.append((message["headers"]["task"], body[0]))
    return sorted(out)


def _photos() -> tuple[bytes, bytes]:
    from kyc.demo import ktp_card, portrait_crop

    selfie = (PEOPLE / "obama" / "1.jpg").read_bytes()
    with Image.open(PEOPLE / "obama" / "2.jpg") as image:
        card = ktp_card(portrait_crop(image.convert("RGB")))
    out = io.BytesIO()
    card.save(out, "JPEG", quality=90)
    return selfie, out.getvalue()


def _login(client, email: str) -> None:
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("dashboard")


def client_for(email: str):
    from django.test import Client

    other = Client()
    _login(other, email)
    return other


def test_portal_works_without_redis_and_the_sweepers_deliver_afterwards(client, redis_down):
    # Login goes through allauth's rate limit, which now counts in the database.
    newcomer = UserFactory(email="baru@example.id")
    _login(client, newcomer.email)
    assert FallbackCacheEntry.objects.exists()
    assert client.get(reverse("dashboard")).status_code == 200

    # Profile save: the civil-registry check cannot be queued; the profile is saved anyway.
    data = profile_input(serial=901)
    civil_record_for(data)
    response = client.post(reverse("registration:profile"), profile_post(data))
    assert response.status_code == 302
    assert response["Location"] == reverse("registration:phone")
    newcomer_applicant = Applicant.objects.get(user=newcomer)
    assert newcomer_applicant.civil_status == CivilRegistryStatus.PENDING

    # KYC upload by another applicant: the photos are kept, the check waits in the queue.
    applicant = ApplicantFactory()
    other = client_for(applicant.user.email)
    selfie, ktp = _photos()
    response = other.post(
        "/kyc/",
        {
            "consent": "on",
            "selfie": SimpleUploadedFile("selfie.jpg", selfie, "image/jpeg"),
            "ktp": SimpleUploadedFile("ktp.jpg", ktp, "image/jpeg"),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    submission = KycSubmission.objects.get(case__applicant=applicant)
    assert submission.status == SubmissionStatus.QUEUED
    assert other.get(reverse("dashboard")).status_code == 200

    # The health check tells the load balancer, quickly.
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json() == {"status": "down", "database": "ok", "broker": "down"}

    # Redis is back. The sweepers find the waiting work (older than their thresholds)
    # and hand it to the real broker.
    redis_down()
    past = timezone.now() - datetime.timedelta(hours=1)
    Applicant.objects.filter(pk=newcomer_applicant.pk).update(updated_at=past)
    KycSubmission.objects.filter(pk=submission.pk).update(created_at=past)
    from kyc.services import kyc_sweep
    from prakerja.notifications import notifications_sweep
    from registration.services import civil_check_sweep

    assert civil_check_sweep() == 1
    assert kyc_sweep()["enqueued"] == 1
    queued_notifications = list(
        Notification.objects.filter(status=NotificationStatus.QUEUED).values_list("pk", flat=True)
    )
    notifications_sweep()
    tasks = _queued_tasks()
    assert ("kyc.submission_verify", [submission.pk]) in tasks
    assert ("registration.civil_check", [newcomer_applicant.pk]) in tasks
    sent = [args[0] for name, args in tasks if name == "prakerja.notifications_send_batch"]
    assert sorted(pk for batch in sent for pk in batch) == sorted(queued_notifications)


def test_login_limit_holds_without_redis(client, redis_down):
    """allauth's failed-login limit (5 per 5 minutes per account) is counted in the database."""
    user = UserFactory()
    blocked = "Terlalu banyak percobaan masuk yang gagal. Coba lagi nanti."
    bodies = [
        client.post(
            reverse("account_login"), {"login": user.email, "password": "salah-sekali"}
        ).content.decode()
        for _ in range(6)
    ]
    assert [blocked in body for body in bodies] == [False] * 5 + [True]
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert blocked in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_signed_in_page_survives_a_redis_outage(client, settings):
    """Sessions are in the database: nobody is signed out when Redis goes away."""
    import prakerja.settings as production

    settings.SESSION_ENGINE = production.SESSION_ENGINE  # the tests' default is the same; be explicit
    applicant = ApplicantFactory()
    settings.CACHES = _redis_cache(settings.REDIS_URL)
    cache_fallback_reset()
    _login(client, applicant.user.email)  # signed in while Redis is up
    settings.CACHES = _redis_cache(DEAD)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert response.context["user"] == applicant.user


def test_production_settings_use_the_resilient_cache_and_database_sessions():
    import prakerja.settings as module

    assert module.CACHES["default"]["BACKEND"] == "prakerja.cache.ResilientRedisCache"
    assert module.CACHES["default"]["OPTIONS"]["socket_connect_timeout"] == 0.5
    # Django's database store (prakerja.sessions only writes its read and update once): no cache involved.
    from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
    from django.utils.module_loading import import_string

    assert issubclass(import_string(module.SESSION_ENGINE + ".SessionStore"), DatabaseStore)
    assert module.SESSION_ENGINE == "prakerja.sessions"
    assert module.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] == 0.5


def test_disnaker_import_upload_without_broker_is_kept_for_the_sweeper(client, redis_down):
    from django.core.files.uploadedfile import SimpleUploadedFile as Upload

    from registration.imports import import_jobs_sweep
    from registration.models import ImportJob
    from tests.registration.factories import disnaker_user

    client.force_login(disnaker_user("32"))
    response = client.post(
        reverse("registration:staff_import"),
        {"file": Upload("peserta.csv", b"nik\n3204051212900004\n", "text/csv"), "paper_consent": "on"},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("registration:staff_import_detail", args=[job.pk])
    assert job.status == "uploaded"
    redis_down()
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert import_jobs_sweep() == 1
    assert ("registration.import_validate", [job.pk]) in _queued_tasks()


def test_cache_keeps_its_contract_in_the_database_and_redis_takes_over_again(settings):
    from django.core.cache import cache

    settings.CACHES = _redis_cache(DEAD)
    cache_fallback_reset()
    assert cache.add("limit:ip", 0, 3600) is True
    assert cache.add("limit:ip", 5, 3600) is False
    assert cache.incr("limit:ip") == 1
    assert cache.get_many(["limit:ip", "other"]) == {"limit:ip": 1}
    with pytest.raises(ValueError):
        cache.incr("missing")
    assert FallbackCacheEntry.objects.count() == 1
    assert cache._fallback._max_entries == 500_000
    # Redis answers again: the next call after a reset goes there, not to the table.
    settings.CACHES = _redis_cache(django_settings.REDIS_URL)
    cache_fallback_reset()
    cache.delete("limit:ip")
    assert cache.get("limit:ip") is None
    cache.set("limit:ip", 7, 60)
    assert (
        redis.Redis.from_url(django_settings.REDIS_URL).exists(cache.make_and_validate_key("limit:ip")) == 1
    )
    assert FallbackCacheEntry.objects.get().value != ""
    cache.delete("limit:ip")
