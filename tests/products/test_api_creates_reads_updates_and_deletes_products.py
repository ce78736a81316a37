import pytest
from rest_framework.test import APIClient

from products.models import Product

FIELDS = {"id", "sku", "name", "description", "active", "created_at", "updated_at"}


@pytest.fixture
def api(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


def test_api_crud_round_trip(api, emitted):
    created = api.post(
        "/api/products/", {"sku": " API-1 ", "name": "Api Lamp", "description": "d"}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == FIELDS
    assert body["sku"] == "API-1"
    assert body["active"] is True

    url = f"/api/products/{body['id']}/"
    assert api.get(url).json()["name"] == "Api Lamp"

    replaced = api.put(
        url,
        {"sku": "API-1", "name": "Api Lamp 2", "description": "", "active": False},
        format="json",
    )
    assert replaced.status_code == 200
    assert replaced.json()["active"] is False

    patched = api.patch(url, {"name": "Patched"}, format="json")
    assert patched.json()["name"] == "Patched"

    assert api.delete(url).status_code == 204
    assert not Product.objects.exists()
    assert [event for event, _ in emitted()] == [
        "product.created",
        "product.updated",
        "product.updated",
        "product.deleted",
    ]


def test_list_has_drf_page_shape(api, catalogue):
    body = api.get("/api/products/", {"page_size": 2}).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert "page=2" in body["next"]


def test_page_size_is_capped_at_1000(api, catalogue):
    response = api.get("/api/products/", {"page_size": 5000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 5


def test_validation_errors_are_field_level_400s(api, make_product):
    make_product("api-dup")

    duplicate = api.post("/api/products/", {"sku": "API-DUP", "name": "Twin"}, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json() == {"sku": ["A product with this SKU already exists."]}

    blank = api.post("/api/products/", {"sku": "  ", "name": ""}, format="json")
    assert blank.status_code == 400
    assert set(blank.json()) == {"sku", "name"}

    too_long = api.post("/api/products/", {"sku": "x" * 256, "name": "n"}, format="json")
    assert too_long.status_code == 400
    assert "sku" in too_long.json()


def test_renaming_onto_another_sku_in_other_case_is_a_400_on_sku(api, make_product):
    make_product("taken-sku")
    other = make_product("free-sku")

    response = api.patch(f"/api/products/{other.pk}/", {"sku": "TAKEN-SKU"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"sku": ["A product with this SKU already exists."]}
