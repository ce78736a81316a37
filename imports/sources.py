"""Saved sources: named settings for a supplier's files ("Supplier A weekly feed").

A source (imports.models.ImportSource) remembers how its files are read (encoding,
delimiter, a workbook's sheet), which column feeds each catalogue field (the mapping) and how
they are merged (strict, sync mode). Choosing it on the upload page, in the API (`source`) or
in the command (`--source NAME`) starts the import with those settings; a setting the import
sets itself wins (`options_with_source`). A new file whose header is a source's header is
suggested that source (`suggest_for_header`, used by the preview).

Every write to a source is here (create, update, delete); pages, API and admin call these.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from imports.column_mapping import normalized, parse_mapping
from imports.detection import AUTO
from imports.models import ImportJob, ImportSource

# The import options a source holds, as the job and the pipeline name them.
SETTINGS = ("encoding", "delimiter", "sheet", "mapping", "strict", "sync")


class UnknownSource(LookupError):
    """No saved source has that name; str() says so and lists the names there are."""


def source_named(name: str) -> ImportSource:
    """The saved source called `name` (any letter case, surrounding spaces ignored)."""
    found = ImportSource.objects.filter(name__iexact=name.strip()).first()
    if found is None:
        names = ", ".join(ImportSource.objects.values_list("name", flat=True)[:20]) or "none yet"
        raise UnknownSource(f"no saved source is named {name.strip()!r} (saved sources: {names})")
    return found


def options_with_source(source: ImportSource | None, options: dict) -> dict:
    """The import's options with `source`'s settings wherever the import leaves one unset:
    encoding or delimiter automatic (or not given), no sheet, a field the mapping does not
    name, strict off, sync off. What the import sets itself wins."""
    if source is None:
        return options
    merged = dict(options)
    for name in ("encoding", "delimiter"):
        if getattr(source, name) and merged.get(name) in (None, "", AUTO):
            merged[name] = getattr(source, name)
    if source.sheet and not (merged.get("sheet") or "").strip():
        merged["sheet"] = source.sheet
    merged["mapping"] = {**(source.mapping or {}), **(merged.get("mapping") or {})}
    merged["strict"] = bool(merged.get("strict")) or source.strict
    if source.sync and not merged.get("sync"):
        merged["sync"] = source.sync
    return merged


def header_key(cells: list[str]) -> list[str]:
    """A header as sources store and compare it: each cell normalized, blanks dropped."""
    return [key for key in (normalized(cell) for cell in cells) if key]


def suggest_for_header(cells: list[str]) -> ImportSource | None:
    """The saved source made for files with this header (the same columns, in any order,
    case and spacing ignored), the most recently changed one if several; else None."""
    wanted = sorted(header_key(cells))
    if not wanted:
        return None
    for source in ImportSource.objects.exclude(header=[]).order_by("-updated_at", "-id"):
        if sorted(source.header) == wanted:
            return source
    return None


def _clean(values: dict) -> dict:
    cleaned = {name: values[name] for name in (*SETTINGS, "header") if name in values}
    if "mapping" in cleaned:
        cleaned["mapping"] = parse_mapping(cleaned["mapping"] or {})
    if "header" in cleaned:
        cleaned["header"] = header_key(cleaned["header"] or [])
    if "sync" in cleaned:
        cleaned["sync"] = cleaned["sync"] or ImportJob.Sync.OFF
    for name in ("encoding", "delimiter"):
        if cleaned.get(name) == AUTO:
            cleaned[name] = ""
    return cleaned


def _check_name(source: ImportSource) -> None:
    same = ImportSource.objects.filter(name__iexact=source.name).exclude(pk=source.pk)
    if same.exists():
        raise ValidationError({"name": f"A saved source named “{source.name}” already exists."})


@transaction.atomic
def source_create(*, name: str, values: dict, user=None) -> ImportSource:
    """Save a new source; `values` holds any of SETTINGS and `header` (its cells as the
    file writes them)."""
    source = ImportSource(
        name=name.strip(),
        created_by=user if user is not None and user.is_authenticated else None,
        **_clean(values),
    )
    _check_name(source)
    source.full_clean()
    source.save()
    return source


@transaction.atomic
def source_update(*, source: ImportSource, name: str | None = None, values: dict) -> ImportSource:
    source = ImportSource.objects.select_for_update().get(pk=source.pk)
    if name is not None:
        source.name = name.strip()
    for field, value in _clean(values).items():
        setattr(source, field, value)
    _check_name(source)
    source.full_clean()
    source.save()
    return source


@transaction.atomic
def source_delete(*, source: ImportSource) -> None:
    """Delete a source; the jobs started with it keep their settings (saved_source is
    cleared)."""
    ImportSource.objects.filter(pk=source.pk).delete()
