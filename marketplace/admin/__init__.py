"""The officers' console for platforms, providers, trainings, listings, purchases and vouchers.

Status changes, affiliations, credential rotation, listing price changes and
voucher cancellations go through services (audited); the console never writes
a status itself.
"""

from marketplace.admin import buying, platforms, providers, trainings  # noqa: F401 - registers the pages
