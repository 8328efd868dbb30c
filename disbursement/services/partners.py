"""Payment partners: the rows officers manage, their encrypted credentials, and a client for each."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import requests
from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from disbursement.enums import PayoutChannel
from disbursement.models import PaymentPartner
from prakerja.audit import audit_log
from prakerja.credentials import credential_decrypt, credential_encrypt

if TYPE_CHECKING:
    from disbursement.gateway import PartnerClient
    from prakerja.models import User

LABEL = "prakerja-payout-credentials"


def partner_secret_encrypt(secret: str) -> str:
    return credential_encrypt(secret, keys=settings.PAYOUT_CREDENTIAL_KEYS, label=LABEL)


def partner_secret_decrypt(token: str) -> str:
    return credential_decrypt(
        token, keys=settings.PAYOUT_CREDENTIAL_KEYS, label=LABEL, setting_name="PAYOUT_CREDENTIAL_KEYS"
    )


def partner_save(
    *,
    partner: PaymentPartner,
    actor: User | None,
    secret: str = "",
    callback_secret: str = "",
) -> PaymentPartner:
    """Create or update a partner; a non-empty ``secret`` / ``callback_secret`` replaces the stored one.

    Secrets are stored encrypted (PAYOUT_CREDENTIAL_KEYS) and never written to the audit log.
    """
    unknown = set(partner.channels or []) - set(PayoutChannel.values)
    if unknown:
        raise ValueError(f"unknown channels {sorted(unknown)}")
    with transaction.atomic():
        created = partner.pk is None
        if secret:
            partner.secret_encrypted = partner_secret_encrypt(secret)
        if callback_secret:
            partner.callback_secret_encrypted = partner_secret_encrypt(callback_secret)
        partner.save()
        audit_log(
            actor=actor,
            action="disbursement.partner_create" if created else "disbursement.partner_update",
            obj=partner,
            data={
                "kind": partner.kind,
                "channels": list(partner.channels),
                "base_url": partner.base_url,
                "active": partner.active,
                "batch_limit": partner.batch_limit,
                "secret_changed": bool(secret),
                "callback_secret_changed": bool(callback_secret),
            },
        )
    return partner


def partner_for_channel(*, channel: str) -> PaymentPartner | None:
    """The active partner that pays into ``channel`` (the oldest, when several do)."""
    for partner in PaymentPartner.objects.filter(active=True).order_by("id"):
        if channel in (partner.channels or []):
            return partner
    return None


_sessions = threading.local()


def _session(base_url: str) -> requests.Session:
    """One HTTP session per thread and partner address: keep-alive connections are reused across
    calls (a worker thread sends many chunks to the same partner)."""
    sessions = getattr(_sessions, "by_url", None)
    if sessions is None:
        sessions = _sessions.by_url = {}
    if base_url not in sessions:
        sessions[base_url] = requests.Session()
    return sessions[base_url]


def partner_client(*, partner: PaymentPartner) -> PartnerClient:
    from disbursement.gateway import PartnerClient

    return PartnerClient(
        base_url=partner.base_url,
        key_id=partner.key_id,
        secret=partner_secret_decrypt(partner.secret_encrypted),
        timeout=settings.PAYOUT_PARTNER_TIMEOUT_SECONDS,
        session=_session(partner.base_url),
    )


def partner_callback_url(*, partner: PaymentPartner) -> str:
    """Where ``partner`` sends its callbacks (the gateway's callback endpoint for this partner)."""
    try:
        path = reverse("disbursement:partner_callback", kwargs={"partner_id": partner.pk})
    except NoReverseMatch:
        path = f"/api/payout/v1/callbacks/{partner.pk}/"
    return f"{settings.PAYOUT_CALLBACK_BASE_URL}{path}"
