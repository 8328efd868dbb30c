"""The participant's certificate as a PDF, and the public check of its verification code.

The PDF is drawn with fpdf2's built-in Helvetica (no font files to ship), so text is reduced to
Latin-1 first: typographic quotes and dashes become their plain forms, anything else a "?".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from marketplace.codes import code_display, code_normalize
from marketplace.models import Completion

_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "•": "*"})


def _latin1(text: str) -> str:
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def name_masked(full_name: str) -> str:
    """``DEWI ANGGRAINI`` -> ``Dewi A*******``: enough to recognise, not enough to look someone up."""
    words = " ".join((full_name or "").split()).title().split(" ")
    if not words or not words[0]:
        return ""
    return " ".join([words[0], *(word[:1] + "*" * (len(word) - 1) for word in words[1:])])


@dataclass(frozen=True)
class CertificateFacts:
    raw_code: str
    code: str
    name: str
    name_masked: str
    training: str
    provider: str
    platform: str
    completed_on: str
    score: int
    certificate_number: str
    # The competency assessment, when the training ends with one and the result is recorded.
    assessment_result: str = ""
    assessment_institution: str = ""
    assessment_date: str = ""
    assessment_certificate_number: str = ""

    @property
    def verify_url(self) -> str:
        return settings.SITE_URL.rstrip("/") + reverse("marketplace:certificate_verify", args=[self.raw_code])


def certificate_facts(completion: Completion) -> CertificateFacts:
    training = completion.voucher.training
    full_name = completion.participant.applicant.full_name
    assessment = getattr(completion, "assessment", None)
    return CertificateFacts(
        raw_code=completion.verification_code,
        code=code_display(completion.verification_code),
        name=" ".join(full_name.split()).title(),
        name_masked=name_masked(full_name),
        training=training.title,
        provider=training.provider.display_name,
        platform=completion.platform.name,
        completed_on=formats.date_format(timezone.localtime(completion.completed_at), "j F Y"),
        score=completion.score,
        certificate_number=completion.certificate_number,
        assessment_result=str(assessment.get_result_display()) if assessment else "",
        assessment_institution=assessment.institution.name if assessment else "",
        assessment_date=formats.date_format(assessment.assessed_on, "j F Y") if assessment else "",
        assessment_certificate_number=assessment.certificate_number if assessment else "",
    )


def certificate_by_code(raw: str) -> Completion | None:
    code = code_normalize(raw)
    if not code:
        return None
    return (
        Completion.objects.select_related(
            "platform", "voucher__training__provider", "participant__applicant", "assessment__institution"
        )
        .filter(verification_code=code)
        .first()
    )


def certificate_pdf(completion: Completion) -> bytes:
    """One A4 landscape page, in the active language."""
    facts = certificate_facts(completion)
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_compression(False)  # a one-page text PDF stays small; plain streams are searchable
    pdf.set_title(_latin1(_("Prakerja training certificate")))
    pdf.set_author(_latin1(settings.PROGRAMME_NAME))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_draw_color(11, 61, 145)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_text_color(11, 61, 145)
    pdf.set_font("Helvetica", "B", 26)
    pdf.set_xy(20, 28)
    pdf.cell(257, 12, _latin1(_("Prakerja training certificate")), align="C")
    pdf.set_text_color(30, 30, 30)
    pdf.set_font("Helvetica", "", 14)
    pdf.set_xy(20, 50)
    pdf.cell(257, 8, _latin1(_("This certifies that")), align="C")
    pdf.set_font("Helvetica", "B", 22)
    pdf.set_xy(20, 62)
    pdf.cell(257, 12, _latin1(facts.name), align="C")
    pdf.set_font("Helvetica", "", 14)
    pdf.set_xy(20, 80)
    pdf.cell(257, 8, _latin1(_("completed the training")), align="C")
    pdf.set_font("Helvetica", "B", 17)
    pdf.set_xy(30, 92)
    pdf.multi_cell(237, 9, _latin1(facts.training), align="C")
    rows = [
        (_("Training provider"), facts.provider),
        (_("Digital platform"), facts.platform),
        (_("Completed on"), facts.completed_on),
        (_("Score"), str(facts.score)),
        (_("Certificate number"), facts.certificate_number),
        (_("Verification code"), facts.code),
    ]
    if facts.assessment_result:
        rows.append(
            (
                _("Competency assessment"),
                f"{facts.assessment_result}, {facts.assessment_institution}, {facts.assessment_date}",
            )
        )
        if facts.assessment_certificate_number:
            rows.append((_("Competency certificate number"), facts.assessment_certificate_number))
    y = 122 if len(rows) <= 6 else 116
    for label, value in rows:
        pdf.set_xy(60, y)
        pdf.set_font("Helvetica", "", 12)
        pdf.cell(70, 7, _latin1(label))
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(110, 7, _latin1(value))
        y += 8
    pdf.set_font("Helvetica", "", 10)
    pdf.set_xy(20, 178)
    pdf.multi_cell(
        257,
        5,
        _latin1(_("Check this certificate at %(url)s") % {"url": facts.verify_url}),
        align="C",
    )
    return bytes(pdf.output())
