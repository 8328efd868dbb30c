"""Dashboard hook: a panel pointing applicants to the training catalog.

The buying half adds "Pelatihan Saya" (purchases and vouchers) here.
"""

from __future__ import annotations

from prakerja.dashboard import Panel


def dashboard_panels(request) -> list[Panel]:
    return [Panel(template="marketplace/_dashboard_catalog.html", order=60)]
