"""Schemathesis against the job platform API (employment/openapi.yaml), signed like a job platform signs.

The same harness as tests/marketplace/test_api_fuzz.py: requests generated from the spec (valid and
invalid data), signed with the shared scheme, sent in-process to Django. Any 5xx, an undocumented
status, a body that does not match the documented schema, or a request the spec forbids that the
server accepts fails the test. Bounded and reproducible (``max_examples``, ``derandomize``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from tests.employment.factories import job_credential, job_platform, sharing_profile
from tests.marketplace.test_api_fuzz import CHECKS, SigningApp

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "employment" / "openapi.yaml"
MAX_EXAMPLES = 20


def _contract_without_security() -> dict:
    contract = yaml.safe_load(OPENAPI_FILE.read_text())
    contract.pop("security", None)
    contract["components"].pop("securitySchemes", None)
    return contract


schema = schemathesis.openapi.from_dict(_contract_without_security())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture
def signing_app(db):
    platform = job_platform("karirku")
    sharing_profile(platform)
    key_id, secret = job_credential(platform)
    return SigningApp(key_id=key_id, secret=secret)


@pytest.mark.postgres
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, signing_app):
    case.call_and_validate(app=signing_app, checks=CHECKS)


def _operations():
    spec = yaml.safe_load(OPENAPI_FILE.read_text())
    base = spec["servers"][0]["url"]
    for path, item in spec["paths"].items():
        for method in ("get", "post", "patch", "put", "delete"):
            if method in item:
                concrete = re.sub(r"\{(\w+)\}", "8c6f1f0e-3b7a-4d55-9a0e-2f4c1b6d7e90", path)
                yield pytest.param(method.upper(), base + concrete, id=item[method]["operationId"])


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), list(_operations()))
def test_every_operation_refuses_an_unsigned_call(client, method, path):
    job_platform("karirku")
    response = client.generic(method, path, data=b"{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth_missing"


def test_the_unsigned_check_covers_every_operation():
    assert len(list(_operations())) == 5


def test_the_openapi_file_is_served(client):
    response = client.get("/api/jobs/v1/openapi.yaml")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["servers"] == [{"url": "/api/jobs/v1"}]
