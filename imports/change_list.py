"""Reading a job's changes for people: the job page's Changes section (created / updated /
rejected, a page at a time, a SKU search) and the "Download changes" CSV.

Created and updated come from the job's change set (imports.change_set writes it); rejected
from its stored rejected-rows report (imports.csv_records.RejectionReport), read a page at a
time without loading the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from itertools import islice

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils import timezone

from imports.filters import LISTING_ORDER, sku_is
from imports.models import ImportChange, ImportJob
from imports.staging import MERGED_VALUES
from products.formula_escaping import escape_cell, unescape_cell

CREATED = ImportChange.Kind.CREATED.value
UPDATED = ImportChange.Kind.UPDATED.value
DEACTIVATED = ImportChange.Kind.DEACTIVATED.value
DELETED = ImportChange.Kind.DELETED.value
REJECTED = "rejected"
# The Changes section's tabs, in order: (key, label, label of a validation's, the job's count
# of it). Deactivated and deleted (sync mode, delete-all) only when the job has some.
TABS = (
    (CREATED, "Created", "Would create", "created"),
    (UPDATED, "Updated", "Would update", "updated"),
    (DEACTIVATED, "Deactivated", "Would deactivate", "deactivated"),
    (DELETED, "Deleted", "Would delete", "deleted"),
    (REJECTED, "Rejected", "Rejected", "rows_rejected"),
)
ALWAYS_SHOWN = (CREATED, UPDATED, REJECTED)
DOWNLOAD_KINDS = (CREATED, UPDATED, DEACTIVATED, DELETED)


def has_changes_section(job: ImportJob) -> bool:
    """A completed import or delete-all has one (a revert's page lists its conflicts)."""
    return job.status == ImportJob.Status.COMPLETED and job.kind != ImportJob.Kind.REVERT


def tabs(job: ImportJob) -> list[tuple[str, str, int]]:
    """(key, label, count) of each tab the job's page shows."""
    shown = []
    for key, label, would, count_field in TABS:
        count = getattr(job, count_field, 0) or 0
        if key in ALWAYS_SHOWN or count:
            shown.append((key, would if job.validate_only else label, count))
    return shown


# The fields a change shows, in the order a product's page shows them.
FIELDS = tuple(MERGED_VALUES)
DOWNLOAD_COLUMNS = ("sku", "field", "before", "after")
CHUNK_SIZE = 2000


def changes(job: ImportJob, *, kind: str = "", sku: str = "") -> QuerySet[ImportChange]:
    """The job's changes of `kind` (all kinds when empty) for `sku` (any when empty), by
    kind and SKU (LISTING_ORDER, through importchange_job_kind_sku)."""
    queryset = ImportChange.objects.filter(job=job)
    if kind:
        queryset = queryset.filter(kind=kind)
    return sku_is(queryset, sku).order_by(*LISTING_ORDER)


def expired(job: ImportJob) -> bool:
    """Whether the job's change set and files were deleted after the retention period."""
    days = settings.IMPORT_FILE_RETENTION_DAYS
    return bool(
        days > 0 and job.finished_at and job.finished_at < timezone.now() - timedelta(days=days)
    )


def display_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str | None  # None: the product did not exist
    after: str


def field_changes(change: ImportChange) -> list[FieldChange]:
    """Each field the change writes: for an update only those that change, old and new; for
    a deletion the product's fields as they were (after: empty)."""
    before, after = change.before or {}, change.after or {}
    if change.after is None:
        return [
            FieldChange(field=field, before=display_value(before[field]), after="")
            for field in FIELDS
            if field in before
        ]
    return [
        FieldChange(
            field=field,
            before=display_value(before.get(field)) if change.before is not None else None,
            after=display_value(after[field]),
        )
        for field in (*FIELDS, *(f for f in after if f not in FIELDS))
        if field in after
    ]


class CountedPaginator(Paginator):
    """A paginator told its count (the job's own counts), sparing a count(*) of its rows."""

    def __init__(self, object_list, per_page, *, count: int | None):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        if self._known_count is not None:
            return self._known_count
        return super().count


@dataclass(frozen=True)
class RejectedRow:
    record: str
    line: str
    reason: str
    sku: str
    fields: list[tuple[str, str]]


class RejectedRows:
    """The job's rejected-rows report as a sequence a Paginator can slice: each slice reads
    the file from the start up to the page it needs, never the whole file into memory."""

    def __init__(self, job: ImportJob, *, sku: str = ""):
        self.job = job
        self.sku = sku.strip().lower()

    def _rows(self) -> Iterator[RejectedRow]:
        with self.job.error_report.open("rb") as handle:
            reader = csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline=""))
            header = next(reader, [])
            names = [unescape_cell(name) for name in header[3:]]
            sku_at = next((i for i, n in enumerate(names) if n.strip().lower() == "sku"), None)
            for row in reader:
                values = [unescape_cell(cell) for cell in row[3:]]
                sku = values[sku_at] if sku_at is not None and sku_at < len(values) else ""
                if self.sku and sku.strip().lower() != self.sku:
                    continue
                yield RejectedRow(
                    record=row[0],
                    line=row[1] if len(row) > 1 else "",
                    reason=unescape_cell(row[2]) if len(row) > 2 else "",
                    sku=sku,
                    fields=list(zip(names, values, strict=False)),
                )

    def count(self) -> int:
        return sum(1 for _ in self._rows())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[RejectedRow]:
        return list(islice(self._rows(), index.start, index.stop))


def download_lines(rows: Iterable[ImportChange]) -> Iterator[str]:
    """The "Download changes" CSV: one line per field a change writes (sku, field, before,
    after; before is empty for a creation), escaped like an export
    (products.formula_escaping), so each value reads back exactly (unescape_cell)."""
    out = io.StringIO()
    writer = csv.writer(out)

    def line(values) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue()

    yield line(DOWNLOAD_COLUMNS)
    for change in rows:
        for field in field_changes(change):
            yield line(
                (
                    escape_cell(change.sku),
                    field.field,
                    escape_cell(field.before or ""),
                    escape_cell(field.after),
                )
            )


def download_rows(queryset: QuerySet[ImportChange]) -> Iterator[ImportChange]:
    """The rows of `queryset` through a server-side cursor: memory stays flat at 500k."""
    values = [f"{side}_{field}" for side in ("old", "new") for field in ImportChange.VALUE_FIELDS]
    return queryset.only("sku", "kind", "before_json", "after_json", *values).iterator(
        chunk_size=CHUNK_SIZE
    )
