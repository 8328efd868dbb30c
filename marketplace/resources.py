"""CSV/XLSX import and export of trainings and listings (django-import-export).

Officers upload a file in the console; the import runs as a dry run first and
shows every row's errors, then imports on confirmation. Imported trainings are
drafts: they go through review like any other. Approved or in-review trainings
cannot be overwritten by an import.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from marketplace.enums import ProviderStatus, TrainingStatus
from marketplace.models import Listing, Platform, Provider, Training
from prakerja.audit import audit_log
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


def _audit_import(*, kind: str, result, kwargs) -> None:
    if kwargs.get("dry_run"):
        return
    totals = {key: value for key, value in result.totals.items() if value}
    audit_log(actor=kwargs.get("user"), action=f"marketplace.import.{kind}", data={"rows": totals})


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
        # Status is exported for information; an import never sets it.
        import_id_fields = ("id",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def get_import_fields(self):
        return [field for field in super().get_import_fields() if field.column_name != "status"]

    def import_instance(self, instance, row, **kwargs):
        if instance.pk and instance.status not in (TrainingStatus.DRAFT, TrainingStatus.REJECTED):
            raise ValidationError(
                {
                    "id": _("Training %(id)s is %(status)s and cannot be changed by an import.")
                    % {"id": instance.pk, "status": instance.get_status_display().lower()}
                }
            )
        super().import_instance(instance, row, **kwargs)

    def after_import(self, dataset, result, **kwargs):
        _audit_import(kind="trainings", result=result, kwargs=kwargs)


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
        # Re-importing a platform's file updates its listings by SKU.
        import_id_fields = ("platform", "sku")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def after_import(self, dataset, result, **kwargs):
        _audit_import(kind="listings", result=result, kwargs=kwargs)
