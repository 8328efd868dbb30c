from django import template

from prakerja.masking import mask_identifier
from prakerja.money import format_rupiah
from prakerja.otp import sms_plain

register = template.Library()


@register.filter
def rupiah(amount):
    """``{{ 1000000|rupiah }}`` -> ``Rp1.000.000``."""
    if amount is None or amount == "":
        return ""
    return format_rupiah(int(amount))


@register.filter
def sms_text(value, max_chars=40):
    """``{{ training.title|sms_text }}``: plain GSM-safe characters, at most 40 (cut with "...").

    One typographic quote or accent turns a whole SMS into UCS-2 (67 characters a part).
    """
    return sms_plain(str(value), max_chars=int(max_chars))


@register.filter
def masked(value):
    """``{{ nik|masked }}`` -> ``3275••••••••0001``."""
    return mask_identifier(value)


@register.filter
def summary_label(label):
    """A field label as the lead-in of an error summary line: ``"Saya bukan ASN."`` -> ``"Saya bukan ASN"``.

    The summary writes ``label: error``; a label that ends in a full stop or colon
    would otherwise read ``"...ASN.: Centang kotak ini"``.
    """
    return str(label).rstrip().rstrip(".:").rstrip()
