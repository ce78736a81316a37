"""The saved source form (pages); the API validates with imports.serializers."""

from __future__ import annotations

from django import forms

from imports.column_mapping import FIELDS, MappingError, parse_mapping
from imports.detection import DELIMITER_ALIASES, DELIMITER_CHOICES, ENCODING_CHOICES
from imports.models import ImportJob, ImportSource

NOT_SET = "Not set: detected (or as chosen at upload)"


class ImportSourceForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=120, help_text="e.g. “Supplier A weekly feed”; unique."
    )
    encoding = forms.ChoiceField(
        label="Encoding", required=False,
        choices=[("", NOT_SET), *ENCODING_CHOICES[1:]],
    )  # fmt: skip
    delimiter = forms.ChoiceField(
        label="Delimiter", required=False,
        choices=[("", NOT_SET), *DELIMITER_CHOICES[1:]],
    )  # fmt: skip
    sheet = forms.CharField(
        label="Sheet", required=False, max_length=255,
        help_text="Workbooks (.xlsx): the sheet to read; blank: the first.",
    )  # fmt: skip
    strict = forms.BooleanField(
        label="Strict", required=False, help_text="Any rejected record fails the whole import."
    )
    sync = forms.ChoiceField(label="Sync mode", choices=ImportJob.Sync.choices, required=False)
    header = forms.CharField(
        label="Header", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The columns of this source's files, one per line (or the header row as the "
        "file writes it, comma- or semicolon-separated): a new file with this header is "
        "suggested this source.",
    )  # fmt: skip

    def __init__(self, *args, source: ImportSource | None = None, **kwargs) -> None:
        if source is not None and not args:
            kwargs.setdefault("initial", {})
        super().__init__(*args, **kwargs)
        if source is not None:
            self.initial.update(
                name=source.name, encoding=source.encoding,
                delimiter="tab" if source.delimiter == "\t" else source.delimiter,
                sheet=source.sheet, strict=source.strict, sync=source.sync,
                header="\n".join(source.header),
            )  # fmt: skip
        mapping = source.mapping if source is not None else {}
        # One field per catalogue field: the column that feeds it, "-" to leave it out,
        # blank to let the import suggest it from the header.
        for name in FIELDS:
            column = mapping.get(name, "") if name in mapping else ""
            self.fields[f"map_{name}"] = forms.CharField(
                label=f"Column for {name}", required=False, max_length=255,
                initial="-" if name in mapping and column is None else column or "",
                help_text="Blank: suggested from the header; “-”: left out (never written).",
            )  # fmt: skip

    def clean_delimiter(self) -> str:
        value = self.cleaned_data["delimiter"]
        return DELIMITER_ALIASES[value] if value else ""

    def clean_header(self) -> list[str]:
        text = self.cleaned_data["header"].strip()
        if not text:
            return []
        if "\n" in text:
            return [line.strip() for line in text.splitlines() if line.strip()]
        separator = ";" if text.count(";") > text.count(",") else ","
        return [cell.strip() for cell in text.split(separator) if cell.strip()]

    def clean(self):
        data = super().clean() or {}
        requested: dict[str, str | None] = {}
        for name in FIELDS:
            column = (data.get(f"map_{name}") or "").strip()
            if column == "-":
                requested[name] = None
            elif column:
                requested[name] = column
        try:
            data["mapping"] = parse_mapping(requested)
        except MappingError as exc:
            raise forms.ValidationError(str(exc), code="mapping") from None
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        names = ("encoding", "delimiter", "sheet", "strict", "sync", "header", "mapping")
        return {name: data[name] for name in names}
