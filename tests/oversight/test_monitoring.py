"""Monitoring institutions: access that expires, suppressed aggregated data, audited downloads."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from cohorts import draw
from oversight import monitoring
from oversight.models import MonitorAccess, SummaryCount
from prakerja.models import AuditEntry
from prakerja.roles import Role
from tests.factories import ApplicantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _monitor(email="pemantau@example.id", *, days: int = 30, roles=(Role.MONITOR,)):
    user = UserFactory(email=email, is_staff=True)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    officer = UserFactory(email=f"officer-{email}", is_staff=True)
    monitoring.monitor_access_set(
        access_id=None,
        user=user,
        institution="Lembaga Uji",
        expires_on=timezone.localdate() + datetime.timedelta(days=days),
        actor=officer,
    )
    return user


def test_an_active_monitor_sees_the_datasets_and_every_download_is_audited(client):
    monitor = _monitor()
    SummaryCount.objects.bulk_create(
        [
            SummaryCount(table="funnel", group="32", metric="participant", value=12),
            SummaryCount(table="funnel", group="31", metric="participant", value=5),
        ]
    )
    client.force_login(monitor)
    home = client.get(reverse("oversight:monitoring_home")).content.decode()
    assert "Lembaga Uji" in home and "funnel-per-provinsi" in home
    page = client.get(reverse("oversight:monitoring_dataset", args=["funnel-per-provinsi"])).content.decode()
    assert "&lt;10" in page
    assert not AuditEntry.objects.filter(
        action="oversight.monitor_download"
    ).exists()  # viewing is not a download

    response = client.get(reverse("oversight:monitoring_download", args=["funnel-per-provinsi"]))
    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    header = lines[0].split(",")
    participant = header.index("participant")
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert rows["32"][participant] == "12"
    assert rows["31"][participant] == ""  # 5 people: suppressed
    assert rows["33"][participant] == ""  # 0 people: suppressed too
    entry = AuditEntry.objects.get(action="oversight.monitor_download")
    assert entry.actor == monitor
    assert entry.data == {"institution": "Lembaga Uji", "dataset": "funnel-per-provinsi", "rows": len(rows)}


def test_downloads_hold_no_nik_and_no_names(client):
    applicant = ApplicantFactory()
    monitor = _monitor()
    client.force_login(monitor)
    for slug in monitoring.datasets():
        body = client.get(reverse("oversight:monitoring_download", args=[slug])).content.decode()
        assert applicant.nik not in body and applicant.full_name not in body
    assert AuditEntry.objects.filter(action="oversight.monitor_download").count() == len(
        monitoring.datasets()
    )


def test_access_ends_after_the_date_officers_set(client):
    monitor = _monitor(days=0)
    client.force_login(monitor)
    assert client.get(reverse("oversight:monitoring_home")).status_code == 200  # the last day counts
    access = MonitorAccess.objects.get(user=monitor)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    monitoring.monitor_access_set(
        access_id=access.pk, user=monitor, institution="Lembaga Uji", expires_on=yesterday, actor=None
    )
    response = client.get(reverse("oversight:monitoring_download", args=["funnel-per-provinsi"]))
    assert response.status_code == 403
    assert yesterday.strftime("%d-%m-%Y") in response.content.decode()
    assert not AuditEntry.objects.filter(action="oversight.monitor_download").exists()
    change = AuditEntry.objects.get(action="oversight.monitor_access_changed")
    assert change.data["changes"]["expires_on"][1] == yesterday.isoformat()


def test_officers_and_applicants_get_no_monitoring_pages(client):
    from tests.registration.factories import officer

    for user in (officer(), ApplicantFactory().user):
        client.force_login(user)
        assert client.get(reverse("oversight:monitoring_home")).status_code == 403


def test_access_is_granted_only_to_a_pure_monitor_account():
    plain = UserFactory(email="plain@example.id")
    for user in (plain, _officer_monitor()):
        with pytest.raises(monitoring.MonitorError) as refused:
            monitoring.monitor_access_set(
                access_id=None, user=user, institution="X", expires_on=timezone.localdate(), actor=None
            )
        assert refused.value.code == "role"


def _officer_monitor():
    user = UserFactory(email="both@example.id", is_staff=True)
    user.groups.add(Group.objects.get(name=Role.MONITOR), Group.objects.get(name=Role.PROGRAMME_OFFICER))
    return user


def test_the_published_draw_file_download_is_audited(client):
    from tests.cohorts.factories import WaveFactory

    wave = WaveFactory(status="announced", announced_at=timezone.now(), selection_seed="benih")
    default_storage.save(draw.draw_file_name(wave), ContentFile(b"\x1f\x8b fake"))
    unpublished = WaveFactory(status="closed")
    client.force_login(_monitor())
    home = client.get(reverse("oversight:monitoring_home")).content.decode()
    assert reverse("oversight:monitoring_draw_file", args=[wave.number]) in home
    assert reverse("oversight:monitoring_draw_file", args=[unpublished.number]) not in home
    response = client.get(reverse("oversight:monitoring_draw_file", args=[wave.number]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\x1f\x8b fake"
    entry = AuditEntry.objects.get(action="oversight.monitor_download")
    assert entry.data["dataset"] == f"undian-gelombang-{wave.number}"
    assert client.get(reverse("oversight:monitoring_draw_file", args=[unpublished.number])).status_code == 404


def test_a_programme_officer_grants_access_in_the_console_through_the_service(client):
    from tests.registration.factories import officer

    monitor = UserFactory(email="baru@example.id", is_staff=True)
    monitor.groups.add(Group.objects.get(name=Role.MONITOR))
    mixed = _officer_monitor()
    client.force_login(officer())
    url = reverse("admin:oversight_monitoraccess_add")
    last_day = (timezone.localdate() + datetime.timedelta(days=90)).isoformat()
    refused = client.post(url, {"user": mixed.pk, "institution": "Campuran", "expires_on": last_day})
    assert refused.status_code == 302 and refused["Location"] == url
    assert not MonitorAccess.objects.filter(user=mixed).exists()
    granted = client.post(url, {"user": monitor.pk, "institution": " Lembaga  Baru ", "expires_on": last_day})
    assert granted.status_code == 302
    access = MonitorAccess.objects.get(user=monitor)
    assert (access.institution, access.expires_on.isoformat()) == ("Lembaga Baru", last_day)
    assert AuditEntry.objects.get(
        action="oversight.monitor_access_granted", actor__isnull=False
    ).target_id == str(access.pk)
