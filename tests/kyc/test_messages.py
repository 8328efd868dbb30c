import pytest
from django.utils import translation

from kyc.enums import ImageKind, Reason, RejectReason
from kyc.messages import reason_message, reject_message

FALLBACK = "Foto belum dapat diperiksa. Silakan coba lagi."


@pytest.mark.parametrize("image", ImageKind.values)
@pytest.mark.parametrize("reason", Reason.values)
def test_every_reason_has_an_actionable_indonesian_message(reason, image):
    with translation.override("id"):
        indonesian = reason_message(reason, image)
    with translation.override("en"):
        english = reason_message(reason, image)
    assert indonesian != FALLBACK
    assert indonesian != english  # translated
    assert indonesian.endswith(".")
    assert len(indonesian.split(". ")) >= 2 or "Unggah" in indonesian  # what happened, then what to do


def test_messages_name_the_photo_concerned():
    with translation.override("id"):
        assert reason_message(Reason.TOO_DARK, ImageKind.KTP).startswith("Foto KTP terlalu gelap.")
        assert reason_message(Reason.TOO_DARK, ImageKind.SELFIE).startswith("Swafoto Anda terlalu gelap.")
        assert reason_message(Reason.TOO_LARGE, ImageKind.KTP) == (
            "File KTP terlalu besar. Batasnya 10 MB dan 50 megapiksel: kirim foto langsung dari kamera Anda."
        )


@pytest.mark.parametrize("reason", RejectReason.values)
def test_every_rejection_is_explained_in_indonesian(reason):
    with translation.override("id"):
        assert reject_message(reason).startswith("Petugas ")
