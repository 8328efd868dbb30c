"""Admission control: under a surge, expensive form posts wait politely instead of piling up.

Sign-up and login hash a password (argon2, tens of milliseconds of CPU each), the profile form runs
the NIK rules and a dozen writes, and the KYC upload decodes two photos. A machine can do only so
many of those a second; when more arrive, gunicorn's queue grows until every client times out and
the load balancer answers 502/504. Instead, ``AdmissionMiddleware`` lets the posts to the views in
``ADMISSION_VIEWS`` in only while there is capacity, and answers the rest at once, cheaply, with a
waiting page (HTTP 429 Too Many Requests, ``Retry-After``) that keeps what the person typed and
sends it again by itself after the pause.

Two limits, both configured in settings (README "Surge"):

- a machine-wide token bucket in Redis: ``ADMISSION_RATE`` expensive posts a second for the whole
  machine (one bucket per host name, shared by every worker process on it), with bursts of up to
  ``ADMISSION_BURST``. One Lua call per post (about 0.2 ms).
- a per-process semaphore: at most ``ADMISSION_PROCESS_CONCURRENCY`` expensive posts at a time in
  one process (it matters with threaded workers), waiting ``ADMISSION_WAIT_SECONDS`` for a slot.

When Redis does not answer, the limiter shares the cache's outage state (``prakerja.cache``) and
uses a token bucket in the process (``ADMISSION_LOCAL_RATE``, the machine's rate split between the
worker processes): it fails open to a local limit, never shut and never unlimited. Without Redis at
all (``make run``) the local bucket is the only one.

Why 429 and not 503: a waiting answer is deliberate and tells the client when to come back; load
tools and monitors count 5xx as server failures, and the goal is that the server never fails.

Nothing typed is lost. The waiting page re-offers a url-encoded form as one hidden field: the posted
fields (CSRF token included, so the check still binds to the person's cookie) encrypted and signed
with a key derived from SECRET_KEY (Fernet, valid ``ADMISSION_RETRY_TOKEN_SECONDS``), so passwords
never appear in the page. ``static/prakerja/js/waiting.js`` counts down and sends the form again;
without JavaScript the person presses the button. When the retry is admitted, the middleware puts
the original fields back into ``request.POST`` before CSRF and the view see the request. A
multipart post (the KYC photos) cannot be carried in a page: its form sends itself with ``fetch``
and, on a 429, waits and sends the same files again (``static/kyc/js/kyc.js``); without JavaScript
the waiting page says to choose the photos again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import socket
import threading
import time
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_FIELD = "_admission_retry"
URLENCODED = "application/x-www-form-urlencoded"
# A retry token carries a form, not uploads: anything larger is not re-offered.
RETRY_MAX_BYTES = 32 * 1024

# KEYS[1] the bucket; ARGV rate (tokens/s), burst, now (s). Returns 1 when a token was taken.
_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate) end
local taken = 0
if tokens >= 1 then tokens = tokens - 1; taken = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(math.max(now, ts)))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return taken
"""


class TokenBucket:
    """A token bucket in this process: ``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, *, rate: float, burst: float, clock=time.monotonic):
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + max(0.0, now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


@dataclass(frozen=True)
class AdmissionConfig:
    rate: float
    burst: float
    local_rate: float
    process_concurrency: int
    wait_seconds: float

    @classmethod
    def from_settings(cls) -> AdmissionConfig:
        rate = float(settings.ADMISSION_RATE)
        return cls(
            rate=rate,
            burst=float(settings.ADMISSION_BURST),
            local_rate=float(settings.ADMISSION_LOCAL_RATE or rate),
            process_concurrency=int(settings.ADMISSION_PROCESS_CONCURRENCY),
            wait_seconds=float(settings.ADMISSION_WAIT_SECONDS),
        )


class Ticket:
    """An admitted request's slot in its process; give it back with ``release()``."""

    def __init__(self, semaphore: threading.BoundedSemaphore):
        self._semaphore = semaphore
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._semaphore.release()


class AdmissionGate:
    """The two limits together. ``enter()`` gives a Ticket, or None: answer with the waiting page."""

    def __init__(self, config: AdmissionConfig):
        self.config = config
        self.semaphore = threading.BoundedSemaphore(config.process_concurrency)
        self.local_bucket = TokenBucket(
            rate=config.local_rate, burst=max(1.0, min(config.burst, config.local_rate))
        )
        self.key = f"admission:{socket.gethostname()}"
        self._script = None

    def _redis_take(self) -> bool | None:
        """True/False from the machine-wide bucket, or None when Redis is not there or not answering."""
        from django.core.cache import caches

        from prakerja.cache import ResilientRedisCache

        cache = caches["default"]
        if not isinstance(cache, ResilientRedisCache) or cache.redis_is_down():
            return None
        import redis

        try:
            client = cache._cache.get_client(write=True)
            taken = client.eval(_BUCKET_LUA, 1, self.key, self.config.rate, self.config.burst, time.time())
        except redis.RedisError as exc:
            cache.mark_down(exc)
            return None
        return bool(taken)

    def take_token(self) -> bool:
        shared = self._redis_take()
        if shared is None:
            return self.local_bucket.take()
        return shared

    def enter(self) -> Ticket | None:
        if not self.semaphore.acquire(timeout=self.config.wait_seconds):
            return None
        if not self.take_token():
            self.semaphore.release()
            return None
        return Ticket(self.semaphore)


_gate: AdmissionGate | None = None
_gate_lock = threading.Lock()


def admission_gate() -> AdmissionGate:
    """The process's gate, rebuilt when the settings change (tests override them)."""
    global _gate
    config = AdmissionConfig.from_settings()
    with _gate_lock:
        if _gate is None or _gate.config != config:
            _gate = AdmissionGate(config)
        return _gate


def admission_reset() -> None:
    """Forget the process's gate: a fresh bucket and semaphore on the next call (tests)."""
    global _gate
    with _gate_lock:
        _gate = None


def admission_paths() -> set[str]:
    paths = set()
    for name in settings.ADMISSION_VIEWS:
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            logger.warning("admission: ADMISSION_VIEWS names %r, which is no URL", name)
    return paths


def retry_after_seconds() -> int:
    """Seconds to wait, spread over a range so that the people waiting do not all come back at once."""
    low, high = settings.ADMISSION_RETRY_AFTER_MIN, settings.ADMISSION_RETRY_AFTER_MAX
    return random.randint(low, max(low, high))


# --- the retry token --------------------------------------------------------------------------------


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"prakerja.admission.retry:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def retry_token_make(post: QueryDict) -> str:
    fields = [[name, values] for name, values in post.lists() if name != RETRY_FIELD]
    return _fernet().encrypt(json.dumps(fields).encode()).decode()


def retry_token_read(token: str) -> QueryDict | None:
    """The fields a waiting page carried, or None when the token is forged, damaged or too old."""
    try:
        raw = _fernet().decrypt(token.encode(), ttl=settings.ADMISSION_RETRY_TOKEN_SECONDS)
        fields = json.loads(raw)
    except (InvalidToken, ValueError, UnicodeError):
        return None
    post = QueryDict(mutable=True)
    for name, values in fields:
        post.setlist(str(name), [str(value) for value in values])
    post._mutable = False
    return post


# --- the middleware -----------------------------------------------------------------------------------


def _is_urlencoded(request: HttpRequest) -> bool:
    return request.content_type == URLENCODED


def waiting_response(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    token = ""
    if _is_urlencoded(request) and int(request.META.get("CONTENT_LENGTH") or 0) <= RETRY_MAX_BYTES:
        previous = request.POST.get(RETRY_FIELD)
        fields = retry_token_read(previous) if previous else request.POST
        if fields is not None:
            token = retry_token_make(fields)
    body = render_to_string(
        "prakerja/waiting.html",
        {
            "retry_after": retry_after,
            "retry_token": token,
            "retry_field": RETRY_FIELD,
            "action": request.get_full_path(),
            "multipart": request.content_type == "multipart/form-data",
        },
        request=request,
    )
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    add_never_cache_headers(response)
    return response


class AdmissionMiddleware:
    """Admits posts to the expensive views (``ADMISSION_VIEWS``) only while there is capacity."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._paths: set[str] | None = None

    def _guarded(self, request: HttpRequest) -> bool:
        if request.method != "POST" or not settings.ADMISSION_ENABLED:
            return False
        if self._paths is None:
            self._paths = admission_paths()
        return request.path_info in self._paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._guarded(request):
            return self.get_response(request)
        ticket = admission_gate().enter()
        if ticket is None:
            return waiting_response(request, retry_after=retry_after_seconds())
        try:
            if _is_urlencoded(request):
                token = request.POST.get(RETRY_FIELD)
                if token:
                    restored = retry_token_read(token)
                    if restored is None:
                        # Damaged or older than ADMISSION_RETRY_TOKEN_SECONDS: the form again, with a word.
                        messages.warning(request, _("The waiting time ran out. Please send the form again."))
                        return HttpResponseRedirect(request.get_full_path())
                    request._post = restored
                    request._files = MultiValueDict()
            return self.get_response(request)
        finally:
            ticket.release()
