from django import forms

from imports.csv_records import COLUMNS
from imports.pipeline import ENCODINGS
from imports.uploads import DELIMITER_ALIASES, validate_upload

DELIMITER_CHOICES = [(",", "Comma ( , )"), (";", "Semicolon ( ; )"), ("tab", "Tab")]


class ImportUploadForm(forms.Form):
    # The file's columns and what the import does with each, for the page's help.
    columns = COLUMNS

    file = forms.FileField(
        label="CSV file",
        allow_empty_file=True,  # clean_file says what to do about an empty file
        help_text="Header row with sku and name; description and active are optional.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
    )
    encoding = forms.ChoiceField(
        label="Encoding", choices=list(ENCODINGS.items()), initial="utf-8",
        help_text="UTF-8 with or without BOM unless the file came from an older Excel.",
    )  # fmt: skip
    delimiter = forms.ChoiceField(label="Delimiter", choices=DELIMITER_CHOICES, initial=",")
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

    def options(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("encoding", "delimiter", "validate_only", "strict")}
