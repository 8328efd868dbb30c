from django.core.management.base import BaseCommand

from marketplace.services.settlements import platform_settlements_sync


class Command(BaseCommand):
    help = (
        "Record every redeemed voucher not yet recorded for settlement to its platform (idempotent; "
        "voucher_redeem records new ones itself)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--platform", type=int, default=None, help="Only this platform id.")

    def handle(self, *args, **options):
        recorded = platform_settlements_sync(platform_id=options["platform"])
        self.stdout.write(f"{recorded} redeemed vouchers recorded for settlement.")
