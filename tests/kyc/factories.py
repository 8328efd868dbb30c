from __future__ import annotations

import factory
import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from kyc.enums import CaseStatus, SubmissionStatus, Verdict
from kyc.models import KycCase, KycSubmission, VerifiedFace, encoding_to_bytes, photo_path
from tests.factories import ApplicantFactory

TINY_JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00C\x00"
    + bytes(64)
    + b"\xff\xd9"
)


def random_encoding(seed: int) -> np.ndarray:
    """A vector shaped like a dlib face encoding (128 numbers, length about 1)."""
    vector = np.random.default_rng(seed).normal(0, 0.09, 128)
    return vector.astype(np.float32)


class KycCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KycCase

    applicant = factory.SubFactory(ApplicantFactory)
    status = CaseStatus.NOT_STARTED


class KycSubmissionFactory(factory.django.DjangoModelFactory):
    """A submission with two small stored files; pass ``photos=False`` for none."""

    class Meta:
        model = KycSubmission
        skip_postgeneration_save = True

    case = factory.SubFactory(KycCaseFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = SubmissionStatus.DONE
    system_verdict = Verdict.VERIFIED
    verdict = Verdict.VERIFIED
    distance = 0.35
    faces_selfie = 1
    faces_ktp = 1
    decided_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def photos(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        self.selfie.name = default_storage.save(
            photo_path(self, "s.jpg"), ContentFile(extracted or TINY_JPEG)
        )
        self.ktp.name = default_storage.save(photo_path(self, "k.jpg"), ContentFile(extracted or TINY_JPEG))
        self.save(update_fields=["selfie", "ktp"])


def verified_applicant(encoding, applicant=None):
    """An applicant verified by the system, whose selfie encoding is in the duplicate index."""
    extra = {"applicant": applicant} if applicant is not None else {}
    case = KycCaseFactory(status=CaseStatus.VERIFIED, attempts_used=1, decided_at=timezone.now(), **extra)
    submission = KycSubmissionFactory(case=case, selfie_encoding=encoding_to_bytes(encoding))
    KycCase.objects.filter(id=case.id).update(latest_submission=submission)
    VerifiedFace.objects.create(
        applicant=case.applicant, submission=submission, encoding=encoding_to_bytes(encoding)
    )
    return case.applicant
