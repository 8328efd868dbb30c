"""The officers' console for platforms, providers, trainings and listings.

Status changes, affiliations, credential rotation and listing price changes go
through services (audited); the console never writes a status itself.
"""

from marketplace.admin import platforms, providers, trainings  # noqa: F401 - registers the pages
