"""Reads: what the public may see, and the catalog query."""

from __future__ import annotations

import datetime
import hashlib
import math
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from marketplace.enums import AssessmentResult, ProviderStatus, TrainingMode, TrainingStatus
from marketplace.models import (
    SHUFFLE_MODULUS,
    CompetencyAssessment,
    Completion,
    Listing,
    ProviderAffiliation,
    Purchase,
    Training,
    TrainingSession,
)
from marketplace.search import apply_search

KM_PER_DEGREE = 111.32


class Sort:
    DEFAULT = ""
    RELEVANCE = "relevance"
    NEUTRAL = "neutral"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    RATING = "rating"
    NEWEST = "newest"
    DISTANCE = "distance"

    ALL = (RELEVANCE, NEUTRAL, PRICE_ASC, PRICE_DESC, RATING, NEWEST, DISTANCE)


class Closeness:
    """How near an offline training is to the applicant's domicile (smaller is nearer)."""

    DISTRICT = 0
    REGENCY = 1
    PROVINCE = 2
    ELSEWHERE = 3
    NOT_OFFLINE = 4


@dataclass(frozen=True)
class CatalogQuery:
    text: str = ""
    category: str = ""
    level: str = ""
    mode: str = ""
    platform: str = ""
    price_min: int | None = None
    price_max: int | None = None
    province: str = ""
    sort: str = Sort.DEFAULT
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Domicile:
    """Where an applicant lives, as region codes (``32``, ``32.75``, ``32.75.01``)."""

    province_code: str = ""
    regency_code: str = ""
    district_code: str = ""

    @classmethod
    def of(cls, applicant) -> Domicile | None:
        if applicant is None or not applicant.province_id:
            return None
        return cls(
            province_code=applicant.province_id or "",
            regency_code=applicant.regency_id or "",
            district_code=applicant.district_id or "",
        )


@dataclass
class CatalogResult:
    listings: QuerySet
    sort: str
    # "location" (the browser's), "domicile" (the applicant's) or "" for a distance sort.
    distance_basis: str = ""


def listings_visible() -> QuerySet:
    """Listings anyone may see: available, on an active platform, of an approved training of a verified provider."""
    return Listing.objects.filter(
        is_available=True,
        platform__active=True,
        training__status=TrainingStatus.APPROVED,
        training__provider__status=ProviderStatus.VERIFIED,
    )


def trainings_visible() -> QuerySet:
    return Training.objects.filter(status=TrainingStatus.APPROVED, provider__status=ProviderStatus.VERIFIED)


def affiliated_expression(prefix: str = "") -> Exists:
    """True when the listing's provider is affiliated with the listing's platform."""
    return Exists(
        ProviderAffiliation.objects.filter(
            provider=OuterRef(f"{prefix}training__provider"), platform=OuterRef(f"{prefix}platform")
        )
    )


def neutral_order_seed(day: datetime.date) -> tuple[int, int]:
    """A multiplier and offset for the day's permutation of listings' shuffle keys."""
    digest = hashlib.sha256(f"prakerja-catalog:{day.isoformat()}".encode()).digest()
    multiplier = int.from_bytes(digest[:8], "big") % (SHUFFLE_MODULUS - 1) + 1
    offset = int.from_bytes(digest[8:16], "big") % SHUFFLE_MODULUS
    return multiplier, offset


def neutral_key(day: datetime.date) -> ExpressionWrapper:
    """Ties are broken by a permutation that changes daily and ignores the platform.

    ``(key * a + b) mod p`` with p prime and 0 < a < p is a bijection, so each
    day gives a different, stable order (pagination stays consistent).
    """
    multiplier, offset = neutral_order_seed(day)
    return ExpressionWrapper(
        (F("shuffle_key") * Value(multiplier) + Value(offset)) % Value(SHUFFLE_MODULUS),
        output_field=BigIntegerField(),
    )


def _domicile_closeness(domicile: Domicile) -> Case:
    whens = [
        When(
            training__mode__in=[TrainingMode.SELF_PACED, TrainingMode.WEBINAR],
            then=Value(Closeness.NOT_OFFLINE),
        )
    ]
    if domicile.district_code:
        whens.append(When(training__district_id=domicile.district_code, then=Value(Closeness.DISTRICT)))
    if domicile.regency_code:
        whens.append(
            When(
                training__district__code__startswith=f"{domicile.regency_code}.",
                then=Value(Closeness.REGENCY),
            )
        )
    if domicile.province_code:
        whens.append(
            When(
                training__district__code__startswith=f"{domicile.province_code}.",
                then=Value(Closeness.PROVINCE),
            )
        )
    return Case(*whens, default=Value(Closeness.ELSEWHERE), output_field=IntegerField())


def _squared_degrees(latitude: float, longitude: float) -> ExpressionWrapper:
    """Equirectangular distance squared, in degrees: exact enough within Indonesia, and index-free."""
    scale = math.cos(math.radians(latitude))
    dlat = Cast("training__latitude", FloatField()) - Value(latitude)
    dlon = (Cast("training__longitude", FloatField()) - Value(longitude)) * Value(scale)
    return ExpressionWrapper(dlat * dlat + dlon * dlon, output_field=FloatField())


def distance_km(squared_degrees: float | None) -> float | None:
    if squared_degrees is None:
        return None
    return math.sqrt(squared_degrees) * KM_PER_DEGREE


def catalog_listings(
    *, query: CatalogQuery, domicile: Domicile | None = None, today: datetime.date | None = None
) -> CatalogResult:
    """The catalog: visible listings filtered, searched and sorted, ties broken neutrally.

    Every row carries ``affiliated`` (bool), ``tie`` and, when sorted by distance,
    ``closeness`` or ``distance_sq``. The number of queries does not depend on
    the number of rows.
    """
    today = today or timezone.localdate()
    listings = listings_visible().select_related(
        "platform", "training", "training__provider", "training__district__regency"
    )
    if query.category:
        listings = listings.filter(training__category=query.category)
    if query.level:
        listings = listings.filter(training__level=query.level)
    if query.mode:
        listings = listings.filter(training__mode=query.mode)
    if query.platform:
        listings = listings.filter(platform__slug=query.platform)
    if query.price_min is not None:
        listings = listings.filter(price__gte=query.price_min)
    if query.price_max is not None:
        listings = listings.filter(price__lte=query.price_max)
    if query.province:
        # Region codes nest (32 > 32.75 > 32.75.01): a prefix match needs no join.
        listings = listings.filter(
            training__mode=TrainingMode.OFFLINE, training__district__code__startswith=f"{query.province}."
        )
    listings, searched = apply_search(listings, text=query.text, prefix="training__")
    listings = listings.annotate(affiliated=affiliated_expression(), tie=neutral_key(today))

    sort = query.sort if query.sort in Sort.ALL else Sort.DEFAULT
    if sort in (Sort.DEFAULT, Sort.RELEVANCE):
        sort = Sort.RELEVANCE if searched else Sort.NEUTRAL
    basis = ""
    if sort == Sort.RELEVANCE:
        order = [F("relevance").desc(), "tie"]
    elif sort == Sort.PRICE_ASC:
        order = ["price", "tie"]
    elif sort == Sort.PRICE_DESC:
        order = ["-price", "tie"]
    elif sort == Sort.RATING:
        order = ["-training__rating_average", "-training__rating_count", "tie"]
    elif sort == Sort.NEWEST:
        order = [F("training__decided_at").desc(nulls_last=True), "tie"]
    elif sort == Sort.DISTANCE and query.latitude is not None and query.longitude is not None:
        basis = "location"
        listings = listings.annotate(
            distance_sq=Case(
                When(
                    training__mode=TrainingMode.OFFLINE,
                    then=_squared_degrees(query.latitude, query.longitude),
                ),
                default=None,
                output_field=FloatField(),
            )
        )
        order = [F("distance_sq").asc(nulls_last=True), "tie"]
    elif sort == Sort.DISTANCE and domicile is not None:
        basis = "domicile"
        listings = listings.annotate(closeness=_domicile_closeness(domicile))
        order = ["closeness", "tie"]
    elif sort == Sort.DISTANCE:
        # Nothing to measure from: offline trainings first, otherwise neutral.
        listings = listings.annotate(
            closeness=Case(
                When(training__mode=TrainingMode.OFFLINE, then=Value(Closeness.ELSEWHERE)),
                default=Value(Closeness.NOT_OFFLINE),
                output_field=IntegerField(),
            )
        )
        order = ["closeness", "tie"]
    else:
        order = ["tie"]
    # The primary key last: a total order even if two shuffle keys collide.
    return CatalogResult(listings=listings.order_by(*order, "pk"), sort=sort, distance_basis=basis)


def catalog_page(result: CatalogResult, *, number, per_page: int) -> Page:
    """One page of the catalog in two steps: the page's ids, then those rows.

    Ordering thousands of rows is cheap when only the ids travel; joining and
    annotating the wide rows (descriptions, provider, region) is done for the
    page alone. Three queries: count, ids, rows.
    """
    paginator = Paginator(result.listings.values_list("pk", flat=True), per_page)
    page = paginator.get_page(number)
    ids = list(page.object_list)
    rows = {row.pk: row for row in result.listings.filter(pk__in=ids)} if ids else {}
    # A row hidden between the two queries simply drops out.
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def training_for_detail(training_id: int, *, today: datetime.date | None = None) -> Training | None:
    """A visible training with its visible listings (cheapest first, ties neutral) and upcoming sessions."""
    today = today or timezone.localdate()
    offers = (
        listings_visible()
        .select_related("platform")
        .annotate(affiliated=affiliated_expression(), tie=neutral_key(today))
        .order_by("price", "tie", "pk")
    )
    sessions = TrainingSession.objects.filter(starts_at__gte=timezone.now()).order_by("starts_at")
    return (
        trainings_visible()
        .select_related("provider", "provider__district__regency", "district__regency__province")
        .prefetch_related(Prefetch("listings", queryset=offers, to_attr="offers"))
        .prefetch_related(Prefetch("sessions", queryset=sessions, to_attr="upcoming_sessions"))
        .filter(pk=training_id)
        .first()
    )


# --- Buying: purchases, vouchers, completions ------------------------------------


def purchases_of_participant(participant) -> QuerySet:
    """A participant's purchases, newest first, with everything "Pelatihan Saya" shows (one query)."""
    return (
        Purchase.objects.filter(participant=participant)
        .select_related(
            "listing",
            "platform",
            "session",
            "listing__training",
            "listing__training__provider",
            "voucher",
            "voucher__completion",
        )
        .order_by("-created_at", "-id")
    )


def purchase_of_user(*, user, public_id) -> Purchase | None:
    """The purchase ``public_id`` if it belongs to ``user``; None otherwise (never someone else's)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Purchase.objects.filter(public_id=public_id, participant__applicant__user=user)
        .select_related(
            "participant__balance_account",
            "listing__training__provider",
            "platform",
            "session",
            "voucher",
            "voucher__completion",
        )
        .first()
    )


def incentive_qualifying_completion(participant) -> Completion | None:
    """The completion that counts for ``participant``'s incentive: their first completed training.

    None until the participant has completed a training. The payout work builds
    the incentive schedule on it; this app pays nothing.
    """
    return (
        Completion.objects.filter(participant=participant, counts_for_incentive=True)
        .select_related("voucher", "voucher__training", "platform")
        .first()
    )


def assessment_counts_by_provider() -> dict[int, dict[str, int]]:
    """``{provider id: {"assessed": n, "competent": n}}`` for the provider evaluation (one grouped query)."""
    rows = (
        CompetencyAssessment.objects.values("completion__voucher__training__provider_id")
        .annotate(
            assessed=Count("id"),
            competent=Count("id", filter=Q(result=AssessmentResult.COMPETENT)),
        )
        .order_by()
    )
    return {
        row["completion__voucher__training__provider_id"]: {
            "assessed": row["assessed"],
            "competent": row["competent"],
        }
        for row in rows
    }


def participant_has_completion(*, participant_id: int) -> bool:
    return Completion.objects.filter(participant_id=participant_id).exists()


def completions_of_participants(participant_ids) -> dict[int, list[Completion]]:
    """Each participant's completed trainings with their certificate and competency assessment
    (one query), newest first: what a job profile shows."""
    result: dict[int, list[Completion]] = {pid: [] for pid in participant_ids}
    rows = (
        Completion.objects.filter(participant_id__in=list(participant_ids))
        .select_related("voucher__training__provider", "assessment__institution")
        .order_by("-completed_at", "-id")
    )
    for completion in rows:
        result[completion.participant_id].append(completion)
    return result
