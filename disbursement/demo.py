"""Demo data: the programme's standard ledger accounts, so the Finance Officer's console is not empty.

Training balances are opened and credited by the waves app when a wave is announced.
"""

from __future__ import annotations

from disbursement.enums import ProgrammeAccount
from disbursement.services import ledger_programme_account_open
from prakerja.demo import DemoLogin


def demo_load(*, stdout) -> list[DemoLogin]:
    for code in ProgrammeAccount:
        ledger_programme_account_open(code=code)
    return []
