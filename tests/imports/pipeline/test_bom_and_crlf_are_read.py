import pytest

from products.models import Product


@pytest.mark.django_db
def test_utf8_bom_and_crlf_line_endings_are_read(import_bytes):
    data = '\ufeffSKU,Name,Description\r\na-1,Café,"two\r\nlines"\r\n,missing,x\r\nb-2,B,y\r\n'

    imported = import_bytes(data.encode("utf-8"))

    assert imported.result.created == 2
    assert Product.objects.get(sku="a-1").name == "Café"
    assert Product.objects.get(sku="a-1").description == "two\r\nlines"
    assert Product.objects.get(sku="b-2").description == "y"
    assert imported.report_rows[1][:3] == ["2", "4", "sku is empty"]


@pytest.mark.django_db
def test_a_file_without_a_final_newline_keeps_its_last_record(import_bytes):
    imported = import_bytes(b"sku,name\na,A\nb,B")

    assert imported.result.created == 2
