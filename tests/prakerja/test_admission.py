"""Surge admission control (prakerja/admission.py): the limiter, the waiting page, Redis down, a browser retry."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, identify_hasher, make_password
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from prakerja import admission
from prakerja.admission import RETRY_FIELD, URLENCODED, AdmissionConfig, AdmissionGate, Decision
from prakerja.cache import cache_fallback_reset
from prakerja.models import User
from prakerja.security import OwaspArgon2PasswordHasher

PASSWORD = "rendang-padang-2026"
DEAD = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once
TOKEN_PATTERN = re.compile(rf'name="{RETRY_FIELD}" value="([^"]+)"')
needs_redis = pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs a real Redis: set REDIS_URL")


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _redis_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "prakerja.cache.ResilientRedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, "FALLBACK_RETRY_SECONDS": 30},
        }
    }


def _config(**changes) -> AdmissionConfig:
    values = {
        "rate": 1.0,
        "burst": 1.0,
        "local_rate": 1.0,
        "process_concurrency": 2,
        "wait_seconds": 0.0,
        "max_wait": 600.0,
    }
    return AdmissionConfig(**(values | changes))


@pytest.fixture
def surge(settings):
    """Admission on: room for one post, then one every 3 seconds (the locmem test cache: the queue in
    the process), on a clock the test moves."""
    settings.ADMISSION_ENABLED = True
    settings.ADMISSION_RATE = 1.0
    settings.ADMISSION_BURST = 1.0
    settings.ADMISSION_LOCAL_RATE = 1 / 3
    settings.ADMISSION_RETRY_AFTER_MIN = 3
    settings.ADMISSION_RETRY_AFTER_MAX = 3
    admission.admission_reset()
    clock = FakeClock()
    clock.now = time.time()
    admission._gate = AdmissionGate(AdmissionConfig.from_settings(), clock=clock)
    settings.surge_clock = clock
    yield settings
    admission.admission_reset()


def _signup_post(email: str) -> dict:
    return {"email": email, "password1": PASSWORD, "password2": PASSWORD}


def _post(client: Client, url: str, data: dict, **extra):
    """A form post as a browser sends it (url-encoded; the test client's default is multipart)."""
    return client.post(url, urlencode(data, doseq=True), content_type=URLENCODED, **extra)


# --- the limiter -----------------------------------------------------------------------------------------


@pytest.fixture(params=["local", pytest.param("redis", marks=needs_redis)])
def queue_gate(request, settings):
    """A gate with a fake clock, its queue in the process or in Redis: both must behave the same."""
    clock = FakeClock()
    if request.param == "redis":
        settings.CACHES = _redis_cache(settings.REDIS_URL)
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache_fallback_reset()
    gate = AdmissionGate(_config(rate=2.0, burst=2.0, local_rate=2.0, max_wait=3.0), clock=clock)
    # A fresh key per run: the queue's ":used:" marks live 2 hours in Redis, and a test name's "[redis]"
    # would be a character class in the KEYS pattern that cleans up.
    gate.key = f"admission:test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(settings.REDIS_URL) if request.param == "redis" else None
    if client:
        client.delete(*client.keys(gate.key + "*") or [gate.key])
    yield gate, clock
    if client:
        client.delete(*client.keys(gate.key + "*") or [gate.key])


def test_queue_admits_the_burst_then_gives_reservations_in_order(queue_gate):
    gate, clock = queue_gate  # 2 a second (one every 0.5 s), 2 at once, reservations up to 3 s ahead
    assert [gate.ask().admitted for _ in range(2)] == [True, True]
    third, fourth = gate.ask(), gate.ask()
    assert (third.admitted, third.wait, third.slot) == (False, 0.5, 1000.5)
    assert (fourth.admitted, fourth.wait, fourth.slot) == (False, 1.0, 1001.0)
    # Back too early: still waiting, same place in the queue.
    assert gate.ask(reserved=1001.0) == Decision(False, 1.0, 1001.0)
    clock.now = 1000.5
    assert gate.ask(reserved=1000.5).admitted  # its turn: in, without queueing again
    # The same reservation twice (a replayed page) is a new arrival, at the end of the queue.
    replay = gate.ask(reserved=1000.5)
    assert (replay.admitted, replay.slot) == (False, 1001.5)
    clock.now = 1001.0
    assert gate.ask(reserved=1001.0).admitted
    # A post that cannot come back with a reservation (the KYC photos) is told how long, and keeps no place.
    assert gate.ask(reserve=False) == Decision(False, 1.0, 0.0)


def test_queue_takes_no_reservation_beyond_the_longest_wait(queue_gate):
    gate, clock = queue_gate
    answers = [gate.ask() for _ in range(10)]
    assert [a.admitted for a in answers[:2]] == [True, True]
    assert [a.wait for a in answers[2:]] == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0, 3.0]
    assert [a.slot for a in answers[2:]] == [1000.5, 1001.0, 1001.5, 1002.0, 1002.5, 1003.0, 0.0, 0.0]
    clock.now += 100  # the queue empties by itself
    assert gate.ask().admitted


def test_gate_semaphore_limits_posts_running_at_once_in_a_process(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    gate = AdmissionGate(_config(rate=100.0, burst=100.0, local_rate=100.0, process_concurrency=2))
    (first, _), (second, _) = gate.enter(), gate.enter()
    assert first is not None and second is not None
    refused, decision = gate.enter(reserved=1234.5)
    assert refused is None  # both slots taken; the short wait (0 s here) runs out
    assert decision.slot == 1234.5  # ...and a reservation is kept for the next try
    first.release()
    first.release()  # releasing twice gives back one slot, not two
    third, _ = gate.enter()
    assert third is not None
    assert gate.enter()[0] is None
    second.release()
    third.release()


def test_gate_gives_the_slot_back_when_the_queue_says_wait(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    gate = AdmissionGate(_config(local_rate=0.001, burst=1.0, process_concurrency=1))
    ticket, _ = gate.enter()
    assert ticket is not None
    ticket.release()
    assert gate.enter()[0] is None  # the queue is full
    assert gate.semaphore.acquire(timeout=0)  # ...and the refused request did not keep the slot
    gate.semaphore.release()


@needs_redis
def test_machine_wide_queue_in_redis_is_shared_by_processes(settings):
    settings.CACHES = _redis_cache(settings.REDIS_URL)
    cache_fallback_reset()
    one = AdmissionGate(_config(rate=0.01, burst=2.0, local_rate=50.0))
    other = AdmissionGate(_config(rate=0.01, burst=2.0, local_rate=50.0))  # another worker process
    one.key = other.key = "admission:test-shared-queue"
    redis.Redis.from_url(settings.REDIS_URL).delete(one.key)
    assert one.ask().admitted
    assert other.ask().admitted
    assert not one.ask().admitted  # the two processes used the machine's room
    assert not other.ask().admitted
    redis.Redis.from_url(settings.REDIS_URL).delete(one.key)


def test_redis_down_falls_back_to_the_local_queue(settings, caplog):
    settings.CACHES = _redis_cache(DEAD)
    cache_fallback_reset()
    gate = AdmissionGate(_config(rate=1000.0, burst=2.0, local_rate=2.0))
    try:
        # Fails open to the process's own limit: not shut, and not unlimited either.
        assert [gate.ask().admitted for _ in range(3)] == [True, True, False]
        from django.core.cache import caches

        assert caches["default"].redis_is_down()  # the next calls skip Redis, like the cache does
        assert "Redis unreachable" in caplog.text
    finally:
        cache_fallback_reset()


@pytest.mark.django_db
def test_redis_down_sign_up_still_works_and_is_still_limited(surge, client):
    surge.CACHES = _redis_cache(DEAD)
    surge.ADMISSION_LOCAL_RATE = 0.001
    cache_fallback_reset()
    try:
        first = _post(client, reverse("account_signup"), _signup_post("satu@example.id"))
        assert first.status_code == 302
        second = _post(client, reverse("account_signup"), _signup_post("dua@example.id"))
        assert second.status_code == 429
    finally:
        cache_fallback_reset()
    assert list(User.objects.values_list("email", flat=True)) == ["satu@example.id"]


# --- the waiting page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_waiting_page_is_429_with_retry_after_in_indonesian_and_keeps_the_form(surge):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("account_signup"))
    csrf = page.cookies[django_settings.CSRF_COOKIE_NAME].value
    first = _post(
        client, reverse("account_signup"), _signup_post("satu@example.id") | {"csrfmiddlewaretoken": csrf}
    )
    assert first.status_code == 302

    waiting = _post(
        client, reverse("account_signup"), _signup_post("dua@example.id") | {"csrfmiddlewaretoken": csrf}
    )
    assert waiting.status_code == 429
    assert waiting["Retry-After"] == "3"
    assert "no-store" in waiting["Cache-Control"]
    text = waiting.content.decode()
    assert "Banyak orang sedang mendaftar saat ini" in text
    assert "dalam <span data-countdown>3</span> detik" in text
    assert "prakerja/js/waiting.js" in text
    assert "<script>" not in text
    # The form travels encrypted: the password is nowhere in the page.
    assert PASSWORD not in text and "dua@example.id" not in text
    token = TOKEN_PATTERN.search(text).group(1)
    kept = admission.retry_token_read(token)
    assert kept.fields.getlist("email") == ["dua@example.id"]
    assert kept.fields.getlist("password1") == [PASSWORD]
    assert kept.fields.getlist("csrfmiddlewaretoken") == [csrf]
    assert kept.slot > 0  # a reserved turn in the queue
    assert not User.objects.filter(email="dua@example.id").exists()

    # Sent again at its turn: the sign-up completes, CSRF checked against the same cookie.
    surge.surge_clock.now += 3
    done = _post(client, reverse("account_signup"), {RETRY_FIELD: token})
    assert done.status_code == 302
    assert done["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email="dua@example.id").exists()


@pytest.mark.django_db
def test_waiting_page_again_keeps_the_form_again(surge, client):
    _post(client, reverse("account_signup"), _signup_post("satu@example.id"))
    token = TOKEN_PATTERN.search(
        _post(client, reverse("account_signup"), _signup_post("dua@example.id")).content.decode()
    ).group(1)
    # Sent again too early (the page was reloaded): still waiting, same turn, same form.
    surge.surge_clock.now += 1
    again = _post(client, reverse("account_signup"), {RETRY_FIELD: token})
    assert again.status_code == 429
    assert again["Retry-After"] == "2"
    kept = admission.retry_token_read(TOKEN_PATTERN.search(again.content.decode()).group(1))
    assert kept.fields.getlist("email") == ["dua@example.id"]
    assert RETRY_FIELD not in kept.fields
    assert kept.slot == admission.retry_token_read(token).slot


@pytest.mark.django_db
def test_waiting_page_in_english(surge, client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    _post(client, reverse("account_signup"), _signup_post("satu@example.id"))
    waiting = _post(client, reverse("account_signup"), _signup_post("dua@example.id"))
    assert waiting.status_code == 429
    assert "Many people are registering right now" in waiting.content.decode()


@pytest.mark.django_db
def test_login_and_profile_are_guarded_and_a_page_view_is_not(surge, client):
    _post(client, reverse("account_login"), {"login": "x@example.id", "password": PASSWORD})
    assert (
        _post(client, reverse("account_login"), {"login": "x@example.id", "password": PASSWORD}).status_code
        == 429
    )
    assert _post(client, reverse("registration:profile"), {"nik": "1"}).status_code == 429
    assert client.get(reverse("account_signup")).status_code == 200
    assert client.get(reverse("account_login")).status_code == 200
    assert client.post(reverse("set_language"), {"language": "id"}).status_code == 302


@pytest.mark.django_db
def test_kyc_upload_waiting_page_says_to_send_the_photos_again(surge, client):
    assert (
        _post(client, reverse("account_login"), {"login": "x@example.id", "password": PASSWORD}).status_code
        == 200
    )
    waiting = client.post(reverse("kyc:upload"), {"consent": "on", "note": "multipart"})
    assert waiting.status_code == 429
    text = waiting.content.decode()
    assert "Foto Anda belum terkirim" in text
    assert RETRY_FIELD not in text


@pytest.mark.django_db
def test_a_damaged_or_forged_retry_token_gives_the_form_back_with_a_message(surge, client):
    response = _post(client, reverse("account_signup"), {RETRY_FIELD: "gAAAAAforged"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("account_signup"), 302)]
    assert "Waktu tunggu telah habis. Silakan kirim formulirnya lagi." in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_admission_off_lets_everything_through(surge, client):
    surge.ADMISSION_ENABLED = False
    statuses = {
        _post(client, reverse("account_signup"), _signup_post(f"u{n}@example.id")).status_code
        for n in range(3)
    }
    assert statuses == {302}


# --- the password hash ----------------------------------------------------------------------------------


class LightArgon2(Argon2PasswordHasher):
    """Other parameters than the portal's (kept cheap: the test is about the upgrade, not the cost)."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 2


def test_passwords_use_argon2id_at_owasp_minimum(settings):
    settings.PASSWORD_HASHERS = ["prakerja.security.OwaspArgon2PasswordHasher"]
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(encoded), OwaspArgon2PasswordHasher)
    # A hash made with Django's heavier defaults still verifies, and is re-hashed at the next login.
    old = LightArgon2().encode(PASSWORD, "c2FsdHNhbHQ")
    assert "m=1024,t=1,p=2" in old
    upgraded = []
    assert check_password(PASSWORD, old, setter=upgraded.append)
    assert upgraded == [PASSWORD]


def test_production_settings_name_the_owasp_hasher_first():
    from prakerja import settings as portal_settings

    assert portal_settings.PASSWORD_HASHERS[0] == "prakerja.security.OwaspArgon2PasswordHasher"


# --- in Chromium -------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_waiting_page_sends_the_sign_up_again_by_itself_in_chromium(page, live_server, surge):
    from axe_playwright_python.sync_playwright import Axe

    surge.ADMISSION_LOCAL_RATE = 1 / 10  # a new gate on the real clock: one post every 10 s
    assert admission.admission_gate().ask().admitted  # the machine is busy: no room for the next post
    statuses = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith("/accounts/signup/") else None)

    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("siti@example.id")
    page.get_by_label("Kata sandi", exact=True).fill(PASSWORD)
    page.get_by_label("Kata sandi (lagi)").fill(PASSWORD)
    page.get_by_role("button", name="Daftar").click()

    page.get_by_role("heading", name="Banyak orang sedang mendaftar saat ini").wait_for()
    assert 0 <= int(page.locator("[data-countdown]").inner_text()) <= 10
    violations = Axe().run(page).response["violations"]
    assert [
        v["id"] for v in violations if v["impact"] in {"serious", "critical"} or v["id"] == "region"
    ] == []
    # At its turn the page sends the kept form by itself.
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))

    assert statuses == [200, 429, 302]
    user = User.objects.get(email="siti@example.id")
    assert user.check_password(PASSWORD)
