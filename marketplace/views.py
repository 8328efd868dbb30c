from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from marketplace import catalog_cache, services
from marketplace.exceptions import NibTaken
from marketplace.forms import CatalogForm, ProviderApplicationForm
from marketplace.models import Platform
from marketplace.selectors import (
    CatalogQuery,
    Closeness,
    Domicile,
    Sort,
    catalog_listings,
    catalog_page,
    distance_km,
    training_for_detail,
)
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
    catalog version, so it is rendered once and cached (``marketplace/catalog_cache.py``).
    """
    applicant = applicant_for_user(request.user)
    domicile = Domicile.of(applicant)
    if not catalog_cache.cache_enabled():
        content = _catalog_content(request, domicile)
    else:
        # The version first: a page rendered after this read is at least this new.
        key = catalog_cache.page_key(
            version=catalog_cache.catalog_version(), params=request.GET, domicile=domicile
        )
        content = catalog_cache.page_get(key)
        if content is None:
            content = _catalog_content(request, domicile)
            catalog_cache.page_set(key, content)
    # The content was rendered by this view from escaped template output.
    return render(request, "marketplace/catalog.html", {"content": mark_safe(content)})  # noqa: S308


def _catalog_content(request: HttpRequest, domicile: Domicile | None) -> str:
    form = CatalogForm(request.GET or None, platforms=_active_platforms(), provinces=_provinces())
    query = form.catalog_query() if form.is_bound else CatalogQuery()
    result = catalog_listings(query=query, domicile=domicile)
    page = catalog_page(
        result, number=request.GET.get("page"), per_page=settings.MARKETPLACE_CATALOG_PAGE_SIZE
    )
    for listing in page.object_list:
        listing.distance_km = distance_km(getattr(listing, "distance_sq", None))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "result": result,
        "query": query,
        "closeness": Closeness,
        "sort": Sort,
        "querystring": params.urlencode(),
        "filters_active": sum(1 for name in FILTER_FIELDS if request.GET.get(name)),
        "distance_without_basis": result.sort == Sort.DISTANCE and not result.distance_basis,
    }
    return render_to_string("marketplace/_catalog_content.html", context)


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
