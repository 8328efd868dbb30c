"""Locust scenario for bench/surge.py: sign-ups arriving at a fixed rate, as people do in a surge.

Run by bench/surge.py (see there); on its own:

    SURGE_MODE=open SURGE_RATE=40 SURGE_SECONDS=30 SURGE_OUT=/tmp/surge.json \\
        .venv/bin/locust -f bench/surge_locustfile.py --headless -u 1 -r 1 --host http://127.0.0.1:8160

One locust user plays the crowd. In ``open`` mode it starts a new person every 1/SURGE_RATE seconds
for SURGE_SECONDS, whatever the server does (an open arrival process: a surge does not slow down
because the site is slow), then waits up to SURGE_DRAIN seconds for the people still busy. In
``closed`` mode SURGE_CLIENTS people sign up back to back (the capacity measurement).

Each person posts the sign-up form once (the form page itself is not fetched: the CSRF cookie and
token are made here, as Django accepts an unmasked secret, so the surge is the expensive post only),
and does what the waiting page does: on a 429 it waits Retry-After seconds and posts the page's kept
form (``_admission_retry``) again, until the sign-up is done (a redirect to "confirm your email").
Each person has an address of its own in ``X-Bench-Client`` (bench/surge_settings.py trusts it), so
allauth's per-IP limits count per person as they would in the field.

Writes one JSON file (SURGE_OUT) with the counts and latencies; bench/surge.py prints the table.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

MODE = os.environ.get("SURGE_MODE", "open")
RATE = float(os.environ.get("SURGE_RATE", "10"))
SECONDS = float(os.environ.get("SURGE_SECONDS", "30"))
DRAIN = float(os.environ.get("SURGE_DRAIN", "40"))
CLIENTS = int(os.environ.get("SURGE_CLIENTS", "4"))
TIMEOUT = float(os.environ.get("SURGE_TIMEOUT", "30"))
RUN = os.environ.get("SURGE_RUN", "run")
OUT = os.environ.get("SURGE_OUT", "surge.json")
PASSWORD = "gelombang-satu-2026"  # noqa: S105 - the bench accounts' password
TOKEN = re.compile(r'name="_admission_retry" value="([^"]+)"')


class Crowd(FastHttpUser):
    wait_time = constant(0)
    network_timeout = TIMEOUT
    connection_timeout = TIMEOUT
    concurrency = 4000  # connections this "user" may hold: one per person in flight
    max_retries = 0

    def on_start(self):
        self.client.client.cookiejar = None  # every person has their own cookies (set per request)
        self.tickets = {}
        self.stats = {
            "mode": MODE,
            "rate": RATE,
            "seconds": SECONDS,
            "arrivals": 0,
            "completed": 0,
            "completed_in_window": 0,
            "waiting_answers": 0,
            "statuses": {},
            "timeouts": 0,
            "connection_errors": 0,
            "other_errors": 0,
            "unfinished": 0,
            "holding": 0,
            "admitted_ms": [],
            "waiting_ms": [],
            "total_s": [],
        }

    def _count(self, key: str) -> None:
        self.stats["statuses"][key] = self.stats["statuses"].get(key, 0) + 1

    def person(self, number: int, window_end: float) -> None:
        secret = secrets.token_hex(16)  # a 32-character CSRF secret: cookie and form token
        headers = {
            "Cookie": f"csrftoken={secret}",
            "X-Bench-Client": f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        body = urlencode(
            {
                "csrfmiddlewaretoken": secret,
                "email": f"{RUN}-{number}@bench.example",
                "password1": PASSWORD,
                "password2": PASSWORD,
            }
        )
        arrived = time.perf_counter()
        self.stats["arrivals"] += 1
        self.tickets[number] = False  # True while the person holds a waiting page with the kept form
        while True:
            sent = time.perf_counter()
            with self.client.post(
                "/accounts/signup/", data=body, headers=headers, allow_redirects=False, catch_response=True
            ) as response:
                elapsed_ms = (time.perf_counter() - sent) * 1000
                status = response.status_code or 0
                self.tickets[number] = False
                if status == 0:
                    error = repr(response.error)
                    if "timeout" in error.lower():
                        self.stats["timeouts"] += 1
                        self._count("timeout")
                    else:
                        self.stats["connection_errors"] += 1
                        self._count("connection error")
                    response.failure(error)
                    return
                self._count(str(status))
                if status == 302 and "/accounts/confirm-email/" in (response.headers.get("Location") or ""):
                    response.success()
                    self.stats["completed"] += 1
                    if time.perf_counter() <= window_end:
                        self.stats["completed_in_window"] += 1
                    self.stats["admitted_ms"].append(elapsed_ms)
                    self.stats["total_s"].append(time.perf_counter() - arrived)
                    return
                if status == 429:
                    response.success()
                    self.stats["waiting_answers"] += 1
                    self.stats["waiting_ms"].append(elapsed_ms)
                    match = TOKEN.search(response.text or "")
                    if match:
                        body = urlencode({"_admission_retry": match.group(1)})
                    self.tickets[number] = bool(match)
                    wait = float(response.headers.get("Retry-After") or 5)
                    gevent.sleep(wait)
                    continue
                response.failure(f"HTTP {status}")
                self.stats["admitted_ms"].append(elapsed_ms)
                self.stats["other_errors"] += 1
                text = response.text or ""
                title = re.findall(r"<title>(.*?)</title>", text, re.S)[:1]
                errors = re.findall(r'class="errorlist[^>]*>(.*?)</ul>', text, re.S)[:1]
                sample = re.sub(r"\s+", " ", f"{status} {title} {errors}")[:300]
                self.stats.setdefault("error_samples", []).append(sample)
                return

    @task
    def crowd(self):
        start = time.perf_counter()
        window_end = start + SECONDS
        people = []
        if MODE == "closed":

            def loop(first: int):
                number = first
                while time.perf_counter() < window_end:
                    self.person(number, window_end)
                    number += CLIENTS

            people = [gevent.spawn(loop, n) for n in range(CLIENTS)]
            gevent.joinall(people, timeout=SECONDS + DRAIN)
        else:
            number = 0
            while True:
                due = start + number / RATE
                if due >= window_end:
                    break
                gevent.sleep(max(0.0, due - time.perf_counter()))
                people.append(gevent.spawn(self.person, number, window_end))
                number += 1
            gevent.joinall(people, timeout=DRAIN)
        self.stats["unfinished"] = sum(1 for person in people if not person.dead)
        # Of those, the people waiting with a waiting page that keeps their form (not in a request).
        self.stats["holding"] = sum(1 for holds in self.tickets.values() if holds)
        gevent.killall([person for person in people if not person.dead], block=False)
        self.stats["elapsed"] = time.perf_counter() - start
        with open(OUT, "w") as handle:
            json.dump(self.stats, handle)
        self.environment.runner.quit()
        raise StopUser()
