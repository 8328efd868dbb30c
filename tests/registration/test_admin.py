"""The officers' console: masking, search, filters, actions, query counts, exports."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from prakerja.models import AuditEntry
from prakerja.roles import Role
from registration.enums import CivilRegistryStatus
from registration.models import DisnakerStaff
from tests.factories import ApplicantFactory
from tests.registration.factories import CivilRecordFactory, disnaker_user, officer

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:registration_applicant_changelist"


def test_officer_without_permission_never_sees_a_full_nik_in_list_detail_or_export(client):
    applicant = ApplicantFactory()
    client.force_login(officer())
    search = client.get(reverse(CHANGELIST), {"q": applicant.nik}).content.decode()
    rows = search[search.index("<tbody>") : search.index("</tbody>")]  # the query itself is echoed elsewhere
    assert f'<td class="field-display_nik">{applicant.masked_nik}</td>' in rows
    assert applicant.nik not in rows.replace(f"q%3D{applicant.nik}", "")
    pages = [
        client.get(reverse(CHANGELIST)),
        client.get(reverse("admin:registration_applicant_change", args=[applicant.pk])),
        client.post(
            reverse("admin:registration_applicant_export"),
            {"format": "0", "resource": "0", **_export_fields()},
        ),
    ]
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode("utf-8", "replace")
        assert applicant.nik not in body
        assert applicant.kk_number not in body
    assert applicant.masked_nik in pages[0].content.decode()
    assert applicant.masked_nik in pages[1].content.decode()
    export = pages[2].content.decode()
    assert applicant.masked_nik in export and applicant.masked_kk in export


def test_officer_with_permission_sees_the_full_nik(client):
    applicant = ApplicantFactory()
    client.force_login(officer(full_nik=True))
    assert applicant.nik in client.get(reverse(CHANGELIST)).content.decode()
    detail = client.get(reverse("admin:registration_applicant_change", args=[applicant.pk])).content.decode()
    assert applicant.nik in detail and applicant.kk_number in detail
    export = client.post(
        reverse("admin:registration_applicant_export"), {"format": "0", "resource": "0", **_export_fields()}
    ).content.decode()
    assert applicant.nik in export


def _export_fields():
    from registration.admin import ApplicantResource

    return {f"applicantresource_{name}": "on" for name in ApplicantResource.Meta.fields}


def test_search_by_exact_nik_email_or_name_start(client):
    first, second = ApplicantFactory(full_name="Ani Lestari"), ApplicantFactory(full_name="Budi Hartono")
    client.force_login(officer())

    def found(q):
        return list(client.get(reverse(CHANGELIST), {"q": q}).context["cl"].result_list)

    assert found(first.nik) == [first]
    assert found(first.nik[:10]) == []  # no partial NIK search
    assert found(second.user.email.upper()) == [second]
    assert found("budi") == [second]


def test_applicant_list_query_count_does_not_grow(client, django_assert_max_num_queries):
    client.force_login(officer())
    ApplicantFactory()
    with django_assert_max_num_queries(20) as one:
        client.get(reverse(CHANGELIST))
    ApplicantFactory.create_batch(2)
    with django_assert_max_num_queries(20) as three:
        client.get(reverse(CHANGELIST))
    assert len(one.captured_queries) == len(three.captured_queries)


def test_applicant_list_never_counts_all_rows(client, django_assert_max_num_queries):
    client.force_login(officer())
    ApplicantFactory.create_batch(2)
    with django_assert_max_num_queries(20) as queries:
        client.get(reverse(CHANGELIST), {"civil_status__exact": "verified"})
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts)


def test_filters(client):
    verified = ApplicantFactory()
    pending = ApplicantFactory(civil_status=CivilRegistryStatus.PENDING, phone_verified_at=None)
    client.force_login(officer())

    def found(**params):
        return set(client.get(reverse(CHANGELIST), params).context["cl"].result_list)

    assert found(civil_status__exact="pending") == {pending}
    assert found(phone="unverified") == {pending}
    assert found(province__code__exact="32") == {verified, pending}
    assert found(province__code__exact="31") == set()


def test_recheck_action_queues_and_audits(client, django_capture_on_commit_callbacks):
    applicant = ApplicantFactory(civil_status=CivilRegistryStatus.NOT_FOUND)
    CivilRecordFactory(
        nik=applicant.nik,
        kk_number=applicant.kk_number,
        full_name=applicant.full_name,
        birth_date=applicant.birth_date,
    )
    staff = officer()
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse(CHANGELIST), {"action": "recheck_civil_registry", "_selected_action": [applicant.pk]}
        )
    applicant.refresh_from_db()
    assert applicant.civil_status == "verified"
    entry = AuditEntry.objects.get(action="registration.civil_recheck")
    assert entry.actor == staff


def test_detail_shows_read_only_history(client):
    applicant = ApplicantFactory()
    from prakerja.audit import audit_log

    audit_log(actor=None, action="registration.civil_check", obj=applicant, data={"result": "verified"})
    client.force_login(officer())
    html = client.get(reverse("admin:registration_applicant_change", args=[applicant.pk])).content.decode()
    assert "registration.civil_check" in html
    assert 'name="full_name"' not in html  # nothing editable


def test_kyc_reviewer_cannot_see_full_nik_either(client):
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    applicant = ApplicantFactory()
    reviewer = UserFactory(is_staff=True)
    reviewer.groups.add(Group.objects.get(name="KYC Reviewer"))
    client.force_login(reviewer)
    assert applicant.nik not in client.get(reverse(CHANGELIST)).content.decode()


def test_disnaker_staff_see_only_their_province_in_admin(client):
    mine = ApplicantFactory()
    other = ApplicantFactory(district_code="31.71.01")
    client.force_login(disnaker_user("32"))
    results = set(client.get(reverse(CHANGELIST)).context["cl"].result_list)
    assert results == {mine}
    assert client.get(reverse("admin:registration_applicant_change", args=[other.pk])).status_code == 302


# --- Civil records --------------------------------------------------------------------------


def test_civil_record_list_is_masked(client):
    record = CivilRecordFactory()
    client.force_login(officer())
    html = client.get(reverse("admin:registration_civilrecord_changelist")).content.decode()
    assert record.masked_nik in html and record.nik not in html
    detail = client.get(reverse("admin:registration_civilrecord_change", args=[record.pk])).content.decode()
    assert record.nik not in detail and record.kk_number not in detail


def test_binding_an_officer_to_a_province_is_audited(client):
    staff_user = disnaker_user("32")
    staff = DisnakerStaff.objects.get(user=staff_user)
    client.force_login(officer())
    data = {"user": staff_user.pk, "province": "31", "office_name": "Disnaker DKI"}
    response = client.post(reverse("admin:registration_disnakerstaff_change", args=[staff.pk]), data)
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.province_id == "31"
    entry = AuditEntry.objects.get(action="registration.disnaker_staff_changed")
    assert entry.data == {"changes": {"province": ["32", "31"], "office_name": ["Disnaker", "Disnaker DKI"]}}
    assert Group.objects.get(name=Role.DISNAKER_STAFF) in staff_user.groups.all()
