"""The public draw: seed commitment at opening, draw file after the announcement, standalone verification."""

from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation

from cohorts import draw, selection, services, verify_draw
from cohorts.enums import ApplicationStatus, RunKind, RunStatus, WaveStatus
from cohorts.models import Application, Participant, ProvinceQuota, Wave
from tests.cohorts.factories import WaveFactory, pool, programme, verified_applicant

pytestmark = pytest.mark.django_db

JAKARTA = "31.71.01"
BEKASI = "32.75.01"
SEMARANG = "33.74.01"
SCRIPT = Path(verify_draw.__file__)


def _run(wave, kind, seed=""):
    run = services.selection_run_request(wave=wave, kind=kind, seed=seed)
    services.selection_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    wave.refresh_from_db()
    return run


def _open_wave(**kwargs) -> Wave:
    wave = WaveFactory(status=WaveStatus.DRAFT, **kwargs)
    services.wave_open(wave=wave)
    wave.refresh_from_db()
    return wave


def _earlier_participant(kk_number: str, district_code: str):
    """Someone with this family card who became a participant in an earlier wave."""
    earlier = WaveFactory(status=WaveStatus.CLOSED, total_quota=5)
    applicant = verified_applicant(district_code=district_code, kk_number=kk_number)
    Application.objects.create(
        wave=earlier, applicant=applicant, province_id=applicant.province_id, kk_number=kk_number
    )
    _run(earlier, RunKind.SELECTION, seed="earlier")
    _run(earlier, RunKind.ANNOUNCEMENT)
    assert Participant.objects.filter(applicant=applicant).exists()
    return applicant


@pytest.fixture
def announced(django_capture_on_commit_callbacks):
    """A wave opened through the service (seed committed), with priority applicants, shared family cards
    (one with an earlier participant), province quotas and ineligible applications, drawn and announced."""
    programme()
    _earlier_participant("3374010101019999", SEMARANG)
    wave = _open_wave(total_quota=10, max_per_kk=2)  # 11 pass the family-card and province cuts
    ProvinceQuota.objects.create(wave=wave, province_id="31", quota=3)
    ProvinceQuota.objects.create(wave=wave, province_id="32", quota=4)
    pool(wave, district_code=JAKARTA, count=7)
    pool(wave, district_code=BEKASI, count=7, priority=2)
    semarang = pool(wave, district_code=SEMARANG, count=8)
    for applicant in semarang[:3]:  # three on one family card that already has a participant
        applicant.kk_number = "3374010101019999"
        applicant.save()
    for applicant in semarang[3:6]:  # three on another card
        applicant.kk_number = "3374010101018888"
        applicant.save()
    unverified = semarang[7]
    unverified.kyc_case.status = "pending"
    unverified.kyc_case.save()
    services.wave_close(wave=wave)
    with django_capture_on_commit_callbacks(execute=True):
        _run(wave, RunKind.SELECTION)
        _run(wave, RunKind.ANNOUNCEMENT)
    wave.refresh_from_db()
    return wave


def _file_bytes(wave) -> bytes:
    with default_storage.open(draw.draw_file_name(wave), "rb") as handle:
        return handle.read()


def _write(tmp_path, content: bytes, name="undian.csv.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_opening_a_wave_commits_to_a_seed_that_the_selection_must_use():
    programme()
    wave = _open_wave()
    assert len(wave.committed_seed) == 32
    assert wave.seed_commitment == hashlib.sha256(wave.committed_seed.encode()).hexdigest()
    assert wave.token_salt and wave.seed_committed_at is not None
    # Opening again (or committing again) changes nothing.
    assert draw.wave_seed_commit(wave=wave) is False
    services.wave_close(wave=wave)
    with translation.override("en"), pytest.raises(services.CohortError, match="published when it opened"):
        services.selection_run_request(wave=wave, kind=RunKind.SELECTION, seed="a seed I like better")
    with pytest.raises(services.CohortError):
        services.selection_run_request(wave=wave, kind=RunKind.DRY_RUN, seed="another")
    run = services.selection_run_request(wave=wave, kind=RunKind.DRY_RUN)
    assert run.seed == wave.committed_seed


def test_the_published_script_reproduces_the_committed_selection(announced, tmp_path):
    wave = announced
    statuses = Counter(Application.objects.filter(wave=wave).values_list("status", flat=True))
    # The fixture exercises every cut: something is selected, something is not, something is ineligible.
    assert statuses[ApplicationStatus.SELECTED] == 10
    assert statuses[ApplicationStatus.NOT_SELECTED] >= 1 and statuses[ApplicationStatus.INELIGIBLE] == 1
    # The family card with an earlier participant got at most one more.
    kk_selected = Application.objects.filter(
        wave=wave, kk_number="3374010101019999", status=ApplicationStatus.SELECTED
    ).count()
    assert kk_selected <= 1
    path = _write(tmp_path, _file_bytes(wave))
    # Run it as a reader would: its own process, standard library only.
    result = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MATCH / COCOK" in result.stdout
    assert f"{Application.objects.filter(wave=wave).count()} applications, 10 selected" in result.stdout


def test_the_file_agrees_with_the_database_line_by_line(announced):
    wave = announced
    header, rows = verify_draw.read_draw_file_text(gzip.decompress(_file_bytes(wave)).decode())
    assert header["seed"] == wave.selection_seed == wave.committed_seed
    assert header["seed_commitment"] == wave.seed_commitment
    assert header["quotas"] == "31:3;32:4"
    expected = {
        draw.draw_token(wave=wave, applicant_id=a.applicant_id): a.status
        for a in Application.objects.filter(wave=wave)
    }
    assert {row["token"]: row["result"] for row in rows} == expected
    # The selection's SQL and the Python token agree.
    priors = {row["kk_prior"] for row in rows if row["kk_group"]}
    assert priors == {"0", "1"}


def test_a_changed_seed_or_file_is_detected(announced, tmp_path):
    wave = announced
    content = gzip.decompress(_file_bytes(wave)).decode()
    path = _write(tmp_path, content.encode(), "undian.csv")
    out = io.StringIO()
    assert verify_draw.verify(str(path), seed=wave.selection_seed + "0", out=out) == 1
    assert "SEED DOES NOT MATCH" in out.getvalue()

    # Someone "not selected" claimed to be selected instead of someone who was.
    lines = content.splitlines()
    selected = next(i for i, line in enumerate(lines) if line.endswith(",selected"))
    not_selected = next(i for i, line in enumerate(lines) if line.endswith(",not_selected"))
    lines[selected] = lines[selected].removesuffix(",selected") + ",not_selected"
    lines[not_selected] = lines[not_selected].removesuffix(",not_selected") + ",selected"
    swapped = _write(tmp_path, "\n".join(lines).encode(), "swapped.csv")
    out = io.StringIO()
    assert verify_draw.verify(str(swapped), out=out) == 1
    assert "MISMATCH / TIDAK COCOK: 2 problem(s)" in out.getvalue()

    # A quota quietly changed in the file no longer explains the result.
    raised = _write(tmp_path, content.replace("quotas=31:3;", "quotas=31:0;").encode(), "raised.csv")
    assert verify_draw.verify(str(raised), out=io.StringIO()) == 1

    broken = _write(tmp_path, b"\xff\xfe not a draw file", "broken.csv")
    out = io.StringIO()
    assert verify_draw.verify(str(broken), out=out) == 2
    assert "Cannot read the draw file" in out.getvalue()


def test_the_file_carries_nothing_that_identifies_a_person(announced):
    wave = announced
    content = gzip.decompress(_file_bytes(wave)).decode()
    for application in Application.objects.filter(wave=wave).select_related("applicant__user"):
        applicant = application.applicant
        for value in (applicant.nik, applicant.kk_number, applicant.full_name, applicant.user.email):
            assert value not in content
    _header, rows = verify_draw.read_draw_file_text(content)
    assert {len(row["token"]) for row in rows} == {32}
    applicant_ids = {
        str(pk) for pk in Application.objects.filter(wave=wave).values_list("applicant_id", flat=True)
    }
    assert not applicant_ids & {row["token"] for row in rows}


def test_public_pages_reveal_the_seed_only_after_the_announcement(client, django_capture_on_commit_callbacks):
    programme()
    wave = _open_wave(total_quota=2)
    applicants = pool(wave, district_code=BEKASI, count=3)
    page = client.get(reverse("cohorts:draw_detail", args=[wave.number]))
    assert page.status_code == 200
    assert wave.seed_commitment in page.content.decode()
    assert wave.committed_seed not in page.content.decode()
    assert client.get(reverse("cohorts:draw_file", args=[wave.number])).status_code == 404

    services.wave_close(wave=wave)
    with django_capture_on_commit_callbacks(execute=True):
        _run(wave, RunKind.SELECTION)
    assert (
        wave.committed_seed
        not in client.get(reverse("cohorts:draw_detail", args=[wave.number])).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        _run(wave, RunKind.ANNOUNCEMENT)
    page = client.get(reverse("cohorts:draw_detail", args=[wave.number])).content.decode()
    assert wave.committed_seed in page
    download = client.get(reverse("cohorts:draw_file", args=[wave.number]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="gelombang-')
    assert b"".join(download.streaming_content)[:2] == b"\x1f\x8b"
    script = client.get(reverse("cohorts:draw_script"))
    assert b"def recompute" in b"".join(script.streaming_content)
    assert client.get(reverse("cohorts:draw_index")).status_code == 200

    # The applicant finds their own token on the dashboard and on the wave's draw page.
    applicant = applicants[0]
    token = draw.draw_token(wave=wave, applicant_id=applicant.pk)
    client.force_login(applicant.user)
    assert token in client.get(reverse("dashboard")).content.decode()
    assert token in client.get(reverse("cohorts:draw_detail", args=[wave.number])).content.decode()


def test_draft_and_unknown_waves_have_no_public_page(client):
    draft = WaveFactory(status=WaveStatus.DRAFT)
    assert client.get(reverse("cohorts:draw_detail", args=[draft.number])).status_code == 404
    assert client.get(reverse("cohorts:draw_detail", args=[9999])).status_code == 404
    assert client.get(reverse("cohorts:draw_file", args=[draft.number])).status_code == 404


def test_version_1_waves_keep_their_draw_and_still_verify():
    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=3, draw_version=1)
    pool(wave, district_code=BEKASI, count=6)
    _run(wave, RunKind.SELECTION, seed="lama")
    expected = sorted(
        Application.objects.filter(wave=wave),
        key=lambda a: hashlib.md5(f"lama:{a.applicant_id}".encode()).hexdigest(),  # noqa: S324
    )[:3]
    assert set(
        Application.objects.filter(wave=wave, status=ApplicationStatus.SELECTED).values_list("pk", flat=True)
    ) == {a.pk for a in expected}
    assert selection.selection_verify(wave=wave)["selection_matches"] is True
    assert draw.draw_is_public(wave) is False
