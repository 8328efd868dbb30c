"""Encryption of job platform API secrets at rest: the same Fernet scheme as the training platforms'
(``prakerja.credentials``), under its own keys (``EMPLOYMENT_CREDENTIAL_KEYS``) and label."""

from __future__ import annotations

from django.conf import settings

from prakerja.credentials import CredentialKeyError, credential_decrypt, credential_encrypt

LABEL = "prakerja-employment-credentials"

__all__ = ["CredentialKeyError", "secret_decrypt", "secret_encrypt"]


def secret_encrypt(secret: str) -> str:
    return credential_encrypt(secret, keys=settings.EMPLOYMENT_CREDENTIAL_KEYS, label=LABEL)


def secret_decrypt(token: str) -> str:
    return credential_decrypt(
        token,
        keys=settings.EMPLOYMENT_CREDENTIAL_KEYS,
        label=LABEL,
        setting_name="EMPLOYMENT_CREDENTIAL_KEYS",
    )
