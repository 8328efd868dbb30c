"""gunicorn's settings for the portal's web processes: `make gunicorn`, the Dockerfile, docker-compose
and bench/surge.py load this file (``-c prakerja/gunicorn_conf.py``); command-line options win.

Threaded workers (gthread): under a sign-up surge most posts are answered with the cheap waiting page
(prakerja/admission.py). With sync workers each process serves one request at a time from one queue,
so those answers waited behind the admitted password hashes (40 ms of CPU each) and timed out. Here
each process runs ``GUNICORN_THREADS`` threads: at most ``ADMISSION_PROCESS_CONCURRENCY`` of them do
expensive posts (and ``ADMISSION_PROCESS_QUEUE`` wait for one), the others answer everything else
at once. argon2 releases the GIL while it hashes.
"""

import os

worker_class = "gthread"
# One process per core (at least two, so that one process restarting leaves the other serving).
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, os.cpu_count() or 1))
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
# Idle keep-alive connections are held by the worker's poller, not by a thread.
keepalive = 5
# Longer than ADMISSION_WAIT_SECONDS plus the slowest admitted post; a request still running after
# this is a stuck worker, restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
graceful_timeout = 30
