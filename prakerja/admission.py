"""Admission control: under a surge, expensive form posts queue politely instead of piling up.

Sign-up and login hash a password (argon2, tens of milliseconds of CPU each), the profile form runs
the NIK rules and a dozen writes, and the KYC upload decodes two photos. A machine can do only so
many of those a second; when more arrive, gunicorn's queue grows until every client times out and
the load balancer answers 502/504. Instead, ``AdmissionMiddleware`` lets the posts to the views in
``ADMISSION_VIEWS`` in only while there is capacity, and answers the rest at once, cheaply, with a
waiting page (HTTP 429 Too Many Requests, ``Retry-After``) that keeps what the person typed and
sends it again by itself when it is the person's turn.

The limits, configured in settings (README "Surge"):

- a machine-wide virtual queue in Redis: ``ADMISSION_RATE`` expensive posts a second for the whole
  machine (one key per host name, shared by every worker process on it), up to ``ADMISSION_BURST``
  at once. It is a token bucket kept as one timestamp (GCRA: the time at which the queue is empty
  again). A post that finds no room is given the next free moment in the queue, a reservation,
  and told to come back then (``Retry-After``); when it comes back at its time it is let in
  without queueing again. So the people waiting are served first come, first served, and each
  comes back about once instead of polling. One Lua call per post (about 0.2 ms). A queue longer
  than ``ADMISSION_MAX_WAIT_SECONDS`` takes no more reservations: "try again in N minutes".
- a per-process semaphore: at most ``ADMISSION_PROCESS_CONCURRENCY`` expensive posts at a time in
  one process (it matters with threaded workers), waiting ``ADMISSION_WAIT_SECONDS`` for a slot.

When Redis does not answer, the limiter shares the cache's outage state (``prakerja.cache``) and
uses the same queue kept in the process (``ADMISSION_LOCAL_RATE``, the machine's rate split between
the worker processes): it fails open to a local limit, never shut and never unlimited. Without
Redis at all (``make run``) the local queue is the only one.

Why 429 and not 503: a waiting answer is deliberate and tells the client when to come back; load
tools and monitors count 5xx as server failures, and the goal is that the server never fails.

Nothing typed is lost. The waiting page re-offers a url-encoded form as one hidden field: the posted
fields (CSRF token included, so the check still binds to the person's cookie) and the reservation,
encrypted and signed with a key derived from SECRET_KEY (Fernet, valid
``ADMISSION_RETRY_TOKEN_SECONDS``), so passwords never appear in the page and a reservation cannot
be forged; each reservation lets in one post. ``static/prakerja/js/waiting.js`` counts down and
sends the form again; without JavaScript the person presses the button. When the retry is
admitted, the middleware puts the original fields back into ``request.POST`` before CSRF and the
view see the request. A multipart post (the KYC photos) cannot be carried in a page: its form sends
itself with ``fetch`` and, on a 429, waits and sends the same files again (``static/kyc/js/kyc.js``);
without JavaScript the waiting page says to choose the photos again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
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

# KEYS[1] the queue (the time at which it is empty again). ARGV: now, interval (1/rate), tolerance
# ((burst - 1) * interval), reserved slot ("0": none), max wait, grace, reserve (1/0).
# Returns {admitted, wait, slot} as strings (Lua numbers would come back truncated to integers).
_QUEUE_LUA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local reserved = tonumber(ARGV[4])
local max_wait = tonumber(ARGV[5])
local grace = tonumber(ARGV[6])
if reserved > 0 then
  if now + grace < reserved then
    return {'0', tostring(reserved - now), ARGV[4]}
  end
  if redis.call('SET', KEYS[1] .. ':used:' .. ARGV[4], '1', 'NX', 'EX', 7200) then
    return {'1', '0', '0'}
  end
end
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now <= tolerance then
  redis.call('SET', KEYS[1], tostring(tat + interval), 'EX', math.ceil(tat - now + interval) + 60)
  return {'1', '0', '0'}
end
local slot = tat - tolerance
if slot - now > max_wait or ARGV[7] ~= '1' then
  return {'0', tostring(math.min(slot - now, max_wait)), '0'}
end
redis.call('SET', KEYS[1], tostring(tat + interval), 'EX', math.ceil(tat - now + interval) + 60)
return {'0', tostring(slot - now), tostring(slot)}
"""
# A reserved post may come back this much before its time (timers and rounding).
GRACE_SECONDS = 0.5


@dataclass(frozen=True)
class Decision:
    admitted: bool
    wait: float = 0.0  # seconds until there is room (or until the reservation's turn)
    slot: float = 0.0  # the reservation: a moment (Unix time) kept for this post; 0 when none


class LocalQueue:
    """The same queue as the Redis script, in this process (no Redis, or Redis not answering)."""

    def __init__(self, *, rate: float, burst: float, max_wait: float, clock=time.time):
        self.interval = 1.0 / float(rate)
        self.tolerance = (max(1.0, float(burst)) - 1.0) * self.interval
        self.max_wait = float(max_wait)
        self._clock = clock
        self._tat = 0.0
        self._used: dict[float, float] = {}
        self._lock = threading.Lock()

    def ask(self, *, reserved: float = 0.0, reserve: bool = True) -> Decision:
        with self._lock:
            now = self._clock()
            if reserved:
                if now + GRACE_SECONDS < reserved:
                    return Decision(False, reserved - now, reserved)
                if reserved not in self._used:
                    if len(self._used) > 10_000:
                        self._used = {k: v for k, v in self._used.items() if v > now - 7200}
                    self._used[reserved] = now
                    return Decision(True)
            tat = max(self._tat, now)
            if tat - now <= self.tolerance:
                self._tat = tat + self.interval
                return Decision(True)
            slot = tat - self.tolerance
            if slot - now > self.max_wait or not reserve:
                return Decision(False, min(slot - now, self.max_wait))
            self._tat = tat + self.interval
            return Decision(False, slot - now, slot)


@dataclass(frozen=True)
class AdmissionConfig:
    rate: float
    burst: float
    local_rate: float
    process_concurrency: int
    wait_seconds: float
    max_wait: float

    @classmethod
    def from_settings(cls) -> AdmissionConfig:
        rate = float(settings.ADMISSION_RATE)
        return cls(
            rate=rate,
            burst=float(settings.ADMISSION_BURST),
            local_rate=float(settings.ADMISSION_LOCAL_RATE or rate),
            process_concurrency=int(settings.ADMISSION_PROCESS_CONCURRENCY),
            wait_seconds=float(settings.ADMISSION_WAIT_SECONDS),
            max_wait=float(settings.ADMISSION_MAX_WAIT_SECONDS),
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
    """The limits together: ``enter()`` gives a Ticket (admitted) or None, and the queue's Decision."""

    def __init__(self, config: AdmissionConfig, *, clock=time.time):
        self.config = config
        self._clock = clock
        self.semaphore = threading.BoundedSemaphore(config.process_concurrency)
        self.local = LocalQueue(
            rate=config.local_rate,
            burst=min(config.burst, max(1.0, config.local_rate)),
            max_wait=config.max_wait,
            clock=clock,
        )
        self.key = f"admission:{socket.gethostname()}"

    def _redis_ask(self, *, reserved: float, reserve: bool) -> Decision | None:
        """The machine-wide queue's answer, or None when Redis is not there or not answering."""
        from django.core.cache import caches

        from prakerja.cache import ResilientRedisCache

        cache = caches["default"]
        if not isinstance(cache, ResilientRedisCache) or cache.redis_is_down():
            return None
        import redis

        interval = 1.0 / self.config.rate
        try:
            client = cache._cache.get_client(write=True)
            admitted, wait, slot = client.eval(
                _QUEUE_LUA,
                1,
                self.key,
                repr(self._clock()),
                repr(interval),
                repr((max(1.0, self.config.burst) - 1.0) * interval),
                repr(reserved) if reserved else "0",
                repr(self.config.max_wait),
                repr(GRACE_SECONDS),
                "1" if reserve else "0",
            )
        except redis.RedisError as exc:
            cache.mark_down(exc)
            return None
        return Decision(admitted in (b"1", "1"), float(wait), float(slot))

    def ask(self, *, reserved: float = 0.0, reserve: bool = True) -> Decision:
        decision = self._redis_ask(reserved=reserved, reserve=reserve)
        if decision is None:
            decision = self.local.ask(reserved=reserved, reserve=reserve)
        return decision

    def enter(self, *, reserved: float = 0.0, reserve: bool = True) -> tuple[Ticket | None, Decision]:
        if not self.semaphore.acquire(timeout=self.config.wait_seconds):
            # The process is busy right now: keep the reservation, if any, for the next try.
            return None, Decision(False, 0.0, reserved)
        decision = self.ask(reserved=reserved, reserve=reserve)
        if not decision.admitted:
            self.semaphore.release()
            return None, decision
        return Ticket(self.semaphore), decision


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


def retry_after_seconds(decision: Decision) -> int:
    """Whole seconds to wait: the reservation's turn, or (no reservation) a random pause in the
    configured range, so that the people waiting do not all come back at the same moment."""
    if decision.slot:
        return max(1, math.ceil(decision.wait))
    low, high = settings.ADMISSION_RETRY_AFTER_MIN, settings.ADMISSION_RETRY_AFTER_MAX
    return max(math.ceil(decision.wait), random.randint(low, max(low, high)))


# --- the retry token --------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeptForm:
    fields: QueryDict
    slot: float = 0.0


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"prakerja.admission.retry:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def retry_token_make(post: QueryDict, *, slot: float = 0.0) -> str:
    fields = [[name, values] for name, values in post.lists() if name != RETRY_FIELD]
    return _fernet().encrypt(json.dumps({"fields": fields, "slot": slot}).encode()).decode()


def retry_token_read(token: str) -> KeptForm | None:
    """The form a waiting page carried, or None when the token is forged, damaged or too old."""
    try:
        raw = _fernet().decrypt(token.encode(), ttl=settings.ADMISSION_RETRY_TOKEN_SECONDS)
        kept = json.loads(raw)
        post = QueryDict(mutable=True)
        for name, values in kept["fields"]:
            post.setlist(str(name), [str(value) for value in values])
        slot = float(kept.get("slot") or 0.0)
    except (InvalidToken, ValueError, UnicodeError, KeyError, TypeError):
        return None
    post._mutable = False
    return KeptForm(fields=post, slot=slot)


# --- the middleware -----------------------------------------------------------------------------------


def _is_urlencoded(request: HttpRequest) -> bool:
    return request.content_type == URLENCODED


def _keepable(request: HttpRequest) -> bool:
    """A form the waiting page can carry: url-encoded and small (not the KYC photos)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return _is_urlencoded(request) and length <= RETRY_MAX_BYTES


def waiting_response(request: HttpRequest, *, decision: Decision, kept: KeptForm | None) -> HttpResponse:
    retry_after = retry_after_seconds(decision)
    token = retry_token_make(kept.fields, slot=decision.slot) if kept is not None else ""
    body = render_to_string(
        "prakerja/waiting.html",
        {
            "retry_after": retry_after,
            "retry_token": token,
            "retry_field": RETRY_FIELD,
            "action": request.get_full_path(),
            "multipart": request.content_type == "multipart/form-data",
            "programme_name": settings.PROGRAMME_NAME,
        },
    )
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    add_never_cache_headers(response)
    # A deliberate answer, not a client error: in a surge Django's "Too Many Requests" warning for
    # each one would write thousands of log lines a second (the flag is what Django checks).
    response._has_been_logged = True
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
        kept = None
        if _keepable(request):
            token = request.POST.get(RETRY_FIELD)
            if token:
                kept = retry_token_read(token)
                if kept is None:
                    # Damaged, or older than ADMISSION_RETRY_TOKEN_SECONDS: the form again, with a word.
                    messages.warning(request, _("The waiting time ran out. Please send the form again."))
                    return HttpResponseRedirect(request.get_full_path())
            else:
                kept = KeptForm(fields=request.POST)
        reserved = kept.slot if kept is not None else 0.0
        ticket, decision = admission_gate().enter(reserved=reserved, reserve=kept is not None)
        if ticket is None:
            return waiting_response(request, decision=decision, kept=kept)
        try:
            if kept is not None and kept.fields is not request.POST:
                request._post = kept.fields
                request._files = MultiValueDict()
            return self.get_response(request)
        finally:
            ticket.release()
