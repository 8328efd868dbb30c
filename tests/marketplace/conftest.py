from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from marketplace.api import signing
from tests.marketplace.factories import PlatformFactory, credential_for

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "marketplace" / "openapi.yaml"


@pytest.fixture(scope="session")
def openapi_spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(OPENAPI_FILE))


class SignedClient:
    """Django's test client speaking the platform API: signs every request, checks every response."""

    def __init__(self, client, *, key_id: str, secret: str, spec: OpenAPI):
        self.client = client
        self.key_id = key_id
        self.secret = secret
        self.spec = spec

    def request(
        self,
        method: str,
        path: str,
        *,
        body=None,
        raw_body: bytes | None = None,
        idempotency_key: str | None = None,
        timestamp: int | None = None,
        nonce: str | None = None,
        secret: str | None = None,
        headers: dict | None = None,
        sign_path: str | None = None,
        validate: bool = True,
    ):
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else b"")
        signed = signing.signed_headers(
            key_id=self.key_id,
            secret=secret or self.secret,
            method=method,
            path=sign_path or path,
            body=data,
            timestamp=timestamp,
            nonce=nonce,
        )
        all_headers = {**signed, **(headers or {})}
        if idempotency_key:
            all_headers[signing.HEADER_IDEMPOTENCY_KEY] = idempotency_key
        response = self.client.generic(
            method, path, data=data, content_type="application/json", headers=all_headers
        )
        if validate:
            assert_matches_spec(self.spec, response)
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def patch(self, path, body, **kwargs):
        return self.request("PATCH", path, body=body, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body=body, **kwargs)


def assert_matches_spec(spec: OpenAPI, response) -> None:
    """Fail unless the response is documented in openapi.yaml (status, headers, JSON schema)."""
    spec.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))


@pytest.fixture
def platform(db):
    return PlatformFactory(slug="pintaria", name="Pintaria")


@pytest.fixture
def api(client, platform, openapi_spec) -> SignedClient:
    key_id, secret = credential_for(platform)
    return SignedClient(client, key_id=key_id, secret=secret, spec=openapi_spec)
