"""Encryption of platform API secrets at rest.

HMAC verification needs the secret itself, so it cannot be stored as a
one-way hash. It is encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under
``MARKETPLACE_CREDENTIAL_KEYS``: the first key encrypts, every key decrypts,
so keys can be rotated. Without that setting a key is derived from
SECRET_KEY (fine for the embedded setup; production sets its own key so a
database dump alone reveals no secret).
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialKeyError(Exception):
    """The stored secret cannot be decrypted with the configured keys."""


def _fernet() -> MultiFernet:
    keys = list(settings.MARKETPLACE_CREDENTIAL_KEYS)
    if not keys:
        digest = hashlib.sha256(b"prakerja-marketplace-credentials:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialKeyError(
            "platform secret cannot be decrypted with MARKETPLACE_CREDENTIAL_KEYS"
        ) from exc


def new_key_id(slug: str) -> str:
    return f"{slug[:20]}_{secrets.token_hex(8)}"


def new_secret() -> str:
    return f"sk_{secrets.token_urlsafe(32)}"
