"""Run the loopback payment partner (``disbursement/gateway/simulator.py``) as its own process.

    manage.py payout_simulator --port 8765 --state var/payout-simulator.sqlite3 [--timeout-rate 0.2 ...]

The portal signs its requests with the key id and secret of the PaymentPartner row; the simulator
knows them from --key-id/--secret (default: PAYOUT_SIMULATOR_KEY_ID / PAYOUT_SIMULATOR_SECRET) and
signs its callbacks with --callback-secret (PAYOUT_SIMULATOR_CALLBACK_SECRET). Fault flags are stored
in the state file like ``POST /_sim/faults``; --reset-faults switches all of them off first.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from disbursement.gateway.simulator import DEFAULT_FAULTS, PayoutSimulator


class Command(BaseCommand):
    help = "Run the payment partner simulator: an HTTP server speaking the payout partner protocol."
    requires_system_checks = []  # it serves the partner's side and never touches the portal's database

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--state", default=settings.PAYOUT_SIMULATOR_STATE, help="SQLite file of its state"
        )
        parser.add_argument("--key-id", default=settings.PAYOUT_SIMULATOR_KEY_ID)
        parser.add_argument("--secret", default=settings.PAYOUT_SIMULATOR_SECRET)
        parser.add_argument("--callback-secret", default=settings.PAYOUT_SIMULATOR_CALLBACK_SECRET)
        parser.add_argument("--reset-faults", action="store_true", help="switch every fault off first")
        for name, default in DEFAULT_FAULTS.items():
            flag = "--" + name.replace("_", "-")
            if isinstance(default, bool):
                parser.add_argument(flag, action="store_true", default=None)
            else:
                parser.add_argument(flag, type=type(default), default=None)

    def handle(self, *args, **options):
        logging.basicConfig(level=logging.INFO if options["verbosity"] > 1 else logging.WARNING)
        if not (options["key_id"] and options["secret"] and options["callback_secret"]):
            raise CommandError("give --key-id, --secret and --callback-secret")
        try:
            simulator = PayoutSimulator(
                state_path=options["state"], host=options["host"], port=options["port"]
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from None
        state = simulator.state
        state.credential_set(
            key_id=options["key_id"], secret=options["secret"], callback_secret=options["callback_secret"]
        )
        if options["reset_faults"]:
            state.faults_reset()
        changes = {name: options[name] for name in DEFAULT_FAULTS if options.get(name) is not None}
        try:
            faults = state.faults_update(changes)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        switched = {name: value for name, value in faults.items() if value != DEFAULT_FAULTS[name]}
        self.stdout.write(
            f"payout simulator on http://{options['host']}:{simulator.port}/ (state {options['state']}, "
            f"faults: {switched or 'none'})"
        )
        self.stdout.flush()

        def stop(signum, frame):
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        with contextlib.suppress(KeyboardInterrupt):
            simulator.serve_forever()
        sys.stdout.flush()
