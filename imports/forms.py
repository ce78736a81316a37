from django import forms

from imports.column_mapping import MappingError, parse_mapping
from imports.csv_records import ACTIVE_SPELLINGS_TEXT, COLUMNS
from imports.detection import (
    AUTO,
    DELIMITER_ALIASES,
    DELIMITER_CHOICES,
    DETECTION_BYTES,
    ENCODING_CHOICES,
)
from imports.models import ImportJob, ImportSource
from imports.uploads import ACCEPT, file_format, validate_upload

# Sync mode's warning, on the page and in the API's schema.
SYNC_HELP = (
    "Products the file does not name are deactivated, or deleted, in the same transaction "
    "(revertible with the import). The file must then be complete and every record valid: "
    "run Validate only first to see how many products a sync would deactivate or delete."
)
SHEET_NEEDS_WORKBOOK = "A sheet applies to Excel workbooks (.xlsx) only; leave it blank for a CSV."
PREVIEW_NEEDS_CSV = (
    "The preview reads CSV files; a workbook's columns are matched from its header when it imports."
)


class FileSettingsForm(forms.Form):
    """How the file is read and which column feeds each field: the upload and its preview."""

    # The file's columns and what the import does with each, for the page's help.
    columns = COLUMNS
    active_spellings = ACTIVE_SPELLINGS_TEXT
    preview_bytes = DETECTION_BYTES

    encoding = forms.ChoiceField(
        label="Encoding", choices=ENCODING_CHOICES, initial=AUTO, required=False,
        help_text="CSV files: detected from the start of the file unless you choose one.",
    )  # fmt: skip
    delimiter = forms.ChoiceField(
        label="Delimiter", choices=DELIMITER_CHOICES, initial=AUTO, required=False
    )
    source = forms.ModelChoiceField(
        label="Saved source", queryset=ImportSource.objects.all(), required=False,
        empty_label="None: the settings below",
        help_text="Its encoding, delimiter, sheet, columns and options apply wherever the "
        "settings below are left automatic, blank or off.",
    )  # fmt: skip
    # A JSON object field -> column (or null), written by the page's script from the
    # mapping the preview shows; empty: every field is suggested from the header.
    mapping = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_encoding(self) -> str:
        return self.cleaned_data["encoding"] or AUTO

    def clean_delimiter(self) -> str:
        return DELIMITER_ALIASES[self.cleaned_data["delimiter"] or AUTO]

    def clean_mapping(self) -> dict:
        try:
            return parse_mapping(self.cleaned_data["mapping"])
        except MappingError as exc:
            raise forms.ValidationError(str(exc), code="mapping") from None

    def settings(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("encoding", "delimiter", "mapping")}

    def preview_settings(self) -> dict:
        """What imports.preview.preview_upload takes."""
        return {**self.settings(), "saved_source": self.cleaned_data.get("source")}


class ImportUploadForm(FileSettingsForm):
    # The fields above the preview (the file and how it is read); the import's options follow.
    file_fields = ("file", "source", "encoding", "delimiter", "sheet")

    file = forms.FileField(
        label="CSV file or Excel workbook",
        allow_empty_file=True,  # clean_file says what to do about an empty file
        help_text="A header row naming the columns; the preview shows how they are read. "
        "A workbook (.xlsx) is read from its first sheet unless you name one.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    sheet = forms.CharField(
        label="Sheet", required=False, max_length=255,
        help_text="Workbooks only: the sheet to read (blank: the first one).",
    )  # fmt: skip
    validate_only = forms.BooleanField(
        label="Validate only", required=False,
        help_text="Check everything and report what would change, without changing the catalogue.",
    )  # fmt: skip
    strict = forms.BooleanField(
        label="Strict", required=False,
        help_text="Any rejected record fails the whole import.",
    )  # fmt: skip
    sync = forms.ChoiceField(
        label="Sync mode", choices=ImportJob.Sync.choices, required=False,
        help_text=SYNC_HELP,
    )  # fmt: skip

    field_order = [
        "file",
        "source",
        "encoding",
        "delimiter",
        "sheet",
        "validate_only",
        "strict",
        "sync",
        "mapping",
    ]

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        validate_upload(uploaded)
        return uploaded

    def clean(self):
        data = super().clean() or {}
        uploaded = data.get("file")
        if data.get("sheet", "").strip() and uploaded and file_format(uploaded.name) != "xlsx":
            self.add_error("sheet", SHEET_NEEDS_WORKBOOK)
        return data

    def options(self) -> dict:
        data = self.cleaned_data
        names = ("validate_only", "strict", "sheet", "sync")
        chosen = {name: data[name] for name in names}
        return {**self.settings(), **chosen, "saved_source": data.get("source")}


class PreviewForm(FileSettingsForm):
    """The first block of a file (the page's script sends no more) and the settings to try."""

    file = forms.FileField(label="CSV file", allow_empty_file=True)

    field_order = ["file", "source", "encoding", "delimiter", "mapping"]

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        validate_upload(uploaded)
        if file_format(uploaded.name) != "csv":
            raise forms.ValidationError(PREVIEW_NEEDS_CSV, code="file_type")
        return uploaded
