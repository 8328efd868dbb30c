"""Settings for bench/surge.py's gunicorn: the portal's own, plus a client address per simulated person.

The load generator is one machine (127.0.0.1); in a real surge every person comes from their own
address. allauth's per-IP limits (ACCOUNT_RATE_LIMITS, 20 sign-ups a minute per address) would
otherwise stop the benchmark, not the server. bench/surge_locustfile.py sends each person's
address in this header. Never in production: a client could choose its own address.
"""

from prakerja.settings import *  # noqa: F403

ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Bench-Client"
