"""`GET /api/imports/{id}/changes/`: what an import created and updated, paginated, filtered
by `kind` and `sku` (any letter case), each update with only the fields that change; it needs
the imports view permission, as the job does, and is in the OpenAPI schema."""

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from products.models import Product
from tests.imports.jobs import run_here

pytestmark = pytest.mark.django_db

CSV = "sku,name,description\nA-1,Lamp renamed,Warm\nA-2,Chair,Oak\nA-3,Table,Round\nA-4,Desk,\n"


@pytest.fixture
def job():
    Product.objects.create(sku="a-1", name="Lamp", description="Warm")
    Product.objects.create(sku="A-4", name="Desk", description="Was described")
    return run_here(CSV)


def _client(*permissions: str) -> APIClient:
    user = User.objects.create_user(f"reader-{User.objects.count()}")
    user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_created_and_updated_changes_are_listed_by_kind(job):
    client = _client("view_importjob")

    updated = client.get(f"/api/imports/{job.pk}/changes/", {"kind": "updated"}).json()
    created = client.get(f"/api/imports/{job.pk}/changes/", {"kind": "created"}).json()

    assert updated["count"] == 2
    assert {c["sku"]: (c["before"], c["after"]) for c in updated["results"]} == {
        "A-1": ({"sku": "a-1", "name": "Lamp"}, {"sku": "A-1", "name": "Lamp renamed"}),
        "A-4": ({"description": "Was described"}, {"description": ""}),
    }
    chair = {c["sku"]: c for c in created["results"]}["A-2"]
    assert [c["sku"] for c in created["results"]] == ["A-2", "A-3"]  # by SKU
    assert chair["after"] == {"sku": "A-2", "name": "Chair", "description": "Oak", "active": True}
    assert chair["product_id"] == Product.objects.get(sku="A-2").pk


def test_the_list_is_paginated_and_filtered_by_sku_in_any_case(job):
    client = _client("view_importjob")

    first = client.get(f"/api/imports/{job.pk}/changes/", {"page_size": 3}).json()
    found = client.get(f"/api/imports/{job.pk}/changes/", {"sku": "a-3"}).json()

    assert first["count"] == 4 and len(first["results"]) == 3 and first["next"]
    assert [c["sku"] for c in found["results"]] == ["A-3"]


def test_the_job_links_its_changes(job):
    body = _client("view_importjob").get(f"/api/imports/{job.pk}/").json()

    assert body["changes_url"].endswith(f"/api/imports/{job.pk}/changes/")
    assert body["kind"] == "import" and body["commit_of"] is None


def test_a_refused_kind_is_a_400_naming_it(job):
    answer = _client("view_importjob").get(f"/api/imports/{job.pk}/changes/", {"kind": "x"})

    assert answer.status_code == 400
    assert "kind" in answer.json()


def test_changes_need_the_imports_view_permission(job):
    assert _client().get(f"/api/imports/{job.pk}/changes/").status_code == 403
    assert _client("view_product").get(f"/api/imports/{job.pk}/changes/").status_code == 403
    assert APIClient().get(f"/api/imports/{job.pk}/changes/").status_code == 401


def test_an_unknown_import_is_a_404(job):
    assert _client("view_importjob").get("/api/imports/999999/changes/").status_code == 404


def test_the_schema_documents_the_changes_and_their_filters():
    client = _client("view_importjob")

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/imports/{job_id}/changes/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"kind", "sku", "page", "page_size"}
    assert set(operation["responses"]) >= {"200", "400", "401", "403", "404"}
    commit = schema["paths"]["/api/imports/{id}/commit/"]["post"]
    assert set(commit["responses"]) >= {"201", "409"}
