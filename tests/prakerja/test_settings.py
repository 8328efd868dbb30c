import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from prakerja import env

BASE_DIR = Path(__file__).resolve().parents[2]
# Production needs real message backends (the console ones print one-time codes to the log).
PRODUCTION_BACKENDS = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "SMS_BACKEND": "prakerja.sms.HttpSmsBackend",
}


def _manage(*args, extra_env):
    drop = {"DEBUG", "SECURE_HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    environment.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        extra_env={
            "DEBUG": "0",
            "SECURE_HTTPS": "1",
            "SECRET_KEY": "x7Gd2kq9LmPz4VbN8sTw1YcRf6HjUe3Ao5Ki0XlQnMpBvCtDyZg",
            "ALLOWED_HOSTS": "prakerja.example.go.id",
            "VAR_DIR": str(tmp_path),
            **PRODUCTION_BACKENDS,
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_without_https_settings(tmp_path):
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", extra_env={"DEBUG": "0", "VAR_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout  # SECURE_SSL_REDIRECT


def test_env_helpers_fail_loudly(monkeypatch, tmp_path):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG='maybe' is not a boolean"):
        env.env_bool("SOME_FLAG")
    monkeypatch.setenv("SOME_NUMBER", "12a")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env.env_int("SOME_NUMBER", 1)
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert env.env_str("SOME_SECRET") == "from-a-file"
    monkeypatch.setenv("SOME_LIST", "a.example, b.example,")
    assert env.env_list("SOME_LIST") == ["a.example", "b.example"]
    monkeypatch.setenv("SOME_FLAG", "Yes")
    assert env.env_bool("SOME_FLAG") is True


def test_production_refuses_to_start_without_a_shared_secret_key(tmp_path):
    result = _manage(
        "check",
        extra_env={"DEBUG": "0", "SECURE_HTTPS": "1", "SECRET_KEY": "", "VAR_DIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when SECURE_HTTPS is on" in result.stderr
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "console"),
    [
        ("SMS_BACKEND", "prakerja.sms.ConsoleSmsBackend"),
        ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
    ],
)
def test_production_refuses_a_console_message_backend(tmp_path, name, console):
    """The console backends print one-time codes into the log."""
    production = {
        "DEBUG": "0",
        "SECURE_HTTPS": "1",
        "SECRET_KEY": "x7Gd2kq9LmPz4VbN8sTw1YcRf6HjUe3Ao5Ki0XlQnMpBvCtDyZg",
        "ALLOWED_HOSTS": "prakerja.example.go.id",
        "VAR_DIR": str(tmp_path),
        **PRODUCTION_BACKENDS,
        name: console,
    }
    result = _manage("check", extra_env=production)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} is the console backend, which writes one-time codes to the log" in result.stderr
