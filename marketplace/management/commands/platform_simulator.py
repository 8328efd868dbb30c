"""Play a digital platform against a running portal, over HTTP: purchase with the SMS code, redeem, complete.

    manage.py platform_simulator --url http://127.0.0.1:8000 --key-id KEY --secret SECRET \\
        --card 5200100012345678 [--listing 12 | --sku PRK-TOK-000012] [--code-from stdin|db]

The key id and secret are the platform's API credentials (shown once when
issued; ``load_demo`` prints the demo platforms' on its first run). They can
also come from PRAKERJA_KEY_ID / PRAKERJA_SECRET. The participant's SMS code
is read from standard input (``--code-from stdin``: type what the phone shows,
or pipe it in), or, on the portal's own machine with the same database and
SECRET_KEY, from the database (``--code-from db``, development only).

On the portal's own machine (development only) ``--platform SLUG`` takes the
platform's newest credential from the database instead of --key-id/--secret,
and ``--card-of EMAIL`` looks up a participant's card number:

    manage.py platform_simulator --platform tokopedia --card-of kartu@cohorts.demo.prakerja.test --code-from db

``--voucher CODE`` skips the purchase and continues with an existing voucher;
``--steps`` chooses what to do (default ``purchase,redeem,complete``; add
``cancel`` instead of ``redeem`` to cancel the voucher and refund it).
"""

from __future__ import annotations

import json
import os
import secrets
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cohorts.models import Participant
from marketplace.credentials import secret_decrypt
from marketplace.models import PlatformCredential
from marketplace.simulator import ApiCallFailed, PlatformClient, code_from_database

STEPS = ("purchase", "redeem", "complete", "cancel")


class Command(BaseCommand):
    help = (
        "Drive the platform API like a digital platform would: purchase with the SMS code, redeem, complete."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the portal's address")
        parser.add_argument("--key-id", default=os.environ.get("PRAKERJA_KEY_ID", ""))
        parser.add_argument("--secret", default=os.environ.get("PRAKERJA_SECRET", ""))
        parser.add_argument(
            "--platform", help="same machine only: use this platform's credential from the database"
        )
        parser.add_argument("--card", help="the participant's 16-digit card number")
        parser.add_argument(
            "--card-of", help="same machine only: the card number of the participant with this email"
        )
        parser.add_argument(
            "--listing",
            type=int,
            help="the listing id (default: the cheapest in the catalog; one that is not a webinar when redeeming)",
        )
        parser.add_argument("--sku", help="the listing's SKU instead of its id")
        parser.add_argument("--session", type=int, help="webinar session id (default: the next one)")
        parser.add_argument("--code-from", choices=("stdin", "db"), default="stdin")
        parser.add_argument("--voucher", help="continue with this voucher instead of buying one")
        parser.add_argument("--steps", default="purchase,redeem,complete")
        parser.add_argument(
            "--provider-id", type=int, help="redeem as this provider (checked against the training)"
        )
        parser.add_argument("--certificate", help="certificate number (default: generated)")
        parser.add_argument("--score", type=int, default=85)

    def handle(self, *args, **options):
        steps = [step.strip() for step in options["steps"].split(",") if step.strip()]
        unknown = set(steps) - set(STEPS)
        if unknown:
            raise CommandError(
                f"unknown steps: {', '.join(sorted(unknown))} (choose from {', '.join(STEPS)})"
            )
        if options["platform"] and not (options["key_id"] and options["secret"]):
            options["key_id"], options["secret"] = _credential_from_database(options["platform"])
        if options["card_of"] and not options["card"]:
            options["card"] = _card_from_database(options["card_of"])
        if not (options["key_id"] and options["secret"]):
            raise CommandError(
                "give the platform's --key-id and --secret (or PRAKERJA_KEY_ID and PRAKERJA_SECRET)"
            )
        client = PlatformClient(base_url=options["url"], key_id=options["key_id"], secret=options["secret"])
        summary: dict = {}
        try:
            platform = client.ping()["platform"]
            self.stdout.write(f"platform: {platform['name']} ({platform['slug']})")
            code = options["voucher"]
            if "purchase" in steps:
                code = self._purchase(client, options, summary)
            if not code:
                raise CommandError("no voucher: include the purchase step or give --voucher")
            summary["voucher"] = code
            if "cancel" in steps:
                voucher = client.cancel(code, reason="Dibatalkan oleh simulator platform")
                self.stdout.write(
                    f"cancelled: voucher {code} is {voucher['status']}; the price went back to the balance"
                )
                summary["status"] = voucher["status"]
            if "redeem" in steps:
                voucher = client.redeem(code, provider_id=options["provider_id"])
                self.stdout.write(f"redeemed: redeem code {voucher['redeem_code']}")
                summary["redeem_code"] = voucher["redeem_code"]
                summary["status"] = voucher["status"]
            if "complete" in steps:
                certificate = options["certificate"] or f"SIM-{secrets.token_hex(4).upper()}"
                voucher = client.complete(code, certificate_number=certificate, score=options["score"])
                self.stdout.write(f"completed: certificate {certificate}, score {options['score']}")
                summary["certificate_number"] = certificate
                summary["status"] = voucher["status"]
        except ApiCallFailed as exc:
            raise CommandError(f"the portal refused: {exc}") from None
        self.stdout.write(json.dumps(summary))
        return None

    def _purchase(self, client: PlatformClient, options: dict, summary: dict) -> str:
        if not options["card"]:
            raise CommandError("give the participant's --card number to buy")
        listing_id = options["listing"]
        if listing_id is None:
            listings = client.listings(sku=options["sku"]) if options["sku"] else client.listings()
            listings = [row for row in listings if row["in_catalog"]]
            if not listings:
                raise CommandError(
                    "this platform has no listing in the catalog"
                    + (" with that SKU" if options["sku"] else "")
                )
            if "redeem" in options["steps"]:
                # A webinar redeems only around its session; a self-paced or offline training any time.
                anytime = [row for row in listings if row["training"]["mode"] != "webinar"]
                listings = anytime or listings
            listing_id = min(listings, key=lambda row: (row["price"], row["id"]))["id"]
        purchase = client.purchase_start(
            card_number=options["card"], listing_id=listing_id, session_id=options["session"]
        )
        self.stdout.write(
            f"purchase {purchase['id']}: listing {listing_id}, {purchase['price']} rupiah; "
            f"SMS code sent (valid until {purchase['code_expires_at']})"
        )
        summary["purchase"] = purchase["id"]
        code = self._code(purchase["id"], options["code_from"])
        paid = client.purchase_confirm(purchase_id=purchase["id"], code=code)
        voucher = paid["voucher"]
        self.stdout.write(f"paid: voucher {voucher['code']} ({voucher['status']})")
        return voucher["code"]

    def _code(self, purchase_id: int, source: str) -> str:
        if source == "db":
            return code_from_database(purchase_id=purchase_id)
        self.stdout.write("Enter the 6-digit code from the participant's SMS: ", ending="")
        self.stdout.flush()
        line = sys.stdin.readline()
        if not line.strip():
            raise CommandError("no code given")
        return line.strip()


def _credential_from_database(slug: str) -> tuple[str, str]:
    credential = (
        PlatformCredential.objects.filter(platform__slug=slug)
        .exclude(expires_at__lte=timezone.now())
        .order_by("-created_at")
        .first()
    )
    if credential is None:
        raise CommandError(f"platform {slug!r} has no valid API credential in this database")
    return credential.key_id, secret_decrypt(credential.secret_encrypted)


def _card_from_database(email: str) -> str:
    card = (
        Participant.objects.filter(applicant__user__email__iexact=email)
        .values_list("card_number", flat=True)
        .first()
    )
    if card is None:
        raise CommandError(f"no participant with the email {email}")
    return card
