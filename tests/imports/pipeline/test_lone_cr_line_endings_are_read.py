"""Old Mac exports ("CSV (Macintosh)") end lines with a lone CR. They are read like LF files:
whatever their size, with rejections and decoding errors on the right lines."""

import io

import pytest

from imports.csv_records import DecodedLines, InvalidFile, csv_reader
from products.models import Product


@pytest.mark.django_db
def test_lone_cr_line_endings_are_read_with_the_right_line_numbers(import_bytes):
    data = 'sku,name,description\ra-1,A,"two\rlines"\r,missing,x\rb-2,B,y\r'

    imported = import_bytes(data.encode("utf-8"))

    assert imported.result.created == 2
    assert Product.objects.get(sku="a-1").description == "two\rlines"
    assert imported.report_rows[1][:3] == ["2", "4", "sku is empty"]


def test_a_lone_cr_file_bigger_than_the_longest_line_allowed_is_read_in_chunks():
    records = 200_000  # ~6 MB: over the 4 MB a single line may take
    data = ("sku,name\r" + "".join(f"sku-{n},Name {n}\r" for n in range(records))).encode()
    lines = DecodedLines(io.BytesIO(data), "utf-8", chunk_bytes=64 * 1024)

    reader = csv_reader(lines, ",")
    assert sum(1 for _ in reader) == records + 1
    assert reader.line_num == records + 1


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_a_decoding_error_names_its_line_whatever_the_line_endings(ending):
    rows = [b"sku,name", *(f"sku-{n},Name {n}".encode() for n in range(50)), b"bad,\xff", b"z,Z"]
    data = ending.encode().join(rows) + ending.encode()
    # Small chunks, so CRLF pairs and the bad byte fall on chunk boundaries too.
    lines = DecodedLines(io.BytesIO(data), "utf-8", chunk_bytes=7)

    with pytest.raises(InvalidFile, match="^line 52: not valid UTF-8"):
        list(csv_reader(lines, ","))
