"""An .xlsx workbook is read by imports.workbook_records and goes through the CSV's rules:
COLUMNS (a column the file lacks is never written), text rules, formula escaping, the
report with record and row numbers. Cells are as Excel writes them (shared strings, typed
numbers, booleans, dates, formulas with cached values, empty rows left out)."""

import datetime

import pytest

from imports.csv_records import ACTIVE_SPELLINGS_TEXT
from imports.pipeline import ImportFailed
from products.models import Product
from tests.support.workbooks import Formula, xlsx_bytes

HEADER = ["SKU", "Name", "Description", "Active"]


def products() -> dict[str, tuple[str, str, bool]]:
    return {p.sku: (p.name, p.description, p.active) for p in Product.objects.all()}


@pytest.mark.django_db
def test_multi_line_cells_are_kept_and_rejections_name_record_and_row(import_bytes):
    data = xlsx_bytes(
        {
            "Products": [
                HEADER,
                ["a-1", "Alpha", "first line\nsecond line\nthird", True],
                None,  # row 3: left out, as Excel leaves empty rows out
                ["a-2", "Beta\nwith a break", "d", False],  # row 4: a line break in a name
                ["a-3", "Gamma", "=1+1 is text here", "yes"],
                ["", "No SKU", "d", None],  # row 6
                ["a-4", "Delta", "tab\there", "maybe"],  # row 7
            ]
        }
    )

    imported = import_bytes(data, file_format="xlsx")

    assert imported.result.rows_read == 5
    assert imported.result.rows_rejected == 3
    assert imported.report_rows[0][:3] == ["record", "row", "reason"]
    assert [row[:3] for row in imported.report_rows[1:]] == [
        ["2", "4", "name contains the control character U+000A at position 5; remove it"],
        ["4", "6", "sku is empty"],
        ["5", "7", f"active must be one of {ACTIVE_SPELLINGS_TEXT}, not 'maybe'"],
    ]
    assert products() == {
        "a-1": ("Alpha", "first line\nsecond line\nthird", True),
        "a-3": ("Gamma", "=1+1 is text here", True),
    }


@pytest.mark.django_db
def test_numbers_dates_booleans_and_formulas_become_text_by_one_rule(import_bytes):
    data = xlsx_bytes(
        {
            "Sheet1": [
                ["sku", "name", "description", "active"],
                ["00123", "Text SKU keeps its zeros", 12.5, True],
                [123, "Number SKU", 7.0, False],
                [456.0, "Whole float", datetime.date(2024, 1, 31), Formula("=TRUE()", "1")],
                [Formula('="F-"&1', "F-1"), Formula("=1+1", 2), Formula("=NOW()"), None],
                ["d-1", "Date and time", datetime.datetime(2024, 1, 31, 14, 30), None],
            ]
        }
    )

    imported = import_bytes(data, file_format="xlsx")

    assert imported.result.rows_rejected == 0, imported.report
    assert products() == {
        "00123": ("Text SKU keeps its zeros", "12.5", True),
        "123": ("Number SKU", "7", False),
        "456": ("Whole float", "2024-01-31", True),
        # A formula gives its cached value; one never calculated gives an empty cell.
        "F-1": ("2", "", True),
        "d-1": ("Date and time", "2024-01-31 14:30:00", True),
    }


@pytest.mark.django_db
def test_a_column_the_workbook_lacks_is_never_written(import_bytes):
    Product.objects.create(sku="k-1", name="Old", description="Kept", active=False)
    data = xlsx_bytes({"Products": [["Name", "sku"], ["New name", "k-1"], ["Other", "k-2"]]})

    imported = import_bytes(data, file_format="xlsx")

    assert (imported.result.created, imported.result.updated) == (1, 1)
    assert products() == {"k-1": ("New name", "Kept", False), "k-2": ("Other", "", True)}


@pytest.mark.django_db
def test_formula_escaping_is_undone_and_the_report_escapes_again(import_bytes):
    data = xlsx_bytes(
        {"Products": [["sku", "name"], ["'=1", "'=SUM(A1)"], ["'tis", "Kept"], ["-x", ""]]}
    )

    imported = import_bytes(data, file_format="xlsx")

    assert products() == {"=1": ("=SUM(A1)", "", True), "'tis": ("Kept", "", True)}
    assert imported.report_rows[1] == ["3", "4", "name is empty", "'-x", ""]


@pytest.mark.django_db
def test_the_chosen_sheet_is_read_and_an_unknown_one_is_named(import_bytes):
    data = xlsx_bytes(
        {
            "Notes": [["This sheet is not the catalogue"]],
            "Products": [["sku", "name"], ["s-1", "From the chosen sheet"]],
        }
    )

    with pytest.raises(ImportFailed, match="missing required columns: sku, name"):
        import_bytes(data, file_format="xlsx")  # the first sheet
    import_bytes(data, file_format="xlsx", sheet="products")  # any letter case

    assert products() == {"s-1": ("From the chosen sheet", "", True)}
    with pytest.raises(
        ImportFailed, match="the workbook has no sheet named 'Prices'; its sheets: Notes, Products"
    ):
        import_bytes(data, file_format="xlsx", sheet="Prices")
