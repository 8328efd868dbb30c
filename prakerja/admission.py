"""Admission control: under a surge, expensive form posts queue politely instead of piling up.

Sign-up and login hash a password (argon2, tens of milliseconds of CPU each), the profile form runs
the NIK rules and a dozen writes, and the KYC upload decodes two photos. A machine can do only so
many of those a second; when more arrive, gunicorn's queue grows until every client times out and
the load balancer answers 502/504. Instead, ``AdmissionMiddleware`` lets the posts to the views in
``ADMISSION_VIEWS`` in only while there is capacity, and answers the rest at once, cheaply, with a
waiting page (HTTP 429 Too Many Requests, ``Retry-After``) that keeps what the person typed and
sends it again by itself when it is the person's turn.

The limits, configured in settings (README "Surge"):

- a machine-wide queue in Redis (one hash per host name, shared by every worker process on it):
  tickets handed out in order, and a head that lets in the next ticket ``rate`` times a second, up
  to ``ADMISSION_BURST`` at once when nobody waits. A post that finds no room gets the next ticket
  and is told when its turn comes (``Retry-After``); coming back then it is let in without queueing
  again. First come, first served, and each person comes back about once instead of polling. One
  Lua call per post (about 0.2 ms). A queue longer than ``ADMISSION_MAX_WAIT_SECONDS`` gives no
  more tickets: "try again in N minutes". A ticket is a place, not a moment: when the rate falls,
  the people holding tickets are let in later, in the same order.
- the rate adapts (``ADMISSION_ADAPTIVE``): it starts at ``ADMISSION_RATE`` and, after each
  admitted post, grows by ``ADMISSION_RATE_STEP`` a second while posts take at most
  ``ADMISSION_TARGET_SECONDS`` in the process, and falls to three quarters (at most once per
  target) when one takes longer: additive increase, multiplicative decrease, within
  ``ADMISSION_RATE_MIN`` and ``ADMISSION_RATE_MAX``, kept in the same Redis hash. So when the
  machine's CPU is taken by other work, or the database slows down, fewer posts are let in
  instead of all of them getting slow.
- a per-process limit: at most ``ADMISSION_PROCESS_CONCURRENCY`` expensive posts at once in one
  process, at most ``ADMISSION_PROCESS_QUEUE`` more waiting up to ``ADMISSION_WAIT_SECONDS`` for
  one of them; any other admitted post keeps its ticket and is told to come back in a few
  seconds. With gunicorn's threaded workers (``prakerja/gunicorn_conf.py``) the remaining
  threads answer the waiting page at once instead of queueing it behind the password hashes.

When Redis does not answer, the limiter shares the cache's outage state (``prakerja.cache``) and
uses the same queue kept in the process (``ADMISSION_LOCAL_RATE``, the machine's rate split between
the worker processes): it fails open to a local limit, never shut and never unlimited. Without
Redis at all (``make run``) the local queue is the only one.

Why 429 and not 503: a waiting answer is deliberate and tells the client when to come back; load
tools and monitors count 5xx as server failures, and the goal is that the server never fails.

Nothing typed is lost. The waiting page re-offers a url-encoded form as one hidden field: the posted
fields (CSRF token included, so the check still binds to the person's cookie) and the ticket,
encrypted and signed with a key derived from SECRET_KEY (Fernet, valid
``ADMISSION_RETRY_TOKEN_SECONDS``), so passwords never appear in the page and a ticket cannot
be forged; each ticket lets in one post. ``static/prakerja/js/waiting.js`` counts down and
sends the form again; without JavaScript the person presses the button. When the retry is
admitted, the middleware puts the original fields back into ``request.POST`` before CSRF and the
view see the request. A multipart post (the KYC photos) cannot be carried in a page: its form sends
itself with ``fetch`` and, on a 429, waits and sends the same files again (``static/kyc/js/kyc.js``);
without JavaScript the waiting page says to choose the photos again.
"""

from __future__ import annotations

import base64
import functools
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
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_FIELD = "_admission_retry"
URLENCODED = "application/x-www-form-urlencoded"
# A retry token carries a form, not uploads: anything larger is not re-offered.
RETRY_MAX_BYTES = 32 * 1024

# The machine's queue: one Redis hash per host (KEYS[1]). Tickets are numbers handed out in order
# ("next"); "head" counts the tickets whose turn has come and grows by "rate" a second (never more
# than "burst" past "next": the room for posts let in at once). "at" is when head was last moved,
# "rate" the adaptive rate, "cut" when it was last lowered. ARGV[1..5]: now, the configured rate,
# burst, the rate's lower and upper bound. Numbers go back and forth as strings ("%.17g": Lua's
# tostring would round them). Tickets start at the creation time in milliseconds, so a queue made
# again (Redis emptied) never hands out a number an old page still holds.
_PRELUDE_LUA = """
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'next', 'head', 'at', 'rate', 'cut')
local nxt, head, at = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
local rate = math.min(tonumber(ARGV[5]), math.max(tonumber(ARGV[4]), tonumber(s[4]) or tonumber(ARGV[2])))
local cut = tonumber(s[5]) or 0
if not nxt then
  nxt = math.floor(now * 1000)
  head = nxt + burst
  at = now
end
if now > at then
  head = math.min(head + rate * (now - at), nxt + burst)
  at = now
end
local function f(x) return string.format('%.17g', x) end
local function save()
  redis.call('HSET', KEYS[1], 'next', f(nxt), 'head', f(head), 'at', f(at), 'rate', f(rate), 'cut', f(cut))
  redis.call('EXPIRE', KEYS[1], 86400)
end
"""
# ARGV[6..9]: the ticket the post holds ("0": none), the longest wait that still gets a ticket, the
# grace (seconds a ticket may come back early), reserve ("1": give a ticket when there is no room).
# Returns {admitted, wait, ticket}; an admitted post without a ticket gets the one it used.
_QUEUE_LUA = (
    _PRELUDE_LUA
    + """
local ticket = tonumber(ARGV[6])
if ticket > 0 then
  if ticket + 1 > head + tonumber(ARGV[8]) * rate then
    return {'0', f((ticket + 1 - head) / rate), ARGV[6]}
  end
  if redis.call('SET', KEYS[1] .. ':used:' .. ARGV[6], '1', 'NX', 'EX', 7200) then
    return {'1', '0', ARGV[6]}
  end
end
if head - nxt >= 1 then
  nxt = nxt + 1
  save()
  return {'1', '0', f(nxt - 1)}
end
local wait = (nxt + 1 - head) / rate
if wait > tonumber(ARGV[7]) or ARGV[9] ~= '1' then
  return {'0', f(math.min(wait, tonumber(ARGV[7]))), '0'}
end
nxt = nxt + 1
save()
return {'0', f(wait), f(nxt - 1)}
"""
)
# An admitted post's time in the process (ARGV[6], seconds) against the target (ARGV[7]): above it
# the rate is multiplied by ARGV[8], at most once per ARGV[9] seconds (the posts finishing just after
# a cut were let in before it); otherwise it grows by ARGV[10] a second while posts keep coming in at
# that rate (additive increase, multiplicative decrease). Returns the new rate.
_FEEDBACK_LUA = (
    _PRELUDE_LUA
    + """
if tonumber(ARGV[6]) > tonumber(ARGV[7]) then
  if now - cut >= tonumber(ARGV[9]) then
    rate = math.max(tonumber(ARGV[4]), rate * tonumber(ARGV[8]))
    cut = now
  end
else
  rate = math.min(tonumber(ARGV[5]), rate + tonumber(ARGV[10]) / rate)
end
save()
return f(rate)
"""
)
# Redis names a script by its SHA1 (EVALSHA): an identifier, not a security use.
_SHA1 = {
    script: hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    for script in (_QUEUE_LUA, _FEEDBACK_LUA)
}
# A ticket may come back this much before its turn (timers and rounding).
GRACE_SECONDS = 0.5
# The multiplicative decrease of the adaptive rate.
DECREASE_FACTOR = 0.75


@dataclass(frozen=True)
class Decision:
    admitted: bool
    wait: float = 0.0  # seconds until there is room (or until the ticket's turn)
    ticket: int = 0  # the post's place in the queue; 0 when it has none


@dataclass(frozen=True)
class RateBounds:
    """The adaptive rate: starts at ``rate``, stays within [low, high]; ``step``: growth a second."""

    rate: float
    low: float
    high: float
    step: float

    def scaled(self, factor: float) -> RateBounds:
        return RateBounds(self.rate * factor, self.low * factor, self.high * factor, self.step * factor)


class LocalQueue:
    """The same queue and rate as the Redis scripts, in this process (no Redis, or Redis not answering)."""

    def __init__(self, *, bounds: RateBounds, burst: float, max_wait: float, clock=time.time):
        self.bounds = bounds
        self.rate = bounds.rate
        self.burst = max(1.0, float(burst))
        self.max_wait = float(max_wait)
        self._clock = clock
        self._next: int | None = None
        self._head = 0.0
        self._at = 0.0
        self._cut = 0.0
        self._used: dict[int, float] = {}
        self._lock = threading.Lock()

    def _advance(self, now: float) -> None:
        if self._next is None:
            self._next = math.floor(now * 1000)
            self._head = self._next + self.burst
            self._at = now
        if now > self._at:
            self._head = min(self._head + self.rate * (now - self._at), self._next + self.burst)
            self._at = now

    def ask(self, *, ticket: int = 0, reserve: bool = True) -> Decision:
        with self._lock:
            now = self._clock()
            self._advance(now)
            if ticket:
                if ticket + 1 > self._head + GRACE_SECONDS * self.rate:
                    return Decision(False, (ticket + 1 - self._head) / self.rate, ticket)
                if ticket not in self._used:
                    if len(self._used) > 10_000:
                        self._used = {k: v for k, v in self._used.items() if v > now - 7200}
                    self._used[ticket] = now
                    return Decision(True, 0.0, ticket)
            if self._head - self._next >= 1:
                self._next += 1
                return Decision(True, 0.0, self._next - 1)
            wait = (self._next + 1 - self._head) / self.rate
            if wait > self.max_wait or not reserve:
                return Decision(False, min(wait, self.max_wait))
            self._next += 1
            return Decision(False, wait, self._next - 1)

    def unuse(self, ticket: int) -> None:
        with self._lock:
            self._used.pop(ticket, None)

    def feedback(self, *, seconds: float, target: float) -> float:
        with self._lock:
            now = self._clock()
            self._advance(now)
            if seconds > target:
                if now - self._cut >= target:
                    self.rate = max(self.bounds.low, self.rate * DECREASE_FACTOR)
                    self._cut = now
            else:
                self.rate = min(self.bounds.high, self.rate + self.bounds.step / self.rate)
            return self.rate


class ProcessLimit:
    """At most ``limit`` expensive posts at once in this process, and at most ``queue`` more waiting up
    to ``wait`` seconds for one of them; anything beyond is refused at once. With threaded workers the
    other threads stay free to answer the waiting page, so it never queues behind the password hashes."""

    def __init__(self, *, limit: int, queue: int, wait: float):
        self.limit, self.queue, self.wait = limit, queue, wait
        self.running = 0
        self.waiting = 0
        self._cond = threading.Condition()

    def acquire(self) -> bool:
        with self._cond:
            if self.running < self.limit and not self.waiting:
                self.running += 1
                return True
            if self.waiting >= self.queue or self.wait <= 0:
                return False
            self.waiting += 1
            try:
                room = self._cond.wait_for(lambda: self.running < self.limit, timeout=self.wait)
            finally:
                self.waiting -= 1
            if room:
                self.running += 1
            return room

    def release(self) -> None:
        with self._cond:
            self.running -= 1
            self._cond.notify()


@dataclass(frozen=True)
class AdmissionConfig:
    rate: float
    burst: float
    local_rate: float
    process_concurrency: int
    process_queue: int
    wait_seconds: float
    max_wait: float
    adaptive: bool = False
    target_seconds: float = 1.5
    rate_min: float = 0.0  # 0: the rate itself (with adaptive off, the rate is fixed)
    rate_max: float = 0.0
    rate_step: float = 0.0

    @classmethod
    def from_settings(cls) -> AdmissionConfig:
        rate = float(settings.ADMISSION_RATE)
        return cls(
            rate=rate,
            burst=float(settings.ADMISSION_BURST),
            local_rate=float(settings.ADMISSION_LOCAL_RATE or rate),
            process_concurrency=int(settings.ADMISSION_PROCESS_CONCURRENCY),
            process_queue=int(settings.ADMISSION_PROCESS_QUEUE),
            wait_seconds=float(settings.ADMISSION_WAIT_SECONDS),
            max_wait=float(settings.ADMISSION_MAX_WAIT_SECONDS),
            adaptive=bool(settings.ADMISSION_ADAPTIVE),
            target_seconds=float(settings.ADMISSION_TARGET_SECONDS),
            rate_min=float(settings.ADMISSION_RATE_MIN),
            rate_max=float(settings.ADMISSION_RATE_MAX),
            rate_step=float(settings.ADMISSION_RATE_STEP),
        )

    @property
    def bounds(self) -> RateBounds:
        if not self.adaptive:
            return RateBounds(self.rate, self.rate, self.rate, 0.0)
        low = min(self.rate, self.rate_min or self.rate)
        high = max(self.rate, self.rate_max or self.rate)
        return RateBounds(self.rate, low, high, self.rate_step or self.rate / 20)


class Ticket:
    """An admitted post's place in its process; ``release()`` gives it back and reports how long the
    post took (the adaptive rate's signal)."""

    def __init__(self, gate: AdmissionGate, started: float):
        self._gate = gate
        self._started = started
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._gate.limit.release()
            self._gate.feedback(seconds=self._gate.timer() - self._started)


class AdmissionGate:
    """The limits together: ``enter()`` gives a Ticket (admitted) or None, and the queue's Decision."""

    def __init__(self, config: AdmissionConfig, *, clock=time.time, timer=time.monotonic):
        self.config = config
        self._clock = clock
        self.timer = timer
        self.limit = ProcessLimit(
            limit=config.process_concurrency, queue=config.process_queue, wait=config.wait_seconds
        )
        self.local = LocalQueue(
            bounds=config.bounds.scaled(config.local_rate / config.rate),
            burst=min(config.burst, max(1.0, config.local_rate)),
            max_wait=config.max_wait,
            clock=clock,
        )
        self.key = f"admission:{socket.gethostname()}"

    def _redis(self):
        """The Redis client, or None when Redis is not there or not answering (the cache's state)."""
        from django.core.cache import caches

        from prakerja.cache import ResilientRedisCache

        cache = caches["default"]
        if not isinstance(cache, ResilientRedisCache) or cache.redis_is_down():
            return None, None
        return cache, cache._cache.get_client(write=True)

    def _eval(self, script: str, *args) -> list | bytes | None:
        import redis

        cache, client = self._redis()
        if client is None:
            return None
        bounds = self.config.bounds
        argv = (
            repr(self._clock()),
            repr(bounds.rate),
            repr(max(1.0, self.config.burst)),
            repr(bounds.low),
            repr(bounds.high),
            *args,
        )
        try:
            try:
                # By its SHA1: the script's text is not sent with every post.
                return client.evalsha(_SHA1[script], 1, self.key, *argv)
            except redis.exceptions.NoScriptError:
                return client.eval(script, 1, self.key, *argv)  # loads it for the next calls
        except redis.RedisError as exc:
            cache.mark_down(exc)
            return None

    def ask(self, *, ticket: int = 0, reserve: bool = True) -> Decision:
        answer = self._eval(
            _QUEUE_LUA,
            str(int(ticket)),
            repr(self.config.max_wait),
            repr(GRACE_SECONDS),
            "1" if reserve else "0",
        )
        if answer is None:
            return self.local.ask(ticket=ticket, reserve=reserve)
        admitted, wait, number = answer
        return Decision(admitted in (b"1", "1"), float(wait), int(float(number)))

    def unuse(self, ticket: int) -> None:
        """A ticket let in that could not run after all (the process was busy): valid again."""
        self.local.unuse(ticket)
        cache, client = self._redis()
        if client is not None:
            import redis

            try:
                client.delete(f"{self.key}:used:{ticket}")
            except redis.RedisError as exc:
                cache.mark_down(exc)

    def feedback(self, *, seconds: float) -> None:
        """Adapt the machine's rate to how long an admitted post took (no-op with adaptive off)."""
        if not self.config.adaptive:
            return
        target = self.config.target_seconds
        answer = self._eval(
            _FEEDBACK_LUA,
            repr(seconds),
            repr(target),
            repr(DECREASE_FACTOR),
            repr(target),
            repr(self.config.bounds.step),
        )
        if answer is None:
            self.local.feedback(seconds=seconds, target=target)

    def rate(self) -> float:
        """The machine's current admission rate (Redis, or this process's own while Redis is away)."""
        cache, client = self._redis()
        if client is not None:
            import redis

            try:
                stored = client.hget(self.key, "rate")
            except redis.RedisError:
                stored = None
            if stored is not None:
                bounds = self.config.bounds
                return min(bounds.high, max(bounds.low, float(stored)))
            return self.config.rate
        return self.local.rate

    def enter(self, *, ticket: int = 0, reserve: bool = True) -> tuple[Ticket | None, Decision]:
        decision = self.ask(ticket=ticket, reserve=reserve)
        if not decision.admitted:
            return None, decision
        if not self.limit.acquire():
            # The machine had room but this process is full: the post keeps the turn it was given
            # (valid again at once) and comes back after a short random pause. A full process is not
            # fed to the adaptive rate: admitted posts arrive in bursts and land unevenly on the
            # processes, so "full" happened often at 1x and cut the rate to a third of what the machine
            # served (surge bench). The rate follows the posts' own service time instead.
            self.unuse(decision.ticket)
            low, high = settings.ADMISSION_RETRY_AFTER_MIN, settings.ADMISSION_RETRY_AFTER_MAX
            return None, Decision(False, float(random.randint(low, max(low, high))), decision.ticket)
        # The signal is the post's own service time, from the moment it holds one of the process's
        # slots: time spent waiting for a slot (at most ADMISSION_WAIT_SECONDS) is a full process, not a
        # slow post, and counting it cut the rate far below what the machine served (surge bench).
        return Ticket(self, self.timer()), decision


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
    """Forget the process's gate: a fresh queue and process limit on the next call (tests)."""
    global _gate
    with _gate_lock:
        _gate = None
    _waiting_page.cache_clear()


def admission_paths() -> set[str]:
    paths = set()
    for name in settings.ADMISSION_VIEWS:
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            logger.warning("admission: ADMISSION_VIEWS names %r, which is no URL", name)
    return paths


def retry_after_seconds(decision: Decision) -> int:
    """Whole seconds to wait: the ticket's turn, or (no ticket) a random pause in the configured
    range, so that the people waiting do not all come back at the same moment."""
    if decision.ticket:
        # (Rounded first: a wait of 2.0000001 s, float arithmetic on ticket numbers, is 2 s.)
        return max(1, math.ceil(round(decision.wait, 2)))
    low, high = settings.ADMISSION_RETRY_AFTER_MIN, settings.ADMISSION_RETRY_AFTER_MAX
    return max(math.ceil(decision.wait), random.randint(low, max(low, high)))


# --- the retry token --------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeptForm:
    fields: QueryDict
    ticket: int = 0


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"prakerja.admission.retry:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def retry_token_make(post: QueryDict, *, ticket: int = 0) -> str:
    fields = [[name, values] for name, values in post.lists() if name != RETRY_FIELD]
    return _fernet().encrypt(json.dumps({"fields": fields, "ticket": ticket}).encode()).decode()


def retry_token_read(token: str) -> KeptForm | None:
    """The form a waiting page carried, or None when the token is forged, damaged or too old."""
    try:
        raw = _fernet().decrypt(token.encode(), ttl=settings.ADMISSION_RETRY_TOKEN_SECONDS)
        kept = json.loads(raw)
        post = QueryDict(mutable=True)
        for name, values in kept["fields"]:
            post.setlist(str(name), [str(value) for value in values])
        # (A page from before tickets carries a "slot" instead: its form is kept, its place is not.)
        ticket = int(kept.get("ticket") or 0)
    except (InvalidToken, ValueError, UnicodeError, KeyError, TypeError, AttributeError):
        return None
    post._mutable = False
    return KeptForm(fields=post, ticket=ticket)


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


# Stands for the retry token in a cached waiting page (Fernet tokens are URL-safe base64: no escaping).
_TOKEN_PLACEHOLDER = "@@admission-retry-token@@"  # noqa: S105 - a placeholder, not a secret


@functools.lru_cache(maxsize=1024)
def _waiting_page(
    language: str, retry_after: int, with_token: bool, multipart: bool, action: str, programme_name: str
) -> str:
    """The waiting page for these values, rendered once per process: under a surge it is the most
    frequent answer, and the template took about 1.4 ms of CPU of its 3 ms (the token is put in after)."""
    return render_to_string(
        "prakerja/waiting.html",
        {
            "retry_after": retry_after,
            "retry_token": _TOKEN_PLACEHOLDER if with_token else "",
            "retry_field": RETRY_FIELD,
            "action": action,
            "multipart": multipart,
            "programme_name": programme_name,
        },
    )


def waiting_response(request: HttpRequest, *, decision: Decision, kept: KeptForm | None) -> HttpResponse:
    retry_after = retry_after_seconds(decision)
    page = _waiting_page(
        translation.get_language() or settings.LANGUAGE_CODE,
        retry_after,
        kept is not None,
        request.content_type == "multipart/form-data",
        request.get_full_path(),
        str(settings.PROGRAMME_NAME),
    )
    if kept is not None:
        page = page.replace(_TOKEN_PLACEHOLDER, retry_token_make(kept.fields, ticket=decision.ticket))
    response = HttpResponse(page, status=429)
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
        held = kept.ticket if kept is not None else 0
        ticket, decision = admission_gate().enter(ticket=held, reserve=kept is not None)
        if ticket is None:
            return waiting_response(request, decision=decision, kept=kept)
        try:
            if kept is not None and kept.fields is not request.POST:
                request._post = kept.fields
                request._files = MultiValueDict()
            return self.get_response(request)
        finally:
            ticket.release()
