import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from cohorts import services
from cohorts.enums import RunKind, RunStatus, WaveStatus
from cohorts.models import Participant, ProvinceQuota, SelectionRun
from prakerja.models import AuditEntry
from tests.cohorts.factories import WaveFactory, pool, programme
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def officer(role="Programme Officer"):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def closed_wave():
    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=2)
    pool(wave, district_code="32.75.01", count=3)
    return wave


def test_officer_runs_dry_run_then_commit_then_announce(
    client, closed_wave, django_capture_on_commit_callbacks
):
    client.force_login(officer())
    url = reverse("admin:cohorts_wave_selection", args=[closed_wave.pk])
    assert "Uji coba" in client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "dry_run", "seed": "kopi"})
    run = SelectionRun.objects.get(kind=RunKind.DRY_RUN)
    assert response["Location"] == reverse("admin:cohorts_selectionrun_progress", args=[run.pk])
    progress = client.get(response["Location"] + "?format=json").json()
    assert progress == {"status": "done", "progress": 100, "stage": "", "done": True}
    page = client.get(response["Location"]).content.decode()
    assert "Jawa Barat" in page and "kopi" in page

    # Committing needs the confirmation box.
    client.post(url, {"action": "select", "seed": "kopi"})
    assert not SelectionRun.objects.filter(kind=RunKind.SELECTION).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "select", "seed": "kopi", "confirm": "1"})
    closed_wave.refresh_from_db()
    assert closed_wave.selection_seed == "kopi"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "announce"})
    assert Participant.objects.filter(wave=closed_wave).count() == 2
    response = client.post(url, {"action": "verify"})
    assert "Terverifikasi" in response.content.decode()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"cohorts.selection_committed", "cohorts.wave_announced", "cohorts.selection_verified"} <= actions


def test_the_dry_run_page_explains_itself_in_indonesian(
    client, closed_wave, django_capture_on_commit_callbacks
):
    from tests.cohorts.factories import put_on_list

    applicants = pool(closed_wave, district_code="31.71.01", count=2)
    put_on_list(applicants[:1], kind="exclusion", category="asn")
    ProvinceQuota.objects.create(wave=closed_wave, province_id="32", quota=2)
    ProvinceQuota.objects.create(wave=closed_wave, province_id="31", quota=2)  # 4 > total 2
    client.force_login(officer())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:cohorts_wave_selection", args=[closed_wave.pk]), {"action": "dry_run", "seed": "x"}
        )
    page = client.get(response["Location"]).content.decode()
    assert "tidak memenuhi syarat: ada di daftar pengecualian" in page
    assert ": excluded" not in page
    assert "Kuota provinsi berjumlah 4 tempat, lebih dari total gelombang 2" in page


def test_roles_without_selection_permission_cannot_run_it(client, closed_wave):
    client.force_login(officer("Finance Officer"))
    url = reverse("admin:cohorts_wave_selection", args=[closed_wave.pk])
    assert client.get(url).status_code == 200  # may look
    assert client.post(url, {"action": "select", "seed": "x", "confirm": "1"}).status_code == 403
    client.force_login(officer("KYC Reviewer"))
    assert client.get(url).status_code == 403
    assert not SelectionRun.objects.exists()


def test_participant_list_query_count_does_not_grow(client, closed_wave, django_assert_max_num_queries):
    run = services.selection_run_request(wave=closed_wave, kind=RunKind.SELECTION, seed="a")
    services.selection_run_execute(run_id=run.pk)
    client.force_login(officer())
    url = reverse("admin:cohorts_participant_changelist")
    run = services.selection_run_request(wave=closed_wave, kind=RunKind.ANNOUNCEMENT)
    services.selection_run_execute(run_id=run.pk)
    assert Participant.objects.count() == 2
    with django_assert_max_num_queries(12) as one_page:
        html = client.get(url).content.decode()
    # Card numbers are masked in the list.
    for card in Participant.objects.values_list("card_number", flat=True):
        assert card not in html
    assert len(one_page.captured_queries) <= 12


def test_cohorts_select_command_prints_json(closed_wave):
    out = io.StringIO()
    call_command(
        "cohorts_select", "--wave", str(closed_wave.number), "--dry-run", "--seed", "teh", stdout=out
    )
    result = json.loads(out.getvalue())
    assert result["dry_run"] is True
    assert result["seed"] == "teh"
    assert (result["pool"], result["selected"]) == (3, 2)
    assert result["provinces"]["32"]["selected"] == 2
    assert result["priority"] == {
        "pool_priority": 0,
        "pool_regular": 3,
        "selected_priority": 0,
        "selected_regular": 2,
    }
    assert SelectionRun.objects.get().status == RunStatus.DONE
    closed_wave.refresh_from_db()
    assert closed_wave.selected_at is None
