import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports.models import COUNT_FIELDS, ImportJob
from products.models import Product
from tests.imports.jobs import SAMPLE_PRODUCTS
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _token_client(user) -> APIClient:
    """Real token authentication: uploads are checked before DRF runs (imports.upload_gate),
    where force_authenticate would not be seen."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def api(staff_user):
    return _token_client(staff_user)


def test_post_returns_201_and_get_reports_the_outcome(celery_worker, api, sample_upload):
    response = api.post(
        "/api/imports/",
        {"file": sample_upload, "encoding": "utf-8", "delimiter": ",", "strict": "false"},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued"
    job_id = body["id"]

    def finished():
        data = api.get(f"/api/imports/{job_id}/").json()
        return data if data["status"] in ("completed", "failed", "cancelled") else None

    data = wait_until(finished, timeout=90, what="the import to finish")
    assert data["status"] == "completed", data["error"]
    assert data["counts"] == {
        "rows_read": 2000, "rows_valid": 2000, "rows_rejected": 0,
        "created": SAMPLE_PRODUCTS, "updated": 0, "unchanged": 0, "deactivated": 0, "deleted": 0,
        "restored": 0, "conflicts": 0,
    }  # fmt: skip
    assert data["progress"] is None
    assert data["source"] == "api"
    assert Product.objects.count() == SAMPLE_PRODUCTS

    listed = api.get("/api/imports/").json()
    assert [job["id"] for job in listed["results"]] == [job_id]


def test_posting_needs_the_add_permission(viewer_user, sample_upload):
    client = _token_client(viewer_user)

    response = client.post("/api/imports/", {"file": sample_upload}, format="multipart")

    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_a_bad_upload_gets_400_with_the_reason(api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    empty = SimpleUploadedFile("empty.csv", b"", "text/csv")
    response = api.post("/api/imports/", {"file": empty}, format="multipart")

    assert response.status_code == 400
    assert "empty" in response.json()["file"][0]
    assert not ImportJob.objects.exists()


def test_the_schema_documents_the_import_endpoints(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert "/api/imports/" in schema["paths"]
    assert "/api/imports/{id}/cancel/" in schema["paths"]
    assert "/api/imports/{id}/retry/" in schema["paths"]
    assert (
        "multipart/form-data" in schema["paths"]["/api/imports/"]["post"]["requestBody"]["content"]
    )
    # The live progress and the counts are described field by field, not as a bare object.
    components = schema["components"]["schemas"]
    assert set(components["LiveProgress"]["properties"]) >= {"phase", "step", "percent", "rate"}
    assert set(components["Counts"]["properties"]) == {
        "rows_read", "rows_valid", "rows_rejected", "created", "updated", "unchanged",
        "deactivated", "deleted", "restored", "conflicts",
    } == set(COUNT_FIELDS)  # fmt: skip
