from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template import Context
from django.template.defaultfilters import floatformat
from django.template.loader import get_template, render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from marketplace import catalog_cache, services
from marketplace.exceptions import NibTaken
from marketplace.forms import CatalogForm, ProviderApplicationForm
from marketplace.models import Platform
from marketplace.search import search_terms
from marketplace.selectors import (
    CatalogQuery,
    CatalogResult,
    Closeness,
    Domicile,
    Sort,
    catalog_listings,
    catalog_page,
    distance_km,
    training_for_detail,
)
from prakerja.slots import Parts, slots_fill, slots_render
from registration.models import District, Province
from registration.selectors import applicant_for_user

logger = logging.getLogger(__name__)

FILTER_FIELDS = ("category", "level", "mode", "platform", "price_min", "price_max", "province")


def _active_platforms() -> list[Platform]:
    return list(Platform.objects.filter(active=True).order_by("name").only("slug", "name"))


def _provinces() -> list[Province]:
    provinces = cache.get("marketplace:provinces")
    if provinces is None:
        provinces = list(Province.objects.order_by("name"))
        cache.set("marketplace:provinces", provinces, 3600)
    return provinces


@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    """The public catalog: search, filter, sort, paginate. Phone first; works without JavaScript.

    The page's content is the same for everyone asking the same question on the same
    catalog version, so it is rendered once and cached (``marketplace/catalog_cache.py``):
    for anonymous visitors the whole page, with the CSRF token and the language
    switch's return address as slots; for "nearest" with a location, the page with
    the location and the result list as slots, the list assembled from cached cards.
    """
    applicant = applicant_for_user(request.user)
    domicile = Domicile.of(applicant)
    if not catalog_cache.cache_enabled():
        content = _catalog_content(request.GET, domicile)
        # The content was rendered by this view from escaped template output.
        return render(request, "marketplace/catalog.html", {"content": mark_safe(content)})  # noqa: S308
    # The version first: whatever is rendered after this read is at least this new.
    version = catalog_cache.catalog_version()
    whole = not request.user.is_authenticated and not len(get_messages(request))
    location = catalog_cache.location_of(request.GET)
    values: dict[str, str] = {}
    nearest = None
    page_number = None
    if location is not None:
        nearest = _nearest(request.GET, version=version, location=location)
        page_number = nearest.page.number
        values.update(lat=location.latitude_text, lng=location.longitude_text, cards="".join(nearest.cards))
    key = catalog_cache.page_key(
        version=version,
        params=request.GET,
        domicile=domicile,
        whole=whole,
        location=location is not None,
        page_number=page_number,
    )
    parts = catalog_cache.page_get(key)
    if parts is None:
        parts = _catalog_parts(request, domicile, whole=whole, nearest=nearest)
        catalog_cache.page_set(key, parts)
    if whole:
        values.update(csrf=get_token(request), next=escape(request.get_full_path()))
        return HttpResponse(slots_fill(parts, values))
    content = slots_fill(parts, values)
    # The content was rendered by this view from escaped template output.
    return render(request, "marketplace/catalog.html", {"content": mark_safe(content)})  # noqa: S308


def _catalog_parts(request: HttpRequest, domicile: Domicile | None, *, whole: bool, nearest) -> Parts:
    """The page (``whole``) or its content, cut at its slots."""
    names = ["lat", "lng", "cards"] if nearest is not None else []
    if whole:
        names += ["csrf", "next"]

    def render_page(tokens: dict[str, str]) -> str:
        params = request.GET
        if nearest is not None:
            params = params.copy()
            params.setlist("lat", [tokens["lat"]])
            params.setlist("lng", [tokens["lng"]])
        content = _catalog_content(params, domicile, nearest=nearest, cards_token=tokens.get("cards"))
        if not whole:
            return content
        context = {
            # The content was rendered by this view from escaped template output.
            "content": mark_safe(content),  # noqa: S308
            "csrf_token": tokens["csrf"],
            "language_next": tokens["next"],
        }
        return render_to_string("marketplace/catalog.html", context, request)

    return slots_render(render_page, names, numeric=("lat", "lng"))


def _catalog_content(params, domicile: Domicile | None, *, nearest=None, cards_token=None) -> str:
    form = CatalogForm(params or None, platforms=_active_platforms(), provinces=_provinces())
    query = form.catalog_query() if form.is_bound else CatalogQuery()
    if nearest is not None:
        # The order and the page were made from the cached distance order; the list is a slot.
        result, page = nearest.result, nearest.page
        cards = [mark_safe(cards_token)] if page.object_list else []  # noqa: S308 - a slot token
    else:
        result = catalog_listings(query=query, domicile=domicile)
        page = catalog_page(
            result, number=params.get("page"), per_page=settings.MARKETPLACE_CATALOG_PAGE_SIZE
        )
        for listing in page.object_list:
            listing.distance_label = _distance_label(getattr(listing, "distance_sq", None))
        # One template pass for the page's cards (the same card template the cached cards use).
        cards = [listing_cards(page.object_list, basis=result.distance_basis)] if page.object_list else []
    without_page = params.copy()
    without_page.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "cards": cards,
        "result": result,
        "query": query,
        "querystring": without_page.urlencode(),
        "filters_active": sum(1 for name in FILTER_FIELDS if params.get(name)),
        "distance_without_basis": result.sort == Sort.DISTANCE and not result.distance_basis,
        "search_note": _search_note(form, params),
    }
    return render_to_string("marketplace/_catalog_content.html", context)


def _search_note(form: CatalogForm, params) -> str:
    """Why the words typed in the search box were not used, if they were not (all trainings shown)."""
    if form.is_bound and "q" in form.errors:
        return _(
            "Your search is too long (at most %(limit)d characters), so it was not used and all trainings "
            "are shown. Type a few key words."
        ) % {"limit": form.fields["q"].max_length}
    if (params.get("q") or "").strip() and not search_terms(form.cleaned_data.get("q") or ""):
        return _("Your search has no letters or numbers to look for, so all trainings are shown.")
    return ""


def _distance_label(squared_degrees: float | None) -> str:
    km = distance_km(squared_degrees)
    return "" if km is None else floatformat(km, 1)


def listing_cards(listings, *, basis: str) -> str:
    """Results as the list shows them (``listing.distance_label`` set for a distance from a location)."""
    context = Context({"listings": listings, "basis": basis, "closeness": Closeness}, autoescape=True)
    return get_template("marketplace/_listing_cards.html").template.render(context)


@dataclass
class NearestPage:
    result: CatalogResult
    page: Page
    cards: list[str]


def _nearest(params, *, version: int, location: catalog_cache.Location) -> NearestPage:
    """One page of "nearest" from the browser's location, without a query for the order or the cards.

    The same listings, order, page and distances as ``catalog_listings`` with the location
    (tests/marketplace/test_catalog_cache.py compares the two).
    """

    def build() -> catalog_cache.DistanceOrder:
        form = CatalogForm(params, platforms=_active_platforms(), provinces=_provinces())
        query = dataclasses.replace(form.catalog_query(), sort=Sort.NEUTRAL, latitude=None, longitude=None)
        rows = catalog_listings(query=query).listings.values_list(
            "pk", "tie", "training__mode", "training__latitude", "training__longitude"
        )
        return catalog_cache.DistanceOrder.from_rows(rows)

    order = catalog_cache.distance_order_get(
        catalog_cache.distance_order_key(version=version, params=params), build
    )
    pks = order.ordered(location.latitude, location.longitude)
    page = Paginator(pks, settings.MARKETPLACE_CATALOG_PAGE_SIZE).get_page(params.get("page"))
    offset = page.start_index() - 1 if page.object_list else 0
    keys = {pk: catalog_cache.card_key(version=version, pk=pk, variant="location") for pk in page.object_list}
    found = catalog_cache.cards_get(list(keys.values()))
    missing = [pk for pk, key in keys.items() if key not in found]
    if missing:
        rendered = {}
        for listing in catalog_listings(query=CatalogQuery()).listings.filter(pk__in=missing):
            distance = listing.training.mode == "offline" and listing.training.latitude is not None
            distance = distance and listing.training.longitude is not None
            parts = slots_render(
                lambda tokens, listing=listing, distance=distance: _card_with_slot(listing, tokens, distance),
                ["km"],
            )
            rendered[keys[listing.pk]] = parts
        catalog_cache.cards_set(rendered)
        found.update(rendered)
    cards = []
    shown = []
    for position, pk in enumerate(page.object_list, start=offset):
        parts = found.get(keys[pk])
        if parts is None:  # hidden since the order was read: it simply drops out
            continue
        km = pks.squared(position)
        cards.append(slots_fill(parts, {"km": _distance_label(km)}))
        shown.append(pk)
    page.object_list = shown
    result = CatalogResult(listings=None, sort=Sort.DISTANCE, distance_basis="location")
    return NearestPage(result=result, page=page, cards=cards)


def _card_with_slot(listing, tokens: dict[str, str], distance: bool) -> str:
    listing.distance_label = tokens["km"] if distance else ""
    return listing_cards([listing], basis="location")


@require_GET
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    training = training_for_detail(pk)
    if training is None:
        raise Http404(_("This training is not in the catalog."))
    return render(request, "marketplace/training_detail.html", {"training": training})


def _application_rate_limited(request: HttpRequest) -> bool:
    ip = request.META.get("REMOTE_ADDR", "")
    key = f"marketplace:applications:{ip}"
    cache.add(key, 0, 3600)
    try:
        count = cache.incr(key)
    except ValueError:
        return False
    return count > settings.MARKETPLACE_APPLICATIONS_PER_HOUR


@never_cache
def provider_apply(request: HttpRequest) -> HttpResponse:
    """The public application form for training providers."""
    if request.method == "POST":
        form = ProviderApplicationForm(request.POST, request.FILES)
        if form.is_valid():
            if _application_rate_limited(request):
                form.add_error(
                    None, _("Too many applications from this connection. Please try again in an hour.")
                )
            else:
                try:
                    provider = _provider_apply(form)
                except NibTaken as exc:
                    form.add_error("nib", str(exc.message))
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    request.session["marketplace_applied"] = provider.pk
                    return redirect("marketplace:provider_applied")
        form.stash_valid_uploads()
    else:
        form = ProviderApplicationForm()
    tokens = form.stash_tokens()
    documents = [(form[name], form.stashed.get(name), tokens.get(name, "")) for name in form.DOCUMENT_FIELDS]
    context = {
        "form": form,
        "documents": documents,
        "document_limit": settings.MARKETPLACE_DOCUMENT_MAX_BYTES,
    }
    return render(request, "marketplace/provider_apply.html", context)


def _provider_apply(form: ProviderApplicationForm):
    data = form.cleaned_data
    documents = []
    opened = []
    try:
        for field_name, kind in form.DOCUMENT_FIELDS.items():
            upload = data.get(field_name)
            if upload:
                documents.append(services.DocumentUpload(kind=kind, file=upload, name=upload.name))
            elif field_name in form.stashed:
                stashed = form.stashed[field_name]
                handle = File(stashed.open(), name=stashed.name)
                opened.append((handle, stashed.path))
                documents.append(services.DocumentUpload(kind=kind, file=handle, name=stashed.name))
        provider = services.provider_apply(
            application=services.ProviderApplication(
                legal_name=data["legal_name"],
                brand_name=data["brand_name"],
                nib=data["nib"],
                description=data["description"],
                address=data["address"],
                district_code=data["district"].code,
                contact_name=data["contact_name"],
                contact_email=data["contact_email"],
                contact_phone=data["contact_phone"],
                website=data["website"],
            ),
            documents=documents,
            affiliations=[
                services.DeclaredAffiliation(
                    platform_id=platform.pk, relationship=data["affiliation_details"]
                )
                for platform in data["affiliated_platforms"]
            ],
        )
    finally:
        for handle, _path in opened:
            handle.close()
    for _handle, path in opened:
        default_storage.delete(path)
    return provider


@never_cache
def provider_applied(request: HttpRequest) -> HttpResponse:
    if not request.session.get("marketplace_applied"):
        messages.info(request, _("Fill in the form to apply as a training provider."))
        return redirect("marketplace:provider_apply")
    return render(request, "marketplace/provider_applied.html")


@require_GET
def districts(request: HttpRequest) -> JsonResponse:
    """Districts of a province for the application form's dependent select."""
    code = request.GET.get("province", "")
    rows = (
        District.objects.filter(regency__province_id=code)
        .select_related("regency")
        .order_by("regency__name", "name")
    )
    response = JsonResponse(
        {"results": [{"code": d.code, "name": f"{d.name}, {d.regency.name}"} for d in rows]}
    )
    response["Cache-Control"] = "public, max-age=86400"
    return response


CERTIFICATE_CHECKS_PER_HOUR = 60


@require_GET
@never_cache
def certificate_verify(request: HttpRequest, code: str = "") -> HttpResponse:
    """Public: anyone (an employer, say) checks a certificate's verification code, without logging in.

    Shows only what the certificate itself says, with the name partly masked.
    """
    from marketplace.certificates import certificate_by_code, certificate_facts

    code = code or request.GET.get("kode", "")
    facts = None
    limited = False
    if code:
        key = f"marketplace:certificate-check:{request.META.get('REMOTE_ADDR', '')}"
        cache.add(key, 0, timeout=3600)
        try:
            limited = cache.incr(key) > CERTIFICATE_CHECKS_PER_HOUR
        except ValueError:
            limited = False
        if not limited:
            completion = certificate_by_code(code)
            facts = certificate_facts(completion) if completion else None
    return render(
        request,
        "marketplace/certificate_verify.html",
        {"code": code, "facts": facts, "limited": limited},
        status=429 if limited else 200,
    )
