"""Benchmark: the programme summary refresh over the selection benchmark's applicants, then the officers'
dashboard and /statistik/ under 50 concurrent clients against gunicorn (2 workers).

PostgreSQL only. Prints numbers; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prakerja_bench \
        .venv/bin/python bench/oversight_summary.py [--applications 2000000] [--keep]

Without --keep (or when the database holds another number of applicants) it first builds the
selection benchmark's data (bench/cohorts_selection.py: applicants, a wave, its selection and
announcement), which takes several minutes for 2,000,000.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--applications", type=int, default=2_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse the selection benchmark's data if present")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests-per-client", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it may be emptied).")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)

    import django

    django.setup()
    from registration.models import Applicant

    try:
        have = Applicant.objects.count()
    except Exception:  # noqa: BLE001 - no tables yet
        have = -1
    if not (args.keep and have == args.applications):
        select = int(args.applications * 0.4)
        print(f"-> building {args.applications:,} applicants with bench/cohorts_selection.py ...", flush=True)
        subprocess.run(
            [sys.executable, str(BASE_DIR / "bench" / "cohorts_selection.py"), "--applications", str(args.applications),
             "--select", str(select)],
            check=True,
        )  # fmt: skip

    from oversight.summary import summary_refresh

    timings = []
    for attempt in (1, 2):
        start = time.perf_counter()
        rows = summary_refresh()
        timings.append(time.perf_counter() - start)
        print(f"summary refresh #{attempt}: {timings[-1]:.1f} s, {rows} numbers", flush=True)

    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from prakerja.models import User
    from prakerja.roles import Role

    officer, _ = User.objects.get_or_create(email="bench-officer@prakerja.test", defaults={"is_staff": True})
    officer.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    session = SessionStore()
    session["_auth_user_id"] = str(officer.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = officer.get_session_auth_hash()
    session.create()

    sys.path.insert(0, str(BASE_DIR / "bench"))
    import requests
    from registration_bench import free_port, run_clients  # the same load loop as the other HTTP benchmarks

    port = free_port()
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=BASE_DIR, env=env, check=True
    )
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "prakerja.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--log-level", "warning"],
        cwd=BASE_DIR, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        print(f"gunicorn --workers 2 on {base}, {args.clients} concurrent clients")

        def statistics_work(index, http):
            for _ in range(args.requests_per_client):
                yield lambda: http.get(f"{base}/statistik/", timeout=60)

        def dashboard_work(index, http):
            http.cookies.set("sessionid", session.session_key, domain="127.0.0.1")
            for _ in range(args.requests_per_client):
                yield lambda: http.get(f"{base}/admin/dasbor-program/", timeout=60)

        run_clients(args.clients, statistics_work, "/statistik/")
        run_clients(args.clients, dashboard_work, "programme dashboard")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
