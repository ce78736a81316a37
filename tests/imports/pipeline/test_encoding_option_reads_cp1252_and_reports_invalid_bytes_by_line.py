import pytest

from imports.pipeline import ImportFailed
from products.models import Product


@pytest.mark.django_db
def test_cp1252_file_is_read_when_chosen(import_bytes):
    data = "sku,name,description\nc-1,Crème brûlée,costs 5 €\n".encode("cp1252")

    import_bytes(data, encoding="cp1252")

    product = Product.objects.get()
    assert (product.name, product.description) == ("Crème brûlée", "costs 5 €")


@pytest.mark.django_db
def test_latin1_file_is_read_when_chosen(import_bytes):
    import_bytes("sku,name\nl-1,Señor ½\n".encode("latin-1"), encoding="latin-1")

    assert Product.objects.get().name == "Señor ½"


@pytest.mark.django_db
def test_cp1252_file_read_as_utf8_fails_naming_the_line(import_bytes):
    data = 'sku,name,description\na,A,"two\nlines"\nc-1,Crème,x\n'.encode("cp1252")

    with pytest.raises(ImportFailed, match=r"^line 4: not valid UTF-8 \(byte 0xe8\)"):
        import_bytes(data, encoding="utf-8")
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_invalid_byte_far_into_a_big_file_names_its_line(import_bytes):
    # Detection reads the first block only: all ASCII, so the file is read as UTF-8.
    rows = "".join(f"sku-{n},Name {n}\n" for n in range(100_000))  # several read chunks
    data = b"sku,name\n" + rows.encode() + b"bad,\x81\n"

    with pytest.raises(ImportFailed, match=r"^line 100002: not valid UTF-8"):
        import_bytes(data)
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_byte_undefined_in_cp1252_fails_naming_the_line(import_bytes):
    with pytest.raises(ImportFailed, match=r"^line 3: not valid cp1252"):
        import_bytes(b"sku,name\na,A\nb,\x81\n", encoding="cp1252")
