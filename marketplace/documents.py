"""Checks for provider document uploads: size and real file type (not the name)."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Magic bytes -> (content type, extension). The file name's extension is not trusted.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


def document_check(upload) -> tuple[str, str]:
    """Return (content type, extension) of an acceptable upload, or raise ValidationError."""
    if upload.size > settings.MARKETPLACE_DOCUMENT_MAX_BYTES:
        raise ValidationError(
            _("This file is %(size)s; the limit is %(limit)s. Save a smaller PDF or photo and try again.")
            % {
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(settings.MARKETPLACE_DOCUMENT_MAX_BYTES),
            },
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError(_("This file is empty. Choose the file again."), code="empty")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    raise ValidationError(
        _("Upload a PDF, JPG or PNG file. Other formats (Word, ZIP, ...) cannot be accepted."),
        code="file_type",
    )


def file_sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def safe_display_name(name: str) -> str:
    """The uploader's file name, for display only: no folders, at most 200 characters."""
    base = PurePosixPath(name.replace("\\", "/")).name or "dokumen"
    return base[-200:]
