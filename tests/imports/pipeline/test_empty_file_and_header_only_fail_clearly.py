import pytest

from imports.pipeline import ImportFailed


@pytest.mark.django_db
@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n", b"\r\n"])
def test_an_empty_file_fails(import_bytes, data):
    with pytest.raises(ImportFailed, match="^the file is empty$"):
        import_bytes(data)


@pytest.mark.django_db
@pytest.mark.parametrize("data", [b"sku,name", b"sku,name\n", b"sku,name\r\n\r\n"])
def test_a_header_without_records_fails(import_bytes, data):
    with pytest.raises(ImportFailed, match="^the file has a header but no records$"):
        import_bytes(data)
