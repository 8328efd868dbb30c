import io

import pytest
from django.db.models import F

from marketplace.demo import PLATFORMS, demo_load
from marketplace.enums import ProviderStatus, TrainingMode, TrainingStatus
from marketplace.models import Listing, Platform, PlatformCredential, Provider, ProviderAffiliation, Training
from marketplace.selectors import listings_visible

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Platform.objects.count(),
        Provider.objects.count(),
        ProviderAffiliation.objects.count(),
        Training.objects.count(),
        Listing.objects.count(),
        PlatformCredential.objects.count(),
    )


def test_demo_catalog_is_realistic_and_idempotent():
    out = io.StringIO()
    demo_load(stdout=out)
    first = _counts()
    assert first[0] == len(PLATFORMS) == 8
    assert Provider.objects.filter(status=ProviderStatus.VERIFIED).count() == 36
    assert Provider.objects.filter(status=ProviderStatus.APPLIED).count() == 3
    assert Training.objects.filter(status=TrainingStatus.APPROVED).count() == 300
    assert set(Training.objects.values_list("mode", flat=True)) == set(TrainingMode.values)
    assert listings_visible().count() == first[4]
    assert ProviderAffiliation.objects.filter(provider__status=ProviderStatus.VERIFIED).count() == 6
    assert not Listing.objects.filter(price__gt=F("training__price")).exists()
    assert "secret sk_" in out.getvalue()  # each platform's first secret is shown once

    again = io.StringIO()
    demo_load(stdout=again)
    assert _counts() == first
    assert "secret" not in again.getvalue()
