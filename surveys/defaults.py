"""The programme's three evaluation surveys (days 0, 30 and 60 after the first training incentive)."""

from __future__ import annotations

from django.db import transaction

from surveys import services
from surveys.enums import QuestionKind
from surveys.models import Survey


def _opts(*rows: tuple[str, str, str]) -> list[dict]:
    return [{"value": v, "label_id": i, "label_en": e} for v, i, e in rows]


EMPLOYMENT = _opts(
    ("full_time", "Bekerja penuh waktu", "Working full time"),
    ("informal", "Bekerja paruh waktu / sektor informal", "Part-time or informal work"),
    ("business", "Berwirausaha", "Running my own business"),
    ("unemployed", "Belum bekerja", "Not working"),
)
INCENTIVE_USE = _opts(
    ("food", "Kebutuhan pokok", "Daily needs"),
    ("business", "Modal usaha", "Business capital"),
    ("job_search", "Biaya mencari kerja", "Looking for work"),
    ("savings", "Tabungan", "Savings"),
    ("other", "Lainnya", "Other"),
)

# (kind, required, Indonesian, English, options)
QUESTIONS = {
    1: [
        (
            QuestionKind.SINGLE,
            True,
            "Apa status pekerjaan Anda saat ini?",
            "What is your work status now?",
            EMPLOYMENT,
        ),
        (
            QuestionKind.SCALE,
            True,
            "Seberapa jauh pelatihan meningkatkan keterampilan Anda?",
            "How much did the training improve your skills?",
            [],
        ),
        (
            QuestionKind.SINGLE,
            True,
            "Apakah pelatihan sesuai dengan kebutuhan Anda?",
            "Did the training match your needs?",
            _opts(("yes", "Ya", "Yes"), ("partly", "Sebagian", "Partly"), ("no", "Tidak", "No")),
        ),
        (
            QuestionKind.NUMBER,
            False,
            "Berapa penghasilan Anda sebulan saat ini (Rupiah)?",
            "What is your monthly income now (rupiah)?",
            [],
        ),
        (
            QuestionKind.TEXT,
            False,
            "Saran untuk Program Prakerja",
            "Suggestions for the Prakerja programme",
            [],
        ),
    ],
    2: [
        (
            QuestionKind.SINGLE,
            True,
            "Apa status pekerjaan Anda saat ini?",
            "What is your work status now?",
            EMPLOYMENT,
        ),
        (
            QuestionKind.MULTIPLE,
            True,
            "Untuk apa insentif Prakerja Anda gunakan?",
            "What did you use the Prakerja incentive for?",
            INCENTIVE_USE,
        ),
        (
            QuestionKind.SCALE,
            True,
            "Seberapa yakin Anda mendapat pekerjaan atau usaha yang lebih baik?",
            "How confident are you of finding better work or business?",
            [],
        ),
    ],
    3: [
        (
            QuestionKind.SINGLE,
            True,
            "Apa status pekerjaan Anda saat ini?",
            "What is your work status now?",
            EMPLOYMENT,
        ),
        (
            QuestionKind.SCALE,
            True,
            "Seberapa puas Anda dengan Program Prakerja secara keseluruhan?",
            "How satisfied are you with the Prakerja programme overall?",
            [],
        ),
        (
            QuestionKind.NUMBER,
            False,
            "Berapa penghasilan Anda sebulan saat ini (Rupiah)?",
            "What is your monthly income now (rupiah)?",
            [],
        ),
        (
            QuestionKind.TEXT,
            False,
            "Saran untuk Program Prakerja",
            "Suggestions for the Prakerja programme",
            [],
        ),
    ],
}

TITLES = {
    1: ("Survei Evaluasi 1: Setelah Pelatihan", "Evaluation survey 1: after the training"),
    2: ("Survei Evaluasi 2: Penggunaan Insentif", "Evaluation survey 2: using the incentive"),
    3: ("Survei Evaluasi 3: Dampak Program", "Evaluation survey 3: the programme's effect"),
}
OPENS_AFTER = {1: 0, 2: 30, 3: 60}


def default_surveys_ensure(*, actor=None) -> list[Survey]:
    """Create the three surveys with a published first version, where missing. Idempotent."""
    surveys = []
    for number, (title_id, title_en) in TITLES.items():
        with transaction.atomic():
            survey, created = Survey.objects.get_or_create(
                number=number,
                defaults={
                    "title_id": title_id,
                    "title_en": title_en,
                    "intro_id": "Sekitar 20 menit. Jawaban Anda tersimpan otomatis dan tidak memengaruhi pembayaran.",
                    "intro_en": "About 20 minutes. Your answers are saved as you go and do not affect any payment.",
                    "opens_after_days": OPENS_AFTER[number],
                    "open_days": 30,
                },
            )
            if created:
                draft = services.version_draft(survey_id=survey.pk, actor=actor)
                for position, (kind, required, label_id, label_en, options) in enumerate(
                    QUESTIONS[number], 1
                ):
                    services.question_save(
                        version_id=draft.pk,
                        position=position,
                        kind=kind,
                        label_id=label_id,
                        label_en=label_en,
                        required=required,
                        options=options,
                        actor=actor,
                    )
                services.version_publish(version_id=draft.pk, actor=actor)
        surveys.append(survey)
    return surveys
