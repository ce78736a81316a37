""" "Download changes": one CSV line per field a change writes (sku, field, before, after),
cells a spreadsheet would run as formulas escaped as the export escapes them
(products.formula_escaping), so every value reads back exactly."""

import csv
import io

import pytest

from products.formula_escaping import escape_cell, unescape_cell
from products.models import Product
from tests.imports.jobs import run_here

pytestmark = pytest.mark.django_db

TRICKY = ["=1+2", "-minus", "+plus", "@at", "'quoted", 'comma, "quote"']
MULTI_LINE = "\t=tab first\nline, two\r\n'three"  # descriptions may hold these


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return [[unescape_cell(cell) for cell in row] for row in csv.reader(io.StringIO(body))]


@pytest.fixture
def job():
    Product.objects.bulk_create(
        Product(sku=f"S{n}", name=f"Old {n}", description="kept") for n in range(len(TRICKY))
    )
    # The file holds exported (escaped) cells, as an export of these values would.
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "name", "description", "active"])
    for n, value in enumerate(TRICKY):
        writer.writerow([f"S{n}", escape_cell(value), "kept", "false"])
    writer.writerow(["=NEW", "New one", escape_cell(MULTI_LINE), "true"])
    return run_here(out.getvalue())


def test_every_value_reads_back_exactly(staff_client, job):
    rows = _rows(staff_client.get(f"/imports/{job.pk}/changes.csv"))

    assert rows[0] == ["sku", "field", "before", "after"]
    updated = [row for row in rows[1:] if row[0] != "=NEW"]
    assert sorted(updated) == sorted(
        [[f"S{n}", "name", f"Old {n}", value] for n, value in enumerate(TRICKY)]
        + [[f"S{n}", "active", "true", "false"] for n in range(len(TRICKY))]
    )
    created = [row for row in rows[1:] if row[0] == "=NEW"]
    assert created == [
        ["=NEW", "sku", "", "=NEW"],
        ["=NEW", "name", "", "New one"],
        ["=NEW", "description", "", MULTI_LINE],
        ["=NEW", "active", "", "true"],
    ]


def test_formula_cells_are_escaped_in_the_file(staff_client, job):
    response = staff_client.get(f"/imports/{job.pk}/changes.csv", {"changes": "created"})
    body = b"".join(response.streaming_content).decode()

    assert response["Content-Disposition"] == f'attachment; filename="import-{job.pk}-created.csv"'
    assert body.splitlines()[1] == "'=NEW,sku,,'=NEW"
    assert "\n=" not in body and ",=" not in body


def test_the_download_follows_the_kind_and_the_sku(staff_client, job):
    rows = _rows(staff_client.get(f"/imports/{job.pk}/changes.csv", {"changes": "updated",
                                                                      "sku": "s1"}))  # fmt: skip

    assert rows[1:] == [["S1", "name", "Old 1", "-minus"], ["S1", "active", "true", "false"]]
