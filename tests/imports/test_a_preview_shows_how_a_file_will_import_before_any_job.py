"""`POST /api/imports/preview/` (and the upload page's preview) answer how a CSV will import
before anything is queued: the encoding and delimiter (detected unless chosen), the header,
the first 10 records as parsed with what the checks say of each, and the column each field
takes (as sent in `mapping`, the rest suggested). Only the file's first block is read, and
nothing is stored; previewing needs the permission to start imports."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports.detection import DETECTION_BYTES
from imports.models import ImportJob
from imports.preview import PREVIEW_RECORDS, preview_file
from products.models import Product

pytestmark = pytest.mark.django_db

HEADER = "Product Code;Title;Details;Status\n"
SUPPLIER = HEADER + "".join(f"P-{n};Lampe n°{n};Lumière {n};active\n" for n in range(1, 26))


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _file(data: bytes, name: str = "supplier.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "text/csv")


def test_the_api_previews_a_cp1252_supplier_file(staff_user):
    response = _token_client(staff_user).post(
        "/api/imports/preview/", {"file": _file(SUPPLIER.encode("cp1252"))}, format="multipart"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["encoding"], body["encoding_detected"]) == ("cp1252", True)
    assert (body["delimiter"], body["delimiter_detected"]) == (";", True)
    assert body["header"] == ["Product Code", "Title", "Details", "Status"]
    assert len(body["rows"]) == PREVIEW_RECORDS == 10
    assert body["rows"][0] == ["P-1", "Lampe n°1", "Lumière 1", "active"]
    assert body["rejections"] == [None] * 10
    assert body["mapping"] == {"sku": "Product Code", "name": "Title", "description": "Details",
                               "active": "Status"}  # fmt: skip
    assert body["problems"] == []
    assert [f["name"] for f in body["catalogue_fields"]] == ["sku", "name", "description", "active"]
    assert not ImportJob.objects.exists() and not Product.objects.exists()


def test_a_preview_takes_the_settings_and_mapping_sent(staff_user):
    data = "sku|name|description\n|No sku|x\nA-1|Lamp|Warm\n".encode("latin-1")

    response = _token_client(staff_user).post(
        "/api/imports/preview/",
        {"file": _file(data), "encoding": "latin-1", "delimiter": "|",
         "mapping": json.dumps({"description": None})},
        format="multipart",
    )  # fmt: skip

    body = response.json()
    assert (body["encoding"], body["encoding_detected"]) == ("latin-1", False)
    assert (body["delimiter"], body["delimiter_detected"]) == ("|", False)
    assert body["mapping"]["description"] is None
    assert body["unknown_columns"] == ["description"]
    assert body["rejections"] == ["sku is empty", None]


def test_a_header_the_import_would_refuse_is_shown_with_the_problem(staff_user):
    response = _token_client(staff_user).post(
        "/api/imports/preview/", {"file": _file(b"Colour,Size\nred,M\n")}, format="multipart"
    )

    body = response.json()
    assert response.status_code == 200
    assert body["header"] == ["Colour", "Size"] and body["rows"] == [["red", "M"]]
    assert body["problems"][0].startswith("missing required columns: sku, name")
    assert body["mapping"] == dict.fromkeys(["sku", "name", "description", "active"])


def test_an_unreadable_file_or_a_workbook_is_a_400_naming_why(staff_user):
    api = _token_client(staff_user)

    utf16_as_cp1252 = api.post(
        "/api/imports/preview/",
        {"file": _file("sku,name\n".encode("utf-16")), "encoding": "cp1252"},
        format="multipart",
    )
    workbook = api.post(
        "/api/imports/preview/", {"file": _file(b"PK\x03\x04rest", "a.xlsx")}, format="multipart"
    )

    assert utf16_as_cp1252.status_code == 400
    assert "the file is UTF-16" in utf16_as_cp1252.json()["file"][0]
    assert workbook.status_code == 400
    assert "The preview reads CSV files" in workbook.json()["file"][0]


def test_a_preview_of_a_large_file_reads_only_its_first_block(staff_user):
    rows = "".join(f"S-{n},Name {n},{'x' * 80}\n" for n in range(100_000))
    data = ("sku,name,description\n" + rows).encode()
    assert len(data) > 100 * DETECTION_BYTES

    class CountingReader(io.BytesIO):
        bytes_read = 0

        def read(self, size=-1):
            chunk = super().read(size)
            self.bytes_read += len(chunk)
            return chunk

    source = CountingReader(data)
    preview = preview_file(source, encoding="auto", delimiter="auto")
    response = _token_client(staff_user).post(
        "/api/imports/preview/", {"file": _file(data)}, format="multipart"
    )

    assert source.bytes_read == DETECTION_BYTES
    assert len(preview.rows) == 10 and preview.rows[9][0] == "S-9"
    # The upload gate kept the first block of what was sent and dropped the rest.
    assert response.status_code == 200, response.content
    assert response.json()["bytes_read"] == DETECTION_BYTES


def test_the_upload_page_previews_the_block_its_script_sends(staff_client):
    long = "".join(f"L-{n};Long {n};{'x' * 10_000}\n" for n in range(20))  # 6 fit in a block
    head = ("Product Code;Title;Details\n" + long).encode()[:DETECTION_BYTES]

    response = staff_client.post(
        reverse("imports:preview"), {"file": _file(head), "encoding": "auto", "delimiter": "auto"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["mapping"]["sku"] == "Product Code"
    # The record cut by the block's end is left out: the import reads it whole.
    assert [row[0] for row in body["rows"]] == [f"L-{n}" for n in range(6)]
    assert body["rows"][-1][2] == "x" * 10_000


@pytest.mark.parametrize("who", ["anonymous", "viewer", "view-only"])
def test_previewing_needs_the_permission_to_start_imports(client, viewer_user, who):
    from django.contrib.auth.models import Permission

    user = None if who == "anonymous" else viewer_user
    if who == "view-only":
        viewer_user.user_permissions.add(Permission.objects.get(codename="view_importjob"))
    api = _token_client(user) if user else APIClient()
    if user:
        client.force_login(user)

    api_answer = api.post(
        "/api/imports/preview/", {"file": _file(SUPPLIER.encode())}, format="multipart"
    )
    page_answer = client.post(reverse("imports:preview"), {"file": _file(SUPPLIER.encode())})

    assert api_answer.status_code == (401 if who == "anonymous" else 403)
    assert page_answer.status_code == 403
    assert "mapping" not in api_answer.content.decode()


def test_a_preview_applies_a_chosen_saved_source_or_suggests_the_one_for_its_header(staff_user):
    from imports import sources

    data = "Ref;Label;Notes\nR-1;Lamp;Warm\n".encode("cp1252")
    saved = sources.source_create(
        name="Supplier A weekly feed",
        values={"mapping": {"sku": "Ref", "name": "Label", "description": None},
                "header": ["Ref", "Label", "Notes"]},
    )  # fmt: skip
    api = _token_client(staff_user)

    suggested = api.post("/api/imports/preview/", {"file": _file(data)}, format="multipart")
    applied = api.post(
        "/api/imports/preview/",
        {"file": _file(data), "source": "supplier a weekly feed"},
        format="multipart",
    )

    assert suggested.json()["suggested_source"] == {"id": saved.pk, "name": saved.name}
    assert suggested.json()["problems"][0].startswith("missing required columns: sku, name")
    body = applied.json()
    assert body["suggested_source"] is None
    assert body["mapping"] == {"sku": "Ref", "name": "Label", "description": None, "active": None}
    assert body["problems"] == [] and body["rejections"] == [None]
