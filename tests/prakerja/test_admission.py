"""Surge admission control (prakerja/admission.py): the limiter, the waiting page, Redis down, a browser retry."""

from __future__ import annotations

import re
import threading
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
from prakerja.admission import RETRY_FIELD, URLENCODED, AdmissionConfig, AdmissionGate, Decision, ProcessLimit
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
        "process_queue": 0,
        "wait_seconds": 0.0,
        "max_wait": 600.0,
    }
    return AdmissionConfig(**(values | changes))


@pytest.fixture
def surge(settings):
    """Admission on: room for one post, then one every 3 seconds (the locmem test cache: the queue in
    the process), on a clock the test moves."""
    settings.ADMISSION_ENABLED = True
    settings.ADMISSION_ADAPTIVE = False
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
    """Make a gate with a fake clock and timer, its queue in the process or in Redis: both must behave
    the same."""
    clock = FakeClock()
    timer = FakeClock()
    if request.param == "redis":
        settings.CACHES = _redis_cache(settings.REDIS_URL)
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache_fallback_reset()
    client = redis.Redis.from_url(settings.REDIS_URL) if request.param == "redis" else None
    keys = []

    def make(**changes):
        values = {"rate": 2.0, "burst": 2.0, "local_rate": 2.0, "max_wait": 3.0}
        gate = AdmissionGate(_config(**(values | changes)), clock=clock, timer=timer)
        # A fresh key per run: the queue's ":used:" marks live 2 hours in Redis, and a test name's
        # "[redis]" would be a character class in the KEYS pattern that cleans up.
        gate.key = f"admission:test-{uuid.uuid4().hex}"
        keys.append(gate.key)
        return gate

    yield make, clock, timer
    if client:
        for key in keys:
            client.delete(*client.keys(key + "*") or [key])


def test_queue_admits_the_burst_then_gives_tickets_in_order(queue_gate):
    make, clock, _ = queue_gate
    gate = make()  # 2 a second (one every 0.5 s), 2 at once, tickets up to 3 s ahead
    first, second = gate.ask(), gate.ask()
    assert (first.admitted, second.admitted) == (True, True)
    # Tickets are numbered from the queue's creation time in milliseconds (1000 s here).
    assert (first.ticket, second.ticket) == (1_000_000, 1_000_001)
    third, fourth = gate.ask(), gate.ask()
    assert (third.admitted, third.wait, third.ticket) == (False, 0.5, 1_000_002)
    assert (fourth.admitted, fourth.wait, fourth.ticket) == (False, 1.0, 1_000_003)
    # Back too early: still waiting, same place in the queue.
    assert gate.ask(ticket=1_000_003) == Decision(False, 1.0, 1_000_003)
    clock.now = 1000.5
    assert gate.ask(ticket=1_000_002) == Decision(True, 0.0, 1_000_002)  # its turn: in, no queueing again
    # The same ticket twice (a replayed page) is a new arrival, at the end of the queue.
    assert gate.ask(ticket=1_000_002) == Decision(False, 1.0, 1_000_004)
    clock.now = 1001.0
    assert gate.ask(ticket=1_000_003).admitted
    # A post that cannot come back with a ticket (the KYC photos) is told how long, and takes no place.
    assert gate.ask(reserve=False) == Decision(False, 1.0, 0)


def test_queue_gives_no_ticket_beyond_the_longest_wait(queue_gate):
    make, clock, _ = queue_gate
    gate = make()
    answers = [gate.ask() for _ in range(10)]
    assert [a.admitted for a in answers[:2]] == [True, True]
    assert [a.wait for a in answers[2:]] == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0, 3.0]
    assert [a.ticket for a in answers[2:]] == [1_000_002 + n for n in range(6)] + [0, 0]
    clock.now += 100  # the queue empties by itself
    assert gate.ask().admitted


def _adaptive(make, **changes):
    values = {"adaptive": True, "target_seconds": 1.0, "rate_min": 0.5, "rate_max": 4.0, "rate_step": 1.0}
    return make(**(values | changes))


def test_rate_grows_additively_and_falls_multiplicatively_within_bounds(queue_gate):
    make, clock, _ = queue_gate
    gate = _adaptive(make)
    assert gate.rate() == 2.0
    gate.feedback(seconds=0.5)  # under the target: + step / rate (1 a second at 2 posts a second)
    assert gate.rate() == 2.5
    gate.feedback(seconds=1.5)  # over the target: three quarters
    assert gate.rate() == 1.875
    gate.feedback(seconds=9.0)  # finished just after the cut: let in before it, no second cut yet
    assert gate.rate() == 1.875
    clock.now += 1.0  # a target's time later
    gate.feedback(seconds=9.0)
    assert gate.rate() == pytest.approx(1.40625)
    for _ in range(10):
        clock.now += 1.0
        gate.feedback(seconds=9.0)
    assert gate.rate() == 0.5  # the lower bound
    for _ in range(50):
        gate.feedback(seconds=0.1)
    assert gate.rate() == 4.0  # the upper bound


def test_fixed_rate_when_not_adaptive(queue_gate):
    make, clock, _ = queue_gate
    gate = make()  # adaptive off
    gate.feedback(seconds=60.0)
    clock.now += 1.0
    gate.feedback(seconds=60.0)
    assert gate.rate() == 2.0
    assert [gate.ask().admitted for _ in range(3)] == [True, True, False]


def test_tickets_keep_their_order_when_the_rate_falls(queue_gate):
    make, clock, _ = queue_gate
    gate = _adaptive(make, burst=1.0)
    assert gate.ask().admitted
    a, b = gate.ask(), gate.ask()
    assert (a.wait, b.wait) == (0.5, 1.0)
    gate.feedback(seconds=5.0)  # 2 -> 1.5 a second: both turns come later, in the same order
    later_a, later_b = gate.ask(ticket=a.ticket), gate.ask(ticket=b.ticket)
    assert (later_a.admitted, later_a.ticket) == (False, a.ticket)
    assert later_a.wait == pytest.approx(2 / 3)
    assert later_b.wait == pytest.approx(4 / 3)
    clock.now += 0.5  # a's old turn, before its new one (minus the grace)
    assert not gate.ask(ticket=b.ticket).admitted
    clock.now += 1 / 6
    assert gate.ask(ticket=a.ticket).admitted
    # A newcomer queues behind b.
    assert gate.ask().ticket == b.ticket + 1


def test_a_slow_admitted_post_lowers_the_rate(queue_gate):
    make, clock, timer = queue_gate
    gate = _adaptive(make)
    ticket, decision = gate.enter()
    assert decision.admitted
    timer.now += 0.4
    ticket.release()
    assert gate.rate() == 2.5  # quick: up
    ticket, _ = gate.enter()
    timer.now += 3.0
    ticket.release()
    assert gate.rate() == 1.875  # slower than the 1 s target: down
    ticket.release()  # releasing twice reports once
    assert gate.rate() == 1.875


def test_waiting_for_a_process_slot_is_not_a_slow_post(queue_gate, monkeypatch):
    make, clock, timer = queue_gate
    gate = _adaptive(make)
    acquire = gate.limit.acquire

    def slow_acquire():
        timer.now += 3.0  # waited 3 s for one of the process's slots (slower than the 1 s target)
        return acquire()

    monkeypatch.setattr(gate.limit, "acquire", slow_acquire)
    ticket, decision = gate.enter()
    assert decision.admitted
    timer.now += 0.4  # the post itself was quick
    ticket.release()
    assert gate.rate() == 2.5  # up, as for any quick post


def test_busy_process_sends_the_admitted_post_back_with_its_ticket(queue_gate, settings):
    settings.ADMISSION_RETRY_AFTER_MIN = 4
    settings.ADMISSION_RETRY_AFTER_MAX = 6
    make, clock, _ = queue_gate
    gate = _adaptive(make, rate=100.0, burst=100.0, local_rate=100.0, rate_max=200.0, process_concurrency=1)
    running, _ = gate.enter()
    assert running is not None
    refused, decision = gate.enter()  # the machine has room, this process does not
    assert refused is None
    assert not decision.admitted and decision.ticket and 4 <= decision.wait <= 6
    assert gate.rate() == 100.0  # a full process is not a slow post: the rate is left alone
    # A ticket whose turn has come, refused by the busy process, is still good for one post.
    turn, _ = gate.enter(ticket=decision.ticket)
    assert turn is None
    running.release()
    again, admitted = gate.enter(ticket=decision.ticket)
    assert again is not None and admitted == Decision(True, 0.0, decision.ticket)
    again.release()
    replay, as_newcomer = gate.enter(ticket=decision.ticket)
    assert replay is not None  # (room in the queue) but as a newcomer with a new number
    assert as_newcomer.ticket != decision.ticket
    replay.release()


def test_process_limit_runs_a_few_queues_a_few_and_refuses_the_rest_at_once():
    limit = ProcessLimit(limit=1, queue=1, wait=10.0)
    assert limit.acquire()
    waited = []
    waiter = threading.Thread(target=lambda: waited.append(limit.acquire()))
    waiter.start()
    for _ in range(500):
        if limit.waiting:
            break
        time.sleep(0.01)
    assert limit.waiting == 1
    assert limit.acquire() is False  # one running, one waiting: the next is refused without waiting
    limit.release()
    waiter.join(5)
    assert waited == [True]
    assert (limit.running, limit.waiting) == (1, 0)
    limit.release()


def test_process_limit_wait_runs_out():
    limit = ProcessLimit(limit=1, queue=1, wait=0.05)
    assert limit.acquire()
    assert limit.acquire() is False  # waited 0.05 s, nothing was released
    assert (limit.running, limit.waiting) == (1, 0)
    limit.release()
    assert limit.acquire()


def test_gate_gives_the_process_slot_back_when_the_queue_says_wait(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    gate = AdmissionGate(_config(local_rate=0.001, burst=1.0, process_concurrency=1))
    ticket, _ = gate.enter()
    assert ticket is not None
    ticket.release()
    assert gate.enter()[0] is None  # the queue is full
    assert gate.limit.running == 0  # ...and the refused request took no place in the process


def test_threads_outnumber_the_expensive_posts_in_the_production_gunicorn_config():
    """Threads beyond the expensive posts (running and waiting) answer the waiting page at once."""
    import runpy

    from prakerja import settings as portal_settings

    config = runpy.run_path(str(django_settings.BASE_DIR / "prakerja" / "gunicorn_conf.py"))
    assert config["worker_class"] == "gthread"
    assert config["threads"] >= (
        portal_settings.ADMISSION_PROCESS_CONCURRENCY + portal_settings.ADMISSION_PROCESS_QUEUE + 2
    )
    assert config["timeout"] > portal_settings.ADMISSION_WAIT_SECONDS + 10


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
    assert kept.ticket > 0  # a place in the queue
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
    assert kept.ticket == admission.retry_token_read(token).ticket


@pytest.mark.django_db
def test_waiting_page_in_english(surge, client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    _post(client, reverse("account_signup"), _signup_post("satu@example.id"))
    waiting = _post(client, reverse("account_signup"), _signup_post("dua@example.id"))
    assert waiting.status_code == 429
    assert "Many people are registering right now" in waiting.content.decode()


@pytest.mark.django_db
def test_waiting_pages_rendered_once_still_carry_each_persons_form_and_language(surge, client):
    _post(client, reverse("account_signup"), _signup_post("satu@example.id"))
    pages = {}
    for email, language in (("dua@example.id", "id"), ("tiga@example.id", "id"), ("empat@example.id", "en")):
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        waiting = _post(client, reverse("account_signup"), _signup_post(email))
        assert (waiting.status_code, waiting["Retry-After"]) == (429, "3")
        pages[email] = waiting.content.decode()
        surge.surge_clock.now += 3.01  # the next person waits as long: the same cached page
    kept = {
        email: admission.retry_token_read(TOKEN_PATTERN.search(page).group(1))
        for email, page in pages.items()
    }
    assert {email: form.fields["email"] for email, form in kept.items()} == {e: e for e in pages}
    assert len({form.ticket for form in kept.values()}) == 3
    assert "Banyak orang sedang mendaftar saat ini" in pages["tiga@example.id"]
    assert "Many people are registering right now" in pages["empat@example.id"]
    assert all("@@" not in page for page in pages.values())
    assert admission._waiting_page.cache_info().hits == 1  # the second Indonesian page


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
