"""The API's create takes `mapping` (a JSON object: field -> column, or null) next to `auto`
encoding and delimiter (the defaults); the job records what the worker detected and the
columns each field came from. A mapping that cannot be used is a 400 naming the problem."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports.models import ImportJob
from products.models import Product
from tests.imports.jobs import wait_for_job

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SUPPLIER = "Product Code;Title;Details;Enabled\nS-1;Lampe;Lumière;yes\nS-2;Chaise;Chêne;disabled\n"


@pytest.fixture
def api(staff_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return client


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("supplier.csv", data, "text/csv")


def test_a_foreign_cp1252_file_imports_with_no_option_set(celery_worker, api):
    response = api.post(
        "/api/imports/", {"file": _upload(SUPPLIER.encode("cp1252"))}, format="multipart"
    )

    assert response.status_code == 201, response.content
    assert (response.json()["encoding"], response.json()["delimiter"]) == ("auto", "auto")
    job = wait_for_job(response.json()["id"])
    assert job.status == "completed", job.error
    body = api.get(f"/api/imports/{job.pk}/").json()
    assert (body["encoding"], body["delimiter"]) == ("cp1252", ";")
    assert body["mapping"] == {"sku": "Product Code", "name": "Title", "description": "Details",
                               "active": "Enabled"}  # fmt: skip
    assert dict(Product.objects.values_list("sku", "active")) == {"S-1": True, "S-2": False}
    assert Product.objects.get(sku="S-1").description == "Lumière"


def test_an_explicit_mapping_leaves_description_out(celery_worker, api):
    Product.objects.create(sku="S-1", name="Old", description="Kept")
    mapping = {"sku": "Product Code", "description": None}

    response = api.post(
        "/api/imports/",
        {"file": _upload(SUPPLIER.encode()), "mapping": json.dumps(mapping)},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    job = wait_for_job(response.json()["id"])
    assert job.status == "completed", job.error
    assert job.mapping["description"] is None
    assert "Details" in job.unknown_columns
    assert dict(Product.objects.values_list("sku", "description")) == {"S-1": "Kept", "S-2": ""}


@pytest.mark.parametrize(
    "mapping, message",
    [
        ('{"sku": null}', "sku cannot be left out"),
        ('{"colour": "Colour"}', "unknown field 'colour'"),
        ("not json", "must be a JSON object"),
    ],
)
def test_a_mapping_that_cannot_be_used_is_a_400(api, mapping, message):
    response = api.post(
        "/api/imports/", {"file": _upload(SUPPLIER.encode()), "mapping": mapping},
        format="multipart",
    )  # fmt: skip

    assert response.status_code == 400
    assert message in response.json()["mapping"][0]
    assert not ImportJob.objects.exists()
