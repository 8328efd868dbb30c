"""CPU per catalog request in one process, cache off and on, no HTTP server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prakerja_bench REDIS_URL=redis://127.0.0.1:6379/2 \\
        DEBUG=0 ALLOWED_HOSTS=127.0.0.1 .venv/bin/python bench/catalog_cpu.py [--requests 60]

Run it on a database ``catalog_load.py`` has filled. For each of ``catalog_load.py``'s
scenarios it sends the same paths through Django's test client, as an anonymous
visitor, first with the page cache off (``MARKETPLACE_CATALOG_CACHE_SECONDS=0``: every
page from the database) and then on, after a warm-up, and prints the process CPU time
per request (``time.process_time``; the database's own CPU is not in it). On a shared
machine this is steadier than requests/s. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")
    import django

    django.setup()
    from catalog_load import scenarios
    from django.test import Client, override_settings

    from marketplace.selectors import trainings_visible

    training_ids = list(trainings_visible().values_list("pk", flat=True))
    client = Client(HTTP_HOST="127.0.0.1")
    client.get("/pelatihan/")  # middleware loaded, templates compiled
    print(f"load average {os.getloadavg()[0]:.1f}; CPU ms per request, one process, anonymous")
    print(f"{'scenario':<40} {'cache off':>10} {'cache on':>10} {'ratio':>7}")
    for name in scenarios(training_ids):
        row = []
        for seconds in (0, 600):
            with override_settings(MARKETPLACE_CATALOG_CACHE_SECONDS=seconds):
                paths = scenarios(training_ids)[name]  # the same paths both ways
                for _ in range(min(20, args.requests)):
                    client.get(paths())
                paths = scenarios(training_ids)[name]
                started = time.process_time()
                for _ in range(args.requests):
                    response = client.get(paths())
                    if response.status_code != 200:
                        raise SystemExit(f"HTTP {response.status_code}")
                row.append((time.process_time() - started) / args.requests * 1000)
        print(f"{name:<40} {row[0]:>10.1f} {row[1]:>10.1f} {row[0] / row[1]:>6.1f}x", flush=True)


if __name__ == "__main__":
    main()
