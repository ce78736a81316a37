"""The filtered catalogue as CSV, streamed row by row, safe to open in a spreadsheet and
imported back unchanged (products.formula_escaping)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from products.formula_escaping import escape_cell

COLUMNS = ("name", "sku", "description", "active")
CHUNK_SIZE = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for name, sku, description, active in rows:
        yield writer.writerow(
            (
                escape_cell(name),
                escape_cell(sku),
                escape_cell(description),
                "true" if active else "false",
            )
        )


def export_lines(queryset: QuerySet) -> Iterator[str]:
    """CSV lines for `queryset` (already filtered and ordered), read through a server-side
    cursor in chunks so memory stays flat however many products match."""
    rows = queryset.values_list(*COLUMNS).iterator(chunk_size=CHUNK_SIZE)
    return csv_lines(rows)
