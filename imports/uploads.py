"""Checks on an uploaded CSV before it is stored: size limit, empty file, obvious non-CSV."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

ALLOWED_EXTENSIONS = (".csv", ".tsv", ".txt")
# Signatures of files people upload by mistake instead of a CSV export.
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive or an Excel/OpenDocument workbook",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
}
# Delimiter values accepted from forms, the API and the command; "tab" spares users a raw tab.
DELIMITER_ALIASES = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "\\t": "\t"}


def too_large_message(size: int) -> str:
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    return (
        f"The file is {filesizeformat(size)}; the upload limit is {filesizeformat(limit)}. "
        "Split the file, or ask an administrator to raise IMPORT_MAX_UPLOAD_BYTES."
    )


def validate_upload(uploaded_file) -> None:
    """Raise ValidationError with a message a user can act on."""
    name = os.path.basename(uploaded_file.name or "")
    if uploaded_file.size is None or uploaded_file.size == 0:
        raise ValidationError(
            f"“{name}” is empty. Choose a CSV file with a header row (sku, name, ...).",
            code="empty",
        )
    if uploaded_file.size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise ValidationError(too_large_message(uploaded_file.size), code="too_large")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            f"“{name}” is not a CSV file (expected .csv, .tsv or .txt). Export the data as CSV "
            "and upload that.",
            code="file_type",
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(8)
    uploaded_file.seek(0)
    for signature, kind in BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise ValidationError(
                f"“{name}” looks like {kind}, not a CSV file. Export the data as CSV and "
                "upload that.",
                code="file_type",
            )
