"""Checks on an uploaded file before it is stored: size limit, empty file, a file that is not
what its name says (a CSV, or an .xlsx workbook), and which format it is read as."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

# The formats an import reads, by file name extension: imports.pipeline reads "csv" with
# imports.csv_records and "xlsx" with imports.workbook_records.
FILE_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx"}
ALLOWED_EXTENSIONS = tuple(FILE_FORMATS)
ACCEPT = ",".join((*ALLOWED_EXTENSIONS, "text/csv"))
# Every .xlsx is a ZIP archive.
ZIP_SIGNATURE = b"PK\x03\x04"
# Signatures of files people upload by mistake instead of a CSV export.
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive or an Excel/OpenDocument workbook",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
}


def too_large_message(size: int) -> str:
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    return (
        f"The file is {filesizeformat(size)}; the upload limit is {filesizeformat(limit)}. "
        "Split the file, or ask an administrator to raise IMPORT_MAX_UPLOAD_BYTES."
    )


def file_format(name: str) -> str:
    """The format a file of this name is read as (FILE_FORMATS; "csv" for other names: the
    shell command takes any path and reads it as CSV)."""
    return FILE_FORMATS.get(os.path.splitext(name)[1].lower(), "csv")


def validate_upload(uploaded_file) -> None:
    """Raise ValidationError with a message a user can act on."""
    name = os.path.basename(uploaded_file.name or "")
    if uploaded_file.size is None or uploaded_file.size == 0:
        raise ValidationError(
            f"“{name}” is empty. Choose a CSV file or an .xlsx workbook with a header row "
            "(sku, name, ...).",
            code="empty",
        )
    if uploaded_file.size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise ValidationError(too_large_message(uploaded_file.size), code="too_large")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED_EXTENSIONS:
        hint = " (an .xls workbook: save it as .xlsx)" if extension == ".xls" else ""
        raise ValidationError(
            f"“{name}” is not a CSV file or an Excel workbook (expected .csv, .tsv, .txt or "
            f".xlsx){hint}. Export the data as CSV or .xlsx and upload that.",
            code="file_type",
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(8)
    uploaded_file.seek(0)
    if FILE_FORMATS[extension] == "xlsx":
        if not head.startswith(ZIP_SIGNATURE):
            kind = BINARY_SIGNATURES.get(head[:4])
            what = f"looks like {kind}, not" if kind else "is not"
            raise ValidationError(
                f"“{name}” {what} an Excel workbook (.xlsx files are ZIP archives). Save it "
                "from Excel as an .xlsx workbook (without a password), or export it as CSV, "
                "and upload that.",
                code="file_type",
            )
        return
    for signature, kind in BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise ValidationError(
                f"“{name}” looks like {kind}, not a CSV file. Export the data as CSV and "
                "upload that.",
                code="file_type",
            )
