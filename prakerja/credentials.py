"""Encryption of partner secrets at rest (platform API secrets, payment partner keys).

HMAC verification and signing need the secret itself, so it cannot be stored as a one-way hash. It is
encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a list of keys: the first key encrypts, every key
decrypts, so keys can be rotated. Without configured keys one is derived from SECRET_KEY and a label
(fine for the embedded setup; production sets its own keys so a database dump alone reveals no secret).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialKeyError(Exception):
    """The stored secret cannot be decrypted with the configured keys."""


def credential_fernet(*, keys: list[str] | tuple[str, ...], label: str) -> MultiFernet:
    keys = list(keys)
    if not keys:
        digest = hashlib.sha256(label.encode() + b":" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def credential_encrypt(secret: str, *, keys, label: str) -> str:
    return credential_fernet(keys=keys, label=label).encrypt(secret.encode()).decode()


def credential_decrypt(token: str, *, keys, label: str, setting_name: str) -> str:
    try:
        return credential_fernet(keys=keys, label=label).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialKeyError(f"secret cannot be decrypted with {setting_name}") from exc
