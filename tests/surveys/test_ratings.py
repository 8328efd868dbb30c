"""Ratings: once per completed training, the first one starts the incentive, reviews and aggregates."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cohorts.enums import ParticipantStatus
from cohorts.models import Participant
from disbursement.models import Entitlement
from marketplace.models import Training
from prakerja.models import AuditEntry, Notification
from surveys import services
from surveys.exceptions import SurveyError
from surveys.models import Rating, SurveyAssignment
from tests.surveys.factories import completed

pytestmark = pytest.mark.django_db

REVIEW = "Materinya jelas dan bermanfaat sekali"


def _user(completion):
    return completion.participant.applicant.user


def test_rating_twice_schedules_the_incentive_once():
    completion = completed()
    user = _user(completion)
    rating, created = services.rating_submit(user=user, completion_id=completion.pk, stars=4, review=REVIEW)
    again, created_again = services.rating_submit(
        user=user, completion_id=completion.pk, stars=1, review=REVIEW
    )
    assert (created, created_again) == (True, False)
    assert again.pk == rating.pk and again.stars == 4
    rows = list(Entitlement.objects.filter(owner=user).order_by("number"))
    assert [(e.kind, e.number, e.amount) for e in rows] == [
        ("training_incentive", n, 600_000) for n in (1, 2, 3, 4)
    ]
    assert rows[0].reference == f"rating:{rating.pk}"
    assert Rating.objects.get(pk=rating.pk).incentive_started_on == rows[0].due_on
    # The three default windows are not there in this test (no surveys defined); the message is queued once.
    assert (
        Notification.objects.filter(
            idempotency_key__startswith=f"surveys.rating:{rating.pk}:incentive"
        ).count()
        == 2
    )


def test_second_completed_training_schedules_nothing():
    first = completed()
    participant = first.participant
    second = completed(participant=participant)
    assert (first.counts_for_incentive, second.counts_for_incentive) == (True, False)
    user = _user(first)
    rating, _created = services.rating_submit(user=user, completion_id=second.pk, stars=5, review=REVIEW)
    assert rating.counts_for_incentive is False
    assert Entitlement.objects.filter(owner=user).count() == 0
    services.rating_submit(user=user, completion_id=first.pk, stars=5, review=REVIEW)
    assert Entitlement.objects.filter(owner=user).count() == 4


def test_revoked_participant_cannot_rate():
    completion = completed()
    Participant.objects.filter(pk=completion.participant_id).update(status=ParticipantStatus.REVOKED)
    with pytest.raises(SurveyError) as refused:
        services.rating_submit(user=_user(completion), completion_id=completion.pk, stars=5, review=REVIEW)
    assert refused.value.code == "revoked"
    assert Rating.objects.count() == 0
    assert Entitlement.objects.count() == 0


def test_someone_elses_completion_and_short_reviews_are_refused():
    completion = completed()
    other = completed()
    with pytest.raises(SurveyError) as refused:
        services.rating_submit(user=_user(other), completion_id=completion.pk, stars=5, review=REVIEW)
    assert refused.value.code == "not_completed"
    with pytest.raises(SurveyError) as refused:
        services.rating_submit(user=_user(completion), completion_id=completion.pk, stars=5, review="bagus")
    assert refused.value.code == "review_too_short"
    with pytest.raises(SurveyError) as refused:
        services.rating_submit(user=_user(completion), completion_id=completion.pk, stars=6, review=REVIEW)
    assert refused.value.code == "stars_invalid"


def test_training_average_and_count_come_from_the_ratings():
    first = completed()
    training = first.voucher.training
    from tests.marketplace.factories import ListingFactory

    second = completed(listing=ListingFactory(training=training, price=150_000))
    services.rating_submit(user=_user(first), completion_id=first.pk, stars=5, review=REVIEW)
    services.rating_submit(user=_user(second), completion_id=second.pk, stars=2, review=REVIEW)
    training = Training.objects.get(pk=training.pk)
    assert (training.rating_average, training.rating_count) == (Decimal("3.50"), 2)


def test_hidden_review_leaves_the_page_but_still_counts(client, django_user_model):
    completion = completed()
    user = _user(completion)
    rating, _c = services.rating_submit(
        user=user, completion_id=completion.pk, stars=1, review="Kata kasar sekali di sini"
    )
    officer = django_user_model.objects.create_user(email="o@example.test", password="x" * 12, is_staff=True)
    page = client.get(reverse("marketplace:training_detail", args=[rating.training_id])).content.decode()
    assert "Kata kasar sekali di sini" in page
    assert services.rating_hide(rating_id=rating.pk, reason="Kata-kata kasar", actor=officer) is True
    assert services.rating_hide(rating_id=rating.pk, reason="lagi", actor=officer) is False
    page = client.get(reverse("marketplace:training_detail", args=[rating.training_id])).content.decode()
    assert "Kata kasar sekali di sini" not in page
    assert Training.objects.get(pk=rating.training_id).rating_count == 1
    entry = AuditEntry.objects.get(action="surveys.rating.review_hidden")
    assert entry.data == {"reason": "Kata-kata kasar"} and entry.actor == officer


def test_rate_page_from_the_voucher_and_dashboard(client):
    completion = completed()
    user = _user(completion)
    client.force_login(user)
    public_id = completion.voucher.purchase.public_id
    voucher_page = client.get(reverse("marketplace:voucher", args=[public_id])).content.decode()
    rate_url = reverse("surveys:rate", args=[public_id])
    assert f'href="{rate_url}"' in voucher_page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert rate_url in dashboard
    response = client.post(rate_url, {"stars": "4", "review": REVIEW})
    assert response.status_code == 302
    assert Rating.objects.get(completion=completion).stars == 4
    assert Entitlement.objects.filter(owner=user).count() == 4
    page = client.get(rate_url).content.decode()
    assert "data-rating" in page
    assert SurveyAssignment.objects.filter(owner=user).count() == 0


def test_dashboard_steps_are_always_there_and_locked_before(client):
    from tests.factories import ApplicantFactory

    applicant = ApplicantFactory()
    client.force_login(applicant.user)
    html = client.get(reverse("dashboard")).content.decode()
    assert html.count("Setelah Anda menilai pelatihan.") == 1
    assert html.count("Setelah Anda menyelesaikan pelatihan pertama.") == 1
