from django import forms

from imports.csv_records import COLUMNS
from imports.pipeline import ENCODINGS
from imports.uploads import ACCEPT, DELIMITER_ALIASES, file_format, validate_upload

SHEET_NEEDS_WORKBOOK = "A sheet applies to Excel workbooks (.xlsx) only; leave it blank for a CSV."
DELIMITER_CHOICES = [(",", "Comma ( , )"), (";", "Semicolon ( ; )"), ("tab", "Tab")]


class ImportUploadForm(forms.Form):
    # The file's columns and what the import does with each, for the page's help.
    columns = COLUMNS

    file = forms.FileField(
        label="CSV file or Excel workbook",
        allow_empty_file=True,  # clean_file says what to do about an empty file
        help_text="Header row with sku and name; description and active are optional. "
        "A workbook (.xlsx) is read from its first sheet unless you name one.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    encoding = forms.ChoiceField(
        label="Encoding", choices=list(ENCODINGS.items()), initial="utf-8",
        help_text="UTF-8 with or without BOM unless the file came from an older Excel.",
    )  # fmt: skip
    delimiter = forms.ChoiceField(label="Delimiter", choices=DELIMITER_CHOICES, initial=",")
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

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        validate_upload(uploaded)
        return uploaded

    def clean_delimiter(self) -> str:
        return DELIMITER_ALIASES[self.cleaned_data["delimiter"]]

    def clean(self):
        data = super().clean() or {}
        uploaded = data.get("file")
        if data.get("sheet", "").strip() and uploaded and file_format(uploaded.name) != "xlsx":
            self.add_error("sheet", SHEET_NEEDS_WORKBOOK)
        return data

    def options(self) -> dict:
        data = self.cleaned_data
        names = ("encoding", "delimiter", "validate_only", "strict", "sheet")
        return {name: data[name] for name in names}
