"""Demo data: the three evaluation surveys, ratings and reviews on demo trainings, a few hundred synthetic
survey responses (the results page has charts), and a participant with a survey open to answer.

Runs after the marketplace demo (INSTALLED_APPS order). Idempotent. Synthetic raters and respondents are
accounts ``@surveys.demo.prakerja.test`` without a usable password; their ratings are marked synthetic (no
completion behind them) and their survey answers schedule no money.
"""

from __future__ import annotations

import datetime
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from cohorts.demo import PARTICIPANT_EMAIL, PROVINCES
from cohorts.models import Participant
from marketplace.enums import PurchaseChannel, TrainingMode
from marketplace.models import Purchase, Training
from marketplace.selectors import listings_visible
from marketplace.services import completion_record, training_ratings_set_bulk, voucher_redeem
from marketplace.services.purchases import _pay
from prakerja.demo import DEMO_PASSWORD, DemoLogin, demo_user
from surveys import services
from surveys.defaults import default_surveys_ensure
from surveys.enums import QuestionKind
from surveys.models import Answer, Rating, SurveyAssignment

DOMAIN = "surveys.demo.prakerja.test"
SURVEY_PARTICIPANT_EMAIL = f"survei@{DOMAIN}"
SYNTHETIC_PEOPLE = 300
RATED_TRAININGS = 60
FIRST_NAMES = [
    "Ayu",
    "Bambang",
    "Cahya",
    "Dian",
    "Endang",
    "Fitri",
    "Gilang",
    "Hendra",
    "Intan",
    "Jaya",
    "Kurnia",
]
REGENCIES = ["11.71", "31.71", "32.73", "33.74", "35.78", "73.71"]
REVIEWS = {
    5: [
        "Materinya jelas dan langsung bisa dipraktikkan.",
        "Pengajar sabar, contoh kasusnya sangat membantu.",
    ],
    4: ["Pelatihan bagus, hanya videonya agak panjang.", "Cukup lengkap, latihan soalnya bermanfaat."],
    3: ["Lumayan, tetapi beberapa materi terlalu dasar.", "Isi cukup, suara video kadang kurang jelas."],
    2: ["Materi kurang sesuai dengan judul pelatihan.", "Banyak materi diulang dan kurang praktik."],
    1: ["Video tidak bisa diputar dan tidak ada bantuan.", "Isinya hanya membaca slide tanpa penjelasan."],
}


def _synthetic_people() -> list:
    User = get_user_model()
    emails = [f"responden{n:04d}@{DOMAIN}" for n in range(1, SYNTHETIC_PEOPLE + 1)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    User.objects.bulk_create(
        [
            User(email=email, password="!", first_name=FIRST_NAMES[i % len(FIRST_NAMES)])  # noqa: S106
            for i, email in enumerate(emails)
            if email not in existing
        ]
    )
    return list(User.objects.filter(email__in=emails).order_by("email"))


def _ratings(people, rng: random.Random) -> int:
    if Rating.objects.filter(synthetic=True).exists():
        return 0
    trainings = list(
        Training.objects.filter(pk__in=listings_visible().values("training_id")).order_by("pk")[
            : RATED_TRAININGS * 2
        ]
    )
    rng.shuffle(trainings)
    rows = []
    now = timezone.now()
    for training in trainings[:RATED_TRAININGS]:
        quality = rng.choice([5, 5, 4, 4, 4, 3, 2])  # some trainings are poor: the curation page shows them
        for person in rng.sample(people, rng.randrange(3, 25)):
            stars = max(1, min(5, quality + rng.choice([-2, -1, 0, 0, 0, 1])))
            rows.append(
                Rating(
                    owner=person,
                    training=training,
                    provider_id=training.provider_id,
                    stars=stars,
                    review=rng.choice(REVIEWS[stars]),
                    reviewer_first_name=person.first_name,
                    reviewer_regency_id=rng.choice(REGENCIES),
                    synthetic=True,
                    created_at=now
                    - datetime.timedelta(days=rng.randrange(1, 90), minutes=rng.randrange(1440)),
                )
            )
    Rating.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _value(question, rng: random.Random):
    if question.kind == QuestionKind.SINGLE:
        values = [o["value"] for o in question.options]
        return rng.choices(values, weights=[len(values) - i for i in range(len(values))])[0]
    if question.kind == QuestionKind.SCALE:
        return str(rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 6, 14, 12])[0])
    if question.kind == QuestionKind.MULTIPLE:
        values = [o["value"] for o in question.options]
        return rng.sample(values, rng.randrange(1, 3))
    if question.kind == QuestionKind.NUMBER:
        return rng.randrange(0, 60) * 100_000 if rng.random() < 0.8 else None
    return rng.choice(["", "", "Semoga program ini terus berlanjut.", "Tambah pilihan pelatihan offline."])


def _responses(people, surveys, rng: random.Random) -> int:
    if (
        SurveyAssignment.objects.filter(owner__email__endswith=f"@{DOMAIN}")
        .exclude(owner__email=SURVEY_PARTICIPANT_EMAIL)
        .exists()
    ):
        return 0
    today = timezone.localdate()
    assignments, answers = [], []
    for index, person in enumerate(people):
        anchor = today - datetime.timedelta(days=rng.randrange(35, 80))
        province = PROVINCES[index % len(PROVINCES)][0]
        for survey in surveys:
            opens = anchor + datetime.timedelta(days=survey.opens_after_days)
            deadline = opens + datetime.timedelta(days=survey.open_days - 1)
            assignment = SurveyAssignment(
                survey=survey, owner=person, province_id=province, opens_on=opens, deadline=deadline
            )
            version = services.version_current(survey_id=survey.pk)
            answered = opens <= today and rng.random() < (0.85 if survey.number == 1 else 0.6)
            if answered:
                at = timezone.make_aware(
                    datetime.datetime.combine(
                        min(today, opens + datetime.timedelta(days=3)), datetime.time(10)
                    )
                )
                assignment.version, assignment.started_at, assignment.submitted_at = version, at, at
            assignments.append((assignment, version if answered else None))
    SurveyAssignment.objects.bulk_create([a for a, _v in assignments], batch_size=1000)
    for assignment, version in assignments:
        if version is None:
            continue
        for question in version.questions.all():
            value = _value(question, rng)
            for fields in services.surveys._value_rows(question, value):
                answers.append(Answer(assignment=assignment, question=question, **fields))
    Answer.objects.bulk_create(answers, batch_size=2000)
    return sum(1 for _a, v in assignments if v is not None)


def _participant_with_open_survey(stdout) -> DemoLogin | None:
    """A wave-1 participant who completed and rated a training: incentive scheduled, survey 1 open."""
    User = get_user_model()
    user = User.objects.filter(email=SURVEY_PARTICIPANT_EMAIL).first()
    if user is None:
        taken = set(Purchase.objects.values_list("participant_id", flat=True))
        participant = (
            Participant.objects.filter(wave__number=1, status="active")
            .exclude(applicant__user__email=PARTICIPANT_EMAIL)
            .exclude(pk__in=taken)
            .select_related("applicant__user")
            .order_by("id")
            .first()
        )
        if participant is None:
            return None
        user = participant.applicant.user
        user.email = SURVEY_PARTICIPANT_EMAIL
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["email", "password"])
        from allauth.account.models import EmailAddress

        EmailAddress.objects.filter(user=user).delete()
        demo_user(SURVEY_PARTICIPANT_EMAIL)
        listing = (
            listings_visible()
            .filter(training__mode=TrainingMode.SELF_PACED, price__lte=300_000)
            .select_related("platform", "training")
            .order_by("-price", "pk")
            .first()
        )
        purchase = Purchase.objects.create(
            participant=participant,
            listing=listing,
            platform=listing.platform,
            price=listing.price,
            channel=PurchaseChannel.PORTAL,
            created_at=timezone.now() - datetime.timedelta(days=25),
        )
        voucher = _pay(purchase=purchase, user=user, phone=participant.applicant.phone)
        voucher_redeem(code=voucher.code, platform_id=voucher.platform_id)
        completion = completion_record(
            code=voucher.code,
            platform_id=voucher.platform_id,
            certificate_number=f"SERT/{voucher.platform.slug.upper()}/2026/S{voucher.pk:05d}",
            score=91,
        )
        services.rating_submit(
            user=user,
            completion_id=completion.pk,
            stars=5,
            review="Materinya praktis dan mudah diikuti, sangat membantu saya melamar kerja.",
        )
        stdout.write(
            f"Surveys demo: {SURVEY_PARTICIPANT_EMAIL} rated a training; survey 1 is open to answer."
        )
    return DemoLogin(
        SURVEY_PARTICIPANT_EMAIL, "participant (wave 1): training rated, incentive scheduled, survey open"
    )


def demo_load(*, stdout) -> list[DemoLogin]:
    rng = random.Random(2020)
    surveys = default_surveys_ensure()
    people = _synthetic_people()
    rated = _ratings(people, rng)
    # Real numbers only: trainings nobody rated show none (older demo databases had random ones).
    services.training_ratings_refresh()
    stale = (
        Training.objects.filter(rating_count__gt=0)
        .exclude(ratings__isnull=False)
        .values_list("pk", flat=True)
    )
    training_ratings_set_bulk(aggregates=dict.fromkeys(stale, (0, 0)))
    answered = _responses(people, surveys, rng)
    logins = []
    login = _participant_with_open_survey(stdout)
    if login:
        logins.append(login)
    stdout.write(
        f"Surveys demo: {len(surveys)} evaluation surveys, {rated} synthetic ratings, {answered} synthetic "
        "survey responses. Results: /admin/surveys/survey/"
    )
    return logins
