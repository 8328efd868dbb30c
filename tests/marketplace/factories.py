"""Factories for the marketplace's tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from marketplace.catalog_cache import catalog_version_bump
from marketplace.enums import ProviderStatus, TrainingCategory, TrainingLevel, TrainingMode, TrainingStatus
from marketplace.models import Listing, Platform, Provider, ProviderAffiliation, Training, TrainingSession
from marketplace.services import platform_credential_issue


class CatalogFactory(factory.django.DjangoModelFactory):
    """Writes catalog rows directly, as the demo loader does, so it bumps the catalog version too."""

    class Meta:
        abstract = True

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create:
            catalog_version_bump()


class PlatformFactory(CatalogFactory):
    class Meta:
        model = Platform
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Platform {n}")
    slug = factory.Sequence(lambda n: f"platform-{n}")
    active = True


class ProviderFactory(CatalogFactory):
    class Meta:
        model = Provider

    legal_name = factory.Sequence(lambda n: f"LPK Uji Coba {n}")
    nib = factory.Sequence(lambda n: f"{8100000000000 + n}")
    address = "Jl. Merdeka No. 1"
    district_id = "32.75.02"
    contact_name = "Siti Aminah"
    contact_email = factory.Sequence(lambda n: f"lembaga{n}@example.id")
    contact_phone = "+6281234567890"
    status = ProviderStatus.VERIFIED
    decided_at = factory.LazyFunction(timezone.now)


class TrainingFactory(CatalogFactory):
    """An approved, self-paced training of a verified provider."""

    class Meta:
        model = Training

    provider = factory.SubFactory(ProviderFactory)
    title = factory.Sequence(lambda n: f"Pelatihan Uji {n}")
    description = "Materi pelatihan untuk pengujian."
    category = TrainingCategory.IT
    level = TrainingLevel.BASIC
    mode = TrainingMode.SELF_PACED
    duration_hours = 8
    price = 300_000
    status = TrainingStatus.APPROVED
    decided_at = factory.LazyFunction(timezone.now)

    class Params:
        offline = factory.Trait(
            mode=TrainingMode.OFFLINE,
            address="Jl. Ahmad Yani No. 5",
            district_id="32.75.02",
            latitude=Decimal("-6.238300"),
            longitude=Decimal("106.975600"),
        )


class TrainingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingSession

    training = factory.SubFactory(TrainingFactory, mode=TrainingMode.WEBINAR)
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))


class ListingFactory(CatalogFactory):
    class Meta:
        model = Listing

    training = factory.SubFactory(TrainingFactory)
    platform = factory.SubFactory(PlatformFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    url = factory.LazyAttribute(lambda o: f"https://{o.platform.slug}.example/p/{o.sku}")
    price = factory.LazyAttribute(lambda o: o.training.price)


class AffiliationFactory(CatalogFactory):
    class Meta:
        model = ProviderAffiliation

    provider = factory.SubFactory(ProviderFactory)
    platform = factory.SubFactory(PlatformFactory)
    relationship = "Pemegang saham yang sama"


def credential_for(platform, **kwargs):
    """(key_id, secret) of a fresh credential for ``platform``."""
    issued = platform_credential_issue(platform_id=platform.pk, actor=None, **kwargs)
    return issued.credential.key_id, issued.secret


# --- Buying -----------------------------------------------------------------------


_card_serial = iter(range(1, 10**6))


def participant_with_balance(*, balance: int = 1_000_000, wave=None, **applicant_kwargs):
    """An active participant (card, phone verified) whose training balance holds ``balance`` rupiah."""
    from cohorts.models import Participant
    from cohorts.services import card_number_for
    from disbursement.services import ledger_account_open, ledger_credit
    from tests.cohorts.factories import WaveFactory
    from tests.factories import ApplicantFactory

    wave = wave or WaveFactory(status="announced")
    applicant = ApplicantFactory(**applicant_kwargs)
    account = ledger_account_open(owner=applicant.user)
    if balance:
        ledger_credit(account=account, amount=balance, idempotency_key=f"test-balance:{account.pk}")
    return Participant.objects.create(
        applicant=applicant,
        wave=wave,
        card_number=card_number_for(wave_number=wave.number, ordinal=next(_card_serial)),
        balance_account=account,
        purchase_deadline=timezone.now() + datetime.timedelta(days=30),
    )


def awaiting_purchase(*, participant, listing, session=None, channel="portal"):
    """A purchase waiting for its SMS code, as purchase_start leaves it (no SMS sent)."""
    from marketplace.models import Purchase

    return Purchase.objects.create(
        participant=participant,
        listing=listing,
        platform=listing.platform,
        session=session,
        price=listing.price,
        channel=channel,
        code_sent_at=timezone.now(),
    )


def sms_code(*, phone: str) -> str:
    """The code of the latest SMS to ``phone``: sent (locmem backend) or still queued in the outbox."""
    import re

    from prakerja import sms
    from prakerja.models import Notification

    bodies = [m.body for m in sms.outbox if m.to == phone]
    bodies += list(
        Notification.objects.filter(channel="sms", recipient=phone)
        .exclude(body="")
        .order_by("id")
        .values_list("body", flat=True)
    )
    for body in reversed(bodies):
        found = re.search(r"\b(\d{6})\b", body)
        if found:
            return found.group(1)
    raise AssertionError(f"no SMS code was sent to {phone}")


def completed_training(*, participant=None, listing=None, certificate_number: str = "", completed_at=None):
    """A participant's completion (bought with the SMS code, redeemed, reported by the platform)."""
    from marketplace import services
    from marketplace.enums import PurchaseChannel

    participant = participant or participant_with_balance(balance=1_000_000)
    listing = listing or ListingFactory(price=300_000)
    started = services.purchase_start(
        participant_id=participant.pk, listing_id=listing.pk, channel=PurchaseChannel.API
    )
    voucher = services.purchase_confirm(
        purchase_id=started.purchase.pk, code=sms_code(phone=participant.applicant.phone)
    )
    services.voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)
    return services.completion_record(
        code=voucher.code,
        platform_id=voucher.platform_id,
        certificate_number=certificate_number or f"CERT-{voucher.pk:06d}",
        score=85,
        completed_at=completed_at or timezone.now() - datetime.timedelta(days=3),
    )
