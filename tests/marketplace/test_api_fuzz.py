"""Schemathesis against the platform API: every operation of openapi.yaml, signed like a platform signs.

Requests are generated from the spec (valid and invalid data), signed with the real
scheme (``marketplace.api.signing``: the percent-decoded path, the query as sent,
the body's hash), and sent in-process to Django through a small WSGI adapter around
Django's test handler, so they share the test's database transaction. Any 5xx, any
status the spec does not list for the operation, a wrong content type, a body that
does not match the documented schema, or a request the spec forbids that the server
accepts (an over-long ``sku``, say) fails the test.

Bounded and reproducible: ``max_examples`` per operation and ``derandomize``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
import schemathesis
import yaml
from django.test.client import ClientHandler
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.api import signing
from tests.marketplace.factories import (
    ListingFactory,
    PlatformFactory,
    credential_for,
    participant_with_balance,
)

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "marketplace" / "openapi.yaml"
MAX_EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    negative_data_rejection,  # the spec and the server agree: what the spec forbids is refused
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _contract_without_security() -> dict:
    """The contract minus its security requirement: the signer below adds the four headers to
    every request, so schemathesis must not generate (or leave out, in negative cases) them."""
    contract = yaml.safe_load(OPENAPI_FILE.read_text())
    contract.pop("security", None)
    contract["components"].pop("securitySchemes", None)
    return contract


schema = schemathesis.openapi.from_dict(_contract_without_security())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


class SigningApp:
    """A WSGI application that signs each request like a platform, then lets Django answer it."""

    def __init__(self, *, key_id: str, secret: str):
        self.key_id = key_id
        self.secret = secret
        self.handler = ClientHandler(enforce_csrf_checks=False)

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        # The rule: the path percent-decoded (werkzeug's RAW_URI is the path as sent), the query as sent.
        path = unquote(environ["RAW_URI"].partition("?")[0])
        query = environ.get("QUERY_STRING", "")
        headers = signing.signed_headers(
            key_id=self.key_id,
            secret=self.secret,
            method=environ["REQUEST_METHOD"],
            path=f"{path}?{query}" if query else path,
            body=body,
        )
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        response = self.handler(environ)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]


@pytest.fixture
def signing_app(db):
    platform = PlatformFactory(slug="pintaria", name="Pintaria")
    # Something to find: listings with small ids and a participant with a card.
    for _ in range(3):
        ListingFactory(platform=platform)
    participant_with_balance(balance=1_000_000)
    key_id, secret = credential_for(platform)
    return SigningApp(key_id=key_id, secret=secret)


@pytest.mark.postgres
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, signing_app):
    case.call_and_validate(app=signing_app, checks=CHECKS)


def _operations():
    spec = yaml.safe_load(OPENAPI_FILE.read_text())
    base = spec["servers"][0]["url"]
    for path, item in spec["paths"].items():
        for method in ("get", "post", "patch", "put", "delete"):
            if method in item:
                concrete = re.sub(r"\{(\w+)\}", lambda m: "ABCDEFGHJKMN" if m[1] == "code" else "1", path)
                yield pytest.param(method.upper(), base + concrete, id=item[method]["operationId"])


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), list(_operations()))
def test_every_operation_refuses_an_unsigned_call(client, method, path):
    PlatformFactory(slug="pintaria")
    response = client.generic(
        method,
        path,
        data=b"{}",
        content_type="application/json",
        headers={"Idempotency-Key": "unsigned-0001"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth_missing"


def test_the_unsigned_check_covers_every_operation():
    assert len(list(_operations())) == 12
