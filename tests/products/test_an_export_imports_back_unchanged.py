"""A page export imports back as an exact round trip (0 created, 0 updated, every value
byte-identical) although formula-like cells are escaped for spreadsheets; the rule
(products.formula_escaping) also says what a leading apostrophe in a user's own file means."""

import csv
import io

import pytest

from imports.pipeline import ImportOptions, run_import
from products.formula_escaping import FORMULA_PREFIXES
from products.models import Product

pytestmark = pytest.mark.django_db

TRICKY = [
    # sku, name, description
    ("-A1", "=SUM(A1:A2)", "-2+3"),
    ("=cmd|'/c calc'!A1", "+plus", "@mention"),
    ("'quoted", "''two quotes", "'"),
    ("@at", "'=already escaped", "\tindented\r\nsecond line"),
    ("'-both", "plain name", "=1\n=2"),
    ("ordinary", "It's fine", "'tis the season"),
    ("'", "-", ""),
]


def _catalogue() -> list[tuple]:
    return list(
        Product.objects.order_by("id").values_list(
            "id", "sku", "name", "description", "active", "updated_at"
        )
    )


def _import(data: bytes):
    return run_import(source=io.BytesIO(data), options=ImportOptions())


def test_a_page_export_imports_back_with_nothing_created_or_updated(staff_client, make_product):
    for sku, name, description in TRICKY:
        make_product(sku, name, description, active=sku != "ordinary")
    before = _catalogue()

    response = staff_client.get("/products/export.csv")
    exported = b"".join(response.streaming_content)
    result = _import(exported)

    assert (result.rows_rejected, result.created, result.updated) == (0, 0, 0)
    assert result.unchanged == len(TRICKY)
    assert _catalogue() == before  # byte-identical values, untouched updated_at
    # ... and no exported cell would run as a formula in a spreadsheet.
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8"))))
    assert not any(cell.startswith(FORMULA_PREFIXES) for row in rows for cell in row)


def test_a_leading_apostrophe_in_a_users_file_is_removed_only_before_what_it_escapes():
    _import(b"sku,name,description\n'=A,'-minus,'+plus\n'b,''quoted,'tis\n")

    stored = dict(Product.objects.values_list("sku", "name"))
    assert stored == {"=A": "-minus", "'b": "'quoted"}
    assert set(Product.objects.values_list("description", flat=True)) == {"+plus", "'tis"}
