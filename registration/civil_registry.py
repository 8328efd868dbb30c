"""The civil-registry (Dukcapil) check: one interface, two backends.

``verify(nik, kk, name, birth_date)`` answers VERIFIED, MISMATCH (with the
fields that differ), NOT_FOUND or UNAVAILABLE. UNAVAILABLE is never a verdict
about the person: the caller retries later.

- ``LocalTableBackend`` (default) answers from the ``CivilRecord`` table that
  officers load from CSV/XLSX files.
- ``HttpJsonBackend`` asks an HTTP JSON service (``CIVIL_REGISTRY_URL``) with
  basic auth, a timeout and retries on connection errors and 5xx answers.

Names match when they are equal ignoring case, accents of Unicode forms and
extra spaces: ``"  siti   NURHALIZA "`` matches ``"Siti Nurhaliza"``.
"""

from __future__ import annotations

import datetime
import logging
import unicodedata
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from registration.enums import CivilRegistryStatus
from registration.models import CivilRecord

logger = logging.getLogger(__name__)

# Fields a mismatch can name (Applicant field names).
FIELD_KK = "kk_number"
FIELD_NAME = "full_name"
FIELD_BIRTH_DATE = "birth_date"


@dataclass(frozen=True)
class CivilResult:
    status: str
    mismatch_fields: list[str] = field(default_factory=list)
    # Technical detail for logs and the audit trail (never a NIK).
    detail: str = ""


def normalize_name(name: str) -> str:
    """Upper case, single spaces, Unicode NFKC: how names are compared and sent."""
    return " ".join(unicodedata.normalize("NFKC", name or "").upper().split())


def names_match(left: str, right: str) -> bool:
    return normalize_name(left) == normalize_name(right)


class CivilRegistryBackend:
    def verify(self, nik: str, kk: str, name: str, birth_date: datetime.date) -> CivilResult:
        raise NotImplementedError


class LocalTableBackend(CivilRegistryBackend):
    """Answers from ``CivilRecord`` rows."""

    def verify(self, nik: str, kk: str, name: str, birth_date: datetime.date) -> CivilResult:
        record = CivilRecord.objects.filter(nik=nik).first()
        if record is None:
            return CivilResult(CivilRegistryStatus.NOT_FOUND)
        mismatches = []
        if record.kk_number != kk:
            mismatches.append(FIELD_KK)
        if not names_match(record.full_name, name):
            mismatches.append(FIELD_NAME)
        if record.birth_date != birth_date:
            mismatches.append(FIELD_BIRTH_DATE)
        if mismatches:
            return CivilResult(CivilRegistryStatus.MISMATCH, mismatches)
        return CivilResult(CivilRegistryStatus.VERIFIED)


class HttpJsonBackend(CivilRegistryBackend):
    """A JSON service: ``POST CIVIL_REGISTRY_URL`` with basic auth.

    Request:  ``{"nik": "...", "kk": "...", "name": "SITI NURHALIZA", "birth_date": "1995-03-14"}``
    Answer:   ``{"found": false}`` or
              ``{"found": true, "match": {"kk": true, "name": false, "birth_date": true}}``

    The name is sent normalized (upper case, single spaces). Connection
    errors, time-outs, 5xx, 429 and answers that are not this JSON are
    UNAVAILABLE; so are 401/403 (our credentials are wrong: the person is not
    at fault), which are also logged as errors.
    """

    match_fields = (("kk", FIELD_KK), ("name", FIELD_NAME), ("birth_date", FIELD_BIRTH_DATE))

    def __init__(self):
        self.session = requests.Session()
        retry = Retry(
            total=settings.CIVIL_REGISTRY_HTTP_RETRIES,
            connect=settings.CIVIL_REGISTRY_HTTP_RETRIES,
            read=settings.CIVIL_REGISTRY_HTTP_RETRIES,
            status=settings.CIVIL_REGISTRY_HTTP_RETRIES,
            backoff_factor=0.5,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"POST"}),
            raise_on_status=False,
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        if settings.CIVIL_REGISTRY_USERNAME:
            self.session.auth = (settings.CIVIL_REGISTRY_USERNAME, settings.CIVIL_REGISTRY_PASSWORD)

    def verify(self, nik: str, kk: str, name: str, birth_date: datetime.date) -> CivilResult:
        if not settings.CIVIL_REGISTRY_URL:
            logger.error("civil registry: CIVIL_REGISTRY_URL is not set")
            return CivilResult(CivilRegistryStatus.UNAVAILABLE, detail="not configured")
        payload = {"nik": nik, "kk": kk, "name": normalize_name(name), "birth_date": birth_date.isoformat()}
        try:
            response = self.session.post(
                settings.CIVIL_REGISTRY_URL, json=payload, timeout=settings.CIVIL_REGISTRY_TIMEOUT
            )
        except requests.RequestException as exc:
            return CivilResult(CivilRegistryStatus.UNAVAILABLE, detail=exc.__class__.__name__)
        if response.status_code in (401, 403):
            logger.error("civil registry refused our credentials (%s)", response.status_code)
            return CivilResult(CivilRegistryStatus.UNAVAILABLE, detail=f"http {response.status_code}")
        if response.status_code == 404:
            # Some gateways answer "not found" with a 404 and a JSON body.
            try:
                if response.json().get("found") is False:
                    return CivilResult(CivilRegistryStatus.NOT_FOUND)
            except ValueError:
                pass
            return CivilResult(CivilRegistryStatus.UNAVAILABLE, detail="http 404")
        if response.status_code != 200:
            return CivilResult(CivilRegistryStatus.UNAVAILABLE, detail=f"http {response.status_code}")
        try:
            body = response.json()
            found = body["found"]
            if found is False:
                return CivilResult(CivilRegistryStatus.NOT_FOUND)
            match = body["match"]
            mismatches = [ours for theirs, ours in self.match_fields if match[theirs] is not True]
        except (ValueError, KeyError, TypeError):
            return CivilResult(CivilRegistryStatus.UNAVAILABLE, detail="unexpected answer")
        if mismatches:
            return CivilResult(CivilRegistryStatus.MISMATCH, mismatches)
        return CivilResult(CivilRegistryStatus.VERIFIED)


def get_backend() -> CivilRegistryBackend:
    return import_string(settings.CIVIL_REGISTRY_BACKEND)()


def verify(nik: str, kk: str, name: str, birth_date: datetime.date) -> CivilResult:
    """Ask the configured backend. Any unexpected error counts as UNAVAILABLE."""
    try:
        return get_backend().verify(nik, kk, name, birth_date)
    except Exception as exc:  # noqa: BLE001 - a registry outage must never look like a rejection
        logger.exception("civil registry backend failed: %s", exc.__class__.__name__)
        return CivilResult(CivilRegistryStatus.UNAVAILABLE, detail=exc.__class__.__name__)
