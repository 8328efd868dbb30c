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
    # allauth writes "e-mail", Title Case and a lower-case "anda"; the portal says
    # "email", uses sentence case and always capitalises "Anda".
    gettext_noop("Email address"),
    gettext_noop("The email address and/or password you specified are not correct."),
    gettext_noop("A user is already registered with this email address."),
    gettext_noop("Verify Your Email Address"),
    gettext_noop(
        "We have sent an email to you for verification. Follow the link provided to finalize the signup "
        "process. If you do not see the verification email in your main inbox, check your spam folder. "
        "Please contact us if you do not receive the verification email within a few minutes."
    ),
    gettext_noop("Confirm Email Address"),
    gettext_noop(
        'Please confirm that <a href="mailto:%(email)s">%(email)s</a> is an email address for user %(user_display)s.'
    ),
    gettext_noop("Confirmation email sent to %(email)s."),
    gettext_noop("You have confirmed %(email)s."),
    gettext_noop("Please Confirm Your Email Address"),
    gettext_noop("Email Addresses"),
    gettext_noop("The following email addresses are associated with your account:"),
    gettext_noop("Add Email Address"),
    gettext_noop("Add Email"),
    gettext_noop("Make Primary"),
    gettext_noop("Re-send Verification"),
    gettext_noop("Remember Me"),
    gettext_noop("Password Reset Email"),
]
