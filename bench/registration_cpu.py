"""CPU per profile form view and per profile submission, one process, no HTTP server.

    cd <checkout> && DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_webperf_reg \\
        DEBUG=0 ALLOWED_HOSTS=127.0.0.1 PYTHONPATH=. /work/wt-webperf/.venv/bin/python \\
        /work/wt-webperf/bench/registration_cpu.py [--submissions 30]

Run it after ``registration_bench.py`` (it uses that database, or ``<name>_old`` from
the old checkout) to compare two versions of the code without the noise of a shared
machine's scheduler: it signs new accounts in with the test client, loads the form and
posts a valid profile, and prints the process CPU time of each (asserts nothing).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.test import Client
    from registration_bench import profile_body

    from prakerja.models import User

    base = 900_000 + int(time.time()) % 1000 * 10
    users = [
        User.objects.create(email=f"cpu{base + i}@example.id", password=make_password(None))
        for i in range(args.submissions + 3)
    ]

    # One client for the whole run: a new one loads the middleware (whitenoise scans every
    # static file) on its first request, which earlier versions of this script counted as
    # part of the form page.
    client = Client(HTTP_HOST="127.0.0.1")

    def one(i: int) -> tuple[float, float]:
        client.cookies.clear()  # a new visitor: no session, no messages left from the last one
        client.force_login(users[i])
        start = time.process_time()
        page = client.get("/profil/")
        shown = time.process_time()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
        body = {**profile_body(5000 + i + base % 3000), "csrfmiddlewaretoken": token}
        response = client.post("/profil/", body)
        done = time.process_time()
        if response.status_code != 302:
            raise SystemExit(f"submission refused: HTTP {response.status_code}")
        return shown - start, done - shown

    for i in range(3):  # warm-up: imports, templates, region lookups
        one(i)
    form = post = 0.0
    for i in range(3, args.submissions + 3):
        a, b = one(i)
        form, post = form + a, post + b
    n = args.submissions
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"form page (GET) CPU {form / n * 1000:.1f} ms, submission (POST) CPU {post / n * 1000:.1f} ms")


if __name__ == "__main__":
    main()
