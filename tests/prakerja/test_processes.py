"""The production processes from docker-compose.yml, started here without Docker."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.conftest import _database_url_for_test_db, wait_until

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _production_env(tmp_path) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": _database_url_for_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "0",
        "SECRET_KEY": "test-only-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(tmp_path / "static"),
        "VAR_DIR": str(tmp_path),
        "CELERY_TASK_DEFAULT_QUEUE": "test-processes",
    }


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.worker
def test_gunicorn_serves_the_portal_with_static_files(transactional_db, tmp_path):
    env = _production_env(tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=BASE_DIR, env=env, check=True
    )
    port = _free_port()
    process = subprocess.Popen(
        # The production settings (threaded workers), as make gunicorn, the image and docker-compose run it.
        [str(VENV_BIN / "gunicorn"), "prakerja.wsgi", "-c", "prakerja/gunicorn_conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy():
            try:
                return requests.get(f"{base}/healthz", timeout=10)
            except (requests.ConnectionError, requests.Timeout):
                return None

        response = wait_until(healthy, message="gunicorn to answer")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
        home = requests.get(f"{base}/", timeout=5)
        assert home.status_code == 200
        assert "Daftar sekarang" in home.text
        css_path = home.text.split('rel="stylesheet" href="')[1].split('"')[0]
        assert (
            css_path.startswith("/static/prakerja/css/portal.")
            and css_path != "/static/prakerja/css/portal.css"
        )
        css = requests.get(f"{base}{css_path}", timeout=5)
        assert css.status_code == 200
        assert "max-age=315360000" in css.headers["Cache-Control"]  # whitenoise, hashed name
        assert requests.get(f"{base}/private-files-are-not-served/x.jpg", timeout=5).status_code == 404
    finally:
        _stop(process)


@pytest.mark.worker
def test_beat_starts_and_schedules(transactional_db, tmp_path):
    env = _production_env(tmp_path)
    process = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "prakerja", "beat", "--loglevel", "DEBUG",
         "--schedule", str(tmp_path / "beat-schedule"), "--max-interval", "1"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    try:
        wait_until(
            lambda: "beat: Starting..." in "".join(lines) or process.poll() is not None,
            message="celery beat to start",
        )
        time.sleep(2)  # a few scheduler ticks; an exit would mean it failed
        assert process.poll() is None, "".join(lines)
    finally:
        _stop(process)
    output = "".join(lines)
    assert "beat: Starting..." in output
    assert "Traceback" not in output
