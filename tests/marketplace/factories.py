"""Factories for the marketplace's tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from marketplace.enums import ProviderStatus, TrainingCategory, TrainingLevel, TrainingMode, TrainingStatus
from marketplace.models import Listing, Platform, Provider, ProviderAffiliation, Training, TrainingSession
from marketplace.services import platform_credential_issue


class PlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Platform
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Platform {n}")
    slug = factory.Sequence(lambda n: f"platform-{n}")
    active = True


class ProviderFactory(factory.django.DjangoModelFactory):
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


class TrainingFactory(factory.django.DjangoModelFactory):
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


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    training = factory.SubFactory(TrainingFactory)
    platform = factory.SubFactory(PlatformFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    url = factory.LazyAttribute(lambda o: f"https://{o.platform.slug}.example/p/{o.sku}")
    price = factory.LazyAttribute(lambda o: o.training.price)


class AffiliationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderAffiliation

    provider = factory.SubFactory(ProviderFactory)
    platform = factory.SubFactory(PlatformFactory)
    relationship = "Pemegang saham yang sama"


def credential_for(platform, **kwargs):
    """(key_id, secret) of a fresh credential for ``platform``."""
    issued = platform_credential_issue(platform_id=platform.pk, actor=None, **kwargs)
    return issued.credential.key_id, issued.secret
