from django.core.management.base import BaseCommand, CommandError

from disbursement.selectors import ledger_check


class Command(BaseCommand):
    help = (
        "Check the money ledger: every cached balance equals the sum of its entries, every movement "
        "has one leg out and legs into that make up its amount (a pair, or a batch credit), all entries sum "
        "to zero. Exits 1 on any mismatch."
    )

    def handle(self, *args, **options):
        result = ledger_check()
        self.stdout.write(f"accounts checked: {result.accounts_checked}")
        self.stdout.write(f"balance mismatches: {result.balance_mismatch_count}")
        self.stdout.write(f"movements checked: {result.movements_checked}")
        self.stdout.write(f"unbalanced movements: {result.unbalanced_movement_count}")
        self.stdout.write(f"sum of all entries: {result.entries_sum}")
        for mismatch in result.balance_mismatches:
            self.stderr.write(
                f"account {mismatch.account_id}: balance column {mismatch.cached}, "
                f"sum of entries {mismatch.derived}"
            )
        for movement_id in result.unbalanced_movement_ids:
            self.stderr.write(
                f"movement {movement_id}: entries are not one leg of -amount and legs into summing to +amount"
            )
        if not result.ok:
            raise CommandError("the ledger does not add up", returncode=1)
        self.stdout.write(self.style.SUCCESS("ledger OK"))
