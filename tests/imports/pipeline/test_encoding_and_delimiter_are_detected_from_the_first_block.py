"""With no option set (`auto`), the encoding and the delimiter are detected from the file's
first block, the result says what was detected, and a chosen setting wins over detection."""

import pytest

from imports.detection import DETECTION_BYTES, detect_delimiter, detect_encoding
from imports.pipeline import ImportFailed
from products.models import Product

FRENCH = "sku;name;description\nc-1;Crème brûlée;coûte 5 €\nc-2;Pâté;« maison »\n"


@pytest.mark.django_db
def test_a_cp1252_file_with_semicolons_imports_with_no_option_set(import_bytes):
    imported = import_bytes(FRENCH.encode("cp1252"))

    assert (imported.result.encoding, imported.result.delimiter) == ("cp1252", ";")
    assert dict(Product.objects.values_list("sku", "description")) == {
        "c-1": "coûte 5 €",
        "c-2": "« maison »",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_with_a_byte_order_mark_imports(import_bytes, encoding):
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    data = 'sku,name,description\nu-1,Zürich,"two\nlines"\nu-2,東京,𝄞 clef\n'

    imported = import_bytes(bom + data.encode(encoding))

    assert imported.result.encoding == "utf-16"
    assert imported.result.created == 2
    assert Product.objects.get(sku="u-1").description == "two\nlines"
    assert Product.objects.get(sku="u-2").name == "東京"
    assert Product.objects.get(sku="u-2").description == "𝄞 clef"


@pytest.mark.django_db
def test_a_big_utf16_file_is_transcoded_chunk_by_chunk(import_bytes):
    # Several read chunks; characters whose UTF-16 bytes hold 0x0A and 0x0D (U+0A0D, U+0D0A)
    # must not be taken for line breaks.
    rows = "".join(f"s-{n},Name \u0a0d{n},Desc \u0d0a {n} é\n" for n in range(60_000))
    data = ("sku,name,description\n" + rows).encode("utf-16")
    assert len(data) > 3 * (1 << 20)

    imported = import_bytes(data)

    assert imported.result.created == 60_000
    assert imported.result.rows_rejected == 0
    assert Product.objects.get(sku="s-59999").description == "Desc \u0d0a 59999 é"


@pytest.mark.django_db
def test_utf16_without_a_byte_order_mark_imports_when_detected(import_bytes):
    imported = import_bytes("sku,name\nb-1,Lamp\n".encode("utf-16-le"))

    assert imported.result.encoding == "utf-16-le"
    assert Product.objects.get().name == "Lamp"


@pytest.mark.django_db
def test_utf16_read_as_a_chosen_8_bit_encoding_fails_naming_it(import_bytes):
    with pytest.raises(ImportFailed, match="UTF-16 or UTF-32 without a byte order mark"):
        import_bytes("sku,name\nb-1,Lamp\n".encode("utf-16-le"), encoding="utf-8")
    with pytest.raises(ImportFailed, match="the file is UTF-16 .*choose UTF-16"):
        import_bytes("sku,name\nb-1,Lamp\n".encode("utf-16"), encoding="cp1252")
    assert not Product.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "delimiter", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"]
)
def test_each_delimiter_is_detected_with_quoted_others_inside(import_bytes, delimiter):
    others = "".join(d for d in ",;|" if d != delimiter)
    data = delimiter.join(["sku", "name", "description"]) + "\n"
    data += delimiter.join(["d-1", f'"a{others}b"', f'"x{delimiter}y"']) + "\n"
    data += delimiter.join(["d-2", "plain", "z"]) + "\n"

    imported = import_bytes(data)

    assert imported.result.delimiter == delimiter
    assert Product.objects.get(sku="d-1").name == f"a{others}b"
    assert Product.objects.get(sku="d-1").description == f"x{delimiter}y"


@pytest.mark.django_db
def test_a_chosen_encoding_and_delimiter_win_over_detection(import_bytes):
    data = "sku|name\nk-1|Ä, Ö\n".encode("latin-1")

    imported = import_bytes(data, encoding="latin-1", delimiter="|")

    assert (imported.result.encoding, imported.result.delimiter) == ("latin-1", "|")
    assert Product.objects.get().name == "Ä, Ö"
    with pytest.raises(ImportFailed, match="^missing required columns: sku, name"):
        import_bytes(data, delimiter=";")


@pytest.mark.parametrize(
    "data, encoding",
    [
        (b"sku,name\na,plain ascii\n", "utf-8"),
        ("sku,name\na,caf\u00e9\n".encode(), "utf-8"),
        ("sku,name\na,caf\u00e9\n".encode("utf-8-sig"), "utf-8"),
        ("sku,name\na,caf\u00e9 \u20ac\n".encode("cp1252"), "cp1252"),
        # 0x81 is undefined in cp1252: only latin-1 reads it.
        (b"sku,name\na,\xe0 la \x81\n", "latin-1"),
        ("sku,name\na,Lamp\n".encode("utf-16"), "utf-16"),
        ("sku,name\na,Lamp\n".encode("utf-16-be"), "utf-16-be"),
    ],
    ids=["ascii", "utf-8", "utf-8-bom", "cp1252", "latin-1", "utf-16-bom", "utf-16-be"],
)
def test_detect_encoding(data, encoding):
    assert detect_encoding(data) == encoding


def test_a_utf8_character_cut_by_the_first_block_is_still_utf8():
    block = ("x" * (DETECTION_BYTES - 1) + "é").encode()[:DETECTION_BYTES]
    assert block.endswith(b"\xc3")

    assert detect_encoding(block) == "utf-8"


def test_a_single_column_file_is_read_with_commas():
    assert detect_delimiter("sku\na\nb\n") == ","
