"""Encryption of platform API secrets at rest.

HMAC verification needs the secret itself, so it cannot be stored as a
one-way hash. It is encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under
``MARKETPLACE_CREDENTIAL_KEYS``: the first key encrypts, every key decrypts,
so keys can be rotated. Without that setting a key is derived from
SECRET_KEY (fine for the embedded setup; production sets its own key so a
database dump alone reveals no secret).
"""

from __future__ import annotations

import secrets

from django.conf import settings

from prakerja.credentials import CredentialKeyError, credential_decrypt, credential_encrypt

# The label the fallback key (derived from SECRET_KEY) has always used: stored secrets stay readable.
LABEL = "prakerja-marketplace-credentials"

__all__ = ["CredentialKeyError", "new_key_id", "new_secret", "secret_decrypt", "secret_encrypt"]


def secret_encrypt(secret: str) -> str:
    return credential_encrypt(secret, keys=settings.MARKETPLACE_CREDENTIAL_KEYS, label=LABEL)


def secret_decrypt(token: str) -> str:
    return credential_decrypt(
        token,
        keys=settings.MARKETPLACE_CREDENTIAL_KEYS,
        label=LABEL,
        setting_name="MARKETPLACE_CREDENTIAL_KEYS",
    )


def new_key_id(slug: str) -> str:
    return f"{slug[:20]}_{secrets.token_hex(8)}"


def new_secret() -> str:
    return f"sk_{secrets.token_urlsafe(32)}"
