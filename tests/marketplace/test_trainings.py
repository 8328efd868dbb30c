import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from marketplace import services
from marketplace.enums import ProviderStatus, TrainingMode, TrainingStatus
from marketplace.exceptions import PriceNotAllowed, TransitionNotAllowed
from marketplace.models import Listing, Training, TrainingSession
from prakerja.models import AuditEntry
from prakerja.roles import Role
from tests.factories import UserFactory
from tests.marketplace.factories import ListingFactory, TrainingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER))
    return user


def test_draft_to_review_to_approved_is_audited(officer):
    training = TrainingFactory(status=TrainingStatus.DRAFT)
    services.training_submit(training_id=training.pk, actor=officer)
    services.training_approve(training_id=training.pk, actor=officer, reason="Materi sesuai")
    training.refresh_from_db()
    assert training.status == TrainingStatus.APPROVED
    assert training.decided_by == officer
    assert training.submitted_at is not None
    assert list(
        AuditEntry.objects.filter(target_id=str(training.pk)).order_by("id").values_list("action", "data__to")
    ) == [("marketplace.training.submitted", "in_review"), ("marketplace.training.approved", "approved")]


def test_reject_needs_a_reason_and_reopen_returns_to_draft(officer):
    training = TrainingFactory(status=TrainingStatus.IN_REVIEW)
    with pytest.raises(ValidationError):
        services.training_reject(training_id=training.pk, actor=officer, reason="")
    services.training_reject(training_id=training.pk, actor=officer, reason="Silabus tidak jelas")
    assert Training.objects.get(pk=training.pk).status_reason == "Silabus tidak jelas"
    services.training_reopen(training_id=training.pk, actor=officer)
    assert Training.objects.get(pk=training.pk).status == TrainingStatus.DRAFT


def test_moves_from_the_wrong_state_are_refused(officer):
    training = TrainingFactory(status=TrainingStatus.DRAFT)
    with pytest.raises(TransitionNotAllowed):
        services.training_approve(training_id=training.pk, actor=officer)
    with pytest.raises(TransitionNotAllowed):
        services.training_reject(training_id=training.pk, actor=officer, reason="x")
    assert Training.objects.get(pk=training.pk).status == TrainingStatus.DRAFT


def test_approval_needs_a_verified_provider(officer):
    training = TrainingFactory(status=TrainingStatus.IN_REVIEW, provider__status=ProviderStatus.APPLIED)
    with pytest.raises(ValidationError) as excinfo:
        services.training_approve(training_id=training.pk, actor=officer)
    assert excinfo.value.messages == ["Lembaganya belum terverifikasi."]


def test_offline_training_needs_venue_and_coordinates_in_indonesia(officer):
    training = TrainingFactory(status=TrainingStatus.DRAFT, mode=TrainingMode.OFFLINE)
    with pytest.raises(ValidationError) as excinfo:
        services.training_submit(training_id=training.pk, actor=officer)
    assert excinfo.value.messages == [
        "Pelatihan tatap muka memerlukan alamat dan kecamatan tempat pelatihan.",
        "Isi lintang dan bujur tempat pelatihan.",
    ]
    Training.objects.filter(pk=training.pk).update(
        address="Jl. Pemuda 1", district_id="32.75.02", latitude=Decimal("106.97"), longitude=Decimal("-6.23")
    )
    with pytest.raises(ValidationError) as excinfo:
        services.training_submit(training_id=training.pk, actor=officer)
    assert "tertukar" in excinfo.value.messages[0]


def test_webinar_needs_a_future_session(officer):
    training = TrainingFactory(status=TrainingStatus.DRAFT, mode=TrainingMode.WEBINAR)
    with pytest.raises(ValidationError):
        services.training_submit(training_id=training.pk, actor=officer)
    TrainingSession.objects.create(training=training, starts_at=timezone.now() + datetime.timedelta(days=3))
    assert services.training_submit(training_id=training.pk, actor=officer).status == TrainingStatus.IN_REVIEW


def test_price_above_the_programme_maximum_is_refused(officer, settings):
    settings.MARKETPLACE_PRICE_MAX = 1_000_000
    training = TrainingFactory(status=TrainingStatus.DRAFT, price=1_000_001)
    with pytest.raises(ValidationError) as excinfo:
        services.training_submit(training_id=training.pk, actor=officer)
    assert excinfo.value.messages == ["Harga tidak boleh lebih dari Rp1.000.000."]


def test_listing_price_cannot_exceed_the_training_price(officer):
    listing = ListingFactory(price=300_000, training__price=300_000)
    with pytest.raises(PriceNotAllowed):
        services.listing_update(listing_id=listing.pk, actor=officer, price=300_001)
    services.listing_update(listing_id=listing.pk, actor=officer, price=299_000)
    assert Listing.objects.get(pk=listing.pk).price == 299_000
    assert AuditEntry.objects.get(action="marketplace.listing.updated").actor == officer


def test_rating_set_by_the_surveys_app():
    training = TrainingFactory()
    services.training_rating_set(training_id=training.pk, average=Decimal("4.456"), count=12)
    training.refresh_from_db()
    assert (training.rating_average, training.rating_count) == (Decimal("4.46"), 12)
    with pytest.raises(ValueError):
        services.training_rating_set(training_id=training.pk, average=Decimal("5.5"), count=1)


def test_approve_action_in_the_console(client, officer):
    training = TrainingFactory(status=TrainingStatus.IN_REVIEW)
    blocked = TrainingFactory(status=TrainingStatus.IN_REVIEW, provider__status=ProviderStatus.APPLIED)
    client.force_login(officer)
    response = client.post(
        reverse("admin:marketplace_training_changelist"),
        {"action": "approve", "_selected_action": [training.pk, blocked.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "1 pelatihan disetujui." in html
    assert "Lembaganya belum terverifikasi." in html
    assert Training.objects.get(pk=training.pk).status == TrainingStatus.APPROVED
    assert Training.objects.get(pk=blocked.pk).status == TrainingStatus.IN_REVIEW


def test_approved_training_content_is_read_only_in_the_console(client, officer):
    training = TrainingFactory(status=TrainingStatus.APPROVED, price=300_000)
    client.force_login(officer)
    html = client.get(reverse("admin:marketplace_training_change", args=[training.pk])).content.decode()
    assert 'name="price"' not in html
    assert 'name="title"' not in html
    draft = TrainingFactory(status=TrainingStatus.DRAFT)
    html = client.get(reverse("admin:marketplace_training_change", args=[draft.pk])).content.decode()
    assert 'name="price"' in html


def test_console_listing_price_change_is_audited_and_checked(client, officer):
    listing = ListingFactory(price=300_000, training__price=300_000)
    client.force_login(officer)
    url = reverse("admin:marketplace_listing_change", args=[listing.pk])
    data = {"sku": listing.sku, "url": listing.url, "price": "250000", "is_available": "on"}
    assert client.post(url, data).status_code == 302
    assert Listing.objects.get(pk=listing.pk).price == 250_000
    entry = AuditEntry.objects.get(action="marketplace.listing.updated")
    assert entry.data["changes"] == {"price": [300_000, 250_000]}
    too_high = client.post(url, {**data, "price": "300001"})
    assert too_high.status_code == 200
    assert "Harga tidak boleh lebih dari harga pelatihan yang disetujui" in too_high.content.decode()
    assert Listing.objects.get(pk=listing.pk).price == 250_000


@pytest.mark.parametrize("model", ["training", "listing", "platform"])
def test_console_lists_have_constant_query_counts(
    client, officer, model, django_assert_num_queries, django_assert_max_num_queries
):
    client.force_login(officer)
    url = reverse(f"admin:marketplace_{model}_changelist")
    ListingFactory()
    with django_assert_max_num_queries(60) as one:
        assert client.get(url).status_code == 200
    ListingFactory()
    ListingFactory()
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(url)
