"""Row handlers of trainings and listings for registration's spreadsheet pipeline.

Registered in MarketplaceConfig.ready (see registration.import_registry). The rows
are checked with the models' own rules, then written through marketplace services.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from marketplace.enums import ProviderStatus, TrainingStatus
from marketplace.exceptions import MarketplaceError
from marketplace.models import Platform, Provider, Training
from marketplace.rules import price_problem
from marketplace.services import ListingRow, listings_import, training_draft_save
from registration.import_registry import RowHandler, import_handler_register
from registration.imports import Row, RowErrors
from registration.models import District

TRAININGS = "trainings"
LISTINGS = "listings"
TRAINING_COLUMNS = (
    "provider_nib",
    "title",
    "description",
    "category",
    "level",
    "mode",
    "duration_hours",
    "price",
)
TRAINING_OPTIONAL = ("id", "address", "district_code", "latitude", "longitude")
FIELD_COLUMNS = {"provider": "provider_nib", "district": "district_code", "provider_id": "provider_nib"}
TRUE_WORDS = {"1", "true", "ya", "yes", "y", "benar"}
FALSE_WORDS = {"0", "false", "tidak", "no", "n", "salah"}


def _int(text: str) -> int | None:
    text = (text or "").strip()
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", text):  # 450.000, as Indonesians write it
        text = text.replace(".", "")
    return int(text) if text.isdigit() and len(text) < 16 else None


def _decimal(text: str):
    try:
        return Decimal(text.strip()) if text.strip() else None
    except InvalidOperation:
        return "bad"


def training_rows_check(rows: list[Row], errors: RowErrors) -> list[tuple[int, dict]]:
    nibs = {row.values.get("provider_nib", "").strip() for row in rows}
    providers = dict(
        Provider.objects.filter(nib__in=nibs).exclude(status=ProviderStatus.REJECTED).values_list("nib", "pk")
    )
    codes = {row.values.get("district_code", "").strip() for row in rows} - {""}
    districts = set(District.objects.filter(code__in=codes).values_list("code", flat=True))
    items = []
    for row in rows:
        v = row.values
        ok = True
        nib = v.get("provider_nib", "").strip()
        if nib not in providers:
            errors.add(
                row.number,
                "provider_nib",
                _gettext("No registered provider has NIB %(value)s.") % {"value": nib},
            )
            ok = False
        code = v.get("district_code", "").strip()
        if code and code not in districts:
            errors.add(
                row.number,
                "district_code",
                _gettext("Unknown district code %(value)s (use e.g. 32.75.01).") % {"value": code},
            )
            ok = False
        training_id = None
        if v.get("id", "").strip():
            training_id = _int(v["id"])
            existing = Training.objects.filter(pk=training_id).first() if training_id is not None else None
            if existing is None:
                errors.add(row.number, "id", _gettext("No training has id %(value)s.") % {"value": v["id"]})
                ok = False
            elif existing.status not in (TrainingStatus.DRAFT, TrainingStatus.REJECTED):
                errors.add(
                    row.number,
                    "id",
                    _gettext("Training %(id)s is %(status)s and cannot be changed by an import.")
                    % {"id": existing.pk, "status": existing.get_status_display().lower()},
                )
                ok = False
        fields = {
            "title": " ".join(v.get("title", "").split()),
            "description": v.get("description", "").strip(),
            "category": v.get("category", "").strip().lower(),
            "level": v.get("level", "").strip().lower(),
            "mode": v.get("mode", "").strip().lower(),
            "duration_hours": _int(v.get("duration_hours", "")),
            "price": _int(v.get("price", "")),
            "address": v.get("address", "").strip(),
            "latitude": _decimal(v.get("latitude", "")),
            "longitude": _decimal(v.get("longitude", "")),
        }
        for name, column in (("duration_hours", "duration_hours"), ("price", "price")):
            if fields[name] is None:
                errors.add(row.number, column, _("Write a whole number, without Rp or decimals."))
                ok = False
        for name in ("latitude", "longitude"):
            if fields[name] == "bad":
                errors.add(
                    row.number,
                    name,
                    _("Enter the coordinates as decimal numbers, e.g. -6.2383 and 106.9756."),
                )
                ok = False
        if not ok:
            continue
        candidate = Training(provider_id=providers[nib], **fields)
        try:
            candidate.full_clean(exclude=["status", "provider", "district"])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    errors.add(row.number, FIELD_COLUMNS.get(name, name), message)
            continue
        fields |= {"provider_id": providers[nib], "district_id": code or None}
        items.append((row.number, {"id": training_id, "nib": nib, "fields": fields}))
    return items


def training_rows_apply(*, items, actor, errors: RowErrors) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for number, item in items:
        try:
            _training, changed = training_draft_save(training_id=item["id"], actor=actor, **item["fields"])
        except MarketplaceError as exc:
            errors.add(number, "id", str(exc.message))
            continue
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    errors.add(number, FIELD_COLUMNS.get(name, name), message)
            continue
        counts["created" if item["id"] is None else "updated" if changed else "unchanged"] += 1
    return counts


def training_key(item: dict) -> tuple:
    if item["id"] is not None:
        return ("id", item["id"])
    return ("new", item["nib"], item["fields"]["title"].lower())


def listing_rows_check(rows: list[Row], errors: RowErrors) -> list[tuple[int, object]]:
    platforms = dict(
        Platform.objects.filter(
            slug__in={row.values.get("platform", "").strip() for row in rows}
        ).values_list("slug", "pk")
    )
    ids = {_int(row.values.get("training_id", "")) for row in rows} - {None}
    prices = dict(Training.objects.filter(pk__in=ids).values_list("pk", "price"))
    items = []
    for row in rows:
        v = row.values
        ok = True
        slug = v.get("platform", "").strip()
        if slug not in platforms:
            errors.add(
                row.number,
                "platform",
                _gettext("Unknown platform %(value)s (use its short name).") % {"value": slug},
            )
            ok = False
        sku = v.get("sku", "").strip()
        if not sku or len(sku) > 64:
            errors.add(row.number, "sku", _("The SKU has 1 to 64 characters."))
            ok = False
        training_id = _int(v.get("training_id", ""))
        if training_id not in prices:
            errors.add(
                row.number,
                "training_id",
                _gettext("No training has id %(value)s.") % {"value": v.get("training_id", "")},
            )
            ok = False
        price = _int(v.get("price", ""))
        problem = price_problem(price, ceiling=prices.get(training_id))
        if problem:
            errors.add(row.number, "price", problem)
            ok = False
        available_text = v.get("is_available", "1").strip().lower() or "1"
        if available_text not in TRUE_WORDS | FALSE_WORDS:
            errors.add(row.number, "is_available", _("Write 1 (available) or 0 (not available)."))
            ok = False
        url = v.get("url", "").strip()
        if not url.startswith(("https://", "http://")) or len(url) > 500:
            errors.add(
                row.number, "url", _("Enter the full address of the training's page, starting with https://.")
            )
            ok = False
        if ok:
            items.append(
                (
                    row.number,
                    ListingRow(
                        platform_id=platforms[slug],
                        sku=sku,
                        training_id=training_id,
                        url=url,
                        price=price,
                        is_available=available_text in TRUE_WORDS,
                    ),
                )
            )
    return items


def listing_rows_apply(*, items, actor, errors: RowErrors) -> dict[str, int]:
    counts, refused = listings_import(rows=[item for _number, item in items], actor=actor)
    for index, message in refused.items():
        errors.add(items[index][0], "sku", message)
    return counts


def register() -> None:
    import_handler_register(
        RowHandler(
            kind=TRAININGS,
            label=pgettext_lazy("import", "Trainings"),
            columns=TRAINING_COLUMNS,
            key_columns=("id", "provider_nib", "title"),
            check=training_rows_check,
            key=training_key,
            apply=training_rows_apply,
            permissions=("marketplace.add_training", "marketplace.change_training"),
            max_rows=5_000,
            example=(
                "1111222233334",
                "Menjahit Busana Muslim",
                "Pola, potong, jahit.",
                "beauty",
                "basic",
                "self_paced",
                "24",
                "450000",
            ),  # fmt: skip
            notes=_(
                "Optional columns: id (to change a draft or rejected training), address, district_code, latitude, "
                "longitude. Imported trainings are drafts and go through review; an approved or in-review "
                "training cannot be changed by an import."
            ),
        )
    )
    import_handler_register(
        RowHandler(
            kind=LISTINGS,
            label=pgettext_lazy("import", "Listings"),
            columns=("platform", "sku", "training_id", "url", "price"),
            key_columns=("platform", "sku"),
            check=listing_rows_check,
            key=lambda item: (item.platform_id, item.sku),
            apply=listing_rows_apply,
            permissions=("marketplace.add_listing", "marketplace.change_listing"),
            max_rows=20_000,
            example=("pintaria", "PIN-10", "1", "https://pintaria.example/p/10", "250000"),
            notes=_(
                "platform is the platform's short name; an existing SKU of the platform is updated (price, page, "
                "availability). Optional column: is_available (1 or 0)."
            ),
        )
    )
