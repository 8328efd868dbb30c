"""Settings for Prakerja Portal.

One module, read from environment variables. With no variables at all it runs
the embedded setup (`make run`): SQLite, Celery tasks in-process, console email
and SMS, private files under ``var/``. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY, ALLOWED_HOSTS and SECURE_HTTPS=1 (see README "Settings").
"""

from __future__ import annotations

import os
import secrets
from datetime import date as _date
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from prakerja.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if env_bool("SECURE_HTTPS", False):
        # Production runs several processes (web, worker, beat) that must share one key: the
        # marketplace derives its encryption keys from it. A key made here would differ per container.
        raise ImproperlyConfigured("SECRET_KEY must be set when SECURE_HTTPS is on (production).")
    # Embedded setup: one random key per checkout, kept out of git.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_ID = 1

INSTALLED_APPS = [
    "prakerja",
    "registration",
    "kyc",
    "disbursement",
    "cohorts",
    "marketplace",
    "surveys",
    "employment",
    "oversight",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "import_export",
]

MIDDLEWARE = [
    # First: the container health check calls http://127.0.0.1:8000/healthz, which neither
    # ALLOWED_HOSTS (the public name) nor the HTTPS redirect would let through.
    "prakerja.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "prakerja.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before CSRF's check and the views: under a surge, the expensive posts get a waiting page.
    "prakerja.admission.AdmissionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "prakerja.middleware.UserLanguageMiddleware",
    "prakerja.middleware.SessionTimeoutMiddleware",
    "prakerja.middleware.StaffMFAMiddleware",
]

ROOT_URLCONF = "prakerja.urls"
WSGI_APPLICATION = "prakerja.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "prakerja.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"  # empty counts as unset
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (runserver, in-process tasks) share the file: wait for
    # the write lock instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- Redis: broker, cache ---------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Seconds to wait for Redis to accept a connection / answer: a Redis that hangs must not hang
# every request (the cache then falls back to the database, see prakerja/cache.py).
REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 0.5)
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 1.0)
# After Redis failed to answer, cache calls go straight to the database for this long.
CACHE_FALLBACK_RETRY_SECONDS = env_int("CACHE_FALLBACK_RETRY_SECONDS", 30)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "prakerja.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "FALLBACK_RETRY_SECONDS": CACHE_FALLBACK_RETRY_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database only: a cache outage must not sign anyone out or answer 500
# (cached_db reads the cache first), and a logout during an outage must not leave a stale copy
# in Redis that comes back to life afterwards. ``prakerja.sessions`` is Django's database store
# (same table and rows) with its per-request read and update written once (bench/README.md).
SESSION_ENGINE = "prakerja.sessions"

# --- Celery -----------------------------------------------------------------
# Without REDIS_URL every task runs in-process, right where it is enqueued.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = env_bool("CELERY_TASK_EAGER_PROPAGATES", False)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
# A web request that enqueues while the broker is away gives up after about a second (every
# enqueue of lasting work is robust: the row is saved and a sweeper queues it again later).
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = "Asia/Jakarta"
# Periodic jobs, all in one place. Apps add theirs here.
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {"task": "prakerja.notifications_sweep", "schedule": 60.0},
}

# --- Auth and accounts ----------------------------------------------------
AUTH_USER_MODEL = "prakerja.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Argon2id at OWASP's minimum (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1), not Django's
# default (m=100 MiB, p=8): about 34 ms of CPU per hash on this hardware instead of 340 ms, so one core
# signs up ten times as many people. Not lower than this. Older hashes are upgraded at the next login.
PASSWORD_HASHERS = [
    "prakerja.security.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Prakerja] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if env_bool("SECURE_HTTPS", False) else "http"
ACCOUNT_ADAPTER = "prakerja.adapters.AccountAdapter"
# allauth's rate limits are on by default; these make them explicit.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Prakerja Portal"
# Officers (staff accounts) must have TOTP before they can use admin or staff pages.
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", env_bool("SECURE_HTTPS", False))
# Session lifetimes in seconds (README "Security"). Officers (staff accounts, who can see KYC
# photos): 30 minutes idle, 12 hours at most (OWASP ASVS 4.0.3 V3.3). Applicants, on their own
# phones: 7 days idle, 30 days at most.
OFFICER_SESSION_IDLE_SECONDS = env_int("OFFICER_SESSION_IDLE_SECONDS", 30 * 60)
OFFICER_SESSION_MAX_SECONDS = env_int("OFFICER_SESSION_MAX_SECONDS", 12 * 3600)
APPLICANT_SESSION_IDLE_SECONDS = env_int("APPLICANT_SESSION_IDLE_SECONDS", 7 * 86400)
APPLICANT_SESSION_MAX_SECONDS = env_int("APPLICANT_SESSION_MAX_SECONDS", 30 * 86400)
SESSION_COOKIE_AGE = APPLICANT_SESSION_IDLE_SECONDS
# Re-authentication (password or authenticator code) is valid this long for sensitive changes.
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("ACCOUNT_REAUTHENTICATION_TIMEOUT", 300)

# --- Surge: admission control (prakerja/admission.py, README "Surge") ---------------------------
# Posts to these views (sign-up, login, profile, KYC photos) are let in at the machine's admission
# rate (a ticket queue in Redis shared by the machine's web processes, ADMISSION_BURST at once); the
# rest get a ticket and a waiting page (HTTP 429, Retry-After) that keeps the form and sends it again
# at that turn. The rate starts at the measured rate per core (bench/README.md "Surge") times this
# machine's cores and adapts to how long the admitted posts take.
ADMISSION_ENABLED = env_bool("ADMISSION_ENABLED", True)
ADMISSION_VIEWS = env_list(
    "ADMISSION_VIEWS", ["account_signup", "account_login", "registration:profile", "kyc:upload"]
)
# Web processes on this machine (gunicorn reads WEB_CONCURRENCY too: prakerja/gunicorn_conf.py).
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", max(2, os.cpu_count() or 1))
# Measured: 11.2 sign-ups per core-second of web CPU (bench/README.md "Surge"); 80 % of it.
ADMISSION_RATE_PER_CORE = env_float("ADMISSION_RATE_PER_CORE", 9.0)
ADMISSION_RATE = env_float("ADMISSION_RATE", ADMISSION_RATE_PER_CORE * (os.cpu_count() or 1))
# Let in at once up to this many when nobody waits.
ADMISSION_BURST = env_float("ADMISSION_BURST", max(1.0, ADMISSION_RATE / 4))
# The adaptive rate (AIMD): while admitted posts take at most ADMISSION_TARGET_SECONDS in the process,
# the rate grows by ADMISSION_RATE_STEP a second; when one takes longer, it falls to three quarters.
# Always within [ADMISSION_RATE_MIN, ADMISSION_RATE_MAX]. Off: the rate stays at ADMISSION_RATE.
ADMISSION_ADAPTIVE = env_bool("ADMISSION_ADAPTIVE", True)
ADMISSION_TARGET_SECONDS = env_float("ADMISSION_TARGET_SECONDS", 1.5)
ADMISSION_RATE_MIN = env_float("ADMISSION_RATE_MIN", ADMISSION_RATE / 10)
ADMISSION_RATE_MAX = env_float("ADMISSION_RATE_MAX", ADMISSION_RATE * 2)
ADMISSION_RATE_STEP = env_float("ADMISSION_RATE_STEP", ADMISSION_RATE / 20)
# While Redis does not answer: each process's own queue, the machine's rate shared between the web
# processes.
ADMISSION_LOCAL_RATE = env_float("ADMISSION_LOCAL_RATE", ADMISSION_RATE / WEB_CONCURRENCY)
# Expensive posts running at once in one process, how many more may wait for one of them and for how
# long; the rest keep their ticket and come back a few seconds later (threaded workers answer them at
# once: prakerja/gunicorn_conf.py).
ADMISSION_PROCESS_CONCURRENCY = env_int("ADMISSION_PROCESS_CONCURRENCY", 2)
ADMISSION_PROCESS_QUEUE = env_int("ADMISSION_PROCESS_QUEUE", 4)
ADMISSION_WAIT_SECONDS = env_float("ADMISSION_WAIT_SECONDS", 2.0)
# Retry-After without a ticket (the KYC photos, a full queue) or with a ticket in a busy process: a
# random number of seconds in this range, so the people waiting come back spread out.
ADMISSION_RETRY_AFTER_MIN = env_int("ADMISSION_RETRY_AFTER_MIN", 5)
ADMISSION_RETRY_AFTER_MAX = env_int("ADMISSION_RETRY_AFTER_MAX", 15)
# The queue gives tickets up to this far ahead; beyond, "try again in N minutes" without one.
ADMISSION_MAX_WAIT_SECONDS = env_int("ADMISSION_MAX_WAIT_SECONDS", 600)
# How long a waiting page's copy of the form stays valid.
ADMISSION_RETRY_TOKEN_SECONDS = env_int("ADMISSION_RETRY_TOKEN_SECONDS", 3600)
for _name in (
    "ADMISSION_RATE",
    "ADMISSION_BURST",
    "ADMISSION_LOCAL_RATE",
    "ADMISSION_PROCESS_CONCURRENCY",
    "ADMISSION_TARGET_SECONDS",
    "ADMISSION_RATE_MIN",
    "ADMISSION_RATE_STEP",
    "WEB_CONCURRENCY",
):
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be greater than 0")
if ADMISSION_PROCESS_QUEUE < 0 or ADMISSION_WAIT_SECONDS < 0:
    raise ImproperlyConfigured("ADMISSION_PROCESS_QUEUE and ADMISSION_WAIT_SECONDS must not be negative")
if not ADMISSION_RATE_MIN <= ADMISSION_RATE <= ADMISSION_RATE_MAX:
    raise ImproperlyConfigured("ADMISSION_RATE must be between ADMISSION_RATE_MIN and ADMISSION_RATE_MAX")
if not 1 <= ADMISSION_RETRY_AFTER_MIN <= ADMISSION_RETRY_AFTER_MAX:
    raise ImproperlyConfigured(
        "ADMISSION_RETRY_AFTER_MIN must be at least 1 and at most ADMISSION_RETRY_AFTER_MAX"
    )

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
# The second path: Indonesian for third-party apps that ship none (django-import-export).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "i18n_vendor" / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "prakerja_language"
LANGUAGE_COOKIE_SECURE = env_bool("SECURE_HTTPS", False)
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static and private files ---------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(env_str("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private"))))},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Selfies, KTP photos and provider documents live here. There is deliberately
# no MEDIA_URL route: files are served only by views that check permissions.
PRIVATE_MEDIA_ROOT = Path(STORAGES["default"]["OPTIONS"]["location"])
MEDIA_URL = "/private-files-are-not-served/"
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Email and SMS ----------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 15)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Prakerja Portal <noreply@prakerja.test>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

SMS_BACKEND = env_str("SMS_BACKEND", "prakerja.sms.ConsoleSmsBackend")
SMS_HTTP_URL = env_str("SMS_HTTP_URL")
SMS_HTTP_TOKEN = env_str("SMS_HTTP_TOKEN")
SMS_HTTP_TIMEOUT = env_float("SMS_HTTP_TIMEOUT", 10.0)
SMS_SENDER_ID = env_str("SMS_SENDER_ID", "PRAKERJA")
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 6)
NOTIFICATION_STUCK_AFTER_SECONDS = env_int("NOTIFICATION_STUCK_AFTER_SECONDS", 600)
# How many due messages one sweep (every minute) dispatches to the workers.
NOTIFICATION_SWEEP_BATCH = env_int("NOTIFICATION_SWEEP_BATCH", 50_000)

# --- Security ---------------------------------------------------------------
SECURE_HTTPS = env_bool("SECURE_HTTPS", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# A form sent with an outdated token gets the portal's own page in the person's language.
CSRF_FAILURE_VIEW = "prakerja.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The console backends print every message, one-time codes included, into the log.
CONSOLE_MESSAGE_BACKENDS = {
    "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    "SMS_BACKEND": "prakerja.sms.ConsoleSmsBackend",
}
# Content-Security-Policy (django-csp): scripts, styles, fonts and images come from this site
# only, nothing inline (no <script> blocks, on* handlers or style attributes: templates load
# static files), no plugins, no framing, forms post only here. Images may also be data: URIs
# (the TOTP QR code) and blob: URLs (the KYC page's preview of a photo chosen on the device, which
# never leaves it). CSP_REPORT_ONLY=1 sends the same policy as report-only.
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY
else:
    CONTENT_SECURITY_POLICY = _CSP_POLICY
if SECURE_HTTPS:
    for _name, _console in CONSOLE_MESSAGE_BACKENDS.items():
        if globals()[_name] == _console:
            raise ImproperlyConfigured(
                f"{_name} is the console backend, which writes one-time codes to the log; with "
                f'SECURE_HTTPS=1 (production) set {_name} to a real backend (see README "Settings").'
            )
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging ----------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "prakerja.logging.RedactPersonalData"},
        "client_errors": {"()": "prakerja.logging.ClientErrorsOneLine"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
        # Embedded setup: tasks run in-process; a line per task is noise there.
        "celery.app.trace": {"level": LOG_LEVEL if REDIS_URL else "WARNING"},
        "kombu.connection": {"level": LOG_LEVEL if REDIS_URL else "ERROR"},
        # faiss logs at INFO, in every process, that it picked its generic build (which
        # dispatches to AVX2 at run time) after not finding a separate AVX2 module.
        "faiss.loader": {"level": "WARNING"},
    },
}

# --- Programme --------------------------------------------------------------
PROGRAMME_NAME = env_str("PROGRAMME_NAME", "Prakerja")
PROGRAMME_CALL_CENTRE = env_str("PROGRAMME_CALL_CENTRE", "(021) 2500 200")
PROGRAMME_CONTACT_EMAIL = env_str("PROGRAMME_CONTACT_EMAIL", "bantuan@prakerja.test")

# --- Admin / import-export ---------------------------------------------------
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Import pages need the model's add permission (and change: prakerja.admin.ConsoleImportExportMixin),
# export pages its view permission; unset, the library lets every staff user in.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_USE_TRANSACTIONS = True

# --- registration -----------------------------------------------------------
# Applicant profile, NIK, civil registry, exclusion lists, Disnaker imports,
# and the shared one-time SMS codes (prakerja/otp.py). See README "Settings".
REGISTRATION_MAX_APPLICANTS_PER_KK = env_int("REGISTRATION_MAX_APPLICANTS_PER_KK", 2)
REGISTRATION_CONSENT_VERSION = env_str("REGISTRATION_CONSENT_VERSION", "2026-01")
OTP_TTL_SECONDS = env_int("OTP_TTL_SECONDS", 300)
OTP_MAX_ATTEMPTS = env_int("OTP_MAX_ATTEMPTS", 5)
OTP_RESEND_SECONDS = env_int("OTP_RESEND_SECONDS", 60)
OTP_PHONE_LIMIT_PER_HOUR = env_int("OTP_PHONE_LIMIT_PER_HOUR", 5)
OTP_PHONE_LIMIT_PER_DAY = env_int("OTP_PHONE_LIMIT_PER_DAY", 10)
OTP_USER_LIMIT_PER_HOUR = env_int("OTP_USER_LIMIT_PER_HOUR", 5)
OTP_USER_LIMIT_PER_DAY = env_int("OTP_USER_LIMIT_PER_DAY", 10)
CIVIL_REGISTRY_BACKEND = env_str("CIVIL_REGISTRY_BACKEND", "registration.civil_registry.LocalTableBackend")
CIVIL_REGISTRY_URL = env_str("CIVIL_REGISTRY_URL")
CIVIL_REGISTRY_USERNAME = env_str("CIVIL_REGISTRY_USERNAME")
CIVIL_REGISTRY_PASSWORD = env_str("CIVIL_REGISTRY_PASSWORD")
CIVIL_REGISTRY_TIMEOUT = env_float("CIVIL_REGISTRY_TIMEOUT", 10.0)
CIVIL_REGISTRY_HTTP_RETRIES = env_int("CIVIL_REGISTRY_HTTP_RETRIES", 2)
# Celery retries of an unavailable registry: 30 s, 1, 2, 4 ... minutes, capped at 1 hour.
CIVIL_REGISTRY_TASK_RETRIES = env_int("CIVIL_REGISTRY_TASK_RETRIES", 10)
CIVIL_REGISTRY_RETRY_BASE_SECONDS = env_int("CIVIL_REGISTRY_RETRY_BASE_SECONDS", 30)
REGISTRATION_IMPORT_MAX_ROWS = env_int("REGISTRATION_IMPORT_MAX_ROWS", 5_000_000)
REGISTRATION_OFFLINE_IMPORT_MAX_ROWS = env_int("REGISTRATION_OFFLINE_IMPORT_MAX_ROWS", 5000)
CELERY_BEAT_SCHEDULE |= {
    "registration-civil-check-sweep": {"task": "registration.civil_check_sweep", "schedule": 600.0},
    "registration-import-sweep": {"task": "registration.import_sweep", "schedule": 300.0},
    "prakerja-otp-purge": {"task": "prakerja.otp_purge", "schedule": 3600.0},
    "prakerja-sessions-clear": {"task": "prakerja.sessions_clear", "schedule": 3600.0},
}

# --- marketplace ---
# Fernet keys (comma-separated) that encrypt platform API secrets; the first one
# encrypts, all decrypt. Empty: a key derived from SECRET_KEY (embedded setup only).
MARKETPLACE_CREDENTIAL_KEYS = env_list("MARKETPLACE_CREDENTIAL_KEYS", [])
# Old credentials stay valid this long after a rotation.
MARKETPLACE_CREDENTIAL_GRACE_HOURS = env_int("MARKETPLACE_CREDENTIAL_GRACE_HOURS", 24)
# Signed API requests older (or further in the future) than this are refused.
MARKETPLACE_API_MAX_SKEW_SECONDS = env_int("MARKETPLACE_API_MAX_SKEW_SECONDS", 300)
# How long the first response to an Idempotency-Key is kept for replay.
MARKETPLACE_API_IDEMPOTENCY_HOURS = env_int("MARKETPLACE_API_IDEMPOTENCY_HOURS", 48)
# No training or listing may cost more than this (whole rupiah): the training balance.
MARKETPLACE_PRICE_MAX = env_int("MARKETPLACE_PRICE_MAX", 1_000_000)
MARKETPLACE_CATALOG_PAGE_SIZE = env_int("MARKETPLACE_CATALOG_PAGE_SIZE", 20)
# Rendered catalog pages are cached this long, keyed on the catalog version (marketplace/catalog_cache.py);
# 0 renders every request (the benchmark's "old way").
MARKETPLACE_CATALOG_CACHE_SECONDS = env_int("MARKETPLACE_CATALOG_CACHE_SECONDS", 600)
MARKETPLACE_DOCUMENT_MAX_BYTES = env_int("MARKETPLACE_DOCUMENT_MAX_BYTES", 5 * 1024 * 1024)
# Public provider applications accepted per IP address per hour.
MARKETPLACE_APPLICATIONS_PER_HOUR = env_int("MARKETPLACE_APPLICATIONS_PER_HOUR", 10)
CELERY_BEAT_SCHEDULE["marketplace-api-cleanup"] = {
    "task": "marketplace.api_records_cleanup",
    "schedule": 3600.0,
}
# Buying (purchases, vouchers): SMS codes for purchases per card per hour, refused card numbers
# per platform per hour through the API, and the webinar redeem window around the session start.
MARKETPLACE_PURCHASE_CODES_PER_HOUR = env_int("MARKETPLACE_PURCHASE_CODES_PER_HOUR", 5)
MARKETPLACE_API_CARD_FAILURES_PER_HOUR = env_int("MARKETPLACE_API_CARD_FAILURES_PER_HOUR", 60)
MARKETPLACE_REDEEM_WINDOW_MINUTES = env_int("MARKETPLACE_REDEEM_WINDOW_MINUTES", 60)
CELERY_BEAT_SCHEDULE["marketplace-purchases-expire"] = {
    "task": "marketplace.purchases_expire_stale",
    "schedule": 600.0,
}
# Webhooks to Platform.webhook_url: the platform has this long to answer, attempts before a delivery
# is marked failed (backoff 30 s doubling, at most 1 h), when a row left in "sending" is sent again,
# and how many due rows one sweep dispatches.
MARKETPLACE_WEBHOOK_TIMEOUT_SECONDS = env_float("MARKETPLACE_WEBHOOK_TIMEOUT_SECONDS", 5.0)
MARKETPLACE_WEBHOOK_MAX_ATTEMPTS = env_int("MARKETPLACE_WEBHOOK_MAX_ATTEMPTS", 8)
MARKETPLACE_WEBHOOK_STUCK_AFTER_SECONDS = env_int("MARKETPLACE_WEBHOOK_STUCK_AFTER_SECONDS", 300)
MARKETPLACE_WEBHOOK_SWEEP_BATCH = env_int("MARKETPLACE_WEBHOOK_SWEEP_BATCH", 500)
# Empty: sends go to the default queue (one worker does everything). docker-compose sets "webhooks"
# and runs a worker for it, so a platform that stops answering never delays SMS codes.
MARKETPLACE_WEBHOOK_QUEUE = env_str("MARKETPLACE_WEBHOOK_QUEUE", "")
CELERY_BEAT_SCHEDULE["marketplace-webhooks-sweep"] = {
    "task": "marketplace.webhooks_sweep",
    "schedule": 60.0,
}

# --- employment (job platforms) ---
# Fernet keys encrypting job platform API secrets (first encrypts, all decrypt); empty: derived
# from SECRET_KEY. The API uses the training platforms' signing scheme and clock window.
EMPLOYMENT_CREDENTIAL_KEYS = env_list("EMPLOYMENT_CREDENTIAL_KEYS", [])
# Version of the job-profile sharing consent text recorded with each consent (UU PDP).
EMPLOYMENT_CONSENT_VERSION = env_str("EMPLOYMENT_CONSENT_VERSION", "2026-12")
CELERY_BEAT_SCHEDULE["employment-api-cleanup"] = {
    "task": "employment.api_nonces_cleanup",
    "schedule": 3600.0,
}

# --- disbursement ---
from celery.schedules import crontab  # noqa: E402 - kept inside this app's section

# The nightly ledger check (`manage.py ledger_check` as a beat job) runs at this hour, Asia/Jakarta.
LEDGER_CHECK_HOUR = env_int("LEDGER_CHECK_HOUR", 2)
CELERY_BEAT_SCHEDULE["disbursement-ledger-check"] = {
    "task": "disbursement.ledger_check",
    "schedule": crontab(minute=17, hour=LEDGER_CHECK_HOUR),
}

# Incentive payouts (README "Incentive payouts"). Fernet keys (comma-separated) that encrypt payment
# partners' secrets (first encrypts, all decrypt; empty: derived from SECRET_KEY, embedded setup only).
PAYOUT_CREDENTIAL_KEYS = env_list("PAYOUT_CREDENTIAL_KEYS", [])
# After a payout account is changed, payouts wait this many days (the old number is told by SMS).
PAYOUT_COOLING_OFF_DAYS = env_int("PAYOUT_COOLING_OFF_DAYS", 3)
# A batch above this total (whole rupiah) needs a second approver besides the preparer's colleague.
PAYOUT_THIRD_APPROVAL_ABOVE = env_int("PAYOUT_THIRD_APPROVAL_ABOVE", 1_000_000_000)
# Sending one payout: transient partner errors are retried this often (backoff from the base, doubling,
# at most 1 h); a payout still SENDING after PAYOUT_SENDING_STUCK_AFTER_SECONDS is sent again, same key.
PAYOUT_SEND_RETRIES = env_int("PAYOUT_SEND_RETRIES", 5)
PAYOUT_SEND_RETRY_BASE_SECONDS = env_int("PAYOUT_SEND_RETRY_BASE_SECONDS", 10)
PAYOUT_SENDING_STUCK_AFTER_SECONDS = env_int("PAYOUT_SENDING_STUCK_AFTER_SECONDS", 300)
# A batch is sent in chunks: one Celery task and one bulk request to the partner per chunk of this many
# payouts (each still under its own idempotency key); at most 1000, the protocol's bulk limit.
PAYOUT_SEND_CHUNK = env_int("PAYOUT_SEND_CHUNK", 500)
CELERY_BEAT_SCHEDULE["disbursement-batches-prepare"] = {
    "task": "disbursement.batches_prepare_due",
    "schedule": crontab(minute=5),
}
CELERY_BEAT_SCHEDULE["disbursement-payouts-resend-stuck"] = {
    "task": "disbursement.payouts_resend_stuck",
    "schedule": 60.0,
}

# Payment partners (disbursement/gateway, README "Payment partners"). Partners call back to
# PAYOUT_CALLBACK_BASE_URL + /api/payout/v1/callbacks/<partner>/ (the address they can reach the
# portal at); a callback older or newer than the skew is refused. Requests to a partner time out
# after PAYOUT_PARTNER_TIMEOUT_SECONDS (connect: 3 s at most).
PAYOUT_CALLBACK_BASE_URL = env_str("PAYOUT_CALLBACK_BASE_URL", SITE_URL).rstrip("/")
PAYOUT_CALLBACK_MAX_SKEW_SECONDS = env_int("PAYOUT_CALLBACK_MAX_SKEW_SECONDS", 300)
PAYOUT_PARTNER_TIMEOUT_SECONDS = env_float("PAYOUT_PARTNER_TIMEOUT_SECONDS", 10.0)
# The sweeper asks the partner about payouts sent or accepted this long ago with no final answer
# (a lost callback, a worker that died after sending), every PAYOUT_STATUS_SWEEP_INTERVAL seconds.
PAYOUT_STATUS_SWEEP_AFTER_SECONDS = env_int("PAYOUT_STATUS_SWEEP_AFTER_SECONDS", 120)
PAYOUT_STATUS_SWEEP_INTERVAL = env_float("PAYOUT_STATUS_SWEEP_INTERVAL", 60.0)
PAYOUT_STATUS_SWEEP_BATCH = env_int("PAYOUT_STATUS_SWEEP_BATCH", 500)
CELERY_BEAT_SCHEDULE["disbursement-payouts-status-sweep"] = {
    "task": "disbursement.payouts_status_sweep",
    "schedule": PAYOUT_STATUS_SWEEP_INTERVAL,
}
# The loopback partner simulator (manage.py payout_simulator) and the credentials the demo partners
# use with it. Demo values only: a real partner's credentials are stored encrypted on its row.
PAYOUT_SIMULATOR_URL = env_str("PAYOUT_SIMULATOR_URL", "http://127.0.0.1:8765").rstrip("/")
PAYOUT_SIMULATOR_STATE = env_str("PAYOUT_SIMULATOR_STATE", str(VAR_DIR / "payout-simulator.sqlite3"))
PAYOUT_SIMULATOR_KEY_ID = env_str("PAYOUT_SIMULATOR_KEY_ID", "prakerja-demo")
PAYOUT_SIMULATOR_SECRET = env_str("PAYOUT_SIMULATOR_SECRET", "demo-payout-secret-not-for-production")
PAYOUT_SIMULATOR_CALLBACK_SECRET = env_str(
    "PAYOUT_SIMULATOR_CALLBACK_SECRET", "demo-callback-secret-not-for-production"
)

# --- kyc ----------------------------------------------------------------------

# Selfie vs KTP face check (kyc/engine.py). Distances are between dlib ResNet
# face encodings. Defaults were chosen on the shared photos (README "KYC"):
# the same person scored 0.34-0.47 (selfie against a KTP-like card), different
# people 0.69 and more. dlib's usual 0.6 confuses East and South-East Asian
# faces, so only <= 0.45 verifies by itself and 0.45-0.55 goes to a reviewer.
KYC_MATCH_THRESHOLD = env_float("KYC_MATCH_THRESHOLD", 0.45)
KYC_REVIEW_THRESHOLD = env_float("KYC_REVIEW_THRESHOLD", 0.55)
KYC_DUPLICATE_THRESHOLD = env_float("KYC_DUPLICATE_THRESHOLD", 0.40)
KYC_MAX_ATTEMPTS = env_int("KYC_MAX_ATTEMPTS", 3)
KYC_MAX_UPLOAD_BYTES = env_int("KYC_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
KYC_MAX_IMAGE_PIXELS = env_int("KYC_MAX_IMAGE_PIXELS", 50_000_000)
KYC_IMAGE_MAX_SIDE = env_int("KYC_IMAGE_MAX_SIDE", 2048)
KYC_DETECT_MAX_SIDE = env_int("KYC_DETECT_MAX_SIDE", 1024)
# A first, cheaper detection pass on a copy this long; each face it finds is detected
# again in its region of the KYC_DETECT_MAX_SIDE copy. 0 switches the pass off.
KYC_DETECT_COARSE_SIDE = env_int("KYC_DETECT_COARSE_SIDE", 512)
# Who runs the face-recognition network: "numpy" (kyc/face_net.py, the same numbers
# several times faster than the BLAS-less dlib wheel) or "dlib" (the fallback).
KYC_FACE_ENCODER = env_str("KYC_FACE_ENCODER", "numpy")
KYC_MIN_IMAGE_SIDE = env_int("KYC_MIN_IMAGE_SIDE", 320)
KYC_MIN_FACE_PX = env_int("KYC_MIN_FACE_PX", 80)
KYC_MIN_BRIGHTNESS = env_float("KYC_MIN_BRIGHTNESS", 30.0)
KYC_MIN_SHARPNESS = env_float("KYC_MIN_SHARPNESS", 10.0)
KYC_PHOTO_RETENTION_DAYS = env_int("KYC_PHOTO_RETENTION_DAYS", 90)
KYC_STUCK_AFTER_SECONDS = env_int("KYC_STUCK_AFTER_SECONDS", 900)
# A running check renews its lease every quarter of this; a check whose lease is older (its worker
# was killed) is requeued by the next sweep (every KYC_SWEEP_SECONDS).
KYC_LEASE_SECONDS = env_int("KYC_LEASE_SECONDS", 120)
KYC_SWEEP_SECONDS = env_int("KYC_SWEEP_SECONDS", 60)
# How long a check waits for a row or advisory lock before giving the submission back to the queue.
KYC_LOCK_TIMEOUT_MS = env_int("KYC_LOCK_TIMEOUT_MS", 5000)
KYC_FACE_INDEX_RELOAD_SECONDS = env_int("KYC_FACE_INDEX_RELOAD_SECONDS", 3600)
# Duplicate-face index shared by the workers of a machine (memory-mapped segments, kyc/face_index.py).
KYC_FACE_INDEX_DIR = Path(env_str("KYC_FACE_INDEX_DIR", str(VAR_DIR / "face_index")))
KYC_FACE_INDEX_SEGMENT_SIZE = env_int("KYC_FACE_INDEX_SEGMENT_SIZE", 2_000_000)
KYC_FACE_INDEX_UPDATE_SECONDS = env_int("KYC_FACE_INDEX_UPDATE_SECONDS", 300)
if not 0 < KYC_DUPLICATE_THRESHOLD <= KYC_MATCH_THRESHOLD <= KYC_REVIEW_THRESHOLD:
    raise ImproperlyConfigured(
        "KYC thresholds must satisfy 0 < KYC_DUPLICATE_THRESHOLD <= KYC_MATCH_THRESHOLD <= KYC_REVIEW_THRESHOLD"
    )
if KYC_FACE_ENCODER not in ("numpy", "dlib"):
    raise ImproperlyConfigured('KYC_FACE_ENCODER must be "numpy" or "dlib"')
if KYC_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("KYC_MAX_ATTEMPTS must be at least 1")
CELERY_BEAT_SCHEDULE["kyc-sweep"] = {"task": "kyc.sweep", "schedule": float(KYC_SWEEP_SECONDS)}
CELERY_BEAT_SCHEDULE["kyc-face-index-update"] = {
    "task": "kyc.face_index_update",
    "schedule": float(KYC_FACE_INDEX_UPDATE_SECONDS),
}
CELERY_BEAT_SCHEDULE["kyc-photos-purge"] = {"task": "kyc.photos_purge", "schedule": 3600.0}

# --- cohorts ---
# Waves close on time; participants who bought no training in time are revoked;
# leftover balances are forfeited after the programme end date (Programme in admin).
CELERY_BEAT_SCHEDULE["cohorts-waves-close"] = {"task": "cohorts.waves_close_due", "schedule": 300.0}
# A selection, announcement or notification job whose task message was lost (broker down) is sent again.
CELERY_BEAT_SCHEDULE["cohorts-runs-sweep"] = {"task": "cohorts.selection_runs_sweep", "schedule": 300.0}
# A participant whose only training was cancelled has until the wave's deadline or this many days
# after the cancellation, whichever is later, to buy another (the deadline clock runs again).
COHORTS_REBUY_GRACE_DAYS = env_int("COHORTS_REBUY_GRACE_DAYS", 7)
# A wave's announcement messages are written to the outbox a slice at a time while it holds fewer
# than this many queued messages (the sweeper sends 50,000 a minute), not millions at once.
# 0: all at once (the in-process setup, where there is no sweeper to wait for).
COHORTS_NOTIFY_OUTBOX_HIGH_WATER = env_int(
    "COHORTS_NOTIFY_OUTBOX_HIGH_WATER", 0 if CELERY_TASK_ALWAYS_EAGER else 200_000
)
# A wave's announcement opens the training accounts and creates the participants in chunks of this
# many selected applications (one transaction each), this many chunks side by side on their own
# database connections (PostgreSQL; 1: one after the other).
COHORTS_ANNOUNCE_CHUNK = env_int("COHORTS_ANNOUNCE_CHUNK", 50_000)
COHORTS_ANNOUNCE_WORKERS = env_int("COHORTS_ANNOUNCE_WORKERS", 2)
CELERY_BEAT_SCHEDULE["cohorts-deadline"] = {"task": "cohorts.participants_revoke_expired", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE["cohorts-programme-end"] = {
    "task": "cohorts.programme_end_forfeit",
    "schedule": crontab(minute=40, hour=0),
}

# --- surveys ---
# Survey windows for surveys added later, then "a survey opened" and "closes in 3 days" messages
# (set-based, once per person and survey), hourly.
CELERY_BEAT_SCHEDULE["surveys-notify"] = {"task": "surveys.notify_due", "schedule": crontab(minute=25)}

# --- oversight: complaints ---
# Service levels: a first answer within this many working days (Mon-Fri without Indonesia's public holidays and
# cuti bersama, from the `holidays` package), a resolution within this many days.
COMPLAINT_FIRST_ANSWER_WORKING_DAYS = env_int("COMPLAINT_FIRST_ANSWER_WORKING_DAYS", 2)
# Extra days off decreed late (ISO dates, comma separated), e.g. "2026-12-31,2027-01-02".
try:
    COMPLAINT_EXTRA_NON_WORKING_DAYS = [
        _date.fromisoformat(day) for day in env_list("COMPLAINT_EXTRA_NON_WORKING_DAYS", [])
    ]
except ValueError as exc:
    raise ImproperlyConfigured(
        f"COMPLAINT_EXTRA_NON_WORKING_DAYS must be ISO dates (YYYY-MM-DD): {exc}"
    ) from exc
COMPLAINT_RESOLUTION_DAYS = env_int("COMPLAINT_RESOLUTION_DAYS", 14)
COMPLAINT_REOPEN_DAYS = env_int("COMPLAINT_REOPEN_DAYS", 14)
COMPLAINT_ATTACHMENT_MAX_BYTES = env_int("COMPLAINT_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
COMPLAINT_NIK_REPORTS_PER_PHONE_PER_DAY = env_int("COMPLAINT_NIK_REPORTS_PER_PHONE_PER_DAY", 3)
CELERY_BEAT_SCHEDULE |= {
    "oversight-complaints-escalate": {"task": "oversight.complaints_escalate_overdue", "schedule": 3600.0},
    # The dashboard's and /statistik/'s numbers (a fixed number of GROUP BY queries).
    "oversight-summary-refresh": {"task": "oversight.summary_refresh", "schedule": 900.0},
}
