"""CSV/XLSX exports of trainings and listings (django-import-export).

Imports run on the ImportJob pipeline instead (``marketplace.import_handlers``):
a dry run in Celery, row errors, confirmation, then the marketplace services.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from marketplace.enums import ProviderStatus
from marketplace.models import Listing, Platform, Provider, Training
from registration.models import District


class LookupWidget(ForeignKeyWidget):
    """A foreign key by a readable column; an unknown value is a row error, not a crash."""

    def __init__(self, model, field, *, queryset=None, message=""):
        super().__init__(model, field)
        self._queryset = queryset
        self._message = message

    def get_queryset(self, value, row, *args, **kwargs):
        return self._queryset() if self._queryset else self.model.objects.all()

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(str(value).strip() if value is not None else value, row=row, **kwargs)
        except (self.model.DoesNotExist, self.model.MultipleObjectsReturned):
            raise ValueError(self._message % {"value": value}) from None


class TrainingResource(resources.ModelResource):
    provider = fields.Field(
        attribute="provider",
        column_name="provider_nib",
        widget=LookupWidget(
            Provider,
            "nib",
            queryset=lambda: Provider.objects.exclude(status=ProviderStatus.REJECTED),
            message=gettext_lazy("No registered provider has NIB %(value)s."),
        ),
    )
    district = fields.Field(
        attribute="district",
        column_name="district_code",
        widget=LookupWidget(
            District, "code", message=gettext_lazy("Unknown district code %(value)s (use e.g. 32.75.01).")
        ),
    )

    class Meta:
        model = Training
        fields = (
            "id",
            "provider",
            "title",
            "description",
            "category",
            "level",
            "mode",
            "duration_hours",
            "price",
            "address",
            "district",
            "latitude",
            "longitude",
            "status",
        )
        export_order = fields


class ListingResource(resources.ModelResource):
    platform = fields.Field(
        attribute="platform",
        column_name="platform",
        widget=LookupWidget(
            Platform, "slug", message=gettext_lazy("Unknown platform %(value)s (use its short name).")
        ),
    )
    training = fields.Field(
        attribute="training",
        column_name="training_id",
        widget=LookupWidget(Training, "pk", message=gettext_lazy("No training has id %(value)s.")),
    )

    class Meta:
        model = Listing
        fields = ("platform", "sku", "training", "url", "price", "is_available")
        export_order = fields
