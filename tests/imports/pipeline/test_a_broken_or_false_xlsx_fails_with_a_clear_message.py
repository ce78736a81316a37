import io
import zipfile

import pytest

from imports.pipeline import ImportFailed
from products.models import Product
from tests.support.workbooks import xlsx_bytes


def a_zip_that_is_no_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sku,name\na,b\n", "the file is not a readable Excel workbook (.xlsx)"),
        (a_zip_that_is_no_workbook(), "the file is not a readable Excel workbook (.xlsx)"),
        (
            xlsx_bytes({"Products": [["sku", "name"], *([f"s-{i}", "x"] for i in range(500))]})[
                :-400
            ],
            "the file is not a readable Excel workbook (.xlsx)",
        ),
    ],
    ids=["csv-named-xlsx", "zip-without-workbook", "truncated"],
)
def test_the_import_fails_before_the_merge_saying_what_to_do(import_bytes, data, message):
    with pytest.raises(ImportFailed) as failed:
        import_bytes(data, file_format="xlsx")

    assert message in str(failed.value)
    assert "save it again from Excel as an .xlsx workbook, or export it as CSV" in str(failed.value)
    assert not Product.objects.exists()
