"""The job platforms' API: signed like the training platforms' API, consent checked on every call."""

import datetime
import time

import pytest
from django.utils import timezone

from employment import services
from employment.models import JobOpening, JobOutcome
from marketplace.api import signing
from tests.employment.factories import JobApiClient, job_credential, job_platform, sharing_profile

pytestmark = pytest.mark.django_db
BASE = "/api/jobs/v1"


@pytest.fixture
def platform():
    return job_platform("karirku")


@pytest.fixture
def api(client, platform):
    return JobApiClient(client, *job_credential(platform))


def test_a_platform_reads_the_profiles_shared_with_it_and_nothing_else(api, platform):
    other = job_platform("lokerpintar")
    mine = sharing_profile(platform, summary="Admin toko daring.")
    sharing_profile(other)  # shared with another platform only
    response = api.get(f"{BASE}/profiles")
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [str(mine.public_id)]
    profile = body["results"][0]
    applicant = mine.participant.applicant
    assert profile["summary"] == "Admin toko daring."
    assert profile["name"] == " ".join(applicant.full_name.split()).title()
    assert set(profile) == {
        "id", "name", "regency", "province", "education", "summary", "consented_at", "trainings",
    }  # fmt: skip
    completion = mine.participant.completions.get()
    assert profile["trainings"][0]["certificate_number"] == completion.certificate_number
    assert profile["trainings"][0]["competency"] is None
    text = response.content.decode()
    for secret in (applicant.nik, mine.participant.card_number, applicant.phone, applicant.user.email):
        assert secret not in text
    assert body["next_offset"] is None


def test_withdrawn_consent_stops_the_api_at_once(api, platform):
    profile = sharing_profile(platform)
    url = f"{BASE}/profiles/{profile.public_id}"
    assert api.get(url).status_code == 200

    services.job_sharing_set(profile=profile, platform_ids=set(), consent_given=False, actor=None)

    response = api.get(url)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_withdrawn"
    assert response.json()["error"]["details"]["withdrawn_at"]
    assert api.get(f"{BASE}/profiles").json()["results"] == []
    opening = api.post(
        f"{url}/openings",
        {"external_id": "J-1", "title": "Kasir", "company": "Toko A", "url": "https://a.example/1"},
    )
    assert (opening.status_code, opening.json()["error"]["code"]) == (403, "consent_withdrawn")
    outcome = api.post(
        f"{url}/outcomes",
        {"kind": "hired", "job_reference": "J-1", "occurred_on": timezone.localdate().isoformat()},
    )
    assert (outcome.status_code, outcome.json()["error"]["code"]) == (403, "consent_withdrawn")
    assert not JobOpening.objects.exists() and not JobOutcome.objects.exists()
    # Consent recorded with its text version and times; withdrawal keeps the history.
    consent = profile.consents.get()
    assert consent.text_version == "2026-12" and consent.withdrawn_at is not None


def test_a_profile_never_shared_with_the_platform_is_not_found(api):
    other = job_platform("lokerpintar")
    profile = sharing_profile(other)
    for path, validate in (
        (f"{BASE}/profiles/{profile.public_id}", True),
        (f"{BASE}/profiles/not-a-uuid", False),
    ):
        response = api.get(path, validate=validate)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "profile_not_found")


def test_openings_and_outcomes_are_stored_once_and_shown(api, platform, client):
    profile = sharing_profile(platform)
    url = f"{BASE}/profiles/{profile.public_id}"
    body = {
        "external_id": "KRK-1",
        "title": "Staf Pemasaran",
        "company": "PT Maju",
        "location": "Kota Bekasi",
        "url": "https://karirku.example.id/1",
        "closes_on": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
    }
    assert api.post(f"{url}/openings", body).status_code == 201
    assert api.post(f"{url}/openings", {**body, "title": "Staf Pemasaran Digital"}).status_code == 200
    assert list(JobOpening.objects.values_list("title", flat=True)) == ["Staf Pemasaran Digital"]
    report = {"kind": "hired", "job_reference": "KRK-1", "occurred_on": timezone.localdate().isoformat()}
    assert api.post(f"{url}/outcomes", report).status_code == 201
    assert api.post(f"{url}/outcomes", report).status_code == 200
    outcome = JobOutcome.objects.get()
    assert (outcome.kind, outcome.opening.external_id) == ("hired", "KRK-1")
    future = {**report, "occurred_on": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()}
    assert api.post(f"{url}/outcomes", future).json()["error"]["code"] == "validation_failed"
    bad = api.post(f"{url}/openings", {**body, "url": "javascript:alert(1)", "extra": 1})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["details"]) == {"url", "extra"}
    client.force_login(profile.participant.applicant.user)
    page = client.get("/lowongan/").content.decode()
    assert "Staf Pemasaran Digital" in page and "https://karirku.example.id/1" in page


def test_signature_and_replay_checks(api, platform, client):
    path = f"{BASE}/ping"
    assert api.get(path).status_code == 200
    # Unsigned.
    response = client.get(path)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "auth_missing")
    assert response["WWW-Authenticate"].startswith("PRAKERJA-HMAC-SHA256")
    # Wrong secret.
    response = JobApiClient(client, api.key_id, "sk_wrong").get(path)
    assert response.json()["error"]["code"] == "signature_invalid"
    # Old timestamp.
    old = int(time.time()) - 3600
    headers = signing.signed_headers(
        key_id=api.key_id, secret=api.secret, method="GET", path=path, timestamp=old
    )
    assert client.get(path, headers=headers).json()["error"]["code"] == "timestamp_invalid"
    # The same nonce twice.
    headers = signing.signed_headers(key_id=api.key_id, secret=api.secret, method="GET", path=path)
    assert client.get(path, headers=headers).status_code == 200
    response = client.get(path, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "nonce_reused")
    # A training platform's key is not a job platform's key.
    from tests.marketplace.factories import PlatformFactory, credential_for

    key_id, secret = credential_for(PlatformFactory(slug="tokopedia"))
    assert JobApiClient(client, key_id, secret).get(path).json()["error"]["code"] == "key_unknown"
    # Revoked credentials and inactive platforms.
    services.job_platform_credentials_revoke(platform_id=platform.pk, actor=None)
    assert api.get(path).json()["error"]["code"] == "key_unknown"
    key_id, secret = job_credential(platform)
    services.job_platform_save(platform_id=platform.pk, actor=None, active=False)
    response = JobApiClient(client, key_id, secret).get(path)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "platform_inactive")


def test_english_messages_on_request(api):
    response = api.get(f"{BASE}/profiles?limit=0", **{"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Some fields are not valid; see details."


def test_old_nonces_are_forgotten_by_the_hourly_cleanup(api, platform):
    from employment.models import JobApiNonce
    from employment.tasks import api_nonces_cleanup_task

    assert api.get(f"{BASE}/ping").status_code == 200
    JobApiNonce.objects.create(
        platform=platform, nonce="o" * 20, created_at=timezone.now() - datetime.timedelta(hours=1)
    )
    api_nonces_cleanup_task.delay()
    assert JobApiNonce.objects.count() == 1  # the fresh one stays: it could still be replayed
