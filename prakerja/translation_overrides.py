"""Strings from Django and allauth whose Indonesian we word differently.

Listing them here lets ``makemessages`` keep them in ``locale/id``, which takes
precedence over the libraries' own catalogs (LOCALE_PATHS comes first).
"""

from django.utils.translation import gettext_noop

OVERRIDES = [
    gettext_noop("Password"),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
    gettext_noop("Sign Up"),
    gettext_noop("Sign In"),
]
