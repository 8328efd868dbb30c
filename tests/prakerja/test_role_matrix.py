"""Every role against every console URL and every staff page, with the exact expected answer.

The URLs are not listed by hand: they come from ``admin.site.get_urls()``, each registered
ModelAdmin's ``get_urls()`` (changelist, add, change/delete/history of a seeded object,
import/export pages, custom views) and every route under ``/staf/``. ``EXPECTED`` holds
one explicit answer per URL name and principal; a URL without an entry fails the test, so
a new admin or page cannot ship without someone deciding who may open it.

Answers: ``2`` 200, ``L`` 302 to a sign-in page, ``R`` 302 elsewhere, ``4`` 403, ``N`` 404,
``M`` 405 (a POST-only step reached by someone allowed to use it).
Columns, in order: anonymous, applicant, superuser, Programme Officer, KYC Reviewer,
Finance Officer, Disnaker Staff (province 32), Platform, Competency Assessor (an assessor
institution's account), Kemnaker Officer, Monitoring Institution (access in force).

Set ``ROLE_MATRIX_OUT=<file>`` to write today's answers in the table's format there (to
review a change, never to paste blindly).
"""

from __future__ import annotations

import datetime
import io
import os
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from import_export.admin import ExportMixin, ImportMixin

from prakerja.admin import ConsoleImportExportMixin
from prakerja.roles import Role
from tests.factories import ApplicantFactory, UserFactory
from tests.registration.factories import disnaker_user

pytestmark = pytest.mark.django_db

PRINCIPALS = [
    "anonymous",
    "applicant",
    "superuser",
    Role.PROGRAMME_OFFICER,
    Role.KYC_REVIEWER,
    Role.FINANCE_OFFICER,
    Role.DISNAKER_STAFF,
    Role.PLATFORM,
    Role.ASSESSOR,
    Role.KEMNAKER_OFFICER,
    Role.MONITOR,
]

# Not walked, with the reason. Everything else the console or /staf/ answers is.
NOT_WALKED = {
    "admin:login": "the sign-in page itself (tests/prakerja/test_accounts.py)",
    "admin:logout": "signing out (tests/prakerja/test_accounts.py)",
    "admin:view_on_site": "Django's redirect to an object's public page, not a console view",
    "admin:<catch-all>": "Django's catch-all that redirects unknown console paths",
}

CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")
STANDARD = ("_changelist", "_add", "_change", "_delete", "_history")


def _route(pattern) -> str:
    return str(pattern.pattern)


def admin_routes() -> dict[str, tuple[str, type | None]]:
    """``{url name: (path template, model or None)}`` for the whole console."""
    routes: dict[str, tuple[str, type | None]] = {}
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLPattern):
            name = pattern.name or "<catch-all>"
            if name == "app_list":
                for label in sorted({model._meta.app_label for model in admin.site._registry}):
                    routes[f"admin:app_list:{label}"] = (f"/admin/{label}/", None)
                continue
            routes[f"admin:{name}"] = ("/admin/" + _route(pattern), None)
    for model, model_admin in admin.site._registry.items():
        prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for pattern in model_admin.get_urls():
            if isinstance(pattern, URLPattern) and pattern.name:
                routes[f"admin:{pattern.name}"] = (prefix + _route(pattern), model)
    return routes


def staff_routes() -> dict[str, tuple[str, None]]:
    routes = {}

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if prefix == "" and _route(pattern) == "admin/":
                    continue
                ns = pattern.namespace or namespace
                walk(pattern.url_patterns, prefix + _route(pattern), ns)
            elif (prefix + _route(pattern)).startswith("staf/"):
                routes[f"{namespace}:{pattern.name}"] = ("/" + prefix + _route(pattern), None)

    walk(get_resolver().url_patterns, "", "")
    return routes


def all_routes():
    return {**admin_routes(), **staff_routes()}


def _principal(name: str):
    if name == "anonymous":
        return None
    if name == "applicant":
        return ApplicantFactory().user
    if name == "superuser":
        return UserFactory(email="root@example.id", is_staff=True, is_superuser=True)
    if name == Role.DISNAKER_STAFF:
        return disnaker_user("32", email="disnaker-matrix@example.id")
    if name == Role.ASSESSOR:
        from marketplace.models import AssessorInstitution
        from marketplace.services import assessor_assign

        institution = AssessorInstitution.objects.create(name="LSP Matriks", licence_number="LSP-MATRIKS")
        user = UserFactory(email="asesor-matrix@example.id")
        assessor_assign(user=user, institution_id=institution.pk, actor=None)
        return user
    user = UserFactory(email=f"{name.split()[0].lower()}@example.id", is_staff=True)
    user.groups.add(Group.objects.get(name=name))
    if name == Role.MONITOR:
        from oversight.monitoring import monitor_access_set

        monitor_access_set(
            access_id=None,
            user=user,
            institution="Pemantau matriks",
            expires_on=datetime.date.today() + datetime.timedelta(days=30),
            actor=None,
        )
    return user


def _seed(django_capture_on_commit_callbacks, users: dict) -> dict:
    """Demo data (every capability appears there), plus rows the demo does not hold."""
    from kyc.models import KycSubmission
    from marketplace.models import ProviderDocument
    from registration.enums import ImportKind
    from registration.models import ImportJob, Province, ScreeningList

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=io.StringIO())
    jabar = Province.objects.get(code="32")
    offline_job = ImportJob.objects.filter(kind=ImportKind.OFFLINE_REGISTRATION, province=jabar).first()
    if offline_job is None:
        offline_job = ImportJob.objects.create(
            kind=ImportKind.OFFLINE_REGISTRATION,
            province=jabar,
            original_name="a.csv",
            created_by=users[Role.DISNAKER_STAFF],
        )
    list_job = ImportJob.objects.filter(kind=ImportKind.SCREENING_LIST).first()
    if list_job is None:
        list_job = ImportJob.objects.create(
            kind=ImportKind.SCREENING_LIST,
            screening_list=ScreeningList.objects.first(),
            original_name="b.csv",
            created_by=users["superuser"],
        )
    _seed_rows_the_demo_lacks(users)
    from cohorts.models import Wave
    from disbursement.models import LedgerMovement
    from registration.models import OfflineSubmission

    submission = OfflineSubmission.objects.get(province=jabar)  # the demo's, waiting for Kemnaker
    return {
        ("registration:staff_submission_detail", "submission_id"): submission.pk,
        ("registration:kemnaker_review", "submission_id"): submission.pk,
        ("oversight:monitoring_dataset", "slug"): "funnel-per-provinsi",
        ("oversight:monitoring_download", "slug"): "funnel-per-provinsi",
        ("oversight:monitoring_draw_file", "number"): Wave.objects.order_by("number").first().number,
        "superuser": users["superuser"],
        ("registration:staff_import_detail", "job_id"): offline_job.pk,
        ("admin:registration_screeninglist_import_job", "job_id"): list_job.pk,
        ("admin:disbursement_ledgermovement_reverse", "movement_id"): LedgerMovement.objects.first().pk,
        ("admin:marketplace_providerdocument_download", "document_id"): ProviderDocument.objects.first().pk,
        ("kyc:photo", "submission_id"): KycSubmission.objects.first().pk,
        ("kyc:photo", "image"): "selfie",
    }


def _seed_rows_the_demo_lacks(users: dict) -> None:
    from allauth.mfa.models import Authenticator

    from cohorts.models import Blacklist
    from marketplace.models import Platform, WebhookDelivery
    from registration.models import Applicant

    if not Blacklist.objects.exists():
        Blacklist.objects.create(applicant=Applicant.objects.order_by("pk").first(), reason="uji")
    if not WebhookDelivery.objects.exists():
        WebhookDelivery.objects.create(
            platform=Platform.objects.order_by("pk").first(),
            event_type="voucher.issued",
            idempotency_key="voucher:1:issued",
            payload={},
        )
    from disbursement.models import PartnerStatement, PaymentPartner

    if not PartnerStatement.objects.exists() and PaymentPartner.objects.exists():
        PartnerStatement.objects.create(
            partner=PaymentPartner.objects.order_by("pk").first(),
            day=datetime.date(2026, 12, 1),
            file_sha256="0" * 64,
            uploaded_by=users["superuser"],
        )
    if not Authenticator.objects.exists():
        Authenticator.objects.create(
            user=users["superuser"], type=Authenticator.Type.TOTP, data={"secret": "x"}
        )


def _concrete(name: str, template: str, model, params: dict) -> str:
    def fill(match):
        param = match["name"]
        if (name, param) in params:
            return str(params[(name, param)])
        import_kind = getattr(admin.site._registry.get(model), "import_kind", "")
        if param == "job_id" and import_kind:
            # A console import page on the ImportJob pipeline: a job of that admin's kind.
            from registration.models import ImportJob

            job = ImportJob.objects.filter(kind=import_kind).first() or ImportJob.objects.create(
                kind=import_kind, original_name="c.csv", created_by=params["superuser"]
            )
            return str(job.pk)
        # A custom view of a ModelAdmin names its object "<something>_id": a row of that admin's model.
        if model is not None and (param in ("object_id", "pk", "id") or param.endswith("_id")):
            obj = model._default_manager.order_by("pk").first()
            assert obj is not None, f"{name}: no {model._meta.label} row to open: add one to the demo data"
            return str(obj.pk)
        raise AssertionError(f"{name}: no value for <{param}> in _seed()")

    return CONVERTER.sub(fill, template)


def _answer(response) -> str:
    code = response.status_code
    if code == 302:
        location = response["Location"]
        return "L" if "/login/" in location else "R"
    return {200: "2", 403: "4", 404: "N", 405: "M"}.get(code, str(code))


def test_every_role_gets_the_expected_answer_on_every_console_url_and_staff_page(
    django_capture_on_commit_callbacks,
):
    users = {name: _principal(name) for name in PRINCIPALS}
    params = _seed(django_capture_on_commit_callbacks, users)
    empty = [model._meta.label for model in admin.site._registry if not model._default_manager.exists()]
    assert not empty, f"no row to open a change page of {empty}: add one to the demo data or to _seed()"
    routes = {name: route for name, route in all_routes().items() if name not in NOT_WALKED}
    clients = {}
    for principal in PRINCIPALS:
        clients[principal] = Client()
        if users[principal] is not None:
            clients[principal].force_login(users[principal])
    actual: dict[str, str] = {}
    for name, (template, model) in sorted(routes.items()):
        url = _concrete(name, template, model, params)
        actual[name] = "".join(_answer(clients[principal].get(url)) for principal in PRINCIPALS)
    if os.environ.get("ROLE_MATRIX_OUT"):
        with open(os.environ["ROLE_MATRIX_OUT"], "w") as out:
            out.write("".join(f'    "{name}": "{answers}",\n' for name, answers in actual.items()))
    unknown = sorted(set(actual) - set(EXPECTED))
    assert not unknown, f"URLs without an expected answer in EXPECTED: {unknown}"
    gone = sorted(set(EXPECTED) - set(actual))
    assert not gone, f"EXPECTED names URLs that no longer exist: {gone}"
    wrong = {
        name: f"expected {EXPECTED[name]} got {answers}"
        for name, answers in actual.items()
        if answers != EXPECTED[name]
    }
    assert not wrong, "\n".join(f"{name}: {text}" for name, text in wrong.items())


def test_every_import_export_admin_uses_the_console_mixin():
    """A later admin cannot forget the permission checks, the province scope or the audit."""
    missing = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, ImportMixin | ExportMixin)
        and not isinstance(model_admin, ConsoleImportExportMixin)
    ]
    assert missing == []


# fmt: off
#  anonymous, applicant, superuser, Programme, KYC, Finance, Disnaker (32), Platform, Assessor, Kemnaker, Monitor
EXPECTED: dict[str, str] = {
    "admin:account_emailaddress_add": "LL244444444",
    "admin:account_emailaddress_change": "LL244444444",
    "admin:account_emailaddress_changelist": "LL244444444",
    "admin:account_emailaddress_delete": "LL244444444",
    "admin:account_emailaddress_history": "LL244444444",
    "admin:app_list:account": "LL2NNNNNNNN",
    "admin:app_list:auth": "LL2NNNNNNNN",
    "admin:app_list:cohorts": "LL22N2NNNNN",
    "admin:app_list:disbursement": "LL22N2NNNNN",
    "admin:app_list:employment": "LL22NNNNNNN",
    "admin:app_list:kyc": "LL222NNNNNN",
    "admin:app_list:marketplace": "LL22N2NN2NN",
    "admin:app_list:mfa": "LL2NNNNNNNN",
    "admin:app_list:oversight": "LL22222NNNN",
    "admin:app_list:prakerja": "LL22N2NNNNN",
    "admin:app_list:registration": "LL22222NN2N",
    "admin:app_list:surveys": "LL22NNNNNNN",
    "admin:auth_group_add": "LL244444444",
    "admin:auth_group_change": "LL244444444",
    "admin:auth_group_changelist": "LL244444444",
    "admin:auth_group_delete": "LL244444444",
    "admin:auth_group_history": "LL244444444",
    "admin:auth_user_password_change": "LL244444444",
    "admin:autocomplete": "LL444444444",
    "admin:cohorts_application_add": "LL444444444",
    "admin:cohorts_application_change": "LL224244444",
    "admin:cohorts_application_changelist": "LL224244444",
    "admin:cohorts_application_delete": "LL444444444",
    "admin:cohorts_application_history": "LL224244444",
    "admin:cohorts_blacklist_add": "LL224444444",
    "admin:cohorts_blacklist_change": "LL224244444",
    "admin:cohorts_blacklist_changelist": "LL224244444",
    "admin:cohorts_blacklist_delete": "LL224444444",
    "admin:cohorts_blacklist_history": "LL224244444",
    "admin:cohorts_participant_add": "LL444444444",
    "admin:cohorts_participant_change": "LL224244444",
    "admin:cohorts_participant_changelist": "LL224244444",
    "admin:cohorts_participant_delete": "LL444444444",
    "admin:cohorts_participant_history": "LL224244444",
    "admin:cohorts_programme_add": "LL444444444",
    "admin:cohorts_programme_change": "LL224244444",
    "admin:cohorts_programme_changelist": "LL224244444",
    "admin:cohorts_programme_delete": "LL444444444",
    "admin:cohorts_programme_history": "LL224244444",
    "admin:cohorts_provincequota_add": "LL444444444",
    "admin:cohorts_provincequota_change": "LL224244444",
    "admin:cohorts_provincequota_changelist": "LL224244444",
    "admin:cohorts_provincequota_delete": "LL444444444",
    "admin:cohorts_provincequota_export": "LL224244444",
    "admin:cohorts_provincequota_history": "LL224244444",
    "admin:cohorts_provincequota_import": "LL224444444",
    "admin:cohorts_provincequota_import_job": "LL224444444",
    "admin:cohorts_provincequota_import_template": "LL224444444",
    "admin:cohorts_selectionrun_add": "LL444444444",
    "admin:cohorts_selectionrun_change": "LL224244444",
    "admin:cohorts_selectionrun_changelist": "LL224244444",
    "admin:cohorts_selectionrun_delete": "LL444444444",
    "admin:cohorts_selectionrun_history": "LL224244444",
    "admin:cohorts_selectionrun_progress": "LL224244444",
    "admin:cohorts_wave_add": "LL224444444",
    "admin:cohorts_wave_change": "LL224244444",
    "admin:cohorts_wave_changelist": "LL224244444",
    "admin:cohorts_wave_delete": "LL224444444",
    "admin:cohorts_wave_history": "LL224244444",
    "admin:cohorts_wave_quotas": "LL224244444",
    "admin:cohorts_wave_selection": "LL224244444",
    "admin:disbursement_entitlement_add": "LL444444444",
    "admin:disbursement_entitlement_change": "LL224244444",
    "admin:disbursement_entitlement_changelist": "LL224244444",
    "admin:disbursement_entitlement_delete": "LL444444444",
    "admin:disbursement_entitlement_history": "LL224244444",
    "admin:disbursement_ledgeraccount_add": "LL444444444",
    "admin:disbursement_ledgeraccount_change": "LL224244444",
    "admin:disbursement_ledgeraccount_changelist": "LL224244444",
    "admin:disbursement_ledgeraccount_delete": "LL444444444",
    "admin:disbursement_ledgeraccount_history": "LL224244444",
    "admin:disbursement_ledgerentry_add": "LL444444444",
    "admin:disbursement_ledgerentry_change": "LL224244444",
    "admin:disbursement_ledgerentry_changelist": "LL224244444",
    "admin:disbursement_ledgerentry_delete": "LL444444444",
    "admin:disbursement_ledgerentry_history": "LL224244444",
    "admin:disbursement_ledgermovement_add": "LL444444444",
    "admin:disbursement_ledgermovement_change": "LL224244444",
    "admin:disbursement_ledgermovement_changelist": "LL224244444",
    "admin:disbursement_ledgermovement_delete": "LL444444444",
    "admin:disbursement_ledgermovement_history": "LL224244444",
    "admin:disbursement_ledgermovement_reverse": "LL244244444",
    "admin:disbursement_partnerstatement_add": "LL444444444",
    "admin:disbursement_partnerstatement_change": "LLRR4R44444",
    "admin:disbursement_partnerstatement_changelist": "LL224244444",
    "admin:disbursement_partnerstatement_delete": "LL444444444",
    "admin:disbursement_partnerstatement_history": "LL224244444",
    "admin:disbursement_partnerstatement_mismatches": "LL224244444",
    "admin:disbursement_partnerstatement_upload": "LL244244444",
    "admin:disbursement_paymentpartner_add": "LL244244444",
    "admin:disbursement_paymentpartner_change": "LL224244444",
    "admin:disbursement_paymentpartner_changelist": "LL224244444",
    "admin:disbursement_paymentpartner_delete": "LL444444444",
    "admin:disbursement_paymentpartner_history": "LL224244444",
    "admin:disbursement_payout_add": "LL444444444",
    "admin:disbursement_payout_change": "LL224244444",
    "admin:disbursement_payout_changelist": "LL224244444",
    "admin:disbursement_payout_delete": "LL444444444",
    "admin:disbursement_payout_history": "LL224244444",
    "admin:disbursement_payoutaccount_add": "LL444444444",
    "admin:disbursement_payoutaccount_change": "LL224244444",
    "admin:disbursement_payoutaccount_changelist": "LL224244444",
    "admin:disbursement_payoutaccount_delete": "LL444444444",
    "admin:disbursement_payoutaccount_history": "LL224244444",
    "admin:disbursement_payoutbatch_add": "LL444444444",
    "admin:disbursement_payoutbatch_change": "LL224244444",
    "admin:disbursement_payoutbatch_changelist": "LL224244444",
    "admin:disbursement_payoutbatch_delete": "LL444444444",
    "admin:disbursement_payoutbatch_history": "LL224244444",
    "admin:disbursement_payoutbatch_prepare": "LLR44R44444",
    "admin:disbursement_payoutbatch_progress": "LL224244444",
    "admin:disbursement_settlementaccount_add": "LL444444444",
    "admin:disbursement_settlementaccount_bank": "LLR44R44444",
    "admin:disbursement_settlementaccount_change": "LL224244444",
    "admin:disbursement_settlementaccount_changelist": "LL224244444",
    "admin:disbursement_settlementaccount_delete": "LL444444444",
    "admin:disbursement_settlementaccount_history": "LL224244444",
    "admin:disbursement_settlementaccount_prepare": "LLR44R44444",
    "admin:disbursement_settlementaccount_statement": "LL224244444",
    "admin:employment_jobopening_add": "LL444444444",
    "admin:employment_jobopening_change": "LL224444444",
    "admin:employment_jobopening_changelist": "LL224444444",
    "admin:employment_jobopening_delete": "LL444444444",
    "admin:employment_jobopening_history": "LL224444444",
    "admin:employment_joboutcome_add": "LL444444444",
    "admin:employment_joboutcome_change": "LL224444444",
    "admin:employment_joboutcome_changelist": "LL224444444",
    "admin:employment_joboutcome_delete": "LL444444444",
    "admin:employment_joboutcome_history": "LL224444444",
    "admin:employment_jobplatform_add": "LLRR4444444",
    "admin:employment_jobplatform_change": "LLRR4444444",
    "admin:employment_jobplatform_changelist": "LL224444444",
    "admin:employment_jobplatform_delete": "LL444444444",
    "admin:employment_jobplatform_history": "LL224444444",
    "admin:employment_jobsharingconsent_add": "LL444444444",
    "admin:employment_jobsharingconsent_change": "LL224444444",
    "admin:employment_jobsharingconsent_changelist": "LL224444444",
    "admin:employment_jobsharingconsent_delete": "LL444444444",
    "admin:employment_jobsharingconsent_history": "LL224444444",
    "admin:index": "LL222222222",
    "admin:jsi18n": "LL222222222",
    "admin:kyc_kyccase_add": "LL444444444",
    "admin:kyc_kyccase_change": "LL222444444",
    "admin:kyc_kyccase_changelist": "LL222444444",
    "admin:kyc_kyccase_delete": "LL444444444",
    "admin:kyc_kyccase_history": "LL222444444",
    "admin:kyc_kycsubmission_add": "LL444444444",
    "admin:kyc_kycsubmission_change": "LL222444444",
    "admin:kyc_kycsubmission_changelist": "LL222444444",
    "admin:kyc_kycsubmission_delete": "LL444444444",
    "admin:kyc_kycsubmission_history": "LL222444444",
    "admin:kyc_reviewqueuecase_add": "LL444444444",
    "admin:kyc_reviewqueuecase_change": "LL222444444",
    "admin:kyc_reviewqueuecase_changelist": "LL222444444",
    "admin:kyc_reviewqueuecase_delete": "LL444444444",
    "admin:kyc_reviewqueuecase_history": "LL222444444",
    "admin:marketplace_assessorinstitution_add": "LL224444444",
    "admin:marketplace_assessorinstitution_change": "LL224244444",
    "admin:marketplace_assessorinstitution_changelist": "LL224244444",
    "admin:marketplace_assessorinstitution_delete": "LL224444444",
    "admin:marketplace_assessorinstitution_history": "LL224244444",
    "admin:marketplace_competencyassessment_add": "LL444444244",
    "admin:marketplace_competencyassessment_change": "LL224244R44",
    "admin:marketplace_competencyassessment_changelist": "LL224244244",
    "admin:marketplace_competencyassessment_delete": "LL444444444",
    "admin:marketplace_competencyassessment_history": "LL224244R44",
    "admin:marketplace_completion_add": "LL444444444",
    "admin:marketplace_completion_change": "LL224244444",
    "admin:marketplace_completion_changelist": "LL224244444",
    "admin:marketplace_completion_delete": "LL444444444",
    "admin:marketplace_completion_history": "LL224244444",
    "admin:marketplace_listing_add": "LL224444444",
    "admin:marketplace_listing_change": "LL224244444",
    "admin:marketplace_listing_changelist": "LL224244444",
    "admin:marketplace_listing_delete": "LL224444444",
    "admin:marketplace_listing_export": "LL224244444",
    "admin:marketplace_listing_history": "LL224244444",
    "admin:marketplace_listing_import": "LL224444444",
    "admin:marketplace_listing_import_job": "LL224444444",
    "admin:marketplace_listing_import_template": "LL224444444",
    "admin:marketplace_platform_add": "LLRR4444444",
    "admin:marketplace_platform_change": "LLRR4244444",
    "admin:marketplace_platform_changelist": "LL224244444",
    "admin:marketplace_platform_delete": "LLRR4444444",
    "admin:marketplace_platform_history": "LL224244444",
    "admin:marketplace_provider_add": "LL444444444",
    "admin:marketplace_provider_change": "LL224244444",
    "admin:marketplace_provider_changelist": "LL224244444",
    "admin:marketplace_provider_delete": "LL444444444",
    "admin:marketplace_provider_history": "LL224244444",
    "admin:marketplace_providerdocument_download": "LL224444444",
    "admin:marketplace_purchase_add": "LL444444444",
    "admin:marketplace_purchase_change": "LL224244444",
    "admin:marketplace_purchase_changelist": "LL224244444",
    "admin:marketplace_purchase_delete": "LL444444444",
    "admin:marketplace_purchase_history": "LL224244444",
    "admin:marketplace_training_add": "LL224444444",
    "admin:marketplace_training_change": "LL224244444",
    "admin:marketplace_training_changelist": "LL224244444",
    "admin:marketplace_training_delete": "LL224444444",
    "admin:marketplace_training_export": "LL224244444",
    "admin:marketplace_training_history": "LL224244444",
    "admin:marketplace_training_import": "LL224444444",
    "admin:marketplace_training_import_job": "LL224444444",
    "admin:marketplace_training_import_template": "LL224444444",
    "admin:marketplace_voucher_add": "LL444444444",
    "admin:marketplace_voucher_change": "LL224244444",
    "admin:marketplace_voucher_changelist": "LL224244444",
    "admin:marketplace_voucher_delete": "LL444444444",
    "admin:marketplace_voucher_history": "LL224244444",
    "admin:marketplace_webhookdelivery_add": "LL444444444",
    "admin:marketplace_webhookdelivery_change": "LL224244444",
    "admin:marketplace_webhookdelivery_changelist": "LL224244444",
    "admin:marketplace_webhookdelivery_delete": "LL444444444",
    "admin:marketplace_webhookdelivery_history": "LL224244444",
    "admin:mfa_authenticator_add": "LL244444444",
    "admin:mfa_authenticator_change": "LL244444444",
    "admin:mfa_authenticator_changelist": "LL244444444",
    "admin:mfa_authenticator_delete": "LL244444444",
    "admin:mfa_authenticator_history": "LL244444444",
    "admin:oversight_complaint_add": "LL444444444",
    "admin:oversight_complaint_change": "LL222RR4444",
    "admin:oversight_complaint_changelist": "LL222224444",
    "admin:oversight_complaint_delete": "LL444444444",
    "admin:oversight_complaint_handle": "LL444444444",
    "admin:oversight_complaint_history": "LL222RRRRRR",
    "admin:oversight_monitoraccess_add": "LL224444444",
    "admin:oversight_monitoraccess_change": "LL224444444",
    "admin:oversight_monitoraccess_changelist": "LL224444444",
    "admin:oversight_monitoraccess_delete": "LL444444444",
    "admin:oversight_monitoraccess_history": "LL224444444",
    "admin:password_change": "LL222222222",
    "admin:password_change_done": "LL222222222",
    "admin:prakerja_auditentry_add": "LL444444444",
    "admin:prakerja_auditentry_change": "LL224244444",
    "admin:prakerja_auditentry_changelist": "LL224244444",
    "admin:prakerja_auditentry_delete": "LL444444444",
    "admin:prakerja_auditentry_history": "LL224244444",
    "admin:prakerja_notification_add": "LL444444444",
    "admin:prakerja_notification_change": "LL224444444",
    "admin:prakerja_notification_changelist": "LL224444444",
    "admin:prakerja_notification_delete": "LL444444444",
    "admin:prakerja_notification_history": "LL224444444",
    "admin:prakerja_user_add": "LL244444444",
    "admin:prakerja_user_change": "LL224444444",
    "admin:prakerja_user_changelist": "LL224444444",
    "admin:prakerja_user_delete": "LL244444444",
    "admin:prakerja_user_history": "LL224444444",
    "admin:registration_applicant_add": "LL444444444",
    "admin:registration_applicant_change": "LL222224444",
    "admin:registration_applicant_changelist": "LL222224444",
    "admin:registration_applicant_delete": "LL444444444",
    "admin:registration_applicant_export": "LL222224444",
    "admin:registration_applicant_history": "LL222224444",
    "admin:registration_civilrecord_add": "LL224444444",
    "admin:registration_civilrecord_change": "LL224444444",
    "admin:registration_civilrecord_changelist": "LL224444444",
    "admin:registration_civilrecord_delete": "LL224444444",
    "admin:registration_civilrecord_export": "LL224444444",
    "admin:registration_civilrecord_history": "LL224444444",
    "admin:registration_civilrecord_import": "LL224444444",
    "admin:registration_civilrecord_import_job": "LL224444444",
    "admin:registration_civilrecord_import_template": "LL224444444",
    "admin:registration_disnakerstaff_add": "LL224444444",
    "admin:registration_disnakerstaff_change": "LL224444444",
    "admin:registration_disnakerstaff_changelist": "LL224444444",
    "admin:registration_disnakerstaff_delete": "LL224444444",
    "admin:registration_disnakerstaff_history": "LL224444444",
    "admin:registration_district_add": "LL444444444",
    "admin:registration_district_change": "LL224424444",
    "admin:registration_district_changelist": "LL224424444",
    "admin:registration_district_delete": "LL444444444",
    "admin:registration_district_history": "LL224424444",
    "admin:registration_importjob_add": "LL444444444",
    "admin:registration_importjob_change": "LL224444444",
    "admin:registration_importjob_changelist": "LL224444444",
    "admin:registration_importjob_delete": "LL444444444",
    "admin:registration_importjob_history": "LL224444444",
    "admin:registration_offlinesubmission_add": "LL444444444",
    "admin:registration_offlinesubmission_change": "LL224444424",
    "admin:registration_offlinesubmission_changelist": "LL224444424",
    "admin:registration_offlinesubmission_delete": "LL444444444",
    "admin:registration_offlinesubmission_history": "LL224444424",
    "admin:registration_province_add": "LL444444444",
    "admin:registration_province_change": "LL224424444",
    "admin:registration_province_changelist": "LL224424444",
    "admin:registration_province_delete": "LL444444444",
    "admin:registration_province_history": "LL224424444",
    "admin:registration_regency_add": "LL444444444",
    "admin:registration_regency_change": "LL224424444",
    "admin:registration_regency_changelist": "LL224424444",
    "admin:registration_regency_delete": "LL444444444",
    "admin:registration_regency_history": "LL224424444",
    "admin:registration_screeninglist_add": "LL224444444",
    "admin:registration_screeninglist_change": "LL224444444",
    "admin:registration_screeninglist_changelist": "LL224444444",
    "admin:registration_screeninglist_delete": "LL224444444",
    "admin:registration_screeninglist_history": "LL224444444",
    "admin:registration_screeninglist_import": "LL224444444",
    "admin:registration_screeninglist_import_job": "LL224444444",
    "admin:surveys_rating_add": "LL444444444",
    "admin:surveys_rating_change": "LL224444444",
    "admin:surveys_rating_changelist": "LL224444444",
    "admin:surveys_rating_delete": "LL444444444",
    "admin:surveys_rating_history": "LL224444444",
    "admin:surveys_rating_quality": "LL224444444",
    "admin:surveys_survey_add": "LL224444444",
    "admin:surveys_survey_change": "LL224444444",
    "admin:surveys_survey_changelist": "LL224444444",
    "admin:surveys_survey_delete": "LL444444444",
    "admin:surveys_survey_edit": "LLRR4444444",
    "admin:surveys_survey_export": "LLNN4444444",
    "admin:surveys_survey_history": "LL224444444",
    "admin:surveys_survey_results": "LL224444444",
    "admin:surveys_surveyassignment_add": "LL444444444",
    "admin:surveys_surveyassignment_change": "LL224444444",
    "admin:surveys_surveyassignment_changelist": "LL224444444",
    "admin:surveys_surveyassignment_delete": "LL444444444",
    "admin:surveys_surveyassignment_history": "LL224444444",
    "admin:surveys_surveyversion_add": "LL444444444",
    "admin:surveys_surveyversion_change": "LL224444444",
    "admin:surveys_surveyversion_changelist": "LL224444444",
    "admin:surveys_surveyversion_delete": "LL444444444",
    "admin:surveys_surveyversion_history": "LL224444444",
    "kyc:photo": "L4242444444",
    "oversight:monitoring_dataset": "L4444444442",
    "oversight:monitoring_download": "L4444444442",
    "oversight:monitoring_draw_file": "L4444444442",
    "oversight:monitoring_home": "L4444444442",
    "oversight:staff_complaint_new": "L4444424444",
    "oversight:staff_complaints": "L4444424444",
    "registration:kemnaker_queue": "L4244444424",
    "registration:kemnaker_review": "L4244444424",
    "registration:staff_home": "L4444424444",
    "registration:staff_import": "L4444424444",
    "registration:staff_import_detail": "L4444424444",
    "registration:staff_import_template": "L4444424444",
    "registration:staff_import_template_xlsx": "L4444424444",
    "registration:staff_register": "L4444424444",
    "registration:staff_submission_detail": "L4444424444",
    "registration:staff_submission_send": "L44444M4444",
    "registration:staff_submissions": "L4444424444",
}
# fmt: on
