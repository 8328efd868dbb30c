"""The console in Indonesian: no column, filter, action or model name left in English.

Every label the changelists show (list_display, list_filter, actions, model names) of the project's own
apps must come out differently in Indonesian than in English, unless it is the same word in both.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path, label_for_field
from django.urls import reverse
from django.utils import translation

from tests.factories import UserFactory

PROJECT_APPS = {"prakerja", "registration", "kyc", "disbursement", "cohorts", "marketplace", "surveys"}
# Words Indonesian uses as they are.
SAME_IN_BOTH = {"status", "platform", "id", "sku", "nib", "nik", "email", "url", "api", "sms", "otp", "kk"}


def _labels(model, model_admin):
    for name in model_admin.list_display:
        if isinstance(name, str) and name not in ("__str__", "action_checkbox"):
            yield f"column {name}", lambda name=name: label_for_field(name, model, model_admin)
    for entry in model_admin.list_filter:
        if isinstance(entry, str):
            yield f"filter {entry}", lambda entry=entry: get_fields_from_path(model, entry)[-1].verbose_name
    for action in model_admin.actions or ():
        if callable(action) and getattr(action, "short_description", None):
            yield f"action {action.__name__}", lambda action=action: action.short_description
    yield "model name", lambda: model._meta.verbose_name_plural


def test_every_console_label_has_an_indonesian_translation():
    untranslated = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for where, label in _labels(model, model_admin):
            with translation.override("en"):
                english = str(label())
            with translation.override("id"):
                indonesian = str(label())
            if english == indonesian and english.lower().strip() not in SAME_IN_BOTH:
                untranslated.append(f"{model._meta.label} {where}: {english!r}")
    assert not untranslated, "\n".join(untranslated)


@pytest.mark.django_db
def test_participants_list_reads_indonesian(client):
    from tests.marketplace.factories import participant_with_balance

    participant_with_balance()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = client.get(
        reverse("admin:cohorts_participant_changelist"), HTTP_ACCEPT_LANGUAGE="id"
    ).content.decode()
    assert "Masked card number" not in html
    assert ">Nomor kartu</a>" in html
