from __future__ import annotations

import functools
import json
from pathlib import Path

from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from employment import services
from employment.models import JobPlatform
from marketplace.api import signing
from tests.marketplace.factories import completed_training


def job_platform(slug: str = "karirku", **fields) -> JobPlatform:
    fields = {"name": slug.title(), "active": True, **fields}
    return services.job_platform_save(platform_id=None, actor=None, slug=slug, **fields)


def job_credential(platform) -> tuple[str, str]:
    issued = services.job_platform_credential_issue(platform_id=platform.pk, actor=None)
    return issued.credential.key_id, issued.secret


def sharing_profile(*platforms, summary: str = "Siap bekerja di bidang pemasaran."):
    """A participant who completed a training and shares a job profile with ``platforms``."""
    completion = completed_training()
    participant = completion.participant
    profile = services.job_profile_save(participant=participant, summary=summary)
    services.job_sharing_set(
        profile=profile,
        platform_ids={p.pk for p in platforms},
        consent_given=True,
        actor=participant.applicant.user,
    )
    return profile


OPENAPI_FILE = Path(__file__).resolve().parents[2] / "employment" / "openapi.yaml"


@functools.cache
def openapi_spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(OPENAPI_FILE))


class JobApiClient:
    """Signs each request like a job platform (the training platforms' scheme) and checks every
    response against employment/openapi.yaml (status, headers, JSON schema)."""

    def __init__(self, client, key_id: str, secret: str):
        self.client, self.key_id, self.secret = client, key_id, secret

    def call(self, method: str, path: str, body=None, *, validate: bool = True, **header_overrides):
        raw = json.dumps(body).encode() if body is not None else b""
        headers = signing.signed_headers(
            key_id=self.key_id, secret=self.secret, method=method, path=path, body=raw
        )
        headers.update(header_overrides)
        response = self.client.generic(
            method, path, data=raw, content_type="application/json", headers=headers
        )
        if validate:
            openapi_spec().validate_response(
                DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
            )
        return response

    def get(self, path, **overrides):
        return self.call("GET", path, **overrides)

    def post(self, path, body, **overrides):
        return self.call("POST", path, body, **overrides)
