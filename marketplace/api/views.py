"""Platform API endpoints (JSON). See marketplace/openapi.yaml for the contract."""

from __future__ import annotations

import re
from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from marketplace import services
from marketplace.api.errors import ApiError, error_response
from marketplace.api.framework import (
    ApiContext,
    input_refusal,
    json_int,
    parse_json_object,
    platform_endpoint,
)
from marketplace.enums import ProviderStatus, TrainingStatus
from marketplace.exceptions import PriceNotAllowed
from marketplace.models import Listing
from marketplace.selectors import affiliated_expression

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
SKU_MAX_LENGTH = Listing._meta.get_field("sku").max_length
QUERY_INTEGER = re.compile(r"([0-9]{1,18})(?:\.0+)?")


def _listings(context: ApiContext):
    return (
        Listing.objects.filter(platform=context.platform)
        .select_related("platform", "training", "training__provider")
        .annotate(affiliated=affiliated_expression())
    )


def listing_json(listing: Listing) -> dict:
    training = listing.training
    provider = training.provider
    return {
        "id": listing.pk,
        "sku": listing.sku,
        "url": listing.url,
        "price": listing.price,
        "available": listing.is_available,
        "in_catalog": (
            listing.is_available
            and listing.platform.active
            and training.status == TrainingStatus.APPROVED
            and provider.status == ProviderStatus.VERIFIED
        ),
        "affiliated": bool(listing.affiliated),
        "training": {
            "id": training.pk,
            "title": training.title,
            "category": training.category,
            "level": training.level,
            "mode": training.mode,
            "duration_hours": training.duration_hours,
            "price_ceiling": training.price,
            "status": training.status,
            "provider": {"id": provider.pk, "name": str(provider), "status": provider.status},
        },
        "created_at": listing.created_at.isoformat(),
        "updated_at": listing.updated_at.isoformat(),
    }


def _int_param(
    request: HttpRequest, name: str, *, default: int | None, low: int, high: int | None
) -> int | None:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    # ASCII digits only (str.isdigit() also says yes to "²" and "١٢", and int() refuses 5,000
    # digits); "80.0" is the integer 80, as JSON Schema says.
    match = QUERY_INTEGER.fullmatch(raw)
    value = int(match[1]) if match else None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise ApiError("validation_failed", details={name: [f"must be an integer {bounds}"]})
    return value


@platform_endpoint(methods=("GET",))
def ping(request: HttpRequest, context: ApiContext) -> HttpResponse:
    return JsonResponse(
        {
            "platform": {"slug": context.platform.slug, "name": context.platform.name},
            "key_id": context.credential.key_id,
            "server_time": int(timezone.now().timestamp()),
        }
    )


@platform_endpoint(methods=("GET",))
def listings(request: HttpRequest, context: ApiContext) -> HttpResponse:
    """The platform's own listings, by id, in pages (``after`` = the last id seen)."""
    limit = _int_param(request, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    after = _int_param(request, "after", default=0, low=0, high=None)
    queryset = _listings(context).filter(pk__gt=after).order_by("pk")
    sku = request.GET.get("sku")
    if sku and len(sku) > SKU_MAX_LENGTH:
        raise ApiError("validation_failed", details={"sku": [f"at most {SKU_MAX_LENGTH} characters"]})
    if sku:
        queryset = queryset.filter(sku=sku)
    rows = list(queryset[:limit])
    return JsonResponse(
        {
            "results": [listing_json(row) for row in rows],
            "next_after": rows[-1].pk if len(rows) == limit else None,
        }
    )


def _validate_listing_patch(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - {"price", "available"})
    for name in unknown:
        errors[name] = ["unknown field"]
    if "price" in data:
        data["price"] = json_int(data["price"])
        if data["price"] is None:
            errors["price"] = ["must be an integer number of rupiah"]
    if "available" in data and not isinstance(data["available"], bool):
        errors["available"] = ["must be true or false"]
    if not ({"price", "available"} & set(data)):
        errors["_"] = ["send price and/or available"]
    if errors:
        raise ApiError("validation_failed", details=errors)
    return data


@platform_endpoint(methods=("GET", "PATCH"))
def listing(request: HttpRequest, context: ApiContext, listing_id: int) -> HttpResponse:
    if request.method == "PATCH":
        data = _validate_listing_patch(parse_json_object(request))
        try:
            services.listing_update(
                listing_id=listing_id,
                platform_id=context.platform.pk,
                price=data.get("price"),
                is_available=data.get("available"),
            )
        except Listing.DoesNotExist:
            raise ApiError("listing_not_found") from None
        except PriceNotAllowed as exc:
            raise ApiError(
                "price_not_allowed", str(exc.message), details={"price": [str(exc.message)]}
            ) from None
    row = _listings(context).filter(pk=listing_id).first()
    if row is None:
        raise ApiError("listing_not_found")
    return JsonResponse(listing_json(row))


def not_found(request: HttpRequest) -> HttpResponse:
    return input_refusal(request) or error_response("not_found")


@require_GET
def openapi_document(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(OPENAPI_PATH.read_bytes(), content_type="application/yaml; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
