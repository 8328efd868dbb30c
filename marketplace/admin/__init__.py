"""The officers' console for platforms, providers, trainings, listings, purchases, vouchers and webhooks.

Status changes, affiliations, credential rotation, listing price changes,
voucher cancellations and webhook retries go through services (audited); the
console never writes a status itself.
"""

from marketplace.admin import assessments, buying, platforms, providers, trainings, webhooks  # noqa: F401 - registers the pages
