"""Staff pages speak about the person being registered, and say the domicile rule."""

import re

import pytest
from django.urls import reverse

from tests.registration.factories import disnaker_user

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_offline_form_never_addresses_the_officer_as_the_applicant(client):
    client.force_login(disnaker_user("32"))
    html = client.get(reverse("registration:staff_register")).content.decode()
    text = _text(html)
    for phrase in ("KTP Anda", "Kartu Keluarga Anda", "NIK Anda", "tempat Anda tinggal", "Anda tinggal"):
        assert phrase not in text, phrase
    assert "NIK orang yang didaftarkan (16 digit)" in text
    assert "yang tinggal di Jawa Barat, juga dengan KTP dari provinsi lain" in text
