"""Shared test fixtures.

- Unit tests: fast settings (MD5 hasher, locmem cache and SMS, private files in
  a temporary folder) and Celery tasks run eagerly, right where they are sent.
- ``@pytest.mark.postgres``: needs DATABASE_URL pointing at PostgreSQL.
- ``@pytest.mark.worker`` + the ``celery_worker`` fixture: a real
  ``celery worker`` process consuming from Redis and writing to PostgreSQL.
- ``@pytest.mark.browser`` + the ``page`` fixture: Debian Chromium, headless,
  with a phone-sized viewport, against pytest-django's live server.

Tests whose services are missing are skipped with the reason shown (-ra).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
BASE_DIR = Path(__file__).resolve().parent.parent
SESSION_QUEUE = f"test-{uuid.uuid4().hex[:10]}"


def _is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    reasons = {}
    if not _is_postgres():
        reasons["postgres"] = "needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)"
    if not (_is_postgres() and settings.REDIS_URL):
        reasons["worker"] = (
            "needs a real Celery worker: set DATABASE_URL (PostgreSQL) and REDIS_URL (CI does)"
        )
    if not Path(CHROMIUM).exists():
        reasons["browser"] = f"needs Debian Chromium at {CHROMIUM}: apt-get install chromium chromium-driver"
    for item in items:
        for marker, reason in reasons.items():
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory):
    from django.test.utils import override_settings

    from prakerja.celery import app

    private = tmp_path_factory.mktemp("private")
    storages = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(private)},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        SESSION_ENGINE="prakerja.sessions",
        SMS_BACKEND="prakerja.sms.LocmemSmsBackend",
        STORAGES=storages,
        PRIVATE_MEDIA_ROOT=private,
        MFA_REQUIRED_FOR_STAFF=False,
        # Tests post sign-ups and logins far faster than a person; tests/prakerja/test_admission.py
        # turns the surge limiter on where it is the subject.
        ADMISSION_ENABLED=False,
    )
    override.enable()
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    app.conf.task_default_queue = SESSION_QUEUE
    yield
    override.disable()


@pytest.fixture(autouse=True)
def _clean_state():
    from django.core.cache import cache

    from marketplace import catalog_cache
    from prakerja import sms
    from registration.views import blank_profile_pages_clear

    cache.clear()
    # Per-process memos keyed on the catalog version: a rolled-back test reuses version numbers.
    catalog_cache.memo_clear()
    blank_profile_pages_clear()
    sms.outbox.clear()
    yield


@pytest.fixture
def transactional_db(transactional_db):
    """pytest-django flushes every table after a transactional test, including
    the rows data migrations put there (regions, role groups). Put them back."""
    from django.contrib.auth.models import Group, Permission

    from prakerja.roles import Role, roles_sync
    from registration.models import District, Province, Regency
    from registration.regions import regions_load

    if not Province.objects.exists():
        regions_load(Province, Regency, District)
    if Group.objects.filter(name__in=list(Role.values)).count() < len(Role.values):
        roles_sync(Group, Permission)
    yield


@pytest.fixture
def sms_outbox():
    from prakerja import sms

    return sms.outbox


def wait_until(predicate, *, timeout: float = 60.0, interval: float = 0.2, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds.

    Used to wait for a worker or browser; it asserts nothing about speed.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")
        time.sleep(interval)


class WorkerProcess:
    def __init__(self, process: subprocess.Popen, queue: str):
        self.process = process
        self.queue = queue
        self.lines: list[str] = []

    @property
    def output(self) -> str:
        return "".join(self.lines)


def _database_url_for_test_db() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def _purge(app, queue: str) -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)


@pytest.fixture
def celery_worker(transactional_db):
    """A real ``celery -A prakerja worker`` process on Redis, writing to the test database."""
    from prakerja.celery import app

    queue = SESSION_QUEUE
    _purge(app, queue)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "DB_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "prakerja", "worker",
            "--queues", queue, "--hostname", f"{queue}@%h", "--pool", "solo",
            "--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel", "INFO",
        ],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    worker = WorkerProcess(process, queue)

    def pump():
        for line in process.stdout:
            worker.lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        wait_until(
            lambda: " ready." in worker.output or process.poll() is not None,
            timeout=90,
            message="the Celery worker to start",
        )
        if process.poll() is not None:
            raise AssertionError(f"celery worker exited early:\n{worker.output}")
        app.conf.task_always_eager = False
        yield worker
    finally:
        app.conf.task_always_eager = True
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _purge(app, queue)


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page (390x844, touch) that fails the test on any console error."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        base_url=live_server.url,
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
